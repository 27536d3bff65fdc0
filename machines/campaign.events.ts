import type { UpgradeStatus } from './upgrade-job.fold.ts';

/** A unit of work in a campaign: one device, or both peers of an HA pair (never split). */
export interface CampaignUnit {
  id: number;
  serials: string[];
  hostnames: string[];
  models: string[];
  /** The site or device group the plan grouped it by (null: not grouped). */
  group: string | null;
  ha: boolean;
  /** Expected wall time of its upgrade job, in campaign time (the model's timings). */
  expectedMs: number;
}

export interface CampaignWave {
  index: number;
  name: string;
  /** Unit ids, in the order they start. */
  units: number[];
  /** Units of this wave running at the same time. */
  concurrency: number;
  /** Soak after the wave ended before the next starts (campaign time). */
  soakMs: number;
  /** An operator's approval before the next wave starts. */
  approval: boolean;
}

/** Failures tolerated; the campaign halts once they are exceeded. null = no limit of that kind. */
export interface FailureBudget {
  count: number | null;
  percent: number | null;
}

/** Everything a campaign is, fixed when it is created so that a replay decides the same way. */
export interface CampaignSpec {
  campaignId: string;
  name: string;
  /** null: each device follows the configured paths file. */
  targetVersion: string | null;
  units: CampaignUnit[];
  waves: CampaignWave[];
  /** Maintenance windows as written (`Sat 01:00-05:00 Europe/Berlin`); none = always open. */
  windows: string[];
  budget: { wave: FailureBudget; overall: FailureBudget };
  /** Download the images of a wave's devices while waiting for a window (download-only jobs). */
  prestage: boolean;
  /** Campaign time runs 1/timeScale as fast as wall time (rehearsals on a scaled simulator); 1 in production. */
  timeScale: number;
  /** The readiness policy its jobs run at validation (the policy YAML's shape); absent: the shipped default. */
  readiness?: Record<string, unknown>;
  /** What was selected, for the report. */
  selection: string;
  excluded: Array<{ serial: string; hostname: string; reason: string }>;
}

export type CampaignJobKind = 'upgrade' | 'download-only';

/** The facts of a `campaign:<id>` stream. Past tense; the fold in campaign.fold.ts gives the status record. */
export type CampaignFact =
  | { type: 'campaign.created'; data: { spec: CampaignSpec } }
  | { type: 'campaign.started'; data: Record<string, never> }
  | { type: 'campaign.wave.started'; data: { wave: number } }
  /** Recorded before the job exists; the runner then creates the job under this id exactly once. */
  | { type: 'campaign.unit.started'; data: { unit: number; wave: number; jobId: string; kind: CampaignJobKind } }
  | { type: 'campaign.unit.ended'; data: { unit: number; wave: number; jobId: string; kind: CampaignJobKind; status: UpgradeStatus; message: string } }
  | { type: 'campaign.window.waiting'; data: { wave: number; opensAt: number | null; reason: string } }
  | { type: 'campaign.wave.ended'; data: { wave: number; completed: number; failed: number; cancelled: number } }
  /** `until` is wall time: a soak that spans a restart ends when the recorded one would have. */
  | { type: 'campaign.soak.started'; data: { wave: number; until: number } }
  | { type: 'campaign.approval.requested'; data: { wave: number } }
  | { type: 'campaign.approved'; data: { wave: number; by: string } }
  | { type: 'campaign.gate.passed'; data: { wave: number } }
  | { type: 'campaign.paused'; data: { by: string } }
  | { type: 'campaign.resumed'; data: { by: string } }
  | { type: 'campaign.budget.exceeded'; data: { scope: 'wave' | 'overall'; wave: number; failures: number; units: number; reason: string } }
  | { type: 'campaign.abort.requested'; data: { by: string } }
  | { type: 'campaign.completed'; data: { message: string } }
  | { type: 'campaign.halted'; data: { reason: string } }
  | { type: 'campaign.aborted'; data: { reason: string } };

export type CampaignFactType = CampaignFact['type'];

export const CAMPAIGN_FACT_TYPES: readonly CampaignFactType[] = [
  'campaign.created',
  'campaign.started',
  'campaign.wave.started',
  'campaign.unit.started',
  'campaign.unit.ended',
  'campaign.window.waiting',
  'campaign.wave.ended',
  'campaign.soak.started',
  'campaign.approval.requested',
  'campaign.approved',
  'campaign.gate.passed',
  'campaign.paused',
  'campaign.resumed',
  'campaign.budget.exceeded',
  'campaign.abort.requested',
  'campaign.completed',
  'campaign.halted',
  'campaign.aborted',
];

/** The job id a campaign gives a unit's job: deterministic, so a resumed campaign finds (never duplicates) it. */
export function campaignJobId(campaignId: string, unit: number, kind: CampaignJobKind): string {
  return `${campaignId}-${kind === 'download-only' ? 'd' : 'u'}${unit}`;
}
