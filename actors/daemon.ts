import { randomBytes } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Snapshot } from 'xstate';
import { serveJson, type CommandName, type Subjects } from '../bus/index.ts';
import type { LmdbEventStore } from '../eventstore/index.ts';
import { deadlineEffect, realClock, type DeadlineClock } from '../machines/effects.ts';
import { DEFAULT_POLICY, type JobDevice, type JobFact, type JobKind, type JobPolicy } from '../machines/upgrade-job.events.ts';
import { isTerminal, jobFold, toStatusRecord, type JobState, type JobStatusRecord } from '../machines/upgrade-job.fold.ts';
import { submittedJobState, upgradeJobMachine, type StampedJobFact } from '../machines/upgrade-job.machine.ts';
import { ConflictingJobTypeError, DuplicateJobError, NotFoundError, PanosUpgradeError, ValidationError } from '../panos/errors.ts';
import { planUpgrade, DEFAULT_PATH_RULES, type PathRules, type UpgradePlan } from '../panos/upgrade-path.ts';
import type { DaemonConfig } from './config.ts';
import type { DeviceApi } from './device-api.ts';
import { evolveDevice, loadInventory, writeInventoryJson, type InventoryDevice } from './inventory.ts';
import { JobRunner } from './job-runner.ts';
import { validatePayload, type PayloadOf } from './payloads.ts';
import { Scheduler } from './scheduler.ts';
import { stepEffects, type StepDeps } from './step-effects.ts';

/** How the daemon reaches devices; the composition root builds these from the configuration. */
export interface DeviceAccess {
  /** Panorama's managed devices (`show devices connected`). */
  discover(): Promise<Array<Omit<InventoryDevice, 'discoveredAt' | 'updatedAt'>>>;
  /** A device through Panorama. */
  viaPanorama(device: JobDevice): DeviceApi;
  /** A device at its management address. */
  direct(device: JobDevice): DeviceApi;
}

export interface DaemonOptions {
  store: LmdbEventStore;
  log: Logger;
  config: DaemonConfig;
  access: DeviceAccess;
  dataDir: string;
  nc?: NatsConnection;
  subjects?: Subjects;
  clock?: DeadlineClock;
}

export class NoPathError extends PanosUpgradeError {
  constructor(readonly device: string, readonly reason: string) {
    super('NO_PATH', `no upgrade path for ${device}: ${reason}`);
  }
}

export interface QueueSummary {
  dryRun: boolean;
  queued: number;
  skipped: number;
  queuedDevices: Array<{ device: string; hostname: string; jobId: string | null; versions: string[] }>;
  skippedDevices: Array<{ device: string; hostname: string; reason: string }>;
}

export interface DownloadStatusRow {
  device: string;
  hostname: string;
  version: string;
  status: string;
  progress: number;
  message: string;
  jobId: string | null;
  downloaded_versions: string[];
  skipped_versions: string[];
}

function newJobId(now: number): string {
  return `${now.toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * The orchestrator: answers `panos.cmd.*`, keeps the inventory, queues jobs under a concurrency
 * limit and runs one upgrade-job actor per device. Every job and device change goes to the event log
 * first; on start every unfinished job is restored from its last snapshot and its in-flight step
 * reconciled with the device instead of being sent again.
 */
export class Daemon {
  readonly log: Logger;
  private readonly store: LmdbEventStore;
  private readonly clock: DeadlineClock;
  private config: DaemonConfig;
  private readonly access: DeviceAccess;
  private readonly dataDir: string;
  private readonly inventory: Map<string, InventoryDevice>;
  private readonly runners = new Map<string, JobRunner>();
  private readonly finished = new Map<string, JobState>();
  private readonly activeBySerial = new Map<string, string>();
  private readonly scheduler: Scheduler;
  private readonly subscriptions: Subscription[] = [];
  private readonly machine;
  private stopping = false;

  private constructor(private readonly options: DaemonOptions) {
    this.log = options.log;
    this.store = options.store;
    this.clock = options.clock ?? realClock;
    this.config = options.config;
    this.access = options.access;
    this.dataDir = options.dataDir;
    this.inventory = loadInventory(options.store);
    this.scheduler = new Scheduler(options.config.concurrency);
    const deps: StepDeps = {
      api: (d) => this.access.viaPanorama(d),
      directApi: (d) => this.access.direct(d),
      directDownloads: this.config.downloads.direct,
      installVia: this.config.install.via,
      updateContent: this.config.upgrade.updateContent,
      pollJobMs: this.config.poll.jobSeconds * 1000,
      jobTimeoutMs: this.config.timeouts.jobSeconds * 1000,
      pollRebootMs: this.config.poll.rebootSeconds * 1000,
      rebootBudgetMs: (model) => (this.config.timeouts.rebootSecondsByModel[model] ?? this.config.timeouts.rebootSeconds) * 1000,
      rebootStartGraceMs: this.config.timeouts.rebootStartGraceSeconds * 1000,
      pathRules: this.pathRules(),
      durable: (jobId) => this.runners.get(jobId)?.durable() ?? Promise.resolve(),
      now: () => this.clock.now(),
      log: this.log,
    };
    this.machine = upgradeJobMachine.provide({ actors: { ...stepEffects(deps), deadline: deadlineEffect(this.clock) } });
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(options);
    daemon.restore();
    if (options.nc && options.subjects) daemon.listen(options.nc, options.subjects);
    return daemon;
  }

  private pathRules(): PathRules {
    return { ...DEFAULT_PATH_RULES, staticPaths: this.config.upgrade.paths, maxSkippedReleases: this.config.upgrade.maxSkippedReleases };
  }

  private policy(): JobPolicy {
    return { maxAttempts: this.config.retries.maxAttempts, retryBackoffMs: this.config.retries.backoffSeconds * 1000, thresholds: this.config.thresholds ?? DEFAULT_POLICY.thresholds };
  }

  /** Rebuild every job from the log; resume the unfinished ones. */
  private restore(): void {
    let resumed = 0;
    for (const stream of this.store.streamNames('job:')) {
      const jobId = stream.slice(4);
      const state = this.store.fold(stream, jobFold as never) as JobState;
      if (isTerminal(state)) {
        this.finished.set(jobId, state);
        continue;
      }
      const snap = this.store.getSnapshot<Snapshot<unknown>>(stream);
      const runner = this.makeRunner(jobId, snap ? { snapshot: snap.state } : { state });
      if (state.device) this.activeBySerial.set(state.device.serial, jobId);
      if (state.status === 'pending') {
        this.scheduler.enqueue({ id: jobId, devices: [state.device?.serial ?? ''], run: () => this.runJob(runner) });
      } else {
        resumed++;
        this.scheduler.adopt({ id: jobId, devices: [state.device?.serial ?? ''], run: () => this.runJob(runner, true) });
      }
    }
    if (resumed > 0 || this.runners.size > 0) this.log.info({ resumed, queued: this.runners.size - resumed }, 'restored unfinished jobs from the event log');
  }

  private makeRunner(jobId: string, from: { state: JobState } | { snapshot: Snapshot<unknown> }): JobRunner {
    const runner = new JobRunner({
      jobId,
      machine: this.machine,
      store: this.store,
      log: this.log.child({ jobId }),
      ...from,
      onChange: (state, facts) => this.onJobChange(jobId, state, facts),
    });
    this.runners.set(jobId, runner);
    return runner;
  }

  private async runJob(runner: JobRunner, resumed = false): Promise<void> {
    if (this.stopping) return;
    runner.start();
    if (!resumed && runner.state.status === 'pending') runner.send({ type: 'start', now: this.clock.now() });
    await runner.done();
  }

  private onJobChange(jobId: string, state: JobState, facts: readonly StampedJobFact[]): void {
    for (const f of facts) {
      if (f.type === 'job.reboot.completed' && state.device) {
        const prev = this.inventory.get(state.device.serial);
        if (prev && prev.swVersion !== f.data.version) void this.recordDevice(state.device.serial, { type: 'device.version.changed', data: { from: prev.swVersion, to: f.data.version, jobId } });
      }
    }
    if (isTerminal(state)) {
      this.finished.set(jobId, state);
      this.runners.delete(jobId);
      if (state.device && this.activeBySerial.get(state.device.serial) === jobId) this.activeBySerial.delete(state.device.serial);
    }
  }

  private async recordDevice(serial: string, fact: { type: string; data: unknown }): Promise<void> {
    const [e] = await this.store.append(`device:${serial}`, [fact]);
    if (e) {
      const next = evolveDevice(this.inventory.get(serial) ?? null, e);
      if (next) this.inventory.set(serial, next);
    }
  }

  // ---- queries ----

  jobState(jobId: string): JobState | undefined {
    return this.runners.get(jobId)?.state ?? this.finished.get(jobId);
  }

  allJobs(): JobState[] {
    return [...this.finished.values(), ...[...this.runners.values()].map((r) => r.state)].sort((a, b) => (a.submittedAt ?? '').localeCompare(b.submittedAt ?? ''));
  }

  devices(): InventoryDevice[] {
    return [...this.inventory.values()].sort((a, b) => a.serial.localeCompare(b.serial));
  }

  /** Resolves when no job runs or waits. */
  idle(): Promise<void> {
    return this.scheduler.idle();
  }

  // ---- commands ----

  async discover(): Promise<{ discovered: number; devices: InventoryDevice[]; inventoryFile: string }> {
    const found = await this.access.discover();
    for (const d of found) await this.recordDevice(d.serial, { type: 'device.discovered', data: d });
    const file = writeInventoryJson(this.dataDir, this.inventory.values(), new Date(this.clock.now()).toISOString());
    return { discovered: found.length, devices: found.map((d) => this.inventory.get(d.serial)!).filter(Boolean), inventoryFile: file };
  }

  private deviceFor(serial: string): InventoryDevice {
    const d = this.inventory.get(serial);
    if (!d) throw new NotFoundError('device', `${serial} (not in the inventory: run "panos-upgrade device discover" first)`);
    return d;
  }

  private checkNoActiveJob(serial: string, kind: JobKind): void {
    const existing = this.activeBySerial.get(serial);
    if (!existing) return;
    const state = this.jobState(existing);
    const existingKind = state?.kind ?? 'upgrade';
    if (existingKind === kind) throw new DuplicateJobError(serial, existing);
    throw new ConflictingJobTypeError(serial, existing, existingKind);
  }

  /** The plan a job would follow, from the static map or, with a target, from the device's own list. */
  private async plan(device: InventoryDevice, targetVersion: string | undefined): Promise<UpgradePlan> {
    const rules = this.pathRules();
    const staticHit = rules.staticPaths[device.swVersion];
    let available: string[] = staticHit ?? [];
    if (!staticHit || (targetVersion && !staticHit.includes(targetVersion))) {
      if (!targetVersion) throw new NoPathError(device.serial, `no upgrade path configured for ${device.swVersion} and no target version given`);
      const software = await this.access.viaPanorama(jobDevice(device)).softwareInfo();
      available = software.entries.map((e) => e.version);
    }
    const result = planUpgrade({ current: device.swVersion, ...(targetVersion ? { target: targetVersion } : {}), available, rules });
    if (!result.ok) throw new NoPathError(device.serial, result.reason);
    return result.plan;
  }

  async submit(p: PayloadOf<'job.submit'>): Promise<{ job: JobStatusRecord } | { dryRun: true; device: string; plan: UpgradePlan; wouldDownload: string[]; alreadyPresent: string[] }> {
    const device = this.deviceFor(p.device);
    const kind: JobKind = p.downloadOnly ? 'download-only' : 'upgrade';
    this.checkNoActiveJob(device.serial, kind);
    const plan = await this.plan(device, p.targetVersion);
    if (p.dryRun) {
      // Read-only: what the device already has decides what would be fetched.
      const software = await this.access.viaPanorama(jobDevice(device)).softwareInfo();
      const present = new Set(software.entries.filter((e) => e.downloaded).map((e) => e.version));
      const versions = [...new Set(plan.hops.map((h) => h.version))];
      return { dryRun: true, device: device.serial, plan, wouldDownload: versions.filter((v) => !present.has(v)), alreadyPresent: versions.filter((v) => present.has(v)) };
    }
    const state = await this.createJob(device, kind, plan, p.targetVersion ?? null);
    return { job: toStatusRecord(state) };
  }

  private async createJob(device: InventoryDevice, kind: JobKind, plan: UpgradePlan, targetVersion: string | null): Promise<JobState> {
    const now = this.clock.now();
    const jobId = newJobId(now);
    const at = new Date(now).toISOString();
    const submitted: Extract<JobFact, { type: 'job.submitted' }> = {
      type: 'job.submitted',
      data: { jobId, kind, dryRun: false, device: jobDevice(device), targetVersion, plan: plan.hops, planSource: plan.source, policy: this.policy() },
    };
    // The device is taken before the first await, so two submits in a row cannot both pass the check.
    this.activeBySerial.set(device.serial, jobId);
    const state = submittedJobState(submitted, at);
    try {
      await this.store.append(`job:${jobId}`, [{ ...submitted, at }]);
    } catch (err) {
      this.activeBySerial.delete(device.serial);
      throw err;
    }
    const runner = this.makeRunner(jobId, { state });
    this.scheduler.enqueue({ id: jobId, devices: [device.serial], run: () => this.runJob(runner) });
    return state;
  }

  async cancel(jobId: string): Promise<{ job: JobStatusRecord }> {
    const runner = this.runners.get(jobId);
    if (!runner) {
      const done = this.finished.get(jobId);
      if (done) throw new ValidationError(`job ${jobId} already ended (${done.status}); nothing to cancel`);
      throw new NotFoundError('job', jobId);
    }
    if (this.scheduler.dequeue(jobId)) runner.start();
    runner.send({ type: 'cancel', by: 'operator', now: this.clock.now() });
    await runner.durable();
    return { job: toStatusRecord(runner.state) };
  }

  get(jobId: string): { job: JobStatusRecord } {
    const s = this.jobState(jobId);
    if (!s) throw new NotFoundError('job', jobId);
    return { job: toStatusRecord(s) };
  }

  list(p: PayloadOf<'job.list'>): { jobs: JobStatusRecord[] } {
    let jobs = this.allJobs();
    if (p.device) jobs = jobs.filter((j) => j.device?.serial === p.device);
    if (p.status) jobs = jobs.filter((j) => j.status === p.status);
    if (p.active) jobs = jobs.filter((j) => !isTerminal(j));
    if (p.limit) jobs = jobs.slice(-p.limit);
    return { jobs: jobs.map(toStatusRecord) };
  }

  /** The seed's bulk pre-staging: every discovered device with a path and no job gets a download-only job. */
  async queueAllDownloads(p: PayloadOf<'download.queue-all'>): Promise<QueueSummary> {
    const summary: QueueSummary = { dryRun: p.dryRun === true, queued: 0, skipped: 0, queuedDevices: [], skippedDevices: [] };
    const rules = this.pathRules();
    for (const device of this.devices()) {
      const skip = (reason: string): void => {
        summary.skipped++;
        summary.skippedDevices.push({ device: device.serial, hostname: device.hostname, reason });
      };
      const existing = this.activeBySerial.get(device.serial);
      if (existing) {
        skip(`already has an active ${this.jobState(existing)?.kind ?? ''} job ${existing}`.replace('  ', ' '));
        continue;
      }
      if (!device.connected) {
        skip('not connected to Panorama at the last discovery');
        continue;
      }
      const hops = rules.staticPaths[device.swVersion];
      if (!hops || hops.length === 0) {
        skip(`no upgrade path for version ${device.swVersion}`);
        continue;
      }
      const plan = planUpgrade({ current: device.swVersion, available: hops, rules });
      if (!plan.ok) {
        skip(plan.reason);
        continue;
      }
      let jobId: string | null = null;
      if (!p.dryRun) jobId = (await this.createJob(device, 'download-only', plan.plan, null)).jobId;
      summary.queued++;
      summary.queuedDevices.push({ device: device.serial, hostname: device.hostname, jobId, versions: plan.plan.hops.map((h) => h.version) });
    }
    return summary;
  }

  downloadStatus(): { counts: Record<string, number>; total: number; devices: DownloadStatusRow[] } {
    const latest = new Map<string, JobState>();
    for (const j of this.allJobs()) if (j.kind === 'download-only' && j.device) latest.set(j.device.serial, j);
    const counts: Record<string, number> = {};
    const devices: DownloadStatusRow[] = [];
    for (const [serial, j] of [...latest.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      counts[j.status] = (counts[j.status] ?? 0) + 1;
      devices.push({
        device: serial,
        hostname: j.device?.hostname ?? '',
        version: j.runningVersion ?? j.device?.swVersion ?? '',
        status: j.status,
        progress: j.progress,
        message: j.message,
        jobId: j.jobId,
        downloaded_versions: j.downloadedVersions,
        skipped_versions: j.skippedVersions,
      });
    }
    return { counts, total: devices.length, devices };
  }

  status(): object {
    const counts: Record<string, number> = {};
    for (const j of this.allJobs()) counts[j.status] = (counts[j.status] ?? 0) + 1;
    return {
      runId: this.store.runId,
      devices: this.inventory.size,
      jobs: counts,
      running: this.scheduler.running,
      waiting: this.scheduler.waiting,
      concurrency: this.scheduler.concurrency,
      panorama: this.config.panorama.host,
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.subscriptions) s.unsubscribe();
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }

  private listen(nc: NatsConnection, subjects: Subjects): void {
    const serve = <K extends CommandName & Parameters<typeof validatePayload>[0]>(name: K, handler: (p: PayloadOf<K>) => Promise<object> | object): void => {
      this.subscriptions.push(
        serveJson(nc, subjects.cmd(name), (payload: Record<string, unknown>, _msg: Msg) => handler(validatePayload(name, payload)), {
          queue: 'daemon',
          onError: (err) => this.log.warn({ err, subject: name }, 'could not answer a command'),
        }),
      );
    };
    serve('job.submit', (p) => this.submit(p));
    serve('job.cancel', (p) => this.cancel(p.jobId));
    serve('job.get', (p) => this.get(p.jobId));
    serve('job.list', (p) => this.list(p));
    serve('download.queue-all', (p) => this.queueAllDownloads(p));
    serve('download.status', () => this.downloadStatus());
    serve('device.discover', () => this.discover());
    serve('device.list', () => ({ devices: this.devices() }));
    serve('device.get', (p) => {
      const device = this.deviceFor(p.serial);
      return { device, jobs: this.allJobs().filter((j) => j.device?.serial === p.serial).map(toStatusRecord) };
    });
    serve('daemon.status', () => this.status());
  }
}

export function jobDevice(d: InventoryDevice): JobDevice {
  return { serial: d.serial, hostname: d.hostname, mgmtIp: d.mgmtIp, model: d.model, swVersion: d.swVersion, haState: d.haState, haPeer: d.haPeer };
}
