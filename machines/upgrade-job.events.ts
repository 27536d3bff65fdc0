import type { ReadinessPolicy } from '../checks/policy.ts';
import type { ReadinessReport } from '../checks/run-checks.ts';
import type { AreaDiff, DeviceSnapshot } from '../checks/snapshot.ts';
import type { PlannedHop } from '../panos/upgrade-path.ts';

/** A device's state before or after an upgrade, per snapshot area (checks/snapshot.ts). */
export type JobSnapshot = DeviceSnapshot;

/** What changed in one snapshot area after the upgrade, and whether the policy allows it. */
export type CheckResult = AreaDiff;

export type JobKind = 'upgrade' | 'download-only';

/**
 * The daemon configuration's post-upgrade limits (config `thresholds.*`), applied to the shipped policy's
 * sessions, routes and ARP areas (defaults: sessions within 10 %, routes exact, ARP within 5 % or 5 entries).
 */
export interface CheckThresholds {
  sessionsPct: number;
  routesDelta: number;
  arpPct: number;
  arpDelta: number;
}

/** How a job behaves, fixed when it is submitted so that a replay decides the same way. */
export interface JobPolicy {
  /** Attempts per step for retryable failures (1 = no retry). */
  maxAttempts: number;
  /** First retry delay; doubles with each attempt. */
  retryBackoffMs: number;
  /** The readiness policy: checks before the upgrade, and the snapshot comparison's limits after it. */
  readiness?: ReadinessPolicy;
}

export const DEFAULT_THRESHOLDS: CheckThresholds = { sessionsPct: 10, routesDelta: 0, arpPct: 5, arpDelta: 5 };
export const DEFAULT_POLICY: JobPolicy = { maxAttempts: 3, retryBackoffMs: 30_000 };

/** A device as the job saw it when it was submitted. */
export interface JobDevice {
  serial: string;
  hostname: string;
  mgmtIp: string;
  model: string;
  swVersion: string;
  haState: string | null;
  haPeer: string | null;
}

export type JobStep = 'validate' | 'pre-snapshot' | 'content' | 'download' | 'install' | 'reboot' | 'post-snapshot' | 'compare';

/** The facts of a `job:<id>` stream. Past tense; the fold in upgrade-job.fold.ts gives the status record. */
export type JobFact =
  | {
      type: 'job.submitted';
      data: {
        jobId: string;
        kind: JobKind;
        dryRun: boolean;
        device: JobDevice;
        targetVersion: string | null;
        plan: PlannedHop[];
        planSource: string;
        policy: JobPolicy;
        /** The HA pair job this job is one step of. */
        parentId?: string;
      };
    }
  | { type: 'job.started'; data: Record<string, never> }
  /** Validation re-planned with the device's own software list (base images it lists, versions it offers). */
  | { type: 'job.plan.refined'; data: { plan: PlannedHop[]; reason: string } }
  | { type: 'job.step.started'; data: { step: JobStep; hop: number; version: string | null; attempt: number } }
  | { type: 'job.step.completed'; data: { step: JobStep; hop: number; version: string | null } }
  | { type: 'job.step.failed'; data: { step: JobStep; hop: number; version: string | null; reason: string; retryable: boolean; attempt: number } }
  | { type: 'job.hop.completed'; data: { hop: number; version: string } }
  | { type: 'job.retry.scheduled'; data: { step: JobStep; attempt: number; at: number } }
  /** The readiness checks before anything changes on the device (validation); a blocking failure fails the job there. */
  | { type: 'job.readiness.evaluated'; data: { report: ReadinessReport } }
  | { type: 'job.validated'; data: { swVersion: string; freeDiskMb: number; neededMb: number; contentUpdate: boolean; notes: string[] } }
  | { type: 'job.snapshot.taken'; data: { phase: 'pre' | 'post'; snapshot: JobSnapshot } }
  | { type: 'job.checks.evaluated'; data: { results: CheckResult[]; ok: boolean } }
  // Intents (`*.requested`) carry `epoch` on a cluster: the lease epoch under which the command was sent (actors/fence.ts).
  /** Content: `version` is what was asked for (`latest`), `hop` the hop the job stood at (the content step runs once, before the hops). */
  | { type: 'job.content.download.requested'; data: { version: string; hop: number; baselineJobId: number; epoch?: number } }
  | { type: 'job.content.download.enqueued'; data: { version: string; hop: number; panosJobId: number } }
  | { type: 'job.content.download.completed'; data: { version: string; hop: number } }
  | { type: 'job.content.install.requested'; data: { version: string; hop: number; baselineJobId: number; epoch?: number } }
  | { type: 'job.content.install.enqueued'; data: { version: string; hop: number; panosJobId: number } }
  | { type: 'job.content.updated'; data: { version: string } }
  | { type: 'job.download.skipped'; data: { version: string; hop: number } }
  | { type: 'job.download.requested'; data: { version: string; hop: number; baselineJobId: number; direct: boolean; epoch?: number } }
  | { type: 'job.download.enqueued'; data: { version: string; hop: number; panosJobId: number } }
  | { type: 'job.download.progressed'; data: { version: string; hop: number; percent: number } }
  | { type: 'job.download.completed'; data: { version: string; hop: number } }
  | { type: 'job.install.requested'; data: { version: string; hop: number; baselineJobId: number; epoch?: number } }
  | { type: 'job.install.enqueued'; data: { version: string; hop: number; panosJobId: number } }
  | { type: 'job.install.progressed'; data: { version: string; hop: number; percent: number } }
  | { type: 'job.install.completed'; data: { version: string; hop: number } }
  | { type: 'job.reboot.requested'; data: { version: string; hop: number; uptimeBefore: number; epoch?: number } }
  | { type: 'job.reboot.acknowledged'; data: { version: string; hop: number } }
  | { type: 'job.reboot.phase-changed'; data: { version: string; hop: number; phase: string } }
  | { type: 'job.reboot.completed'; data: { version: string; hop: number; uptime: number } }
  | { type: 'job.cancel.requested'; data: { by: string } }
  | { type: 'job.completed'; data: { message: string } }
  | { type: 'job.failed'; data: { step: JobStep | null; reason: string } }
  | { type: 'job.cancelled'; data: { reason: string } };

export type JobFactType = JobFact['type'];

export const JOB_FACT_TYPES: readonly JobFactType[] = [
  'job.submitted',
  'job.started',
  'job.plan.refined',
  'job.step.started',
  'job.step.completed',
  'job.step.failed',
  'job.hop.completed',
  'job.retry.scheduled',
  'job.readiness.evaluated',
  'job.validated',
  'job.snapshot.taken',
  'job.checks.evaluated',
  'job.content.download.requested',
  'job.content.download.enqueued',
  'job.content.download.completed',
  'job.content.install.requested',
  'job.content.install.enqueued',
  'job.content.updated',
  'job.download.skipped',
  'job.download.requested',
  'job.download.enqueued',
  'job.download.progressed',
  'job.download.completed',
  'job.install.requested',
  'job.install.enqueued',
  'job.install.progressed',
  'job.install.completed',
  'job.reboot.requested',
  'job.reboot.acknowledged',
  'job.reboot.phase-changed',
  'job.reboot.completed',
  'job.cancel.requested',
  'job.completed',
  'job.failed',
  'job.cancelled',
];
