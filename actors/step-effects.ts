import type { Logger } from 'pino';
import { fromCallback } from 'xstate';
import { DeviceUnreachableError, PanosApiError, PanosJobFailedError, PanosUpgradeError, TransportError } from '../panos/errors.ts';
import type { ParsedJob, SoftwareInfo } from '../panos/parsers.ts';
import { panrepoAvailMb } from '../panos/parsers.ts';
import { compareContentVersions } from '../panos/model.ts';
import { isTransientError, sleep } from '../panos/client.ts';
import { planUpgrade, type PathRules } from '../panos/upgrade-path.ts';
import type { DurationEstimates } from '../panos/poll-schedule.ts';
import type { JobDevice, JobFact } from '../machines/upgrade-job.events.ts';
import { effectDone, type InFlight, type JobEffect, type JobState } from '../machines/upgrade-job.fold.ts';
import type { StepInput, UpgradeJobEvent } from '../machines/upgrade-job.machine.ts';
import type { DeviceApi, RebootWaitResult } from './device-api.ts';
import { jobSnapshot, preflightRun } from './readiness.ts';
import { describeBlocking, type Readings } from '../checks/index.ts';
import { FencedOffError, withEpoch, type Fence } from './fence.ts';
import { STEP_STOPPED, stepDeadline, throwIfStopped } from './step-stopped.ts';

/** What the step effects need from the daemon. */
export interface StepDeps {
  /** The device through Panorama (`target=`), or directly when configured so. */
  api: (device: JobDevice) => DeviceApi;
  /** The device at its own management address, for downloads (the seed's direct mode). */
  directApi: (device: JobDevice) => DeviceApi;
  directDownloads: boolean;
  installVia: 'panorama' | 'direct';
  updateContent: boolean;
  pollJobMs: number;
  jobTimeoutMs: number;
  pollRebootMs: number;
  rebootBudgetMs: (model: string) => number;
  rebootStartGraceMs: number;
  pathRules: PathRules;
  /** How long downloads, installs and reboots took on each model: where the next wait first looks. */
  estimates: DurationEstimates;
  /** Resolves when everything the job recorded so far is on disk. */
  durable: (jobId: string) => Promise<void>;
  /** The job as it stands now (undefined for a job the daemon does not host). */
  current: (jobId: string) => JobState | undefined;
  now: () => number;
  log: Logger;
  /** On a cluster: the lease check (intents carry its epoch; `api`/`directApi` are fenced by the daemon). */
  fence?: Fence;
}

/** The device refused for a reason that goes away by itself: retry the step later. */
export class RetryableStepError extends PanosUpgradeError {
  constructor(message: string) {
    super('STEP_RETRYABLE', message);
  }
}

/** A failure that another attempt will not fix. */
export class FatalStepError extends PanosUpgradeError {
  constructor(message: string) {
    super('STEP_FATAL', message);
  }
}

interface StepContext {
  signal: AbortSignal;
  /** Record a fact and wait until it is durable. */
  record: (fact: JobFact) => Promise<void>;
  /** Record a fact without waiting (progress). */
  note: (fact: JobFact) => void;
}

type StepFn = (input: StepInput, ctx: StepContext) => Promise<void>;

const BUSY = /software manager is currently in use|another download is in progress|commit is in progress|install is in progress|pending jobs/i;
const DISK = /disk space|no space left/i;

/** Whether another attempt of the step can succeed: transport trouble and a busy device, yes; the rest, no. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof FatalStepError) return false;
  // A certificate that is not trusted is configuration (or a changed device): another attempt cannot pass.
  if (err instanceof TransportError && err.certificate) return false;
  if (err instanceof RetryableStepError || err instanceof DeviceUnreachableError) return true;
  if (err instanceof PanosJobFailedError) return !DISK.test(err.details.join(' ')) && (BUSY.test(err.details.join(' ')) || err.jobType === 'Downld');
  if (err instanceof PanosApiError) return BUSY.test(err.lines.join(' '));
  const code = (err as { code?: string }).code;
  return code === 'BAD_RESPONSE' || code === 'TIMEOUT';
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Wrap a step function as the callback actor the machine invokes. A step with an `effect` first asks
 * the log whether that effect is already done for the hop (a crash came after it was recorded and
 * before the step was): then it only completes, and sends nothing.
 */
function step(deps: StepDeps, run: StepFn, effect?: JobEffect) {
  return fromCallback<{ type: string }, StepInput>(({ input, sendBack }) => {
    const ac = new AbortController();
    const send = (e: UpgradeJobEvent): void => {
      if (!ac.signal.aborted) sendBack(e as { type: string });
    };
    const ctx: StepContext = {
      signal: ac.signal,
      record: async (fact) => {
        throwIfStopped(ac.signal);
        send({ type: 'fact', fact: withEpoch(fact, input.job.device?.serial, deps.fence), now: deps.now() });
        await deps.durable(input.job.jobId);
        // Stopped while it waited: its runner appended nothing more, and what the fact announces is not done.
        throwIfStopped(ac.signal);
      },
      note: (fact) => send({ type: 'fact', fact, now: deps.now() }),
    };
    // A step restored after a crash is restarted by XState with the input it was first invoked with:
    // what it recorded since (a request, a PAN-OS job id) is only in the job's current state.
    const job = deps.current(input.job.jobId) ?? input.job;
    const already = effect !== undefined && effectDone(job, effect, input.hop);
    if (already) deps.log.info({ jobId: job.jobId, step: input.step, hop: input.hop }, 'step effect already done: completing the step');
    (already ? Promise.resolve() : run({ ...input, job }, ctx)).then(
      () => send({ type: 'step.done', now: deps.now() }),
      (err: unknown) => {
        if (ac.signal.aborted) return;
        // The lease is gone: the job is another daemon's now, and this one records nothing more of it.
        if (err instanceof FencedOffError) return void deps.log.warn({ jobId: input.job.jobId, step: input.step, err: describe(err) }, 'step stopped: lease lost');
        deps.log.warn({ jobId: input.job.jobId, step: input.step, err: describe(err) }, 'step failed');
        send({ type: 'step.failed', reason: describe(err), retryable: isRetryable(err), now: deps.now() });
      },
    );
    return () => ac.abort(STEP_STOPPED);
  });
}

function deviceOf(job: JobState): JobDevice {
  if (!job.device) throw new FatalStepError('the job has no device');
  return job.device;
}

/** Versions of the plan from `hop` on that are not in the software manager yet. */
function stillToFetch(job: JobState, downloaded: ReadonlySet<string>): string[] {
  return [...new Set(job.plan.slice(job.hop).map((h) => h.version))].filter((v) => !downloaded.has(v));
}

function highestJobId(jobs: readonly ParsedJob[]): number {
  return jobs.reduce((max, j) => (j.id !== undefined && j.id > max ? j.id : max), 0);
}

/** After a crash between "requested" and "enqueued": find the PAN-OS job the request created, if it did. */
function findJobAfter(jobs: readonly ParsedJob[], type: string, baseline: number): number | undefined {
  const found = jobs.filter((j) => j.type === type && j.id !== undefined && j.id > baseline).sort((a, b) => (a.id ?? 0) - (b.id ?? 0))[0];
  return found?.id;
}

function progressReporter(ctx: StepContext, make: (percent: number) => JobFact): (job: ParsedJob) => void {
  let last = -10;
  return (job) => {
    const p = job.progress ?? 0;
    if (p >= last + 10 && p < 100) {
      last = p;
      ctx.note(make(p));
    }
  };
}

/**
 * Wait for a PAN-OS job this step sent (or found in flight) to finish. A job sent by this attempt is
 * first looked at when jobs of its kind on this model have taken to finish (`deps.estimates`), and that
 * wait is then learnt; a job found in flight after a restart is looked at after `pollJobMs`, then as its
 * progress says.
 */
async function waitOk(api: DeviceApi, deps: StepDeps, ctx: StepContext, sent: Sent, device: JobDevice, onProgress?: (job: ParsedJob) => void): Promise<ParsedJob> {
  const key = `${sent.kind} ${device.model}`;
  const expectedMs = sent.sentAt !== undefined ? deps.estimates.expected(key) : undefined;
  /** A look found the job unfinished: its end lies after it (DurationEstimates). */
  let seenRunning = false;
  /**
   * The round trip of the look that found the job done. The job counts as lasting until that look went
   * out: its round trip is Panorama's and this client's load, not the job's, and counted in, the next
   * jobs' first looks would come later by as much.
   */
  let lastLookMs = 0;
  const job = await api.waitForJob(sent.id, {
    intervalMs: deps.pollJobMs,
    // A wait that spans a crash counts from the logged request, not from this process's resume.
    timeoutMs: deps.jobTimeoutMs,
    ...(sent.requestedAt !== undefined ? { elapsedMs: Math.max(0, deps.now() - sent.requestedAt) } : {}),
    signal: ctx.signal,
    adaptive: true,
    ...(expectedMs !== undefined ? { expectedMs } : {}),
    onProgress: (j, look) => {
      if (!j.finished) seenRunning = true;
      lastLookMs = look?.ms ?? 0;
      onProgress?.(j);
    },
  });
  if (!job.ok) throw new PanosJobFailedError(String(sent.id), job.type, job.details);
  if (sent.sentAt !== undefined) deps.estimates.record(key, deps.now() - sent.sentAt - lastLookMs, seenRunning);
  return job;
}

/** Read calls a step makes before it decides anything: a transient failure of one is tried again, not the whole attempt. */
const READ_TRIES = 3;

/**
 * A read-only call tried again after a transient failure (Panorama's "not connected", a dropped
 * connection, an odd body), after `pollJobMs`, then twice that. Safe: it changes nothing on the device.
 */
async function read<T>(deps: StepDeps, ctx: StepContext, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (ctx.signal.aborted || attempt >= READ_TRIES || !isTransientError(err)) throw err;
      await sleep(deps.pollJobMs * 2 ** (attempt - 1), ctx.signal);
    }
  }
}

/** The device's read-only calls, each tried again after a transient failure (see `read`). */
function patientReads(api: DeviceApi, deps: StepDeps, ctx: StepContext): DeviceApi {
  const o = { signal: ctx.signal };
  return {
    ...api,
    systemInfo: () => read(deps, ctx, () => api.systemInfo(o)),
    chassisReady: () => read(deps, ctx, () => api.chassisReady(o)),
    haState: () => read(deps, ctx, () => api.haState(o)),
    jobsAll: () => read(deps, ctx, () => api.jobsAll(o)),
    softwareInfo: () => read(deps, ctx, () => api.softwareInfo(o)),
    contentInfo: () => read(deps, ctx, () => api.contentInfo(o)),
    diskSpace: () => read(deps, ctx, () => api.diskSpace(o)),
    sessionInfo: () => read(deps, ctx, () => api.sessionInfo(o)),
    routes: () => read(deps, ctx, () => api.routes(o)),
    arp: () => read(deps, ctx, () => api.arp(o)),
    readOp: (cmd) => read(deps, ctx, () => api.readOp(cmd, o)),
    configGet: (xpath) => read(deps, ctx, () => api.configGet(xpath, o)),
    panoramaInfo: () => read(deps, ctx, () => api.panoramaInfo(o)),
  };
}

/**
 * What a validate step read for its readiness checks, kept in memory for the pre-upgrade snapshot that
 * follows it at once (no content update between): the areas both read (ARP, BGP peers, tunnels,
 * licenses, system info) are not asked for twice a moment apart. Taken once, for `maxAgeMs` at most; a
 * restart forgets it, and the snapshot reads everything then. Nothing here is a fact of the job.
 *
 * The same holds for two answers of validate that the next step would ask for again at once (`keepAnswer`):
 * the content list, for the content step's "already downloaded?", and the software list, for the first
 * download's "already downloaded?". They only decide whether there is anything to send; what a step
 * sends is still recorded as requested (with a fresh `show jobs all` baseline) before it is sent, and a
 * resumed step, whose memory is empty, reads the device.
 */
export class RecentReadings {
  private readonly byJob = new Map<string, { readings: Readings; at: number }>();
  private readonly answers = new Map<string, { value: unknown; at: number }>();

  constructor(
    private readonly now: () => number,
    readonly maxAgeMs = 30_000,
  ) {}

  keep(jobId: string, readings: Readings): void {
    const now = this.now();
    this.prune(now);
    const ok: Readings = {};
    // A reading the device refused is read again by the snapshot: it may answer this time.
    for (const [name, r] of Object.entries(readings)) if (r?.ok) (ok as Record<string, unknown>)[name] = r;
    this.byJob.set(jobId, { readings: ok, at: now });
  }

  take(jobId: string): Readings | undefined {
    const r = this.byJob.get(jobId);
    this.byJob.delete(jobId);
    return r && this.now() - r.at <= this.maxAgeMs ? r.readings : undefined;
  }

  /** Keep one answer of a step for the job's next step; `take`n once, within `maxAgeMs`. */
  keepAnswer<K extends keyof HandedOver>(jobId: string, name: K, value: HandedOver[K]): void {
    const now = this.now();
    this.prune(now);
    this.answers.set(`${jobId} ${name}`, { value, at: now });
  }

  takeAnswer<K extends keyof HandedOver>(jobId: string, name: K): HandedOver[K] | undefined {
    const key = `${jobId} ${name}`;
    const r = this.answers.get(key);
    this.answers.delete(key);
    return r && this.now() - r.at <= this.maxAgeMs ? (r.value as HandedOver[K]) : undefined;
  }

  private prune(now: number): void {
    for (const [id, r] of this.byJob) if (now - r.at > this.maxAgeMs) this.byJob.delete(id);
    for (const [key, r] of this.answers) if (now - r.at > this.maxAgeMs) this.answers.delete(key);
  }

  /** Jobs whose readings are kept. */
  get size(): number {
    return this.byJob.size;
  }

  /** Answers kept (`keepAnswer`), all jobs together. */
  get answersKept(): number {
    return this.answers.size;
  }
}

/** Answers validate hands to the step right after it (see RecentReadings.keepAnswer). */
export interface HandedOver {
  /** `request content upgrade info`, for a content step that follows validate. */
  content: ContentInfo;
  /** `request system software info` at validate's hop, for the download of that hop. */
  software: { hop: number; info: SoftwareInfo };
}

type ContentInfo = Awaited<ReturnType<DeviceApi['contentInfo']>>;

export function validateStep(deps: StepDeps, recent?: RecentReadings): StepFn {
  return async (input, ctx) => {
    let job = input.job;
    const device = deviceOf(job);
    const api = patientReads(deps.api(device), deps, ctx);
    const info = await api.systemInfo({ signal: ctx.signal });
    if (!(await api.chassisReady({ signal: ctx.signal }))) throw new RetryableStepError('the chassis is not ready (show chassis-ready: no)');
    const jobs = await api.jobsAll({ signal: ctx.signal });
    const running = jobs.filter((j) => !j.finished && j.type !== 'AutoCom');
    const notes: string[] = [];
    if (running.length > 0 && !(job.download || job.install)) {
      throw new RetryableStepError(`the device is busy: ${running.map((j) => `${j.type} job ${j.id ?? '?'} (${j.progress ?? 0}%)`).join(', ')}`);
    }
    const software = await api.softwareInfo({ signal: ctx.signal });
    const offered = software.entries.map((e) => e.version);
    let plan = job.plan;
    if (job.hop === 0) {
      // Plan again with the device's own list: the base images it lists, the versions it is offered.
      const target = job.targetVersion ?? undefined;
      const planned = planUpgrade({ current: info.swVersion, ...(target ? { target } : {}), available: offered, rules: deps.pathRules });
      if (!planned.ok) throw new FatalStepError(planned.reason);
      plan = planned.plan.hops;
      if (JSON.stringify(plan) !== JSON.stringify(job.plan)) {
        await ctx.record({ type: 'job.plan.refined', data: { plan, reason: `planned from ${info.swVersion} with the device's software list (${planned.plan.source} path)` } });
      }
    }
    job = { ...job, plan };
    const downloaded = new Set(software.entries.filter((e) => e.downloaded).map((e) => e.version));
    const fetch = stillToFetch(job, downloaded);
    // The download of this hop would ask for the same list again (after the content step and the pre-snapshot, if any).
    if (fetch.length > 0) recent?.keepAnswer(job.jobId, 'software', { hop: job.hop, info: software });
    const sizes = new Map(software.entries.map((e) => [e.version, e.sizeMb]));
    const neededMb = fetch.reduce((sum, v) => sum + (sizes.get(v) ?? 0), 0);
    // The images land on the firewall's own disk: when downloads go straight to it, ask it, not Panorama.
    const diskApi = deps.directDownloads && neededMb > 0 ? patientReads(deps.directApi(device), deps, ctx) : api;
    const disk = await diskApi.diskSpace({ signal: ctx.signal });
    const free = panrepoAvailMb(disk) ?? 0;
    // pan-os-upgrade-assurance's rule: 10 % headroom over the images still to download.
    if (neededMb > 0 && free < neededMb * 1.1) {
      throw new FatalStepError(
        `not enough free disk on /opt/panrepo: ${fetch.join(', ')} need ${Math.ceil(neededMb * 1.1)} MB with headroom, ${Math.floor(free)} MB free. Free space (delete old images) and submit again`,
      );
    }
    let contentUpdate = false;
    // What this step read is what the readiness checks would read again: they are given it.
    const known: Readings = { systemInfo: { ok: true, value: info }, jobs: { ok: true, value: jobs }, software: { ok: true, value: software }, disk: { ok: true, value: disk } };
    if (job.kind === 'upgrade') {
      const ha = await api.haState({ signal: ctx.signal });
      known.ha = { ok: true, value: ha };
      if (ha.enabled) notes.push(`HA ${ha.local?.state ?? 'unknown'}, peer ${ha.peer?.state ?? 'unknown'}`);
      if (deps.updateContent) {
        const content = await api.contentInfo({ signal: ctx.signal });
        const installed = content.current ?? info.appVersion ?? '';
        const newest = content.entries.map((e) => e.version).sort(compareContentVersions).at(-1);
        if (newest && installed && compareContentVersions(newest, installed) > 0) {
          contentUpdate = true;
          notes.push('content update needed');
          // The content step comes next and would ask for the same list a moment later.
          recent?.keepAnswer(job.jobId, 'content', content);
        }
      }
    }
    if (job.kind === 'upgrade') {
      // Readiness checks (checks/): recorded, and a blocking failure stops the job here, before anything changes.
      const run = await preflightRun(api, job, deps.rebootBudgetMs, deps.now(), { signal: ctx.signal }, known);
      if (run) {
        const report = run.report;
        await ctx.record({ type: 'job.readiness.evaluated', data: { report } });
        if (!report.ok) throw new FatalStepError(`readiness check failed: ${describeBlocking(report.verdicts)}`);
      }
      // The pre-upgrade snapshot comes next unless content is updated first (which may change what it reads).
      if (!contentUpdate) recent?.keep(job.jobId, run?.readings ?? known);
    }
    await ctx.record({ type: 'job.validated', data: { swVersion: info.swVersion, freeDiskMb: Math.floor(free), neededMb, contentUpdate, notes } });
  };
}

export function snapshotStep(deps: StepDeps, recent?: RecentReadings): StepFn {
  return async ({ job, step }, ctx) => {
    const known = step === 'pre-snapshot' ? recent?.take(job.jobId) : undefined;
    // Routes, FIB, ARP, sessions, interfaces, BGP, IPsec, licenses, content (checks/snapshot.ts); read-only.
    const snapshot = await jobSnapshot(patientReads(deps.api(deviceOf(job)), deps, ctx), job.policy.readiness, { signal: ctx.signal }, known);
    await ctx.record({ type: 'job.snapshot.taken', data: { phase: step === 'pre-snapshot' ? 'pre' : 'post', snapshot } });
  };
}

/** The newest content the device offers, and whether it is downloaded or installed already. */
function newestContent(content: ContentInfo): { installed: string | undefined; newest: string | undefined; downloaded: boolean } {
  const newest = content.entries.map((e) => e.version).sort(compareContentVersions).at(-1);
  const installed = content.current;
  const downloaded = content.entries.some((e) => e.version === newest && (e.downloaded || e.current));
  return { installed, newest, downloaded };
}

function contentAtLeast(installed: string | undefined, newest: string | undefined): boolean {
  return installed !== undefined && (newest === undefined || compareContentVersions(installed, newest) >= 0);
}

/** Download then install the latest content, each sent at most once (the same rule as software downloads and installs). */
export function contentStep(deps: StepDeps, recent?: RecentReadings): StepFn {
  return async ({ job, hop }, ctx) => {
    const api = deps.api(deviceOf(job));
    const o = { signal: ctx.signal };
    const version = 'latest';
    // The list validate read a moment ago, when this step follows it in this process (taken once: a
    // retry or a resumed step reads the device).
    const handed = recent?.takeAnswer(job.jobId, 'content');
    /**
     * This attempt read that the newest content was not installed, sent its download and saw it done:
     * the install has something to do, and its "already installed?" needs no second read.
     */
    let downloadedNewest = false;
    if (!effectDone(job, 'content-download', hop)) {
      const downloadJob = await sendOnce(api, ctx, deps.now, {
        panosType: 'Downld',
        kind: 'content download',
        inflight: job.contentDownload && job.contentDownload.hop === hop ? job.contentDownload : null,
        alreadyDone: async () => {
          const c = newestContent(handed ?? (await api.contentInfo(o)));
          return c.downloaded || contentAtLeast(c.installed, c.newest);
        },
        requested: (baselineJobId) => ({ type: 'job.content.download.requested', data: { version, hop, baselineJobId } }),
        enqueued: (panosJobId) => ({ type: 'job.content.download.enqueued', data: { version, hop, panosJobId } }),
        send: () => api.contentDownloadLatest(o),
      });
      if (downloadJob !== undefined) await waitOk(api, deps, ctx, downloadJob, deviceOf(job));
      // Sent by this attempt (not found in flight): its "already done?" had just said not installed.
      downloadedNewest = downloadJob?.sentAt !== undefined;
      await ctx.record({ type: 'job.content.download.completed', data: { version, hop } });
    }
    const installJob = await sendOnce(api, ctx, deps.now, {
      panosType: 'Content',
      kind: 'content install',
      inflight: job.contentInstall && job.contentInstall.hop === hop ? job.contentInstall : null,
      alreadyDone: async () => {
        if (downloadedNewest) return false;
        const c = newestContent(await api.contentInfo(o));
        return contentAtLeast(c.installed, c.newest);
      },
      requested: (baselineJobId) => ({ type: 'job.content.install.requested', data: { version, hop, baselineJobId } }),
      enqueued: (panosJobId) => ({ type: 'job.content.install.enqueued', data: { version, hop, panosJobId } }),
      send: () => api.contentInstall(version, o),
    });
    if (installJob !== undefined) await waitOk(api, deps, ctx, installJob, deviceOf(job));
    const content = await api.contentInfo(o);
    await ctx.record({ type: 'job.content.updated', data: { version: content.current ?? 'latest' } });
  };
}

function hopVersion(job: JobState, hop: number): string {
  const version = job.plan[hop]?.version;
  if (!version) throw new FatalStepError(`hop ${hop} is not in the plan`);
  return version;
}

interface SendOnce {
  /** The PAN-OS job type the request creates, to find it in `show jobs all`. */
  panosType: 'Downld' | 'SWInstall' | 'Content';
  /**
   * What the job does, for the durations learnt (DurationEstimates): a content download and a software
   * download are both `Downld` jobs, and a software image takes many times longer to fetch.
   */
  kind: 'software download' | 'software install' | 'content download' | 'content install';
  inflight: InFlight | null;
  /** Before a new request: true when there is nothing to send (the image is already there). */
  alreadyDone?: () => Promise<boolean>;
  /** The `*.requested` fact, from the highest PAN-OS job id before the request. */
  requested: (baselineJobId: number) => JobFact;
  /** The `*.enqueued` fact: the device's acknowledgement, its job id. */
  enqueued: (panosJobId: number) => JobFact;
  send: () => Promise<number>;
}

/** A PAN-OS job a step waits for: `sentAt` when this attempt sent it (not found in flight after a restart). */
interface Sent {
  id: number;
  panosType: SendOnce['panosType'];
  kind: SendOnce['kind'];
  sentAt?: number;
  /** A job found in flight after a restart: when its request was recorded (the wait's timeout counts from here). */
  requestedAt?: number;
}

/**
 * A download or install (software or content) sent at most once: attach to the PAN-OS job a recorded
 * request created (looked up in `show jobs all` when a crash came between the request and its job id),
 * or else record the request, send it and record its job id before anything polls it. Undefined when
 * nothing was to send.
 */
async function sendOnce(api: DeviceApi, ctx: StepContext, now: () => number, r: SendOnce): Promise<Sent | undefined> {
  const o = { signal: ctx.signal };
  const enqueued = r.enqueued;
  const { panosType, kind } = r;
  const requestedAt = r.inflight?.requestedAt ? Date.parse(r.inflight.requestedAt) : undefined;
  const since = requestedAt !== undefined && Number.isFinite(requestedAt) ? { requestedAt } : {};
  if (r.inflight?.panosJobId != null) return { id: r.inflight.panosJobId, panosType, kind, ...since };
  if (r.inflight) {
    const found = findJobAfter(await api.jobsAll(o), r.panosType, r.inflight.baselineJobId);
    if (found !== undefined) {
      await ctx.record(enqueued(found));
      return { id: found, panosType, kind, ...since };
    }
  }
  if (r.alreadyDone && (await r.alreadyDone())) return undefined;
  await ctx.record(r.requested(highestJobId(await api.jobsAll(o))));
  const panosJobId = await r.send();
  const sentAt = now();
  await ctx.record(enqueued(panosJobId));
  return { id: panosJobId, panosType, kind, sentAt };
}

export function downloadStep(deps: StepDeps, recent?: RecentReadings): StepFn {
  return async ({ job, hop }, ctx) => {
    const device = deviceOf(job);
    const version = hopVersion(job, hop);
    const inflight = job.download && job.download.hop === hop ? job.download : null;
    const direct = inflight?.direct ?? deps.directDownloads;
    const api = direct ? deps.directApi(device) : deps.api(device);
    const o = { signal: ctx.signal };
    // Validate's software list, when this is the download of its hop in this process (taken once).
    const handed = recent?.takeAnswer(job.jobId, 'software');
    const sent = await sendOnce(api, ctx, deps.now, {
      panosType: 'Downld',
      kind: 'software download',
      inflight,
      alreadyDone: async () => {
        const software = handed?.hop === hop ? handed.info : await api.softwareInfo(o);
        if (!software.entries.some((e) => e.version === version && e.downloaded)) return false;
        if (!job.downloadedVersions.includes(version)) await ctx.record({ type: 'job.download.skipped', data: { version, hop } });
        return true;
      },
      requested: (baselineJobId) => ({ type: 'job.download.requested', data: { version, hop, baselineJobId, direct } }),
      enqueued: (panosJobId) => ({ type: 'job.download.enqueued', data: { version, hop, panosJobId } }),
      send: () => api.download(version, { syncToPeer: device.haPeer !== null, ...o }),
    });
    if (sent === undefined) return;
    const progress = progressReporter(ctx, (percent) => ({ type: 'job.download.progressed', data: { version, hop, percent } }));
    await waitOk(api, deps, ctx, sent, device, progress);
    await ctx.record({ type: 'job.download.completed', data: { version, hop } });
  };
}

export function installStep(deps: StepDeps): StepFn {
  return async ({ job, hop }, ctx) => {
    const device = deviceOf(job);
    const version = hopVersion(job, hop);
    const api = deps.installVia === 'direct' ? deps.directApi(device) : deps.api(device);
    const sent = await sendOnce(api, ctx, deps.now, {
      panosType: 'SWInstall',
      kind: 'software install',
      inflight: job.install && job.install.hop === hop ? job.install : null,
      requested: (baselineJobId) => ({ type: 'job.install.requested', data: { version, hop, baselineJobId } }),
      enqueued: (panosJobId) => ({ type: 'job.install.enqueued', data: { version, hop, panosJobId } }),
      send: () => api.install(version, { signal: ctx.signal }),
    });
    if (sent === undefined) throw new FatalStepError(`the install of ${version} was not sent`);
    const progress = progressReporter(ctx, (percent) => ({ type: 'job.install.progressed', data: { version, hop, percent } }));
    await waitOk(api, deps, ctx, sent, device, progress);
    await ctx.record({ type: 'job.install.completed', data: { version, hop } });
  };
}

/**
 * An HA member is never restarted while its peer is down (rebooting, crashed): the pair would stop
 * passing traffic. Wait for the peer to be back, active or passive, up to the reboot budget.
 */
async function waitForHaPeer(api: DeviceApi, device: JobDevice, deps: StepDeps, ctx: StepContext, job: JobState): Promise<void> {
  if (!device.haPeer) return;
  const deadline = stepDeadline(job.stepStartedAt, deps.now(), deps.rebootBudgetMs(device.model));
  let last = 'no answer';
  for (;;) {
    try {
      const ha = await api.haState({ signal: ctx.signal });
      const peer = ha.peer;
      if (!ha.enabled || (peer?.connStatus !== 'down' && (peer?.state === 'active' || peer?.state === 'passive'))) return;
      last = `${peer?.state ?? 'unknown'}, connection ${peer?.connStatus ?? 'unknown'}`;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      last = describe(err);
    }
    if (deps.now() >= deadline) {
      throw new RetryableStepError(`HA peer ${device.haPeer} is not up (${last}): ${device.serial} is not restarted while its peer is down`);
    }
    await sleep(deps.pollRebootMs, ctx.signal);
  }
}

/** When a restart sent at `sentAt` should be done, counted from `startedAt` (the wait's start), given how long such reboots took. */
function backAfter(expectedMs: number | undefined, sentAt: number, startedAt: number): number | undefined {
  return expectedMs === undefined ? undefined : Math.max(0, sentAt + expectedMs - startedAt);
}

/**
 * After a crash of the daemon mid-reboot: the device may have gone down and come back while nobody
 * watched, so that its uptime no longer tells (it booted after the restart, but longer ago than the
 * uptime recorded before it). Running the target version, chassis ready and the post-boot auto-commit
 * done says it rebooted; undefined when the device does not run the version yet.
 */
async function rebootedWhileAway(api: DeviceApi, device: JobDevice, version: string, o: { signal: AbortSignal }): Promise<RebootWaitResult | undefined> {
  const info = await api.systemInfo(o);
  if (info.swVersion !== version) return undefined;
  if (!(await api.chassisReady(o))) throw new RetryableStepError(`${device.serial} runs ${version}, but its chassis is not ready yet`);
  const autoCommit = (await api.jobsAll(o)).filter((j) => j.type === 'AutoCom').sort((a, b) => (b.id ?? 0) - (a.id ?? 0))[0];
  if (autoCommit && !autoCommit.finished) throw new RetryableStepError(`${device.serial} runs ${version}; its auto-commit job ${autoCommit.id ?? '?'} is still running`);
  if (autoCommit && !autoCommit.ok) throw new FatalStepError(`${device.serial}: auto-commit job ${autoCommit.id ?? '?'} failed: ${autoCommit.details.join(' ') || 'no details'}`);
  return { version, uptimeSeconds: info.uptimeSeconds ?? 0 };
}

export function rebootStep(deps: StepDeps): StepFn {
  return async ({ job, hop }, ctx) => {
    const device = deviceOf(job);
    const version = hopVersion(job, hop);
    const api = deps.installVia === 'direct' ? deps.directApi(device) : deps.api(device);
    const o = { signal: ctx.signal };
    const inflight = job.reboot && job.reboot.hop === hop ? job.reboot : null;
    let uptimeBefore = inflight?.uptimeBefore;
    let acknowledged = inflight?.acknowledged ?? false;
    // DESIGN.md: a wait that spans a crash counts from the logged time of the request, not from this resume
    // (a restart sent by this attempt is waited for from now, which is when it was sent).
    let requestedAt = inflight?.requestedAt ? Date.parse(inflight.requestedAt) : undefined;
    /** When this attempt sent the restart: how long the reboot took is learnt from it. */
    let sentAt: number | undefined;
    const key = `reboot ${device.model}`;
    const sendRestart = async (): Promise<void> => {
      await waitForHaPeer(api, device, deps, ctx, job);
      const info = await api.systemInfo(o);
      if (info.swVersion === version && inflight) return; // it already rebooted into the version
      uptimeBefore = info.uptimeSeconds ?? 0;
      requestedAt = undefined;
      await ctx.record({ type: 'job.reboot.requested', data: { version, hop, uptimeBefore } });
      sentAt = deps.now();
      const r = await api.restart(o);
      if (r.acknowledged) {
        acknowledged = true;
        await ctx.record({ type: 'job.reboot.acknowledged', data: { version, hop } });
      }
    };
    if (uptimeBefore === undefined) await sendRestart();
    let result: RebootWaitResult;
    const wait = () => {
      const since = requestedAt === undefined ? 0 : Math.max(0, deps.now() - requestedAt);
      const budget = deps.rebootBudgetMs(device.model);
      const expected = deps.estimates.expected(key);
      const startedAt = deps.now();
      const sent = sentAt;
      return api.waitForReboot({
        previousUptimeSeconds: uptimeBefore ?? 0,
        ...(job.runningVersion && job.runningVersion !== version ? { previousVersion: job.runningVersion } : {}),
        expectedVersion: version,
        // Both count from the recorded request, so a restarted daemon gets no fresh budget or grace; the
        // device is still looked at however late the resume (a reboot over while nobody watched shows at once).
        budgetMs: budget,
        startGraceMs: deps.rebootStartGraceMs,
        elapsedMs: since,
        pollMs: deps.pollRebootMs,
        // What reboots of this model took; from a restart sent now only (a resumed wait does not know when it went down).
        expectedMs: sent !== undefined && expected !== undefined ? Math.max(0, expected - (startedAt - sent)) : 0,
        // Once it is seen down: what reboots of this model took, learnt meanwhile too (the devices of a wave
        // reboot together, and the first of them back tell the others when to look).
        ...(sent !== undefined ? { expectedBackMs: () => backAfter(deps.estimates.expected(key), sent, startedAt) } : {}),
        signal: ctx.signal,
        onPhase: (phase) => ctx.note({ type: 'job.reboot.phase-changed', data: { version, hop, phase } }),
      });
    };
    try {
      result = await wait();
    } catch (err) {
      const code = (err as { code?: string }).code;
      const done = code === 'REBOOT_NOT_STARTED' && inflight ? await rebootedWhileAway(api, device, version, o) : undefined;
      if (done) {
        result = done;
      } else if (code === 'REBOOT_NOT_STARTED' && !acknowledged) {
        // Requested but never acknowledged (a crash of the daemon, a request that timed out), and the
        // device never went down: the restart was lost. Sending it now is the first one the device gets.
        await sendRestart();
        result = await wait();
      } else {
        throw new FatalStepError(describe(err));
      }
    }
    // A reboot found over at the first look took at most this long (DurationEstimates).
    // Less the look that found it over: as for PAN-OS jobs (waitOk), its round trips are Panorama's load.
    if (sentAt !== undefined) deps.estimates.record(key, deps.now() - sentAt - (result.lookMs ?? 0), result.seenUnfinished ?? true);
    await ctx.record({ type: 'job.reboot.completed', data: { version, hop, uptime: result.uptimeSeconds } });
  };
}

/** The machine's effects for one daemon. */
export function stepEffects(deps: StepDeps) {
  const recent = new RecentReadings(deps.now);
  return {
    validate: step(deps, validateStep(deps, recent)),
    snapshot: step(deps, snapshotStep(deps, recent)),
    updateContent: step(deps, contentStep(deps, recent), 'content-install'),
    download: step(deps, downloadStep(deps, recent), 'download'),
    install: step(deps, installStep(deps), 'install'),
    reboot: step(deps, rebootStep(deps), 'reboot'),
  };
}
