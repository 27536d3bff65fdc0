import { randomBytes } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Snapshot } from 'xstate';
import { NoResponderError, RemoteError, requestJson, serveJson, type CommandName, type Subjects } from '../bus/index.ts';
import { COORDINATOR_LEASE, CREATE_UNIT_JOB, mergeQueueSummaries, parsePartitionLeaseKey, partitionLeaseKey, partitionOf, routeCommand, type PartitionDevice } from '../cluster/index.ts';
import type { LmdbEventStore } from '../eventstore/index.ts';
import { deadlineEffect, realClock, type DeadlineClock } from '../machines/effects.ts';
import { type JobDevice, type JobFact, type JobKind, type JobPolicy } from '../machines/upgrade-job.events.ts';
import { isTerminal, jobFold, toStatusRecord, TERMINAL_STATUSES, type JobState, type JobStatusRecord } from '../machines/upgrade-job.fold.ts';
import { submittedJobState, upgradeJobMachine, type StampedJobFact } from '../machines/upgrade-job.machine.ts';
import { haPairMachine, submittedPairState } from '../machines/ha-pair.machine.ts';
import { pairFold, toPairStatusRecord, type ChildRole, type PairFact, type PairState, type PairStatusRecord } from '../machines/ha-pair.fold.ts';
import { pairEffects } from './ha-effects.ts';
import { sleep } from '../panos/client.ts';
import { DurationEstimates } from '../panos/poll-schedule.ts';
import { ConflictingJobTypeError, DuplicateJobError, JobStateError, NotFoundError, PanosUpgradeError, ValidationError } from '../panos/errors.ts';
import { configuredPath, noPathReason, planUpgrade, DEFAULT_PATH_RULES, type PathRules, type UpgradePlan } from '../panos/upgrade-path.ts';
import { compareVersions } from '../panos/version.ts';
import type { DaemonConfig } from './config.ts';
import type { DeviceApi } from './device-api.ts';
import { fencedDeviceApi, type Fence } from './fence.ts';
import { evolveDevice, loadInventory, writeInventoryJson, type DiscoveredDevice, type InventoryDevice } from './inventory.ts';
import { crashListener, crashPointFromEnv } from './crash-hook.ts';
import { inflateSnapshot, JobRunner, type StampedFact } from './job-runner.ts';
import { CAMPAIGN_PAYLOADS, CampaignRunner, validateCampaignPayload, type CampaignCommand, type CampaignHost } from './campaign-runner.ts';
import { LogView } from './log-view.ts';
import { campaignList, toCampaignRecord } from '../machines/campaign.record.ts';
import { z } from 'zod';
import { validatePayload, type PayloadOf } from './payloads.ts';
import { Scheduler, type WorkUnit } from './scheduler.ts';
import { downloadStatusReply, type DownloadStatusReply } from './download-status.ts';
import { stepEffects, type StepDeps } from './step-effects.ts';
import type { TrustSummary } from './firewall-trust.ts';
import { checkFleet, preflight, type CheckTarget, type FleetCheckResult } from './readiness.ts';
import { byJobOrder } from './job-order.ts';
import { defaultReadinessPolicy, policyFromObject, type ReadinessPolicy } from '../checks/index.ts';

/** `device.discover`'s reply. */
export interface DiscoverReply {
  discovered: number;
  devices: InventoryDevice[];
  inventoryFile: string;
  /** Devices of the inventory Panorama no longer lists as connected: kept, marked not connected. */
  disconnected?: Array<{ serial: string; hostname: string }>;
  /** With trust on first use: certificates recorded, unchanged, changed (work on those stops until `device trust`), unreadable. */
  certificates?: { recorded: number; unchanged: number; changed: Array<{ serial: string; hostname: string; address: string; expected: string; presented: string }>; unreachable: number };
}

/** How the daemon reaches devices; the composition root builds these from the configuration. */
export interface DeviceAccess {
  /**
   * Panorama's managed devices (`show devices connected`), with their device groups (`show devicegroups`);
   * with trust on first use, what became of each firewall's certificate (`certificates`).
   */
  discover(): Promise<{ devices: DiscoveredDevice[]; certificates?: TrustSummary }>;
  /** A device through Panorama; with `precedence`, its calls go first when Panorama's connections are all busy. */
  viaPanorama(device: JobDevice, options?: { precedence?: boolean }): DeviceApi;
  /** A device at its management address. */
  direct(device: JobDevice): DeviceApi;
  /** Accept the certificate a firewall presents now, for trust on first use (`device trust SERIAL`). */
  trustCertificate?(device: JobDevice): Promise<{ address: string; fingerprint: string; at: string; previous?: string }>;
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
  /** On a cluster: every mutating call is checked against this daemon's lease first (actors/fence.ts); absent on a single server. */
  fence?: Fence;
  /** One of several daemons on a cluster (docs/cluster.md); absent for a single daemon. */
  cluster?: DaemonCluster;
}

/**
 * What a daemon on a cluster knows of its place in it: the fleet is cut into partitions, each owned by
 * the holder of its lease (cluster/partition-keeper.ts calls `gained`, `releasing` and `lost`).
 */
export interface DaemonCluster {
  /** `cluster.partitions`: the same on every daemon. */
  partitions: number;
  /** Whether this daemon holds the lease `key` now. */
  holds(key: string): boolean;
  /** How long a forwarded command keeps looking for the owner while its lease changes hands (default 30 s). */
  forwardTimeoutMs?: number;
  /** Shown by `daemon.status`: this daemon's node id, its partitions, the live daemons. */
  describe?(): Record<string, unknown>;
}

/** The owner a command was forwarded to refused it: it does not hold the lease (any more). */
export class NotOwnerError extends PanosUpgradeError {
  constructor(readonly key: string) {
    super('NOT_OWNER', `this daemon does not hold ${key}; the command goes to its owner`);
  }
}

/** Nobody held the lease a command needs within the forwarding time (a handover that did not finish). */
export class OwnerUnavailableError extends PanosUpgradeError {
  constructor(readonly key: string, readonly waitedMs: number, options?: ErrorOptions) {
    super('OWNER_UNAVAILABLE', `no daemon answered for ${key} within ${Math.round(waitedMs / 1000)} s (its lease is changing hands, or every daemon is down); try again`, options);
  }
}

/** An owner's `{ error }` reply, passed on to the caller as it came (code and fields). */
class RelayedError extends Error {
  constructor(readonly code: string, message: string, details: Record<string, unknown>) {
    super(message);
    Object.assign(this, details);
  }
}

/** The internal command a campaign's coordinator sends to a partition's owner to create a unit's job. */
const createUnitJobPayload = z.strictObject({
  jobId: z.string().min(1).max(64),
  serials: z.array(z.string().min(1).max(64)).min(1).max(2),
  kind: z.enum(['upgrade', 'download-only']),
  targetVersion: z.string().nullable(),
  readiness: z.record(z.string(), z.unknown()).optional(),
});

/** Whether a job has sent (or may have sent) a software install: from then on its device is changing. */
function installBegan(job: JobState): boolean {
  return job.install !== null || job.reboot !== null || job.done.some((d) => d.startsWith('install@') || d.startsWith('reboot@')) || ['installing', 'rebooting', 'verifying'].includes(job.status);
}

export class NoPathError extends PanosUpgradeError {
  /** Whether the caller gave a target (the hint then is not "give a target"). */
  readonly targetGiven: boolean;
  constructor(readonly device: string, readonly reason: string, targetGiven = false) {
    super('NO_PATH', `no upgrade path for ${device}: ${reason}`);
    this.targetGiven = targetGiven;
  }
}

export interface QueueSummary {
  dryRun: boolean;
  queued: number;
  skipped: number;
  queuedDevices: Array<{ device: string; hostname: string; jobId: string | null; versions: string[] }>;
  skippedDevices: Array<{ device: string; hostname: string; reason: string }>;
}

/** A job as the API shows it: a device job, or an HA pair job. */
export type StatusRecord = JobStatusRecord | PairStatusRecord;

export interface DryRunResult {
  dryRun: true;
  device: string;
  haPeer: string | null;
  plan: UpgradePlan;
  wouldDownload: string[];
  alreadyPresent: string[];
  devices: Array<{ device: string; wouldDownload: string[]; alreadyPresent: string[] }>;
  /** A half-upgraded HA pair: `behind` is upgraded to `version`, after failing over to `upgraded`, which already runs it and is left alone. */
  finishing?: { behind: string; upgraded: string; version: string };
}

/** A download status row for a pair peer whose child job does not exist yet. */
function placeholder(pair: PairState, device: JobDevice): JobState {
  return {
    ...jobFold.initialState(),
    jobId: pair.jobId,
    kind: 'download-only',
    device,
    runningVersion: device.swVersion,
    status: pair.status === 'pending' ? 'pending' : pair.status,
    message: pair.status === 'pending' ? 'Queued (HA pair)' : pair.message,
    submittedAt: pair.submittedAt,
  };
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
  private readonly runners = new Map<string, JobRunner<JobState>>();
  private readonly pairRunners = new Map<string, JobRunner<PairState>>();
  private readonly finished = new Map<string, JobState>();
  private readonly finishedPairs = new Map<string, PairState>();
  private readonly activeBySerial = new Map<string, string>();
  private readonly scheduler: Scheduler;
  private readonly subscriptions: Subscription[] = [];
  private readonly machine;
  private readonly pairMachine;
  private stopping = false;
  /** Campaigns: waves of jobs made through the same path as `job submit` (actors/campaign-runner.ts). */
  campaigns: CampaignRunner;
  private readonly cluster: DaemonCluster | undefined;
  /** The whole fleet from the replicated log's projection (cluster mode). */
  private readonly view: LogView | undefined;
  private inventorySeen = -1;
  private readonly ownerSubscriptions = new Map<string, Subscription>();
  private bus: { nc: NatsConnection; subjects: Subjects } | undefined;
  /** Bumped when the coordinator lease is lost: waits of the campaigns it ran end. */
  private campaignGeneration = 0;

  private constructor(private readonly options: DaemonOptions) {
    this.log = options.log;
    this.store = options.store;
    this.clock = options.clock ?? realClock;
    this.config = options.config;
    this.access = options.access;
    this.dataDir = options.dataDir;
    this.inventory = loadInventory(options.store);
    this.scheduler = new Scheduler(options.config.concurrency);
    const now = (): number => this.clock.now();
    const fence = options.fence;
    const fenced = (api: DeviceApi, d: JobDevice): DeviceApi => (fence ? fencedDeviceApi(api, d.serial, fence) : api);
    // An HA pair's calls go first: a pair is the fleet's longest unit (one peer after the other), and while it
    // runs it is without its redundancy, so its reads do not wait behind a hundred standalone readiness checks.
    const viaPanorama = (d: JobDevice): DeviceApi => this.access.viaPanorama(d, { precedence: d.haPeer !== null });
    const deps: StepDeps = {
      api: (d) => fenced(viaPanorama(d), d),
      directApi: (d) => fenced(this.access.direct(d), d),
      directDownloads: this.config.downloads.direct,
      installVia: this.config.install.via,
      updateContent: this.config.upgrade.updateContent,
      pollJobMs: this.config.poll.jobSeconds * 1000,
      jobTimeoutMs: this.config.timeouts.jobSeconds * 1000,
      pollRebootMs: this.config.poll.rebootSeconds * 1000,
      rebootBudgetMs: (model) => this.rebootBudgetMs(model),
      rebootStartGraceMs: this.config.timeouts.rebootStartGraceSeconds * 1000,
      pathRules: this.pathRules(),
      estimates: new DurationEstimates(),
      durable: (jobId) => this.runners.get(jobId)?.durable() ?? Promise.resolve(),
      current: (jobId) => this.runners.get(jobId)?.state,
      now,
      log: this.log,
      ...(fence ? { fence } : {}),
    };
    this.machine = upgradeJobMachine.provide({ actors: { ...stepEffects(deps), deadline: deadlineEffect(this.clock) } });
    this.pairMachine = haPairMachine.provide({
      actors: pairEffects({
        api: (d) => fenced(viaPanorama(d), d),
        ...(fence ? { fence } : {}),
        startChild: (pair, role, jobId, device) => this.startChild(pair, role, jobId, device),
        awaitChild: async (jobId) => (this.runners.get(jobId) ? await this.runners.get(jobId)!.done() : this.finished.get(jobId)),
        childExists: (jobId) => this.runners.has(jobId) || this.finished.has(jobId) || this.store.streamHead(`job:${jobId}`) > 0,
        newJobId: () => newJobId(now()),
        durable: (pairId) => this.pairRunners.get(pairId)?.durable() ?? Promise.resolve(),
        current: (pairId) => this.pairRunners.get(pairId)?.state,
        pollMs: this.config.poll.rebootSeconds * 1000,
        roleTimeoutMs: this.rebootBudgetMs(''),
        now,
        sleep,
        log: this.log,
        preflight: (pair, device, signal) =>
          preflight(
            viaPanorama(device),
            // The pair's own HA state is checked by the pair step; each peer's other checks run here, before either is touched.
            { device, plan: pair.versions.map((version) => ({ version, action: 'install' })), hop: 0, targetVersion: pair.targetVersion, parentId: pair.jobId, policy: this.policy(pair.readiness) },
            (model) => this.rebootBudgetMs(model),
            now(),
            { signal },
          ),
      }),
    });
    this.cluster = options.cluster;
    this.view = options.cluster ? new LogView(options.store) : undefined;
    this.campaigns = this.newCampaignRunner();
  }

  private newCampaignRunner(): CampaignRunner {
    return new CampaignRunner({ store: this.store, log: this.log.child({ component: 'campaign' }), clock: this.clock, host: this.campaignHost() });
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(options);
    // Test only (both PANOS_UPGRADE_TEST_* variables must be set): armed before resuming, so a kill can land in a resume too.
    const crashPoint = crashPointFromEnv(process.env);
    if (crashPoint) {
      daemon.log.warn({ crashPoint }, 'test hook: this daemon kills itself after the given durable event');
      options.store.onAppend(crashListener(crashPoint));
    }
    // On a cluster, work starts partition by partition as their leases are taken (gained).
    if (!options.cluster) {
      daemon.restore();
      daemon.campaigns.restore();
    }
    if (options.nc && options.subjects) {
      daemon.listen(options.nc, options.subjects);
      await options.nc.flush();
    }
    return daemon;
  }

  private rebootBudgetMs(model: string): number {
    return (this.config.timeouts.rebootSecondsByModel[model] ?? this.config.timeouts.rebootSeconds) * 1000;
  }

  private pathRules(): PathRules {
    return { ...DEFAULT_PATH_RULES, staticPaths: this.config.upgrade.paths, maxSkippedReleases: this.config.upgrade.maxSkippedReleases };
  }

  private policy(readiness: ReadinessPolicy = this.defaultReadiness()): JobPolicy {
    return { maxAttempts: this.config.retries.maxAttempts, retryBackoffMs: this.config.retries.backoffSeconds * 1000, readiness };
  }

  /** The shipped policy, with the configuration's post-upgrade limits (`thresholds.*`) for sessions, routes and ARP. */
  private defaultReadiness(): ReadinessPolicy {
    const base = defaultReadinessPolicy();
    const t = this.config.thresholds;
    if (!t) return base;
    const s = base.snapshots;
    return {
      ...base,
      snapshots: {
        ...s,
        sessions: { ...s.sessions, max_change_pct: t.sessionsPct },
        routes: { ...s.routes, max_change_pct: 0, max_change_count: t.routesDelta },
        arp: { ...s.arp, max_change_pct: t.arpPct, max_change_count: t.arpDelta },
      },
    };
  }

  /** A policy sent with a command (validated by the policy schema), or the default. */
  private readinessPolicy(raw: Record<string, unknown> | undefined): ReadinessPolicy {
    return raw ? policyFromObject(raw, 'policy') : this.defaultReadiness();
  }

  /** Readiness of named devices or the fleet: read-only, nothing is submitted. */
  async checkDevices(p: PayloadOf<'device.check'>): Promise<FleetCheckResult> {
    const policy = this.readinessPolicy(p.policy);
    // A serial named twice is checked once, as upgrade.queue queues it once.
    const selected = p.all ? this.devices() : [...new Set(p.devices)].map((serial) => this.deviceFor(serial));
    const targets = await Promise.all(selected.map((d) => this.checkTarget(d, p.targetVersion)));
    return checkFleet(targets, policy, () => this.clock.now(), Math.max(1, Math.min(8, this.config.concurrency)));
  }

  private async checkTarget(d: InventoryDevice, targetVersion: string | undefined): Promise<CheckTarget> {
    const base = { device: { serial: d.serial, hostname: d.hostname, model: d.model }, api: this.access.viaPanorama(jobDevice(d)), rebootBudgetMs: this.rebootBudgetMs(d.model) };
    try {
      const plan = await this.plan(d, targetVersion);
      const hops = plan.hops;
      return { ...base, targetVersion: targetVersion ?? hops.at(-1)?.version ?? null, planVersions: hops.map((h) => h.version), installHops: hops.filter((h) => h.action === 'install').length };
    } catch (err) {
      return { ...base, targetVersion: targetVersion ?? null, planVersions: [], installHops: 0, planError: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Rebuild every job from the log; resume the unfinished ones. Children of an HA pair run in their pair's slot. */
  private restore(owns?: (device: PartitionDevice) => boolean): void {
    let resumed = 0;
    let queued = 0;
    // Scheduled once every job is restored: a resumed pair re-attaches its children at once, and a child
    // whose stream sorts after its pair's must already have its runner (or it would be created again).
    const schedule: Array<() => void> = [];
    const later = (unit: WorkUnit, pending: boolean): void => {
      if (pending) queued++;
      else resumed++;
      schedule.push(() => (pending ? this.scheduler.enqueue(unit) : this.scheduler.adopt(unit)));
    };
    for (const stream of this.store.streamNames('job:')) {
      const jobId = stream.slice(4);
      if (this.runners.has(jobId) || this.pairRunners.has(jobId)) continue;
      const events = this.store.readStream(stream);
      const snap = this.store.getSnapshot<Snapshot<unknown>>(stream);
      if (events[0]?.type === 'job.ha.submitted') {
        const state = events.reduce((st, e) => pairFold.evolve(st, e as unknown as PairFact & { at: string }), pairFold.initialState());
        if (isTerminal(state as unknown as JobState)) {
          this.finishedPairs.set(jobId, state);
          continue;
        }
        if (owns && !(state.peers[0] && owns(state.peers[0]))) continue;
        const runner = this.makePairRunner(jobId, snap ? { snapshot: snap.state } : { state });
        for (const p of state.peers) this.activeBySerial.set(p.serial, jobId);
        later({ id: jobId, devices: state.peers.map((p) => p.serial), run: () => this.runJob(runner, state.status !== 'pending') }, state.status === 'pending');
        continue;
      }
      const state = events.reduce((st, e) => jobFold.evolve(st, e as never), jobFold.initialState());
      if (isTerminal(state)) {
        this.finished.set(jobId, state);
        continue;
      }
      if (owns && !(state.device && owns(state.device))) continue;
      // The stored snapshot has no context: it is the fold just made (JobRunner's foldedContextKey).
      const runner = this.makeRunner(jobId, snap ? { snapshot: inflateSnapshot(snap.state, state) } : { state });
      if (state.parentId) {
        // Started by its pair when the pair re-attaches (runChild), never by the scheduler.
        continue;
      }
      if (state.device) this.activeBySerial.set(state.device.serial, jobId);
      later({ id: jobId, devices: [state.device?.serial ?? ''], run: () => this.runJob(runner, state.status !== 'pending') }, state.status === 'pending');
    }
    for (const run of schedule) run();
    if (resumed + queued > 0) this.log.info({ resumed, queued }, 'restored unfinished jobs from the event log');
  }

  private makeRunner(jobId: string, from: { state: JobState } | { snapshot: Snapshot<unknown> }): JobRunner<JobState> {
    const runner = new JobRunner<JobState>({
      jobId,
      machine: this.machine,
      store: this.store,
      log: this.log.child({ jobId }),
      isTerminal,
      ...from,
      foldedContextKey: 'job',
      onChange: (state, facts) => this.onJobChange(jobId, state, facts),
    });
    this.runners.set(jobId, runner);
    return runner;
  }

  private makePairRunner(jobId: string, from: { state: PairState } | { snapshot: Snapshot<unknown> }): JobRunner<PairState> {
    const runner = new JobRunner<PairState>({
      jobId,
      machine: this.pairMachine,
      store: this.store,
      log: this.log.child({ jobId }),
      isTerminal: (s) => isTerminal(s as unknown as JobState),
      ...from,
      onChange: (state, facts) => {
        // The roles the pair's steps leave its peers in, as they saw them: the inventory follows at once,
        // whether the pair goes on to the end or stops after a failover.
        const roles: Array<[string, string]> = [];
        for (const f of facts as readonly PairFact[]) {
          if (f.type === 'job.ha.verified') roles.push([f.data.active, 'active'], [f.data.passive, 'passive']);
          if (f.type === 'job.ha.failover.confirmed') roles.push([f.data.active, 'active']);
          if (f.type === 'job.ha.peer.suspended') roles.push([f.data.serial, 'suspended']);
          if (f.type === 'job.ha.peer.functional' || f.type === 'job.ha.peer.back') roles.push([f.data.serial, f.data.state]);
        }
        for (const [serial, role] of roles) {
          const prev = this.inventory.get(serial);
          if (prev && prev.haState !== role && role !== 'unknown') void this.recordDevice(serial, { type: 'device.ha.changed', data: { from: prev.haState, to: role, jobId } });
        }
        if (!isTerminal(state as unknown as JobState)) return;
        this.finishedPairs.set(jobId, state);
        this.pairRunners.delete(jobId);
        for (const p of state.peers) if (this.activeBySerial.get(p.serial) === jobId) this.activeBySerial.delete(p.serial);
      },
    });
    this.pairRunners.set(jobId, runner);
    return runner;
  }

  /** Run a device job or an HA pair job to its end; a resumed one is already past its start. */
  private async runJob<S extends { status: string }>(runner: JobRunner<S>, resumed = false): Promise<void> {
    if (this.stopping) return;
    runner.start();
    if (!resumed && runner.state.status === 'pending') runner.send({ type: 'start', now: this.clock.now() });
    // A runner stopped because its partition went to another daemon frees its slot too.
    await runner.settled();
  }

  /** A pair's child job for one peer: created under the id the pair recorded (once), then started. */
  private async startChild(pair: PairState, role: ChildRole, jobId: string, device: JobDevice): Promise<void> {
    let runner = this.runners.get(jobId);
    if (!runner && !this.finished.has(jobId)) {
      const inventory = this.inventory.get(device.serial);
      const current = inventory ? { ...inventory } : undefined;
      if (!current) throw new NotFoundError('device', device.serial);
      const kind: JobKind = role.startsWith('download') ? 'download-only' : 'upgrade';
      // Both peers go to the pair's final version, whatever each would plan on its own.
      const plan = await this.plan(current, pair.targetVersion ?? pair.versions.at(-1));
      await this.createJob(current, kind, plan, pair.targetVersion, { jobId, parentId: pair.jobId }, undefined, pair.readiness);
      runner = this.runners.get(jobId);
    }
    if (runner && !runner.isStarted) void this.runJob(runner, runner.state.status !== 'pending');
    // The pair's cancel reaches its peer upgrade whenever it came: while the child was being made (the
    // cancel found no child to pass on to), or before a crash (it is in the pair's log, and the restored
    // step starts the child again).
    if (runner && role.startsWith('upgrade') && this.pairRunners.get(pair.jobId)?.state.cancelRequested) await this.cancelWithPair(pair.jobId, runner);
  }

  /**
   * A pair's peer upgrade that has installed nothing yet is cancelled with its pair (the child job stops
   * after its current step, before any install): the pair then brings that peer back untouched and ends
   * cancelled. Once an install began, the peer's upgrade is finished, as a job's install and reboot are.
   */
  private async cancelWithPair(pairId: string, child: JobRunner<JobState>): Promise<void> {
    if (installBegan(child.state) || child.state.cancelRequested) return;
    child.send({ type: 'cancel', by: `HA pair job ${pairId}`, now: this.clock.now() });
    await child.durable();
  }

  private onJobChange(jobId: string, state: JobState, facts: readonly StampedFact[]): void {
    for (const f of facts as readonly StampedJobFact[]) {
      if (f.type === 'job.reboot.completed' && state.device) {
        const prev = this.inventory.get(state.device.serial);
        if (prev && prev.swVersion !== f.data.version) void this.recordDevice(state.device.serial, { type: 'device.version.changed', data: { from: prev.swVersion, to: f.data.version, jobId } });
      }
      if (f.type === 'job.content.updated' && state.device) {
        const prev = this.inventory.get(state.device.serial);
        if (prev && prev.appVersion !== f.data.version) void this.recordDevice(state.device.serial, { type: 'device.content.changed', data: { from: prev.appVersion, to: f.data.version, jobId } });
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
    return this.runners.get(jobId)?.recorded ?? this.view?.job(jobId) ?? this.finished.get(jobId);
  }

  pairState(jobId: string): PairState | undefined {
    return this.pairRunners.get(jobId)?.recorded ?? this.view?.pair(jobId) ?? this.finishedPairs.get(jobId);
  }

  /** Device jobs (HA pair children included), oldest first. */
  allJobs(): JobState[] {
    if (this.view) return this.view.allJobs();
    return [...this.finished.values(), ...[...this.runners.values()].map((r) => r.recorded)].sort((a, b) => (a.submittedAt ?? '').localeCompare(b.submittedAt ?? ''));
  }

  allPairs(): PairState[] {
    if (this.view) return this.view.allPairs();
    return [...this.finishedPairs.values(), ...[...this.pairRunners.values()].map((r) => r.recorded)].sort((a, b) => (a.submittedAt ?? '').localeCompare(b.submittedAt ?? ''));
  }

  devices(): InventoryDevice[] {
    this.syncInventory();
    return [...this.inventory.values()].sort((a, b) => a.serial.localeCompare(b.serial));
  }

  /** Resolves when no job runs or waits. */
  idle(): Promise<void> {
    return this.scheduler.idle();
  }

  private record(jobId: string): StatusRecord | undefined {
    const job = this.jobState(jobId);
    if (job) return toStatusRecord(job);
    const pair = this.pairState(jobId);
    return pair ? toPairStatusRecord(pair) : undefined;
  }

  // ---- commands ----

  async discover(): Promise<DiscoverReply> {
    const { devices: found, certificates } = await this.access.discover();
    for (const d of found) await this.recordDevice(d.serial, { type: 'device.discovered', data: d });
    // Known before, no longer listed as connected: marked so, or queues and campaigns would still pick it.
    const listed = new Set(found.map((d) => d.serial));
    const gone = [...this.inventory.values()].filter((d) => !listed.has(d.serial) && d.connected);
    for (const d of gone) await this.recordDevice(d.serial, { type: 'device.disconnected', data: {} });
    const file = writeInventoryJson(this.dataDir, this.inventory.values(), new Date(this.clock.now()).toISOString());
    const hostnames = new Map(found.map((d) => [d.serial, d.hostname]));
    return {
      discovered: found.length,
      devices: found.map((d) => this.inventory.get(d.serial)!).filter(Boolean),
      inventoryFile: file,
      ...(gone.length > 0 ? { disconnected: gone.map((d) => ({ serial: d.serial, hostname: d.hostname })) } : {}),
      // A changed certificate is told to whoever ran discovery, not only logged: work on those firewalls stops until `device trust`.
      ...(certificates ? { certificates: { ...certificates, changed: certificates.changed.map((c) => ({ serial: c.serial, hostname: hostnames.get(c.serial) ?? '', address: c.address, expected: c.expected, presented: c.presented })) } } : {}),
    };
  }

  /** Trust on first use: accept the certificate a firewall presents now (after a planned replacement). */
  async trustDevice(serial: string): Promise<object> {
    const d = this.deviceFor(serial);
    if (!this.config.firewall.tls.trustOnFirstUse || !this.access.trustCertificate) {
      throw new ValidationError('device trust records a firewall certificate for trust on first use, which is off: panos-upgrade config set firewall.tls.trust_on_first_use true, then restart the daemon', 'serial');
    }
    return { serial, ...(await this.access.trustCertificate(jobDevice(d))) };
  }

  private deviceFor(serial: string): InventoryDevice {
    this.syncInventory();
    const d = this.inventory.get(serial);
    if (!d) throw new NotFoundError('device', serial, `device ${serial} is not in the inventory: run "panos-upgrade device discover" first`);
    return d;
  }

  /** The HA peer of a device, when both are in the inventory. */
  private peerOf(device: InventoryDevice): InventoryDevice | undefined {
    return device.haPeer ? this.inventory.get(device.haPeer) : undefined;
  }

  private kindOf(jobId: string): JobKind {
    return this.jobState(jobId)?.kind ?? this.pairState(jobId)?.kind ?? 'upgrade';
  }

  /**
   * The device's active job. One whose status already says it ended is not: `job.get` shows a job's live
   * state, and a caller who saw it end may submit again before its last facts are on disk.
   */
  private activeJobOf(serial: string): string | undefined {
    const id = this.activeBySerial.get(serial);
    if (id === undefined) return undefined;
    const state = this.jobState(id) ?? this.pairState(id);
    return state && isTerminal(state as unknown as JobState) ? undefined : id;
  }

  private checkNoActiveJob(serial: string, kind: JobKind): void {
    const existing = this.activeJobOf(serial);
    if (!existing) return;
    const existingKind = this.kindOf(existing);
    if (existingKind === kind) throw new DuplicateJobError(serial, existing);
    throw new ConflictingJobTypeError(serial, existing, existingKind);
  }

  /** The plan a job would follow, from the static map or, with a target, from the device's own list. */
  private async plan(device: InventoryDevice, targetVersion: string | undefined): Promise<UpgradePlan> {
    const rules = this.pathRules();
    const staticHit = configuredPath(rules.staticPaths, device.swVersion).versions;
    let available: readonly string[] = staticHit;
    if (staticHit.length === 0 || (targetVersion && !staticHit.includes(targetVersion))) {
      if (!targetVersion) throw new NoPathError(device.serial, noPathReason(rules.staticPaths, device.swVersion));
      const software = await this.access.viaPanorama(jobDevice(device)).softwareInfo();
      available = software.entries.map((e) => e.version);
    }
    const result = planUpgrade({ current: device.swVersion, ...(targetVersion ? { target: targetVersion } : {}), available, rules });
    if (!result.ok) throw new NoPathError(device.serial, result.reason, targetVersion !== undefined);
    return result.plan;
  }

  /**
   * An HA pair whose peers run different versions (a pair job cancelled or failed between its peers) is
   * finished: the peer behind is upgraded to the version the other runs, after failing over to it. Going
   * further is another job, once the peers run one version.
   */
  private async finishPlan(a: InventoryDevice, b: InventoryDevice, targetVersion: string | undefined): Promise<{ plan: UpgradePlan; behind: InventoryDevice; upgraded: InventoryDevice }> {
    const [behind, upgraded] = compareVersions(a.swVersion, b.swVersion) < 0 ? [a, b] : [b, a];
    const half = `the HA pair is half-upgraded (${upgraded.hostname} runs ${upgraded.swVersion}, ${behind.hostname} ${behind.swVersion})`;
    if (targetVersion && targetVersion !== upgraded.swVersion) {
      throw new NoPathError(behind.serial, `${half}: finish it first, to ${upgraded.swVersion} (submit it without --target or with --target ${upgraded.swVersion}), then upgrade the pair further`, true);
    }
    const plan = await this.plan(behind, upgraded.swVersion);
    if (plan.hops.at(-1)?.version !== upgraded.swVersion) throw new NoPathError(behind.serial, `${half}, and the path of ${behind.hostname} does not end at ${upgraded.swVersion}`, true);
    return { plan, behind, upgraded };
  }

  /**
   * Submit a job for one device. A member of an HA pair whose peer is in the inventory gets a pair job:
   * the two peers are one unit of work, upgraded one after the other in one scheduler slot.
   */
  async submit(p: PayloadOf<'job.submit'>): Promise<{ job: StatusRecord } | DryRunResult | { checksOnly: true; checks: FleetCheckResult }> {
    const device = this.deviceFor(p.device);
    if (p.checksOnly) {
      const peer = this.peerOf(device);
      const checks = await this.checkDevices({ devices: peer ? [device.serial, peer.serial] : [device.serial], ...(p.targetVersion ? { targetVersion: p.targetVersion } : {}), ...(p.policy ? { policy: p.policy } : {}) });
      return { checksOnly: true, checks };
    }
    const readiness = this.readinessPolicy(p.policy);
    const kind: JobKind = p.downloadOnly ? 'download-only' : 'upgrade';
    const peer = this.peerOf(device);
    this.checkNoActiveJob(device.serial, kind);
    if (peer) this.checkNoActiveJob(peer.serial, kind);
    const finish = peer && kind === 'upgrade' && peer.swVersion !== device.swVersion ? await this.finishPlan(device, peer, p.targetVersion) : undefined;
    const plan = finish?.plan ?? (await this.plan(device, p.targetVersion));
    if (p.dryRun) {
      // Read-only: what each device already has decides what would be fetched.
      const versions = [...new Set(plan.hops.map((h) => h.version))];
      const devices = [];
      // Finishing a half-upgraded pair: only the peer behind is upgraded; the other already runs the version.
      for (const d of finish ? [finish.behind] : peer ? [device, peer] : [device]) {
        const software = await this.access.viaPanorama(jobDevice(d)).softwareInfo();
        const present = new Set(software.entries.filter((e) => e.downloaded).map((e) => e.version));
        devices.push({ device: d.serial, wouldDownload: versions.filter((v) => !present.has(v)), alreadyPresent: versions.filter((v) => present.has(v)) });
      }
      const own = devices[0]!;
      return {
        dryRun: true,
        device: device.serial,
        haPeer: peer?.serial ?? null,
        plan,
        wouldDownload: own.wouldDownload,
        alreadyPresent: own.alreadyPresent,
        devices,
        ...(finish ? { finishing: { behind: finish.behind.serial, upgraded: finish.upgraded.serial, version: finish.upgraded.swVersion } } : {}),
      };
    }
    if (peer) return { job: toPairStatusRecord(await this.createPair(kind, device, peer, plan, p.targetVersion ?? null, undefined, readiness, finish?.upgraded.serial)) };
    const state = await this.createJob(device, kind, plan, p.targetVersion ?? null, undefined, undefined, readiness);
    return { job: toStatusRecord(state) };
  }

  private async createJob(
    device: InventoryDevice,
    kind: JobKind,
    plan: UpgradePlan,
    targetVersion: string | null,
    child?: { jobId: string; parentId: string },
    fixedId?: string,
    readiness?: ReadinessPolicy,
  ): Promise<JobState> {
    const now = this.clock.now();
    const jobId = child?.jobId ?? fixedId ?? newJobId(now);
    const at = new Date(now).toISOString();
    const submitted: Extract<JobFact, { type: 'job.submitted' }> = {
      type: 'job.submitted',
      data: {
        jobId,
        kind,
        dryRun: false,
        device: jobDevice(device),
        targetVersion,
        plan: plan.hops,
        planSource: plan.source,
        policy: this.policy(readiness),
        ...(child ? { parentId: child.parentId } : {}),
      },
    };
    // The device is taken before the first await, so two submits in a row cannot both pass the check.
    if (!child) this.activeBySerial.set(device.serial, jobId);
    const state = submittedJobState(submitted, at);
    // Registered before the append: whoever sees the published job.submitted can read the job at once.
    const runner = this.makeRunner(jobId, { state });
    try {
      await this.store.append(`job:${jobId}`, [{ ...submitted, at }], { expectedSeq: 0 });
    } catch (err) {
      if (!child) this.activeBySerial.delete(device.serial);
      this.runners.delete(jobId);
      throw err;
    }
    if (!child) this.scheduler.enqueue({ id: jobId, devices: [device.serial], run: () => this.runJob(runner) });
    return state;
  }

  private async createPair(
    kind: JobKind,
    a: InventoryDevice,
    b: InventoryDevice,
    plan: UpgradePlan,
    targetVersion: string | null,
    fixedId?: string,
    readiness: ReadinessPolicy = this.defaultReadiness(),
    upgraded?: string,
  ): Promise<PairState> {
    const now = this.clock.now();
    const jobId = fixedId ?? newJobId(now);
    const at = new Date(now).toISOString();
    const submitted: Extract<PairFact, { type: 'job.ha.submitted' }> = {
      type: 'job.ha.submitted',
      data: {
        jobId,
        kind,
        strategy: this.config.ha.strategy,
        pauseBetweenPeers: this.config.ha.pauseBetweenPeers,
        targetVersion,
        peers: [jobDevice(a), jobDevice(b)],
        versions: plan.hops.map((h) => h.version),
        // Recorded, so the pair's check step and its peers' child jobs run it after a restart and in replay too.
        readiness,
        ...(upgraded ? { upgraded } : {}),
      },
    };
    this.activeBySerial.set(a.serial, jobId);
    this.activeBySerial.set(b.serial, jobId);
    const state = submittedPairState(submitted, at);
    const runner = this.makePairRunner(jobId, { state });
    try {
      await this.store.append(`job:${jobId}`, [{ ...submitted, at }], { expectedSeq: 0 });
    } catch (err) {
      this.activeBySerial.delete(a.serial);
      this.activeBySerial.delete(b.serial);
      this.pairRunners.delete(jobId);
      throw err;
    }
    this.scheduler.enqueue({ id: jobId, devices: [a.serial, b.serial], run: () => this.runJob(runner) });
    return state;
  }

  async cancel(jobId: string): Promise<{ job: StatusRecord }> {
    // A peer's own job is cancelled through its pair: the pair stops it and brings the peers back; cancelled
    // alone, it failed the pair with a peer maybe still failed over.
    const parentId = this.runners.get(jobId)?.state.parentId;
    if (parentId && this.pairRunners.has(parentId)) return this.cancel(parentId);
    const runner = this.runners.get(jobId) ?? this.pairRunners.get(jobId);
    if (!runner) {
      const done = this.finished.get(jobId) ?? this.finishedPairs.get(jobId);
      if (done) throw new JobStateError(jobId, done.status, `job ${jobId} already ended (${done.status}); nothing to cancel`);
      throw new NotFoundError('job', jobId);
    }
    if (this.scheduler.dequeue(jobId)) runner.start();
    runner.send({ type: 'cancel', by: 'operator', now: this.clock.now() });
    await runner.durable();
    // The pair's peer upgrade under way goes with it (one not started yet gets it from startChild).
    const pair = this.pairRunners.get(jobId);
    const role = pair?.state.step;
    const childId = role?.startsWith('upgrade') ? pair!.state.children.find((c) => c.role === role)?.jobId : undefined;
    const child = childId ? this.runners.get(childId) : undefined;
    if (child?.isStarted) await this.cancelWithPair(jobId, child);
    return { job: this.record(jobId)! };
  }

  /** An operator's go for an HA pair paused between its peers. */
  async resume(jobId: string): Promise<{ job: StatusRecord }> {
    const runner = this.pairRunners.get(jobId);
    if (!runner) {
      const done = this.finishedPairs.get(jobId) ?? this.finished.get(jobId);
      if (done) throw new JobStateError(jobId, done.status, `job ${jobId} already ended (${done.status}); there is nothing to resume`);
      if (this.runners.has(jobId)) throw new JobStateError(jobId, this.runners.get(jobId)!.state.status, `job ${jobId} is a device job; only an HA pair job paused between its peers is resumed`);
      throw new NotFoundError('job', jobId);
    }
    if (!runner.state.paused) throw new JobStateError(jobId, runner.state.status, `job ${jobId} is not paused (${runner.state.status}: ${runner.state.message}); only an HA pair job paused between its peers is resumed`);
    runner.send({ type: 'resume', by: 'operator', now: this.clock.now() });
    await runner.durable();
    return { job: this.record(jobId)! };
  }

  get(jobId: string): { job: StatusRecord } {
    const r = this.record(jobId);
    if (!r) throw new NotFoundError('job', jobId);
    return { job: r };
  }

  list(p: PayloadOf<'job.list'>): { jobs: StatusRecord[] } {
    let jobs: StatusRecord[] = [...this.allJobs().map(toStatusRecord), ...this.allPairs().map(toPairStatusRecord)].sort(byJobOrder);
    if (p.device) jobs = jobs.filter((j) => j.device_serial.split('+').includes(p.device!));
    if (p.status) jobs = jobs.filter((j) => j.upgrade_status === p.status);
    if (p.active) jobs = jobs.filter((j) => !TERMINAL_STATUSES.has(j.upgrade_status));
    if (p.limit) jobs = jobs.slice(-p.limit);
    return { jobs };
  }

  /** The seed's bulk pre-staging: every discovered device with a path and no job gets a download-only job; HA peers as one pair job. */
  queueAllDownloads(p: PayloadOf<'download.queue-all'>): Promise<QueueSummary> {
    return this.queueJobs('download-only', this.devices(), undefined, p.dryRun === true);
  }

  /** Upgrade jobs for the given devices (or every discovered one); an HA member brings its peer, as one pair job. */
  queueUpgrades(p: PayloadOf<'upgrade.queue'>): Promise<QueueSummary> {
    const selected = p.all ? this.devices() : p.devices!.map((serial) => this.deviceFor(serial));
    return this.queueJobs('upgrade', selected, p.targetVersion, p.dryRun === true, this.readinessPolicy(p.policy));
  }

  private async queueJobs(kind: JobKind, selected: InventoryDevice[], targetVersion: string | undefined, dryRun: boolean, readiness?: ReadinessPolicy): Promise<QueueSummary> {
    const summary: QueueSummary = { dryRun, queued: 0, skipped: 0, queuedDevices: [], skippedDevices: [] };
    const rules = this.pathRules();
    const handled = new Set<string>();
    // Jobs are created concurrently: their submitted facts share commits instead of one fsync each.
    const creations: Array<Promise<void>> = [];
    const queue = (rows: QueueSummary['queuedDevices'], create: () => Promise<{ jobId: string }>): void => {
      for (const row of rows) {
        summary.queued++;
        summary.queuedDevices.push(row);
      }
      if (dryRun) return;
      creations.push(
        create().then(({ jobId }) => {
          for (const row of rows) row.jobId = jobId;
        }),
      );
    };
    for (const device of selected) {
      if (handled.has(device.serial)) continue;
      handled.add(device.serial);
      const skip = (reason: string): void => {
        summary.skipped++;
        summary.skippedDevices.push({ device: device.serial, hostname: device.hostname, reason });
      };
      const existing = this.activeJobOf(device.serial);
      if (existing) {
        skip(`already has an active ${this.kindOf(existing)} job ${existing}`);
        continue;
      }
      if (!device.connected) {
        skip('not connected to Panorama at the last discovery');
        continue;
      }
      const peer = this.peerOf(device);
      // An HA member is upgraded with its peer, as one pair job: alone it would reboot without failing
      // over first. Download-only jobs reboot nothing, so a member may have one of its own.
      const peerJob = peer ? this.activeJobOf(peer.serial) : undefined;
      if (peer && kind === 'upgrade' && peerJob) {
        skip(`its HA peer ${peer.hostname} (${peer.serial}) has an active job ${peerJob}; a pair is upgraded as one, after that job ends`);
        continue;
      }
      if (peer && kind === 'upgrade' && peer.swVersion !== device.swVersion) {
        // A half-upgraded pair: finished, its peer behind upgraded to the version the other runs.
        handled.add(peer.serial);
        let finish: Awaited<ReturnType<Daemon['finishPlan']>>;
        try {
          finish = await this.finishPlan(device, peer, targetVersion);
        } catch (err) {
          skip(err instanceof NoPathError ? err.reason : err instanceof Error ? err.message : String(err));
          continue;
        }
        const { plan, behind, upgraded } = finish;
        const rows = [behind, upgraded].map((d) => ({ device: d.serial, hostname: d.hostname, jobId: null as string | null, versions: d === behind ? plan.hops.map((h) => h.version) : [] }));
        queue(rows, () => this.createPair(kind, behind, upgraded, plan, targetVersion ?? null, undefined, readiness, upgraded.serial));
        continue;
      }
      if (configuredPath(rules.staticPaths, device.swVersion).versions.length === 0 && !targetVersion) {
        skip(noPathReason(rules.staticPaths, device.swVersion));
        continue;
      }
      let plan: UpgradePlan;
      try {
        plan = targetVersion ? await this.plan(device, targetVersion) : this.staticPlan(device);
      } catch (err) {
        skip(err instanceof NoPathError ? err.reason : err instanceof Error ? err.message : String(err));
        continue;
      }
      const versions = plan.hops.map((h) => h.version);
      if (peer && !peerJob && peer.swVersion === device.swVersion) {
        handled.add(peer.serial);
        const rows = [device, peer].map((d) => ({ device: d.serial, hostname: d.hostname, jobId: null as string | null, versions }));
        queue(rows, () => this.createPair(kind, device, peer, plan, targetVersion ?? null, undefined, readiness));
        continue;
      }
      queue([{ device: device.serial, hostname: device.hostname, jobId: null, versions }], () => this.createJob(device, kind, plan, targetVersion ?? null, undefined, undefined, readiness));
    }
    await Promise.all(creations);
    return summary;
  }

  private staticPlan(device: InventoryDevice): UpgradePlan {
    const rules = this.pathRules();
    const result = planUpgrade({ current: device.swVersion, available: configuredPath(rules.staticPaths, device.swVersion).versions, rules });
    if (!result.ok) throw new NoPathError(device.serial, result.reason);
    return result.plan;
  }

  downloadStatus(): DownloadStatusReply {
    const latest = new Map<string, JobState>();
    for (const j of this.allJobs()) if (j.kind === 'download-only' && j.device) latest.set(j.device.serial, j);
    // A pair's peer whose child job does not exist yet still shows, with the pair's status.
    for (const pair of this.allPairs()) {
      if (pair.kind !== 'download-only') continue;
      for (const p of pair.peers) {
        const current = latest.get(p.serial);
        if (current && (current.submittedAt ?? '') >= (pair.submittedAt ?? '')) continue;
        latest.set(p.serial, placeholder(pair, p));
      }
    }
    return downloadStatusReply(latest);
  }

  status(): object {
    this.syncInventory();
    const counts: Record<string, number> = {};
    for (const j of this.allJobs()) counts[j.status] = (counts[j.status] ?? 0) + 1;
    const pairs: Record<string, number> = {};
    for (const p of this.allPairs()) pairs[p.status] = (pairs[p.status] ?? 0) + 1;
    return {
      runId: this.store.runId,
      devices: this.inventory.size,
      jobs: counts,
      haPairJobs: pairs,
      running: this.scheduler.running,
      waiting: this.scheduler.waiting,
      concurrency: this.scheduler.concurrency,
      panorama: this.config.panorama.host,
      ...(this.cluster ? { cluster: this.cluster.describe?.() ?? {} } : {}),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.subscriptions) s.unsubscribe();
    for (const s of this.ownerSubscriptions.values()) s.unsubscribe();
    this.ownerSubscriptions.clear();
    await this.campaigns.stop();
    await Promise.all([...this.pairRunners.values(), ...this.runners.values()].map((r) => r.stop()));
  }

  /** A campaign's jobs are made and queued like `job submit`'s, under the id the campaign recorded. */
  private campaignHost(): CampaignHost {
    const local = {
      createJob: async (jobId: string, serials: readonly string[], kind: JobKind, targetVersion: string | null, readiness?: Record<string, unknown>): Promise<void> => {
        const devices = serials.map((s) => this.deviceFor(s));
        for (const d of devices) this.checkNoActiveJob(d.serial, kind);
        const plan = await this.plan(devices[0]!, targetVersion ?? undefined);
        const policy = this.readinessPolicy(readiness);
        if (devices[1]) await this.createPair(kind, devices[0]!, devices[1], plan, targetVersion, jobId, policy);
        else await this.createJob(devices[0]!, kind, plan, targetVersion, undefined, jobId, policy);
      },
    };
    return {
      devices: () => {
        const paths = this.pathRules().staticPaths;
        return this.devices().map((d) => {
          const job = this.activeJobOf(d.serial);
          const configured = configuredPath(paths, d.swVersion);
          return { ...d, busy: job ? `already has an active ${this.kindOf(job)} job ${job}` : null, path: configured.versions, pathIsOwn: configured.from === d.swVersion };
        });
      },
      hops: (d) => Math.max(1, configuredPath(this.pathRules().staticPaths, d.swVersion).versions.length),
      concurrency: () => this.scheduler.concurrency,
      hasJob: (jobId) => (this.cluster ? this.store.streamHead(`job:${jobId}`) > 0 : this.record(jobId) !== undefined),
      checkPolicy: (raw) => void this.readinessPolicy(raw),
      // On a cluster the unit's job is made by the owner of its devices' partition (exactly once: its first append expects seq 0).
      createJob: async (jobId, serials, kind, targetVersion, readiness) => {
        if (!this.cluster) return local.createJob(jobId, serials, kind, targetVersion, readiness);
        await this.dispatch(CREATE_UNIT_JOB, { jobId, serials: [...serials], kind, targetVersion, ...(readiness ? { readiness } : {}) });
      },
      jobEnded: async (jobId) => {
        const generation = this.campaignGeneration;
        const runner = this.runners.get(jobId) ?? this.pairRunners.get(jobId);
        let s: { status: JobState['status']; message: string } | undefined = runner ? await runner.done() : undefined;
        // On a cluster another daemon may run it: its end shows in the projection of the replicated log.
        while (!s && this.cluster) {
          const seen = this.jobState(jobId) ?? this.pairState(jobId);
          if (seen && isTerminal(seen as JobState)) s = seen;
          else if (this.campaignGeneration !== generation || this.stopping) throw new NotOwnerError(COORDINATOR_LEASE);
          else await sleep(this.config.poll.jobSeconds * 1000);
        }
        s ??= this.jobState(jobId) ?? this.pairState(jobId);
        if (!s) throw new NotFoundError('job', jobId);
        return { status: s.status, message: s.message };
      },
      cancelJob: async (jobId) => {
        if (this.cluster) await this.dispatch('job.cancel', { jobId });
        else await this.cancel(jobId);
      },
    };
  }

  /** The devices a command may select: the fleet, or on a cluster the partition it was sent to. */
  private scoped(devices: InventoryDevice[], key: string | undefined): InventoryDevice[] {
    const p = key === undefined ? undefined : parsePartitionLeaseKey(key);
    return p === undefined || !this.cluster ? devices : devices.filter((d) => partitionOf(d, this.cluster!.partitions) === p);
  }

  /** Every command this daemon answers itself; `key` is the lease it was sent to, on a cluster. */
  private handlers(): Record<string, (payload: Record<string, unknown>, key?: string) => Promise<object> | object> {
    const cmd = <K extends Parameters<typeof validatePayload>[0]>(name: K, handler: (p: PayloadOf<K>, key?: string) => Promise<object> | object) => ({
      [name]: (payload: Record<string, unknown>, key?: string) => handler(validatePayload(name, payload), key),
    });
    const campaign = <K extends CampaignCommand>(name: K, handler: (p: z.infer<(typeof CAMPAIGN_PAYLOADS)[K]>) => Promise<object> | object) => ({
      [name]: (payload: Record<string, unknown>) => handler(validateCampaignPayload(name, payload)),
    });
    const view = this.view;
    return {
      ...cmd('job.submit', (p) => this.submit(p)),
      ...cmd('job.cancel', (p) => this.cancel(p.jobId)),
      ...cmd('job.get', (p) => this.get(p.jobId)),
      ...cmd('job.list', (p) => this.list(p)),
      ...cmd('job.resume', (p) => this.resume(p.jobId)),
      ...cmd('download.queue-all', (p, key) => this.queueJobs('download-only', this.scoped(this.devices(), key), undefined, p.dryRun === true)),
      ...cmd('download.status', () => this.downloadStatus()),
      ...cmd('upgrade.queue', (p, key) => {
        const selected = p.all ? this.scoped(this.devices(), key) : p.devices!.map((serial) => this.deviceFor(serial));
        return this.queueJobs('upgrade', selected, p.targetVersion, p.dryRun === true, this.readinessPolicy(p.policy));
      }),
      ...cmd('device.discover', () => this.discover()),
      ...cmd('device.list', () => ({ devices: this.devices() })),
      ...cmd('device.get', (p) => {
        const device = this.deviceFor(p.serial);
        return { device, jobs: this.list({ device: p.serial }).jobs };
      }),
      ...cmd('device.check', (p) => this.checkDevices(p)),
      ...cmd('device.trust', (p) => this.trustDevice(p.serial)),
      ...cmd('daemon.status', () => this.status()),
      ...campaign('campaign.create', (p) => this.campaigns.create(p)),
      ...campaign('campaign.list', (p) => {
        if (!view) return this.campaigns.list(p.active === true);
        return { campaigns: campaignList(view.allCampaigns(), this.clock.now(), p.active === true) };
      }),
      ...campaign('campaign.get', (p) => {
        if (!view) return this.campaigns.get(p.campaignId, p.units === true);
        const c = view.campaign(p.campaignId);
        if (!c) throw new NotFoundError('campaign', p.campaignId);
        return { campaign: toCampaignRecord(c, this.clock.now(), { members: p.units === true }) };
      }),
      ...campaign('campaign.pause', (p) => this.campaigns.command(p.campaignId, 'pause', p.by)),
      ...campaign('campaign.resume', (p) => this.campaigns.command(p.campaignId, 'resume', p.by)),
      ...campaign('campaign.approve', (p) => this.campaigns.command(p.campaignId, 'approve', p.by)),
      ...campaign('campaign.abort', (p) => this.campaigns.command(p.campaignId, 'abort', p.by)),
      [CREATE_UNIT_JOB]: async (payload) => {
        const p = createUnitJobPayload.parse(payload);
        if (this.store.streamHead(`job:${p.jobId}`) > 0) return { jobId: p.jobId, existed: true };
        await this.campaignHost().createJob(p.jobId, p.serials, p.kind, p.targetVersion, p.readiness);
        return { jobId: p.jobId, existed: false };
      },
    };
  }

  /**
   * Answer a command as if it came over NATS: here, or on a cluster at the daemon that owns what it is about (cluster/routing.ts):
   * a device's or job's partition owner, the coordinator, or every partition's owner with the replies merged.
   */
  async command(name: string, payload: Record<string, unknown>): Promise<object> {
    return this.dispatch(name, payload);
  }

  private async dispatch(name: string, payload: Record<string, unknown>): Promise<object> {
    const handle = this.handlers()[name];
    if (!handle) throw new ValidationError(`unknown command ${name}`);
    if (!this.cluster) return handle(payload);
    this.syncInventory();
    const route = routeCommand(name, payload, {
      partitions: this.cluster.partitions,
      device: (serial) => this.inventory.get(serial),
      jobDevice: (jobId) => {
        const job = this.jobState(jobId);
        if (job?.device) return job.device;
        return this.pairState(jobId)?.peers[0];
      },
    });
    if (route.to === 'here') return handle(payload);
    if (route.to === 'lease') return this.atOwner(route.key, name, payload);
    const replies = await Promise.all(route.parts.map((part) => this.atOwner(part.key, name, part.payload) as Promise<QueueSummary>));
    return mergeQueueSummaries(replies, payload['dryRun'] === true);
  }

  /** Run a command at the holder of `key`: here when it is this daemon, else over NATS at its owner subject. */
  private async atOwner(key: string, name: string, payload: Record<string, unknown>): Promise<object> {
    if (this.cluster!.holds(key)) return this.handlers()[name]!(payload, key);
    const bus = this.bus;
    if (!bus) throw new OwnerUnavailableError(key, 0);
    const started = Date.now();
    const limit = this.cluster!.forwardTimeoutMs ?? 30_000;
    for (let attempt = 0; ; attempt++) {
      try {
        const { ok: _ok, ...reply } = await requestJson<Record<string, unknown>>(bus.nc, bus.subjects.owner(key, name), payload, Math.max(1_000, limit - (Date.now() - started)));
        return reply;
      } catch (err) {
        // Nobody subscribed, or the one who answered had just lost the lease: nothing was done, so ask again.
        const retry = err instanceof NoResponderError || (err instanceof RemoteError && err.code === 'NOT_OWNER');
        if (err instanceof RemoteError && !retry) throw new RelayedError(err.code, err.message, err.details);
        if (!retry || Date.now() - started >= limit) throw retry ? new OwnerUnavailableError(key, Date.now() - started, { cause: err }) : err;
        if (this.cluster!.holds(key)) return this.handlers()[name]!(payload, key);
        await sleep(Math.min(500, 25 * 2 ** attempt));
      }
    }
  }

  /** On a cluster: reload the inventory when the log moved (discovery runs on the coordinator). */
  private syncInventory(): void {
    if (!this.cluster) return;
    const at = this.store.lastGseq();
    if (at === this.inventorySeen) return;
    this.inventorySeen = at;
    const fresh = loadInventory(this.store);
    for (const serial of [...this.inventory.keys()]) if (!fresh.has(serial)) this.inventory.delete(serial);
    for (const [serial, d] of fresh) this.inventory.set(serial, d);
  }

  /** The lease a device's work is owned under on a cluster: its partition's (both HA peers share it). */
  leaseKeyOf(serial: string): string {
    this.syncInventory();
    const d = this.inventory.get(serial) ?? { serial };
    return partitionLeaseKey(partitionOf(d, this.cluster?.partitions ?? 1));
  }

  /** The lease an append to `stream` is made under on a cluster: a job's partition, the coordinator for a campaign; none for shared streams. */
  leaseKeyOfStream(stream: string): string | undefined {
    if (!this.cluster) return undefined;
    if (stream.startsWith('campaign:')) return COORDINATOR_LEASE;
    if (!stream.startsWith('job:')) return undefined;
    const id = stream.slice(4);
    const d = this.jobState(id)?.device ?? this.pairState(id)?.peers[0];
    return d ? partitionLeaseKey(partitionOf(d, this.cluster.partitions)) : undefined;
  }

  /**
   * A lease was taken (cluster mode; the projection has caught up with the log): a partition's unfinished
   * jobs resume from the log, the coordinator's campaigns too, and commands for it are answered here.
   */
  async gained(key: string): Promise<void> {
    if (!this.cluster || this.stopping) return;
    this.syncInventory();
    const p = parsePartitionLeaseKey(key);
    if (p !== undefined) {
      // What ended elsewhere since this daemon last ran it is read again from the log.
      for (const [id, st] of [...this.finished]) if (st.device && partitionOf(st.device, this.cluster.partitions) === p) this.finished.delete(id);
      this.restore((d) => partitionOf(d, this.cluster!.partitions) === p);
    } else if (key === COORDINATOR_LEASE) {
      this.campaigns = this.newCampaignRunner();
      this.campaigns.restore();
    }
    const bus = this.bus;
    if (bus && !this.ownerSubscriptions.has(key)) {
      this.ownerSubscriptions.set(
        key,
        serveJson(
          bus.nc,
          bus.subjects.ownerAll(key),
          (payload, msg) => {
            const name = bus.subjects.parseOwner(msg.subject)?.name ?? '';
            if (!this.cluster!.holds(key)) throw new NotOwnerError(key);
            const handle = this.handlers()[name];
            if (!handle) throw new ValidationError(`unknown command ${name}`);
            return handle(payload, key);
          },
          { onError: (err) => this.log.warn({ err, lease: key }, 'could not answer a forwarded command') },
        ),
      );
      await bus.nc.flush();
    }
  }

  /** The plan gives a lease to another daemon: stop its work (what it recorded stays durable), stop answering for it. */
  async releasing(key: string): Promise<void> {
    this.ownerSubscriptions.get(key)?.unsubscribe();
    this.ownerSubscriptions.delete(key);
    await this.dropWork(key);
  }

  /** A lease was lost (expired, taken): its work stops at once; the fence refuses whatever was about to be sent. */
  lost(key: string): void {
    this.ownerSubscriptions.get(key)?.unsubscribe();
    this.ownerSubscriptions.delete(key);
    void this.dropWork(key).catch((err: unknown) => this.log.warn({ err, lease: key }, 'could not stop the work of a lost lease'));
  }

  private async dropWork(key: string): Promise<void> {
    if (key === COORDINATOR_LEASE) {
      this.campaignGeneration++;
      await this.campaigns.stop();
      return;
    }
    const p = parsePartitionLeaseKey(key);
    if (p === undefined || !this.cluster) return;
    const n = this.cluster.partitions;
    const stops: Array<Promise<void>> = [];
    for (const [id, r] of [...this.pairRunners]) {
      const d = r.state.peers[0];
      if (!d || partitionOf(d, n) !== p) continue;
      this.scheduler.dequeue(id);
      this.pairRunners.delete(id);
      for (const peer of r.state.peers) if (this.activeBySerial.get(peer.serial) === id) this.activeBySerial.delete(peer.serial);
      stops.push(r.stop());
    }
    for (const [id, r] of [...this.runners]) {
      const d = r.state.device;
      if (!d || partitionOf(d, n) !== p) continue;
      this.scheduler.dequeue(id);
      this.runners.delete(id);
      if (this.activeBySerial.get(d.serial) === id) this.activeBySerial.delete(d.serial);
      stops.push(r.stop());
    }
    await Promise.all(stops);
  }

  private listen(nc: NatsConnection, subjects: Subjects): void {
    this.bus = { nc, subjects };
    const handlers = this.handlers();
    for (const name of Object.keys(handlers)) {
      if (name === CREATE_UNIT_JOB) continue;
      this.subscriptions.push(
        serveJson(nc, subjects.cmd(name as CommandName), (payload: Record<string, unknown>, _msg: Msg) => this.dispatch(name, payload), {
          queue: 'daemon',
          onError: (err) => this.log.warn({ err, subject: name }, 'could not answer a command'),
        }),
      );
    }
  }
}

export function jobDevice(d: InventoryDevice): JobDevice {
  return { serial: d.serial, hostname: d.hostname, mgmtIp: d.mgmtIp, model: d.model, swVersion: d.swVersion, haState: d.haState, haPeer: d.haPeer };
}
