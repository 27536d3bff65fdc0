import {
  MAX_JOBS,
  compareContentVersions,
  type FirewallRecord,
  type HaLocalState,
  type PanosJob,
  type PanosJobType,
  type RunningSync,
} from '../panos/model.ts';
import { baseImageOf, changesFeatureRelease, compareVersions } from '../panos/version.ts';
import { panrepoFreeAfterFaults, type ReadinessFaults } from '../panos/readiness-model.ts';
import { drawBetween, nextRandom } from './random.ts';

/**
 * The pure rules of a simulated PAN-OS firewall. The machine in firewall.machine.ts decides *when*
 * these run; these decide *what* happens. Every function takes the context and the time of the event
 * and returns the next context, the reply to the API caller and the facts for the event log.
 */

/** Durations this device draws once, in ms (scenario timing × time scale). */
export interface DeviceTiming {
  downloadMs: number;
  installMs: number;
  rebootMs: number;
  contentDownloadMs: number;
  contentInstallMs: number;
  autoCommitMs: number;
}

export interface FaultRate {
  rate: number;
  error: string;
}

/** Injected failures; the chaos control changes them live. */
export interface DeviceFaults {
  /** `disk_full`: the download fails partway with a disk-space line and leaves /opt/panrepo full. */
  download?: FaultRate & { mode?: 'fail' | 'disk_full' };
  install?: FaultRate;
  content_download?: FaultRate;
  content_install?: FaultRate;
  autocommit?: FaultRate;
  /** A failed reboot either never returns or comes back on the version it left. */
  reboot?: FaultRate & { mode: 'never_returns' | 'wrong_version' };
  /** Multiply the reboot duration (reboots that take an hour). */
  rebootSlowFactor?: number;
  /** The next N downloads stall at their halfway point and never finish by themselves. */
  downloadStalls?: number;
  /** Multiply the duration of software downloads and installs. */
  downloadSlowFactor?: number;
  installSlowFactor?: number;
  /** The software manager refuses downloads and installs as busy at this rate. */
  busy?: FaultRate;
  /** An unplanned reboot (kernel panic, power) when the HA peer starts a software install: the pair fails over. */
  crash?: FaultRate & { on: 'peer_install'; downMs?: number };
  /** Answers of the API layer, read by the simulator host (not by these rules). */
  api?: ApiFaults;
  /** What readiness checks see (expired license, NTP, BGP peer down, …), read by the simulator host. */
  readiness?: ReadinessFaults;
}

/** Faults of the transport and management plane; the host applies them before the rules run. */
export interface ApiFaults {
  /** Extra latency per call, ms. */
  latencyMs?: number;
  /** Probability that a call gets the latency; every call when unset. */
  latencyRate?: number;
  /** Probability that a call gets no answer at all. */
  hangRate?: number;
  /** Probability of an HTTP 5xx. */
  http5xxRate?: number;
  /** Probability that the connection is dropped. */
  dropRate?: number;
  /** Panorama reports the device not connected while this is set. */
  notConnected?: boolean;
  /** Probability that Panorama reports the device not connected on one call through it. */
  notConnectedRate?: number;
  /** Probability that a download/install is refused because the software manager is busy (same as `busy`). */
  busyRate?: number;
}

export interface RebootPlan {
  requestedAt: number;
  /** Until then the API still answers as if nothing happened (PAN-OS takes a moment to go down). */
  downAt: number;
  /** Web server up, management plane not: HTML, 403s; Panorama still shows it disconnected. */
  startingAt: number;
  /** The API answers on the new version; `show chassis-ready` says no. */
  notReadyAt: number;
  /** Chassis ready; the auto-commit job runs; installs are refused. */
  readyAt: number;
  autoCommitEndsAt: number;
  fromVersion: string;
  intoVersion: string;
  neverReturns: boolean;
  autoCommitFails: boolean;
  autoCommitJobId?: number;
  /** Not asked for: a crash (`sim.crash.started`). */
  unplanned?: boolean;
}

/** The planned end of the job the software manager is running. */
export interface JobPlan {
  jobId: number;
  ok: boolean;
  details: string[];
  /** When the job ends (earlier than `endsAt` for a failure midway). */
  at: number;
  stall: boolean;
  /** `sync-to-peer yes`: the HA peer receives a copy when the download finishes. */
  syncToPeer?: boolean;
  /** The download fills /opt/panrepo and fails when it does. */
  diskFull?: boolean;
}

export interface FirewallContext {
  record: FirewallRecord;
  timing: DeviceTiming;
  faults: DeviceFaults;
  rng: number;
  plan: JobPlan | null;
  reboot: RebootPlan | null;
}

export type SimReply =
  | { kind: 'job'; jobId: number; jobType: PanosJobType }
  | { kind: 'text'; text: string }
  | { kind: 'error'; code?: string; lines: string[] };

export interface Fact {
  type: string;
  data: Record<string, unknown>;
}

export interface Decision {
  context: FirewallContext;
  reply: SimReply;
  facts: Fact[];
}

export interface Transition {
  context: FirewallContext;
  facts: Fact[];
}

/** A deadline that is never reached (a stalled download, a reboot that never returns). */
export const NEVER = Number.MAX_SAFE_INTEGER;

export const SOFTWARE_MANAGER_BUSY = 'The software manager is currently in use. Please try again later.';
export const COMMIT_IN_PROGRESS = 'A commit is in progress. Please try again later.';

function error(lines: string[], code?: string): SimReply {
  return code === undefined ? { kind: 'error', lines } : { kind: 'error', code, lines };
}

function draw(ctx: FirewallContext): [number, FirewallContext] {
  const [r, rng] = nextRandom(ctx.rng);
  return [r, { ...ctx, rng }];
}

function fails(ctx: FirewallContext, fault: FaultRate | undefined): [boolean, FirewallContext] {
  if (!fault || fault.rate <= 0) return [false, ctx];
  const [r, next] = draw(ctx);
  return [r < fault.rate, next];
}

/** The busy fault, from `busy` or the API layer's `busyRate`. */
function busyFault(faults: DeviceFaults): FaultRate | undefined {
  if (faults.busy) return faults.busy;
  const rate = faults.api?.busyRate;
  return rate && rate > 0 ? { rate, error: SOFTWARE_MANAGER_BUSY } : undefined;
}

function addJob(record: FirewallRecord, job: PanosJob): FirewallRecord {
  const jobs = [...record.jobs, job];
  return { ...record, jobs: jobs.length > MAX_JOBS ? jobs.slice(jobs.length - MAX_JOBS) : jobs, nextJobId: job.id + 1 };
}

function updateJob(record: FirewallRecord, id: number, change: (job: PanosJob) => PanosJob): FirewallRecord {
  return { ...record, jobs: record.jobs.map((j) => (j.id === id ? change(j) : j)) };
}

function newJob(record: FirewallRecord, type: PanosJobType, now: number, durationMs: number, version?: string, user = 'admin'): PanosJob {
  const job: PanosJob = {
    id: record.nextJobId,
    type,
    user,
    enqueuedAt: now,
    startedAt: now,
    endsAt: now + Math.max(1, Math.round(durationMs)),
    status: 'ACT',
    result: 'PEND',
    details: [],
    warnings: [],
    description: '',
  };
  if (version !== undefined) job.version = version;
  return job;
}

/** A job that is over as soon as it exists (a refused install is reported as a FAIL job, as PAN-OS does). */
function finishedJob(job: PanosJob, ok: boolean, details: string[]): PanosJob {
  return { ...job, status: 'FIN', result: ok ? 'OK' : 'FAIL', endsAt: job.startedAt, finishedAt: job.startedAt, details };
}

/** Whether a job is about a PAN-OS image or a content package. */
export function jobKind(record: FirewallRecord, job: PanosJob): 'software' | 'content' {
  if (job.type === 'Content') return 'content';
  return job.version !== undefined && !record.images.some((i) => i.version === job.version) ? 'content' : 'software';
}

export function freeDiskMb(record: FirewallRecord): number {
  return Math.max(0, record.disk.panrepoTotalMb - record.disk.panrepoUsedMb);
}

export function activeJob(ctx: FirewallContext): PanosJob | undefined {
  return ctx.plan ? ctx.record.jobs.find((j) => j.id === ctx.plan!.jobId) : undefined;
}

/** The details line of a download that ran out of disk: it names the disk, as PAN-OS's "No space left" does. */
export function diskFullLine(version: string, writtenMb: number, sizeMb: number): string {
  return `No space left on device: /opt/panrepo is full after ${writtenMb} MB of ${sizeMb} MB of ${version} (not enough disk space)`;
}

/** `request system software download version X` */
export function decideDownload(ctx: FirewallContext, version: string, now: number, syncToPeer = false): Decision {
  const rec = ctx.record;
  if (ctx.plan) {
    const running = activeJob(ctx);
    const line = running?.type === 'Downld' ? 'Another download is in progress' : SOFTWARE_MANAGER_BUSY;
    return { context: ctx, reply: error([line]), facts: [] };
  }
  const image = rec.images.find((i) => i.version === version);
  if (!image) {
    // [unconfirmed] exact PAN-OS text for a version the update server did not list
    return {
      context: ctx,
      reply: error([`${version} is not a valid software version for this platform. Run 'request system software check' to refresh the list.`]),
      facts: [],
    };
  }
  const [busy, afterBusy] = fails(ctx, busyFault(ctx.faults));
  if (busy) {
    return {
      context: afterBusy,
      reply: error([busyFault(ctx.faults)!.error]),
      facts: [{ type: 'sim.busy.refused', data: { operation: 'download', version } }],
    };
  }
  ctx = afterBusy;
  let job = newJob(rec, 'Downld', now, ctx.timing.downloadMs * (ctx.faults.downloadSlowFactor ?? 1), version);
  if (rec.downloaded.includes(version)) {
    // [unconfirmed] simulator choice: an image already present gives a job that is already done
    job = finishedJob(job, true, [`Image ${version} is already downloaded`]);
    return { context: { ...ctx, record: addJob(rec, job) }, reply: { kind: 'job', jobId: job.id, jobType: 'Downld' }, facts: [] };
  }
  // The low-disk readiness fault fills /opt/panrepo for downloads too, not only in `show system disk-space`.
  const free = panrepoFreeAfterFaults(freeDiskMb(rec), ctx.faults.readiness);
  if (free < image.sizeMb) {
    // [unconfirmed] simulator choice: too little disk is reported as a failed download job
    job = finishedJob(job, false, [
      `Failed to download ${version}: not enough free disk space on /opt/panrepo (${image.sizeMb} MB needed, ${free} MB available)`,
    ]);
    return {
      context: { ...ctx, record: addJob(rec, job) },
      reply: { kind: 'job', jobId: job.id, jobType: 'Downld' },
      facts: [{ type: 'sim.download.failed', data: { jobId: job.id, version, kind: 'software', reason: job.details[0]! } }],
    };
  }
  let next = ctx;
  const [failed, c1] = fails(next, next.faults.download);
  next = c1;
  let stall = false;
  let faults = next.faults;
  if (!failed && (faults.downloadStalls ?? 0) > 0) {
    stall = true;
    faults = { ...faults, downloadStalls: (faults.downloadStalls ?? 1) - 1 };
  }
  let at = job.endsAt;
  let partway = 1;
  if (failed) {
    const [f, c2] = drawBetween(next.rng, 0.2, 0.9);
    next = { ...next, rng: c2 };
    partway = f;
    at = Math.round(now + (job.endsAt - now) * f);
  }
  if (stall) job = { ...job, stalledAt: now + Math.round((job.endsAt - now) / 2) };
  const diskFull = failed && next.faults.download?.mode === 'disk_full';
  const plan: JobPlan = {
    jobId: job.id,
    ok: !failed,
    details: diskFull
      ? [next.faults.download!.error, diskFullLine(version, Math.round(image.sizeMb * partway), image.sizeMb)]
      : failed
        ? [next.faults.download!.error]
        : ['Successfully downloaded', 'Preloading into software manager', 'Successfully loaded into software manager'],
    at,
    stall,
    ...(syncToPeer && rec.ha ? { syncToPeer: true } : {}),
    ...(diskFull ? { diskFull: true } : {}),
  };
  return {
    context: { ...next, faults, record: addJob(rec, job), plan },
    reply: { kind: 'job', jobId: job.id, jobType: 'Downld' },
    facts: [{ type: 'sim.download.started', data: { jobId: job.id, version, kind: 'software', endsAt: job.endsAt, ...(stall ? { stalled: true } : {}) } }],
  };
}

/** `request content upgrade download latest` */
export function decideContentDownload(ctx: FirewallContext, now: number): Decision {
  const rec = ctx.record;
  if (ctx.plan) return { context: ctx, reply: error([SOFTWARE_MANAGER_BUSY]), facts: [] };
  const latest = [...rec.content.available].sort((a, b) => compareContentVersions(b.version, a.version))[0];
  if (!latest) return { context: ctx, reply: error(['No update available']), facts: [] };
  let job = newJob(rec, 'Downld', now, ctx.timing.contentDownloadMs, latest.version);
  if (rec.content.downloaded.includes(latest.version) || compareContentVersions(rec.content.installed, latest.version) >= 0) {
    job = finishedJob(job, true, [`Content ${latest.version} is already downloaded`]);
    return { context: { ...ctx, record: addJob(rec, job) }, reply: { kind: 'job', jobId: job.id, jobType: 'Downld' }, facts: [] };
  }
  const [failed, next] = fails(ctx, ctx.faults.content_download);
  const plan: JobPlan = {
    jobId: job.id,
    ok: !failed,
    details: failed ? [ctx.faults.content_download!.error] : ['Successfully downloaded'],
    at: job.endsAt,
    stall: false,
  };
  return {
    context: { ...next, record: addJob(rec, job), plan },
    reply: { kind: 'job', jobId: job.id, jobType: 'Downld' },
    facts: [{ type: 'sim.download.started', data: { jobId: job.id, version: latest.version, kind: 'content', endsAt: job.endsAt } }],
  };
}

/** `request content upgrade install version latest|<v>` */
export function decideContentInstall(ctx: FirewallContext, version: string, now: number, autoCommitting: boolean): Decision {
  const rec = ctx.record;
  if (autoCommitting) return { context: ctx, reply: error([COMMIT_IN_PROGRESS]), facts: [] };
  if (ctx.plan) return { context: ctx, reply: error([SOFTWARE_MANAGER_BUSY]), facts: [] };
  const candidates = rec.content.downloaded.filter((v) => compareContentVersions(v, rec.content.installed) > 0);
  const target =
    version === 'latest' ? candidates.sort((a, b) => compareContentVersions(b, a))[0] : rec.content.downloaded.includes(version) ? version : undefined;
  if (!target) {
    if (version === 'latest' && rec.content.downloaded.length === 0) {
      return { context: ctx, reply: error(['No content update has been downloaded. Run request content upgrade download latest first.']), facts: [] };
    }
    if (version === 'latest') {
      const job = finishedJob(newJob(rec, 'Content', now, 0, rec.content.installed), true, ['Content is already the latest version']);
      return { context: { ...ctx, record: addJob(rec, job) }, reply: { kind: 'job', jobId: job.id, jobType: 'Content' }, facts: [] };
    }
    return { context: ctx, reply: error([`Content version ${version} has not been downloaded`]), facts: [] };
  }
  const job = newJob(rec, 'Content', now, ctx.timing.contentInstallMs, target);
  const [failed, next] = fails(ctx, ctx.faults.content_install);
  const plan: JobPlan = {
    jobId: job.id,
    ok: !failed,
    details: failed ? [ctx.faults.content_install!.error] : [`Successfully installed content version ${target}`],
    at: job.endsAt,
    stall: false,
  };
  return {
    context: { ...next, record: addJob(rec, job), plan },
    reply: { kind: 'job', jobId: job.id, jobType: 'Content' },
    facts: [{ type: 'sim.install.started', data: { jobId: job.id, version: target, kind: 'content', endsAt: job.endsAt } }],
  };
}

function installFailLines(version: string, reason: string): string[] {
  return [`Failed to install ${version} with the following errors.`, `SW version is ${version}`, reason, `Failed to install   version  ${version}  type  panos`];
}

/** `request system software install version X` */
export function decideInstall(ctx: FirewallContext, version: string, now: number, autoCommitting: boolean): Decision {
  const rec = ctx.record;
  if (autoCommitting) return { context: ctx, reply: error([COMMIT_IN_PROGRESS]), facts: [] };
  const failJob = (reason: string): Decision => {
    const job = finishedJob(newJob(rec, 'SWInstall', now, 0, version), false, installFailLines(version, reason));
    return {
      context: { ...ctx, record: addJob(rec, job) },
      reply: { kind: 'job', jobId: job.id, jobType: 'SWInstall' },
      facts: [{ type: 'sim.install.failed', data: { jobId: job.id, version, kind: 'software', reason } }],
    };
  };
  if (ctx.plan) return failJob(SOFTWARE_MANAGER_BUSY);
  const image = rec.images.find((i) => i.version === version);
  if (!image || !rec.downloaded.includes(version)) {
    // [unconfirmed] wording; real clients match "has not been downloaded" (paloversion)
    return { context: ctx, reply: error([`Image ${version} has not been downloaded. Download it with request system software download version ${version}.`]), facts: [] };
  }
  if (version === rec.swVersion && rec.pendingVersion === undefined) {
    return { context: ctx, reply: error([`${version} is already the running software version`]), facts: [] };
  }
  if (changesFeatureRelease(rec.swVersion, version)) {
    const base = baseImageOf(version);
    // Only a base the update server lists can be required: the 12.1 train, for one, has no 12.1.0.
    const listed = rec.images.some((i) => i.version === base);
    if (base !== version && listed && !rec.downloaded.includes(base) && compareVersions(base, rec.swVersion) > 0) {
      return failJob(`Base image ${base} has not been downloaded. Download ${base} before installing ${version}.`);
    }
  }
  if (image.minContentVersion && compareContentVersions(rec.content.installed, image.minContentVersion) < 0) {
    // [unconfirmed] wording of PAN-OS's refusal of a release whose minimum content is newer than the installed one
    return failJob(
      `Content version ${rec.content.installed} is older than ${image.minContentVersion}, the minimum required by ${version}. Install the latest content first.`,
    );
  }
  const [busy, afterBusy] = fails(ctx, busyFault(ctx.faults));
  if (busy) {
    const refused = failJob(busyFault(ctx.faults)!.error);
    return { ...refused, context: { ...refused.context, rng: afterBusy.rng } };
  }
  const job = newJob(rec, 'SWInstall', now, ctx.timing.installMs * (ctx.faults.installSlowFactor ?? 1), version);
  const [failed, next] = fails(ctx, ctx.faults.install);
  const plan: JobPlan = {
    jobId: job.id,
    ok: !failed,
    details: failed
      ? installFailLines(version, next.faults.install!.error)
      : [`Software installation of ${version} successfully completed. Please reboot to switch to the new version.`],
    at: job.endsAt,
    stall: false,
  };
  return {
    context: { ...next, record: addJob(rec, job), plan },
    reply: { kind: 'job', jobId: job.id, jobType: 'SWInstall' },
    facts: [{ type: 'sim.install.started', data: { jobId: job.id, version, kind: 'software', endsAt: job.endsAt } }],
  };
}

/** The software manager's job reached its planned end (or its failure point). */
export function finishActiveJob(ctx: FirewallContext, now: number): Transition {
  const plan = ctx.plan;
  const job = activeJob(ctx);
  if (!plan || !job) return { context: { ...ctx, plan: null }, facts: [] };
  let record = updateJob(ctx.record, job.id, (j) => ({
    ...j,
    status: 'FIN',
    result: plan.ok ? 'OK' : 'FAIL',
    finishedAt: now,
    details: plan.details,
  }));
  const version = job.version ?? '';
  const facts: Fact[] = [];
  if (job.type === 'Downld') {
    const isContent = jobKind(record, job) === 'content';
    if (plan.ok) {
      if (isContent) {
        record = { ...record, content: { ...record.content, downloaded: [...new Set([...record.content.downloaded, version])] } };
      } else {
        const size = record.images.find((i) => i.version === version)?.sizeMb ?? 0;
        record = {
          ...record,
          downloaded: [...new Set([...record.downloaded, version])],
          disk: { ...record.disk, panrepoUsedMb: record.disk.panrepoUsedMb + size },
        };
      }
      facts.push({
        type: 'sim.download.completed',
        data: { jobId: job.id, version, kind: isContent ? 'content' : 'software', ...(plan.syncToPeer ? { syncToPeer: true } : {}) },
      });
    } else {
      facts.push({ type: 'sim.download.failed', data: { jobId: job.id, version, kind: isContent ? 'content' : 'software', reason: plan.details.join(' ') } });
      if (plan.diskFull) {
        record = { ...record, disk: { ...record.disk, panrepoUsedMb: record.disk.panrepoTotalMb } };
        facts.push({ type: 'sim.disk.full', data: { jobId: job.id, version, totalMb: record.disk.panrepoTotalMb } });
      }
    }
  } else if (job.type === 'SWInstall') {
    if (plan.ok) {
      record = { ...record, pendingVersion: version };
      facts.push({ type: 'sim.install.completed', data: { jobId: job.id, version, kind: 'software' } });
    } else {
      facts.push({ type: 'sim.install.failed', data: { jobId: job.id, version, kind: 'software', reason: plan.details.join(' ') } });
    }
  } else if (job.type === 'Content') {
    if (plan.ok) {
      record = { ...record, content: { ...record.content, installed: version } };
      facts.push({ type: 'sim.install.completed', data: { jobId: job.id, version, kind: 'content' } });
    } else {
      facts.push({ type: 'sim.install.failed', data: { jobId: job.id, version, kind: 'content', reason: plan.details.join(' ') } });
    }
  }
  return { context: { ...ctx, record, plan: null }, facts };
}

/** `request restart system`: plan the phases of the reboot from this moment. */
export function decideRestart(ctx: FirewallContext, now: number): Decision {
  let next = ctx;
  let record = ctx.record;
  const facts: Fact[] = [];
  const running = activeJob(ctx);
  if (running) {
    record = updateJob(record, running.id, (j) => ({ ...j, status: 'FIN', result: 'FAIL', finishedAt: now, details: ['Job aborted: the device is restarting'] }));
    facts.push({
      type: running.type === 'SWInstall' || running.type === 'Content' ? 'sim.install.failed' : 'sim.download.failed',
      data: { jobId: running.id, version: running.version ?? '', kind: jobKind(record, running), reason: 'aborted by restart' },
    });
  }
  const [rebootFails, c1] = fails(next, next.faults.reboot);
  next = c1;
  const [autoCommitFails, c2] = fails(next, next.faults.autocommit);
  next = c2;
  const r = ctx.timing.rebootMs * (ctx.faults.rebootSlowFactor ?? 1);
  const downAt = now + Math.min(5000, Math.round(0.1 * r));
  const startingAt = downAt + Math.round(0.6 * r);
  const notReadyAt = startingAt + Math.round(0.1 * r);
  const readyAt = notReadyAt + Math.round(0.2 * r);
  const neverReturns = rebootFails && ctx.faults.reboot?.mode === 'never_returns';
  const wrongVersion = rebootFails && ctx.faults.reboot?.mode === 'wrong_version';
  const intoVersion = !wrongVersion && record.pendingVersion ? record.pendingVersion : record.swVersion;
  const reboot: RebootPlan = {
    requestedAt: now,
    downAt,
    startingAt,
    notReadyAt,
    readyAt,
    autoCommitEndsAt: readyAt + Math.round(ctx.timing.autoCommitMs),
    fromVersion: record.swVersion,
    intoVersion,
    neverReturns,
    autoCommitFails,
  };
  facts.push({ type: 'sim.reboot.started', data: { fromVersion: record.swVersion, intoVersion, downAt, readyAt } });
  return {
    context: { ...next, record, plan: null, reboot },
    reply: { kind: 'text', text: 'Command succeeded with no output' },
    facts,
  };
}

/**
 * An unplanned reboot (chaos `crash`, or the scenario's crash on the peer's install): the device goes
 * down at once for `downMs` (default: its normal reboot time) and boots whatever it would boot next.
 * A running job is aborted, as with a restart; Panorama sees it disconnected and its HA peer takes over.
 */
export function decideCrash(ctx: FirewallContext, now: number, downMs: number | undefined, reason: string): Transition {
  let record = ctx.record;
  const facts: Fact[] = [{ type: 'sim.crash.started', data: { reason, downMs: downMs ?? null } }];
  const running = activeJob(ctx);
  if (running) {
    record = updateJob(record, running.id, (j) => ({ ...j, status: 'FIN', result: 'FAIL', finishedAt: now, details: [`Job aborted: ${reason}`] }));
    facts.push({
      type: running.type === 'SWInstall' || running.type === 'Content' ? 'sim.install.failed' : 'sim.download.failed',
      data: { jobId: running.id, version: running.version ?? '', kind: jobKind(record, running), reason: `aborted by crash: ${reason}` },
    });
  }
  const r = Math.max(1, downMs ?? ctx.timing.rebootMs * (ctx.faults.rebootSlowFactor ?? 1));
  const startingAt = now + Math.round(0.6 * r);
  const notReadyAt = startingAt + Math.round(0.1 * r);
  const readyAt = notReadyAt + Math.round(0.3 * r);
  const intoVersion = record.pendingVersion ?? record.swVersion;
  const reboot: RebootPlan = {
    requestedAt: now,
    downAt: now,
    startingAt,
    notReadyAt,
    readyAt,
    autoCommitEndsAt: readyAt + Math.round(ctx.timing.autoCommitMs),
    fromVersion: record.swVersion,
    intoVersion,
    neverReturns: false,
    autoCommitFails: false,
    unplanned: true,
  };
  facts.push({ type: 'sim.reboot.started', data: { fromVersion: record.swVersion, intoVersion, downAt: now, readyAt, unplanned: true } });
  return { context: { ...ctx, record, plan: null, reboot }, facts };
}

/** Whether the crash fault fires on this trigger: the draw that `crashOnPeerInstall` consumes. */
export function crashDrawn(ctx: FirewallContext): boolean {
  const f = ctx.faults.crash;
  if (!f || f.rate <= 0) return false;
  return nextRandom(ctx.rng)[0] < f.rate;
}

/** The HA peer started a software install: crash with the fault's probability (one draw either way). */
export function onPeerInstall(ctx: FirewallContext, now: number): Transition {
  const f = ctx.faults.crash;
  if (!f || f.rate <= 0 || f.on !== 'peer_install') return { context: ctx, facts: [] };
  const [crash, next] = fails(ctx, f);
  if (!crash) return { context: next, facts: [] };
  return decideCrash(next, now, f.downMs, f.error);
}

/** The device stops answering. */
export function rebootDown(ctx: FirewallContext): Transition {
  const facts: Fact[] = [{ type: 'sim.reboot.down', data: { neverReturns: ctx.reboot?.neverReturns ?? false } }];
  return { context: ctx, facts };
}

/** The new image boots: the version changes, uptime resets, metrics drift a little. */
export function rebootBooting(ctx: FirewallContext, now: number): Transition {
  const plan = ctx.reboot;
  if (!plan) return { context: ctx, facts: [] };
  let rng = ctx.rng;
  const drift = (value: number, pct: number): number => {
    const [f, n] = drawBetween(rng, 1 - pct, 1 + pct);
    rng = n;
    return Math.max(0, Math.round(value * f));
  };
  const m = ctx.record.metrics;
  const metrics = { tcpSessions: drift(m.tcpSessions, 0.03), udpSessions: drift(m.udpSessions, 0.05), routes: m.routes, arpEntries: drift(m.arpEntries, 0.005) };
  const { pendingVersion: _dropped, ...rest } = ctx.record;
  let record: FirewallRecord = { ...rest, swVersion: plan.intoVersion, bootedAt: now, metrics };
  if (plan.intoVersion !== plan.fromVersion) record = pruneOldImages(record, plan.fromVersion);
  const facts: Fact[] = [
    { type: 'sim.reboot.booting', data: { version: plan.intoVersion } },
  ];
  if (plan.intoVersion !== plan.fromVersion) facts.push({ type: 'sim.version.changed', data: { from: plan.fromVersion, to: plan.intoVersion } });
  facts.push({ type: 'sim.metrics.changed', data: { ...metrics } });
  return { context: { ...ctx, rng, record }, facts };
}

/** After an upgrade PAN-OS keeps the previous image; older ones are removed from the software manager. */
function pruneOldImages(record: FirewallRecord, previous: string): FirewallRecord {
  const keep = record.downloaded.filter((v) => compareVersions(v, previous) >= 0);
  if (keep.length === record.downloaded.length) return record;
  const freed = record.downloaded
    .filter((v) => !keep.includes(v))
    .reduce((sum, v) => sum + (record.images.find((i) => i.version === v)?.sizeMb ?? 0), 0);
  return { ...record, downloaded: keep, disk: { ...record.disk, panrepoUsedMb: Math.max(0, record.disk.panrepoUsedMb - freed) } };
}

/** Chassis ready: the auto-commit job starts. */
export function rebootReady(ctx: FirewallContext, now: number): Transition {
  const plan = ctx.reboot;
  if (!plan) return { context: ctx, facts: [] };
  const job = newJob(ctx.record, 'AutoCom', now, plan.autoCommitEndsAt - now, undefined, '');
  return {
    context: { ...ctx, record: addJob(ctx.record, job), reboot: { ...plan, autoCommitJobId: job.id } },
    facts: [{ type: 'sim.reboot.ready', data: { autoCommitJobId: job.id } }],
  };
}

/** The auto-commit ends; the device is fully online. */
export function rebootCompleted(ctx: FirewallContext, now: number): Transition {
  const plan = ctx.reboot;
  if (!plan) return { context: ctx, facts: [] };
  let record = ctx.record;
  if (plan.autoCommitJobId !== undefined) {
    const ok = !plan.autoCommitFails;
    record = updateJob(record, plan.autoCommitJobId, (j) => ({
      ...j,
      status: 'FIN',
      result: ok ? 'OK' : 'FAIL',
      finishedAt: now,
      details: ok ? ['Configuration committed successfully'] : [ctx.faults.autocommit?.error ?? 'Auto-commit failed'],
    }));
  }
  const facts: Fact[] = [];
  if (plan.autoCommitFails) facts.push({ type: 'sim.autocommit.failed', data: { reason: ctx.faults.autocommit?.error ?? 'Auto-commit failed' } });
  facts.push({ type: 'sim.reboot.completed', data: { version: record.swVersion, autoCommitOk: !plan.autoCommitFails } });
  return { context: { ...ctx, record, reboot: null }, facts };
}

/** Change the local HA state (suspend, functional, failover decided by the pair). */
export function setHaState(ctx: FirewallContext, state: HaLocalState, now: number, reason?: string): Transition {
  const ha = ctx.record.ha;
  if (!ha || ha.state === state) return { context: ctx, facts: [] };
  const next = { ...ha, state, stateSince: now };
  if (state === 'suspended') {
    next.lastErrorReason = reason ?? 'User requested';
    next.lastErrorState = 'suspended';
  }
  return {
    context: { ...ctx, record: { ...ctx.record, ha: next } },
    facts: [{ type: 'sim.ha-state.changed', data: { from: ha.state, to: state, reason: reason ?? '' } }],
  };
}

/** `request high-availability state suspend|functional` */
export function decideHa(ctx: FirewallContext, action: 'suspend' | 'functional', now: number): Decision {
  const ha = ctx.record.ha;
  if (!ha) {
    // [unconfirmed] PAN-OS wording when HA is not configured
    return { context: ctx, reply: error(['HA is not enabled on this device']), facts: [] };
  }
  if (action === 'suspend') {
    const t = setHaState(ctx, 'suspended', now, 'User requested');
    return { ...t, reply: { kind: 'text', text: 'Successfully changed HA state to suspended' } };
  }
  if (ha.state !== 'suspended' && ha.state !== 'non-functional') {
    return { context: ctx, reply: { kind: 'text', text: 'Successfully changed HA state to functional' }, facts: [] };
  }
  const t = setHaState(ctx, 'passive', now, 'User requested');
  return { ...t, reply: { kind: 'text', text: 'Successfully changed HA state to functional' } };
}

/** Resume a stalled download: it finishes after the time it had left when it stalled. */
export function resumeStalledDownload(ctx: FirewallContext, now: number): Transition {
  const job = activeJob(ctx);
  if (!ctx.plan || !ctx.plan.stall || !job) return { context: ctx, facts: [] };
  const left = Math.max(1, job.endsAt - (job.stalledAt ?? now));
  const duration = job.endsAt - job.startedAt;
  const record = updateJob(ctx.record, job.id, (j) => {
    const { stalledAt: _resumed, ...rest } = j;
    return { ...rest, startedAt: now + left - duration, endsAt: now + left };
  });
  return {
    context: { ...ctx, record, plan: { ...ctx.plan, stall: false, at: now + left } },
    facts: [{ type: 'sim.download.resumed', data: { jobId: job.id } }],
  };
}

/** The pair reports a new running-config sync state. */
export function setRunningSync(ctx: FirewallContext, runningSync: RunningSync): Transition {
  const ha = ctx.record.ha;
  if (!ha || ha.runningSync === runningSync) return { context: ctx, facts: [] };
  return {
    context: { ...ctx, record: { ...ctx.record, ha: { ...ha, runningSync } } },
    facts: [{ type: 'sim.ha-sync.changed', data: { runningSync } }],
  };
}

/** The HA peer finished a `sync-to-peer` download: the image arrives here too, if there is room. */
export function receiveImage(ctx: FirewallContext, version: string, from: string): Transition {
  const rec = ctx.record;
  const image = rec.images.find((i) => i.version === version);
  if (!image || rec.downloaded.includes(version)) return { context: ctx, facts: [] };
  if (panrepoFreeAfterFaults(freeDiskMb(rec), ctx.faults.readiness) < image.sizeMb) {
    return { context: ctx, facts: [{ type: 'sim.image.sync-failed', data: { version, from, reason: 'not enough free disk space on /opt/panrepo' } }] };
  }
  const record = { ...rec, downloaded: [...rec.downloaded, version], disk: { ...rec.disk, panrepoUsedMb: rec.disk.panrepoUsedMb + image.sizeMb } };
  return { context: { ...ctx, record }, facts: [{ type: 'sim.image.received', data: { version, from } }] };
}
