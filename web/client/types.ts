// The shapes the server sends (web/fleet-view.ts, web/server.ts) for the browser bundle, which must not
// pull in the server's modules: the rows come from web/fleet-rows.ts, the rest is restated here.

export type { DeviceRow, JobRow } from '../fleet-rows.ts';
import type { DeviceRow, JobRow } from '../fleet-rows.ts';

export interface CampaignWave {
  wave: number;
  name: string;
  status: string;
  units: number;
  devices: number;
  complete: number;
  failed: number;
  cancelled: number;
  running: number;
  waiting: number;
  approval: boolean;
  soak_until: string | null;
  approved_by: string | null;
}

/** machines/campaign.record.ts, the fields the page shows. */
export interface CampaignRow {
  campaign_id: string;
  name: string;
  status: string;
  message: string;
  target_version: string | null;
  wave: number;
  waiting_for: string;
  eta: string | null;
  totals: { units: number; devices: number; complete: number; failed: number; cancelled: number; running: number; waiting: number };
  waves: CampaignWave[];
  created_at: string | null;
}

export interface FleetPatch {
  position: number;
  devices: DeviceRow[];
  jobs: JobRow[];
  campaigns: CampaignRow[];
}

export interface TimelineLine {
  gseq: number;
  at: string;
  stream: string;
  type: string;
  summary: string;
  step?: { step: string; hop: number; version: string | null; reason?: string };
}

/** checks/snapshot.ts DeviceSnapshot, as far as the page reads it: entry counts per area. */
export interface Metrics {
  areas: Record<string, { count: number } | undefined>;
  unavailable: Record<string, string | undefined>;
}

export interface JobDetail {
  job: JobRow;
  record: Record<string, unknown> & { upgrade_status: string; upgrade_message: string; progress: number; path: string[] };
  plan: Array<{ version: string; action?: string }>;
  readiness: {
    validated: { swVersion?: string; freeDiskMb?: number; neededMb?: number; contentUpdate?: boolean; notes?: string[] } | null;
    /** checks/run-checks.ts ReadinessReport: the readiness checks' verdicts, when they ran. */
    report: { ok: boolean; at: string; verdicts: Array<{ check: string; title: string; severity: string; status: string; blocking: boolean; message: string }> } | null;
    pre: Metrics | null;
    notes: string[];
  } | null;
  /** checks/snapshot.ts AreaDiff per area, once the post-upgrade comparison ran. */
  postflight: {
    post: Metrics | null;
    checks: Array<{ area: string; severity: string; ok: boolean; before: number; after: number; changePct: number | null; problems: string[]; unavailable?: string }>;
  } | null;
  children: JobRow[];
  devices: DeviceRow[];
  timeline: TimelineLine[];
}

export const TERMINAL = new Set(['download_complete', 'complete', 'failed', 'cancelled', 'skipped']);

export const CAMPAIGN_ENDED = new Set(['completed', 'halted', 'aborted']);
