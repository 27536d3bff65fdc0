import type { ReadinessReport } from '../checks/run-checks.ts';
import type { PlannedHop } from '../panos/upgrade-path.ts';
import { DEFAULT_POLICY, type CheckResult, type JobDevice, type JobFact, type JobKind, type JobPolicy, type JobSnapshot, type JobStep } from './upgrade-job.events.ts';

/** Every job status, in the order they are listed (waiting → finished). */
export const JOB_STATUSES = [
  'pending',
  'validating',
  'downloading',
  'download_complete',
  'installing',
  'rebooting',
  'verifying',
  /** An HA pair waiting for an operator's go between its peers. */
  'paused',
  'complete',
  'failed',
  'cancelled',
] as const;
export type UpgradeStatus = (typeof JOB_STATUSES)[number];
// No job status "skipped": devices passed over by queue-all are reported in its summary, not as jobs, and a
// version found already present is listed in skipped_versions of a job that goes on.

export const TERMINAL_STATUSES: ReadonlySet<UpgradeStatus> = new Set(['download_complete', 'complete', 'failed', 'cancelled']);

/** An operation sent to the device whose outcome the job must reconcile after a crash. */
export interface InFlight {
  version: string;
  hop: number;
  baselineJobId: number;
  panosJobId: number | null;
  direct?: boolean;
  /** When the request was recorded: a wait for its PAN-OS job resumed after a crash counts its timeout from here. */
  requestedAt?: string | null;
}

export interface RebootInFlight {
  version: string;
  hop: number;
  uptimeBefore: number;
  acknowledged: boolean;
  phase: string | null;
  /** When the restart was recorded as requested: a wait resumed after a crash counts from here. */
  requestedAt: string | null;
}

/** The mutating effects of a job's steps; each is done at most once per hop. */
export type JobEffect = 'content-download' | 'content-install' | 'download' | 'install' | 'reboot';

/** The key of an effect of one hop in `JobState.done`. */
export function effectKey(effect: JobEffect, hop: number): string {
  return `${effect}@${hop}`;
}

/** Whether the log says the effect is done for the hop: a step resumed after a crash then only completes. */
export function effectDone(state: JobState, effect: JobEffect, hop: number): boolean {
  return (state.done ?? []).includes(effectKey(effect, hop));
}

function markDone(state: JobState, effect: JobEffect, hop: number): string[] {
  const done = state.done ?? [];
  const key = effectKey(effect, hop);
  return done.includes(key) ? done : [...done, key];
}

/** Everything known about a job: the fold of its stream, and the upgrade-job machine's context. */
export interface JobState {
  jobId: string;
  kind: JobKind;
  dryRun: boolean;
  device: JobDevice | null;
  targetVersion: string | null;
  plan: PlannedHop[];
  planSource: string;
  policy: JobPolicy;
  parentId: string | null;
  status: UpgradeStatus;
  message: string;
  progress: number;
  downloadedVersions: string[];
  skippedVersions: string[];
  readyForInstall: boolean;
  /** Index of the hop being worked on. */
  hop: number;
  step: JobStep | null;
  attempt: number;
  retryAt: number | null;
  /** When the current step's attempt began (its job.step.started fact): its waits count from it across a crash (DESIGN.md). */
  stepStartedAt: string | null;
  cancelRequested: boolean;
  download: InFlight | null;
  install: InFlight | null;
  reboot: RebootInFlight | null;
  contentDownload: InFlight | null;
  contentInstall: InFlight | null;
  /** Effects done, by hop (`install@1`): recorded with the fact that says so, never inferred from a later event. */
  done: string[];
  runningVersion: string | null;
  /**
   * The pre- and post-upgrade snapshots the compare step reads. Once the job is finished they keep each
   * area's count, not its entries (`entries: {}`, see countsOnly): a route table is thousands of entries,
   * and a daemon keeps every job it ran. The entries stay in the log (`job.snapshot.taken`), the
   * comparison in `checks`.
   */
  pre: JobSnapshot | null;
  post: JobSnapshot | null;
  checks: CheckResult[];
  /** The readiness checks' verdicts (validation), when they ran. */
  readiness: ReadinessReport | null;
  panosJobs: Array<{ version: string; kind: 'download' | 'install'; id: number }>;
  error: { step: JobStep | null; reason: string } | null;
  notes: string[];
  submittedAt: string | null;
  updatedAt: string | null;
  finishedAt: string | null;
}

export function initialJobState(): JobState {
  return {
    jobId: '',
    kind: 'upgrade',
    dryRun: false,
    device: null,
    targetVersion: null,
    plan: [],
    planSource: '',
    policy: DEFAULT_POLICY,
    parentId: null,
    status: 'pending',
    message: 'Queued',
    progress: 0,
    downloadedVersions: [],
    skippedVersions: [],
    readyForInstall: false,
    hop: 0,
    step: null,
    attempt: 0,
    retryAt: null,
    stepStartedAt: null,
    cancelRequested: false,
    download: null,
    install: null,
    reboot: null,
    contentDownload: null,
    contentInstall: null,
    done: [],
    runningVersion: null,
    pre: null,
    post: null,
    checks: [],
    readiness: null,
    panosJobs: [],
    error: null,
    notes: [],
    submittedAt: null,
    updatedAt: null,
    finishedAt: null,
  };
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATUSES.has(state.status);
}

/** Versions a download-only job fetches, in order: every version of its plan. */
function downloadOnlyVersions(state: JobState): string[] {
  return state.plan.map((h) => h.version);
}

/** Versions an upgrade installs. */
function installHops(state: JobState): PlannedHop[] {
  return state.plan.filter((h) => h.action === 'install');
}

function ordinal(state: JobState, hop: number): string {
  if (state.kind === 'download-only') return `(${hop + 1}/${state.plan.length})`;
  const installs = installHops(state);
  const h = state.plan[hop];
  const i = h ? installs.indexOf(h) : -1;
  return i >= 0 ? `(${i + 1}/${installs.length})` : `(${hop + 1}/${state.plan.length})`;
}

/**
 * Progress in percent. Download-only: versions share 30–90 evenly, a skipped version is reported at
 * the middle of its share (the seed's 30 while fetching the first of three, 40 after skipping it).
 * Upgrade: hops share 10–90; within an install hop, download 0–30 %, install 30–60 %, reboot 60–100 %.
 */
function progressAt(state: JobState, hop: number, within: number): number {
  const n = Math.max(1, state.plan.length);
  if (state.kind === 'download-only') return Math.floor(30 + (60 * (hop + within)) / n);
  return Math.floor(10 + (80 * (hop + within)) / n);
}

function listVersions(vs: readonly string[]): string {
  return vs.join(', ');
}

/** Whether the message is the seed's "Version X already downloaded, skipping (n/m)" for the hop before `hop`. */
function skippedJustBefore(s: JobState, hop: number): boolean {
  const previous = s.plan[hop - 1]?.version;
  return previous !== undefined && s.status === 'downloading' && s.message === `Version ${previous} already downloaded, skipping ${ordinal(s, hop - 1)}`;
}

/** What became of each version of the path, in order, as the status record lists it. */
export type HopOutcome = 'pending' | 'downloading' | 'downloaded' | 'already-present' | 'installing' | 'rebooting' | 'installed' | 'failed' | 'cancelled';

export function hopOutcomes(s: JobState): Array<{ version: string; outcome: HopOutcome }> {
  return s.plan.map((h, i) => {
    const skipped = s.skippedVersions.includes(h.version);
    const fetched = s.downloadedVersions.includes(h.version);
    const installs = h.action !== 'download' && s.kind !== 'download-only';
    const installed = installs && (s.done ?? []).includes(effectKey('reboot', i));
    let outcome: HopOutcome;
    if (installed) outcome = 'installed';
    else if (i === s.hop && s.status === 'installing') outcome = 'installing';
    else if (i === s.hop && s.status === 'rebooting') outcome = 'rebooting';
    else if (skipped) outcome = 'already-present';
    else if (fetched) outcome = 'downloaded';
    else if (i === s.hop && s.status === 'downloading' && s.step === 'download') outcome = 'downloading';
    else if (i === s.hop && (s.status === 'failed' || s.status === 'cancelled')) outcome = s.status;
    else outcome = 'pending';
    return { version: h.version, outcome };
  });
}

/** The seed's final download-only message. */
export function downloadSummary(downloaded: readonly string[], skipped: readonly string[]): string {
  if (downloaded.length === 0 && skipped.length > 0) return `All ${skipped.length} version(s) already downloaded: ${listVersions(skipped)}`;
  let m = `Downloaded ${downloaded.length} version(s): ${listVersions(downloaded)}`;
  if (skipped.length > 0) m += `. Skipped ${skipped.length} (already present): ${listVersions(skipped)}`;
  return m;
}

/** A snapshot with each area's count (and `truncated`), without its entries; unreadable areas as they were. */
export function countsOnly(snapshot: JobSnapshot): JobSnapshot {
  const areas: JobSnapshot['areas'] = {};
  for (const [area, a] of Object.entries(snapshot.areas) as Array<[keyof JobSnapshot['areas'], NonNullable<JobSnapshot['areas'][keyof JobSnapshot['areas']]>]>) {
    areas[area] = { count: a.count, entries: {}, ...(a.truncated ? { truncated: true } : {}) };
  }
  return { areas, unavailable: snapshot.unavailable };
}

/**
 * What the bus carries of a job fact (`eventPublisher`'s `busCopy`): a `job.snapshot.taken` with each
 * area's count (countsOnly), and every other fact as it is. The log keeps the entries, where the
 * comparison and `replay` read them. A snapshot is most of a job's bytes (about 86 KB of JSON for a
 * branch firewall's routes, FIB and ARP, two per job): published whole, a 10,000-device rehearsal would
 * put some 1.7 GB of them through NATS and push every other event out of PANOS_EVT (1 GiB), and a data
 * centre's route table alone can pass NATS's 1 MB max_payload.
 */
export function busCopyOfJobFact<E extends { type: string; data?: unknown }>(e: E): E {
  if (e.type !== 'job.snapshot.taken') return e;
  const data = e.data as { snapshot?: unknown } | null | undefined;
  const snapshot = data?.snapshot as JobSnapshot | null | undefined;
  if (!snapshot || typeof snapshot !== 'object' || !snapshot.areas || typeof snapshot.areas !== 'object') return e;
  return { ...e, data: { ...data, snapshot: countsOnly(snapshot) } };
}

/** What a finished job keeps of its snapshots (see JobState.pre). */
function finishedSnapshots(s: JobState): Pick<JobState, 'pre' | 'post'> {
  return { pre: s.pre && countsOnly(s.pre), post: s.post && countsOnly(s.post) };
}

/** A job's state as the fold keeps it now, for a context an earlier daemon stored whole: a finished job's snapshots as counts. */
export function finishedJobContext(s: JobState): JobState {
  return s && typeof s === 'object' && isTerminal(s) ? { ...s, ...finishedSnapshots(s) } : s;
}

/** Emmett-style evolve: pure, one case per fact type. */
export function evolveJob(state: JobState, fact: JobFact & { at?: string }): JobState {
  const s: JobState = { ...state, updatedAt: fact.at ?? state.updatedAt };
  switch (fact.type) {
    case 'job.submitted': {
      const d = fact.data;
      return {
        ...s,
        jobId: d.jobId,
        kind: d.kind,
        dryRun: d.dryRun,
        device: d.device,
        targetVersion: d.targetVersion,
        plan: d.plan,
        planSource: d.planSource,
        policy: d.policy,
        parentId: d.parentId ?? null,
        runningVersion: d.device.swVersion,
        submittedAt: fact.at ?? null,
        status: 'pending',
        message: d.kind === 'download-only' ? `Queued for download of ${d.plan.length} version(s)` : `Queued for upgrade to ${d.targetVersion ?? d.plan.at(-1)?.version ?? '?'}`,
        progress: 0,
      };
    }
    case 'job.started':
      return { ...s, status: 'validating', message: 'Validating device', progress: 5 };
    case 'job.plan.refined':
      return { ...s, plan: fact.data.plan, notes: [...s.notes, fact.data.reason] };
    case 'job.step.started': {
      const { step, hop, version, attempt } = fact.data;
      const next = { ...s, step, hop, attempt, retryAt: null, stepStartedAt: fact.at ?? null };
      switch (step) {
        case 'validate':
          return { ...next, status: 'validating', message: s.kind === 'download-only' ? 'Checking disk space and existing images' : 'Running pre-upgrade checks', progress: Math.max(s.progress, 5) };
        case 'pre-snapshot':
          return { ...next, status: 'validating', message: 'Taking pre-upgrade snapshot', progress: Math.max(s.progress, 8) };
        case 'content':
          return { ...next, status: 'downloading', message: 'Updating content before the upgrade', progress: Math.max(s.progress, 9) };
        case 'download':
          // The message waits for the request: a version found already present never reads "Downloading" first.
          return { ...next, status: 'downloading', progress: Math.max(s.progress, progressAt(s, hop, 0)) };
        case 'install':
          return { ...next, status: 'installing', message: `Installing version ${version} ${ordinal(s, hop)}`, progress: Math.max(s.progress, progressAt(s, hop, 0.3)) };
        case 'reboot':
          return { ...next, status: 'rebooting', message: `Rebooting into ${version} ${ordinal(s, hop)}`, progress: Math.max(s.progress, progressAt(s, hop, 0.6)) };
        case 'post-snapshot':
          return { ...next, status: 'verifying', message: 'Taking post-upgrade snapshot', progress: 92 };
        case 'compare':
          return { ...next, status: 'verifying', message: 'Comparing pre- and post-upgrade snapshots', progress: 95 };
      }
      return next;
    }
    case 'job.step.completed':
      return { ...s, attempt: 0 };
    case 'job.step.failed': {
      const d = fact.data;
      // A PAN-OS job this attempt saw to its end (its id was recorded) is over: the next attempt sends a new
      // request instead of polling the failed one again. Without an id the request's fate is unknown, and the
      // next attempt still reconciles it with `show jobs all`.
      const over = (op: InFlight | null): InFlight | null => (op && op.hop === d.hop && op.panosJobId !== null ? null : op);
      return {
        ...s,
        download: d.step === 'download' ? over(s.download) : s.download,
        install: d.step === 'install' ? over(s.install) : s.install,
        contentDownload: d.step === 'content' ? over(s.contentDownload ?? null) : (s.contentDownload ?? null),
        contentInstall: d.step === 'content' ? over(s.contentInstall ?? null) : (s.contentInstall ?? null),
        message: `${capitalize(d.step)} failed (attempt ${d.attempt}): ${d.reason}`,
      };
    }
    case 'job.hop.completed':
      return { ...s, hop: fact.data.hop + 1, step: null, attempt: 0 };
    case 'job.retry.scheduled':
      return { ...s, retryAt: fact.data.at, message: `${s.message}; retrying` };
    case 'job.readiness.evaluated': {
      const { report } = fact.data;
      const c = report.counts;
      const summary = `readiness: ${c.pass} passed, ${c.fail} blocking, ${c.warn} warning(s), ${c.unavailable} could not run`;
      return { ...s, readiness: report, notes: [...s.notes, summary] };
    }
    case 'job.validated':
      return { ...s, runningVersion: fact.data.swVersion, notes: [...s.notes, ...fact.data.notes], progress: Math.max(s.progress, s.kind === 'download-only' ? 20 : 8) };
    case 'job.snapshot.taken':
      // Jobs recorded before snapshots existed carry three figures (`metrics`) instead: no snapshot to compare.
      return fact.data.phase === 'pre' ? { ...s, pre: fact.data.snapshot ?? null } : { ...s, post: fact.data.snapshot ?? null };
    case 'job.checks.evaluated':
      return { ...s, checks: fact.data.results };
    case 'job.content.download.requested': {
      const { version, hop, baselineJobId } = fact.data;
      return { ...s, contentDownload: { version, hop, baselineJobId, panosJobId: null, requestedAt: fact.at ?? null } };
    }
    case 'job.content.download.enqueued': {
      const { version, hop, panosJobId } = fact.data;
      return { ...s, contentDownload: { ...(s.contentDownload ?? { version, hop, baselineJobId: 0 }), panosJobId } };
    }
    case 'job.content.download.completed':
      return { ...s, contentDownload: null, done: markDone(s, 'content-download', fact.data.hop) };
    case 'job.content.install.requested': {
      const { version, hop, baselineJobId } = fact.data;
      return { ...s, contentInstall: { version, hop, baselineJobId, panosJobId: null, requestedAt: fact.at ?? null } };
    }
    case 'job.content.install.enqueued': {
      const { version, hop, panosJobId } = fact.data;
      return { ...s, contentInstall: { ...(s.contentInstall ?? { version, hop, baselineJobId: 0 }), panosJobId } };
    }
    case 'job.content.updated':
      return { ...s, contentInstall: null, done: markDone(s, 'content-install', s.hop), notes: [...s.notes, `content updated to ${fact.data.version}`] };
    case 'job.download.skipped': {
      const { version, hop } = fact.data;
      return {
        ...s,
        done: markDone(s, 'download', hop),
        status: 'downloading',
        hop,
        skippedVersions: s.skippedVersions.includes(version) ? s.skippedVersions : [...s.skippedVersions, version],
        message: `Version ${version} already downloaded, skipping ${ordinal(s, hop)}`,
        progress: Math.max(s.progress, progressAt(s, hop, s.kind === 'download-only' ? 0.5 : 0.3)),
      };
    }
    case 'job.download.requested': {
      const { version, hop, baselineJobId, direct } = fact.data;
      // The seed's "Version X already downloaded, skipping (1/3)" stays until the next download runs on the device.
      const message = skippedJustBefore(s, hop) ? s.message : `Downloading version ${version} ${ordinal(s, hop)}`;
      return { ...s, message, download: { version, hop, baselineJobId, panosJobId: null, direct, requestedAt: fact.at ?? null } };
    }
    case 'job.download.enqueued': {
      const { version, hop, panosJobId } = fact.data;
      const download = s.download ?? { version, hop, baselineJobId: 0, panosJobId: null };
      return { ...s, download: { ...download, panosJobId }, panosJobs: [...s.panosJobs, { version, kind: 'download', id: panosJobId }] };
    }
    case 'job.download.progressed': {
      const { version, hop, percent } = fact.data;
      const within = s.kind === 'download-only' ? percent / 100 : (0.3 * percent) / 100;
      return { ...s, message: `Downloading version ${version} ${ordinal(s, hop)}`, progress: Math.max(s.progress, progressAt(s, hop, within)) };
    }
    case 'job.download.completed': {
      const { version, hop } = fact.data;
      return {
        ...s,
        download: null,
        done: markDone(s, 'download', hop),
        downloadedVersions: s.downloadedVersions.includes(version) ? s.downloadedVersions : [...s.downloadedVersions, version],
        // A download so quick that no progress was seen still ends the previous hop's skipping message.
        ...(skippedJustBefore(s, hop) ? { message: `Downloaded version ${version} ${ordinal(s, hop)}` } : {}),
        progress: Math.max(s.progress, progressAt(s, hop, s.kind === 'download-only' ? 1 : 0.3)),
      };
    }
    case 'job.install.requested': {
      const { version, hop, baselineJobId } = fact.data;
      return { ...s, install: { version, hop, baselineJobId, panosJobId: null, requestedAt: fact.at ?? null } };
    }
    case 'job.install.enqueued': {
      const { version, hop, panosJobId } = fact.data;
      const install = s.install ?? { version, hop, baselineJobId: 0, panosJobId: null };
      return { ...s, install: { ...install, panosJobId }, panosJobs: [...s.panosJobs, { version, kind: 'install', id: panosJobId }] };
    }
    case 'job.install.progressed':
      return { ...s, progress: Math.max(s.progress, progressAt(s, fact.data.hop, 0.3 + (0.3 * fact.data.percent) / 100)) };
    case 'job.install.completed':
      return { ...s, install: null, done: markDone(s, 'install', fact.data.hop), progress: Math.max(s.progress, progressAt(s, fact.data.hop, 0.6)) };
    case 'job.reboot.requested': {
      const { version, hop, uptimeBefore } = fact.data;
      return { ...s, reboot: { version, hop, uptimeBefore, acknowledged: false, phase: null, requestedAt: fact.at ?? null } };
    }
    case 'job.reboot.acknowledged':
      return s.reboot ? { ...s, reboot: { ...s.reboot, acknowledged: true } } : s;
    case 'job.reboot.phase-changed': {
      const { phase, version, hop } = fact.data;
      return {
        ...s,
        reboot: s.reboot ? { ...s.reboot, phase } : s.reboot,
        // A restart the device never acknowledged (a crash or a timeout right after it was sent) may not have reached it.
        message: `Rebooting into ${version} ${ordinal(s, hop)}: ${phase.replace(/-/g, ' ')}${phase === 'waiting-for-shutdown' && s.reboot && !s.reboot.acknowledged ? ' (the restart was not acknowledged: it is sent again if the device does not go down within the start grace)' : ''}`,
        progress: Math.max(s.progress, progressAt(s, hop, 0.7)),
      };
    }
    case 'job.reboot.completed': {
      const { version, hop } = fact.data;
      return { ...s, reboot: null, done: markDone(s, 'reboot', hop), runningVersion: version, message: `Running ${version} ${ordinal(s, hop)}`, progress: Math.max(s.progress, progressAt(s, hop, 1)) };
    }
    case 'job.cancel.requested':
      return { ...s, cancelRequested: true, message: `${s.message} (cancel requested: stopping after this step)` };
    case 'job.completed': {
      const finished = { ...s, ...finishedSnapshots(s), finishedAt: fact.at ?? null, progress: 100, message: fact.data.message, step: null, retryAt: null };
      return s.kind === 'download-only' ? { ...finished, status: 'download_complete', readyForInstall: true } : { ...finished, status: 'complete' };
    }
    case 'job.failed':
      return { ...s, ...finishedSnapshots(s), status: 'failed', message: fact.data.reason, error: { step: fact.data.step, reason: fact.data.reason }, finishedAt: fact.at ?? null, retryAt: null };
    case 'job.cancelled':
      return { ...s, ...finishedSnapshots(s), status: 'cancelled', message: fact.data.reason, finishedAt: fact.at ?? null, retryAt: null };
    default: {
      const unreachable: never = fact;
      return unreachable;
    }
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export const jobFold = { initialState: initialJobState, evolve: evolveJob };

/** The seed's status JSON for a job (snake_case, as `download status` and the NATS API return it). */
export interface JobStatusRecord {
  job_id: string;
  device_serial: string;
  hostname: string;
  kind: JobKind;
  download_only: boolean;
  dry_run: boolean;
  upgrade_status: UpgradeStatus;
  upgrade_message: string;
  progress: number;
  current_version: string | null;
  target_version: string | null;
  path: string[];
  downloaded_versions: string[];
  skipped_versions: string[];
  /** Each version of the path with what became of it (downloaded, already-present, installed, …). */
  hops: Array<{ version: string; outcome: HopOutcome }>;
  ready_for_install: boolean;
  step: JobStep | null;
  parent_job_id: string | null;
  error: { step: JobStep | null; reason: string } | null;
  panos_jobs: Array<{ version: string; kind: 'download' | 'install'; id: number }>;
  checks: CheckResult[];
  readiness: ReadinessReport | null;
  submitted_at: string | null;
  updated_at: string | null;
  finished_at: string | null;
}

export function toStatusRecord(s: JobState): JobStatusRecord {
  return {
    job_id: s.jobId,
    device_serial: s.device?.serial ?? '',
    hostname: s.device?.hostname ?? '',
    kind: s.kind,
    download_only: s.kind === 'download-only',
    dry_run: s.dryRun,
    upgrade_status: s.status,
    upgrade_message: s.message,
    progress: s.progress,
    current_version: s.runningVersion,
    target_version: s.targetVersion ?? s.plan.at(-1)?.version ?? null,
    path: s.plan.map((h) => (h.action === 'download' ? `${h.version} (download only)` : h.version)),
    downloaded_versions: s.downloadedVersions,
    skipped_versions: s.skippedVersions,
    hops: hopOutcomes(s),
    ready_for_install: s.readyForInstall,
    step: s.step,
    parent_job_id: s.parentId,
    error: s.error,
    panos_jobs: s.panosJobs,
    checks: s.checks,
    readiness: s.readiness,
    submitted_at: s.submittedAt,
    updated_at: s.updatedAt,
    finished_at: s.finishedAt,
  };
}

/** Apply a list of facts in order. */
export function foldJob(facts: ReadonlyArray<JobFact & { at?: string }>, from: JobState = initialJobState()): JobState {
  return facts.reduce(evolveJob, from);
}
