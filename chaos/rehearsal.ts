import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { requestJson, type Subjects } from '../bus/index.ts';
import { LmdbEventStore, newRunId, type EventEnvelope } from '../eventstore/index.ts';
import { DEFAULT_CONFIG, simulatedFleetAccess, type DaemonConfig } from '../actors/config.ts';
import { privateDir, privateUmask } from '../actors/private-dir.ts';
import { ValidationError } from '../panos/errors.ts';
import {
  chaosPlan,
  checkDuplicates,
  checkInvariants,
  clusterChaosPlan,
  estimateUpgradeMs,
  jobCounts,
  listRuns,
  markRunFailure,
  observedFaults,
  verifyRun,
  type ChaosPlan,
  type DisruptionKind,
  type InvariantResult,
  type KillPhase,
  type ObservedFault,
} from '../forensics/index.ts';
import { startGateway, type GatewayHandle, type TlsIdentity } from '../gateway/index.ts';
import { loadScenarioFile, type Scenario } from '../scenarios/index.ts';
import type { Simulator } from '../simulator/index.ts';

export interface ChaosOptions {
  scenario: string;
  seed: number;
  /** The panos-upgrade launcher the daemons of the run are started from (`node <cliBin> daemon …`). */
  cliBin: string;
  /** Only the first K devices of the scenario (HA peers come along). */
  devices?: number;
  timeScale?: number;
  concurrency?: number;
  /** Where the logs go; kept. Without it a temp dir is used and removed unless `keep` or a failure. */
  workDir?: string;
  keep?: boolean;
  /** Give up waiting for the jobs after this long. */
  timeoutSeconds?: number;
  /** Upgrade the fleet with one campaign (waves, gate, window, budget) and check its invariants too. */
  campaign?: boolean;
  /** Daemon SIGKILLs in the run (default 1): some while it runs, some during its start-up and its resume. */
  kills?: number;
  /** Three daemons on a private 3-node NATS cluster: a machine lost, a NATS node stopped, a leader frozen (chaos/cluster-run.ts). */
  cluster?: boolean;
}

export interface DisruptionDone {
  what: DisruptionKind;
  kill?: KillPhase;
  plannedMs: number;
  /** When it started, after the jobs were submitted. */
  atMs: number;
  tookMs: number;
  detail: string;
}

export interface ChaosReport {
  ok: boolean;
  scenario: string;
  seed: number;
  devices: number;
  timeScale: number;
  durationMs: number;
  workDir: string | null;
  timedOut: boolean;
  plan: ChaosPlan;
  disruptions: DisruptionDone[];
  injected: ObservedFault[];
  /** Live faults as they were switched on: on which device (the planned one, or a candidate still being worked on), when. */
  live: Array<{ device: string; planned: string; fault: string; atMs: number; clearedMs: number | null }>;
  submitted: Array<{ device: string; jobId: string | null; reason?: string }>;
  /** The jobs by status, as the terminal-state invariant counts them (an HA pair's job and each peer's job). */
  jobs: Record<string, number>;
  /** What the invariants cannot say: e.g. that no job ran, so nothing was tested. */
  warnings: string[];
  daemonRuns: Array<{ runId: string; verified: boolean; mismatches: number; stopped: boolean }>;
  invariants: InvariantResult[];
}

/** The first `k` devices, with their HA peers, and the failures that name them. */
export function selectDevices(scenario: Scenario, k: number | undefined): Scenario {
  if (k === undefined || k >= scenario.devices.length) return scenario;
  const keep = new Set(scenario.devices.slice(0, k).map((d) => d.serial));
  for (const d of scenario.devices) if (keep.has(d.serial) && d.ha) keep.add(d.ha.peerSerial);
  return {
    ...scenario,
    devices: scenario.devices.filter((d) => keep.has(d.serial)),
    failures: scenario.failures.filter((f) => f.device === '*' || keep.has(f.device)),
  };
}

/** The scenario a chaos run uses: the file at the time scale, with the given seed and devices. */
export function chaosScenario(o: Omit<ChaosOptions, 'cliBin'>): Scenario {
  const loaded = loadScenarioFile(o.scenario, o.timeScale !== undefined ? { timeScale: o.timeScale } : {});
  return selectDevices({ ...loaded, seed: o.seed }, o.devices);
}

/** What a run with these options would do (disruptions, live faults), without running it: `chaos --plan`. */
export function chaosRunPlan(o: Omit<ChaosOptions, 'cliBin'>): ChaosPlan {
  const scenario = chaosScenario(o);
  const estimate = estimateUpgradeMs(scenario, o.concurrency ?? 10);
  return o.cluster ? clusterChaosPlan(scenario, estimate) : chaosPlan(scenario, estimate, { kills: o.kills ?? 1 });
}

/** Daemon settings for a simulator at a small time scale; outages (restarts) are real time, so retries wait real time. */
export function chaosConfig(scenario: Scenario, gateway: GatewayHandle, concurrency: number, caFile: string): DaemonConfig {
  const t = scenario.timing;
  const slow = Math.max(1, ...scenario.failures.filter((f) => f.operation === 'reboot' && f.mode === 'slow').map((f) => f.factor ?? 4));
  // Scaled durations, plus real seconds for the outages the run causes (a lost request costs a timeout).
  const rebootSeconds = ((t.rebootMs[1] * slow + t.autoCommitMs[1]) * 3) / 1000 + OUTAGE_MARGIN_SECONDS;
  return {
    ...DEFAULT_CONFIG,
    // As a real deployment: HTTPS, Panorama pinned by fingerprint, each firewall checked against its CA.
    ...simulatedFleetAccess({ port: gateway.port, fingerprint: gateway.fingerprint, apiKey: scenario.apiKey, caFile }),
    concurrency,
    rateLimit: 2000,
    upgrade: { ...DEFAULT_CONFIG.upgrade, paths: scenario.upgradePaths },
    retries: { maxAttempts: 5, backoffSeconds: 0.4 },
    timeouts: {
      apiSeconds: 2,
      jobSeconds: (Math.max(t.downloadMs[1], t.installMs[1]) * 20) / 1000 + OUTAGE_MARGIN_SECONDS,
      rebootSeconds,
      rebootSecondsByModel: {},
      rebootStartGraceSeconds: rebootSeconds / 2,
    },
    poll: { jobSeconds: 0.1, rebootSeconds: 0.1 },
  };
}

/** Real seconds a daemon wait allows on top of the scaled durations: restarts of NATS, the simulator and the daemon take real time. */
const OUTAGE_MARGIN_SECONDS = 5;
/** How long the gateway waits for the simulator: a request lost in a restart fails fast, and the client retries. */
export const GATEWAY_REQUEST_TIMEOUT_MS = 1_500;

export const TERMINAL = new Set(['complete', 'download_complete', 'failed', 'cancelled', 'skipped']);

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The least time one probe of `until` is given, even at its deadline. */
const PROBE_MIN_MS = 5_000;

/** Probe until it gives a value or the time is up (undefined); a probe that throws is "not there yet". */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // A probe that never settles (a request stuck on a NATS node that went away) ends the wait at the deadline.
      const v = await within(probe(), Math.max(PROBE_MIN_MS, deadline - Date.now()));
      if (v.settled && v.value !== undefined) return v.value;
    } catch {
      // not there yet
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

/** What `promise` gave if it settled within `ms` (rejecting as it does), or `{ settled: false }`; the timer is cleared either way. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise.then((value) => ({ settled: true as const, value })), new Promise<{ settled: false }>((r) => (timer = setTimeout(() => r({ settled: false }), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long one step of a run's cleanup may take before the run goes on without it. */
export const CLEANUP_STEP_MS = 30_000;

/**
 * One step of a run's cleanup (stop a daemon, close a connection, stop a server), awaited at most `ms`: a
 * step that fails is logged, and one that does not finish in time (a NATS connection flushing to a node
 * that was stopped, a server waiting on a socket) is logged by name and left behind, so that the run
 * still checks its logs and reports instead of hanging.
 */
export async function cleanUp(log: Logger, what: string, step: () => Promise<unknown>, ms = CLEANUP_STEP_MS): Promise<void> {
  try {
    const r = await within(step(), ms);
    if (!r.settled) log.warn({ step: what, waitedMs: ms }, 'a cleanup step did not finish in time: going on without it');
  } catch (err) {
    log.warn({ err, step: what }, 'a cleanup step failed');
  }
}

/** A request to the daemon(s) of the run. */
export type Ask = <T extends object>(name: Parameters<Subjects['cmd']>[0], payload?: object) => Promise<T>;

export function askDaemon(nc: NatsConnection, subjects: Subjects, timeoutMs: number): Ask {
  return <T extends object>(name: Parameters<Subjects['cmd']>[0], payload: object = {}): Promise<T> => requestJson<T>(nc, subjects.cmd(name), payload, timeoutMs);
}

/** `panos-upgrade daemon` as a child process, its output in `logFile` (`w` starts it afresh, `a` appends). */
export function spawnDaemon(cliBin: string, dataDir: string, natsUrl: string, logFile: string, flags: 'w' | 'a'): ChildProcess {
  const out = openSync(logFile, flags);
  const child = spawn(process.execPath, [cliBin, 'daemon', '--data-dir', dataDir, '--nats-url', natsUrl], {
    env: { ...process.env, NATS_URL: natsUrl, PANOS_LOG_LEVEL: process.env.PANOS_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return child;
}

/** A run as it begins: its scenario and plan, its private work dir with the simulator's log and event log, what it will report. */
export interface Rehearsal {
  o: ChaosOptions;
  began: number;
  scenario: Scenario;
  concurrency: number;
  plan: ChaosPlan;
  /** How long the run waits for its jobs. */
  timeoutMs: number;
  workDir: string;
  runId: string;
  simLog: Logger;
  simStore: LmdbEventStore;
  disruptions: DisruptionDone[];
  submitted: ChaosReport['submitted'];
}

/**
 * A given --work-dir must be new or empty: the logs of an earlier run in it would be read with this run's
 * (its jobs counted, its devices taken for upgraded ones) and its report overwritten.
 */
export function checkWorkDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new ValidationError(`--work-dir ${dir} is not a directory: give chaos a new or empty directory`, 'work-dir');
  const held = readdirSync(dir).sort();
  if (held.length === 0) return;
  const shown = held.slice(0, 5).join(', ') + (held.length > 5 ? `, … (${held.length} entries)` : '');
  const earlier = held.includes('report.json') || held.includes('sim') || held.includes('daemon') ? 'an earlier chaos run' : 'other files';
  throw new ValidationError(
    `--work-dir ${dir} is not empty: it holds ${earlier} (${shown}), whose logs would be checked with this run's. Give chaos a new or empty --work-dir, or remove that one first (rm -r ${dir})`,
    'work-dir',
  );
}

/**
 * The scenario, the plan `planFor` draws for it and the time bound (without `--timeout`: `minSeconds`, or twelve
 * times the estimated upgrade plus `extraSeconds` when that is longer), then the work dir.
 */
export function beginRehearsal(
  o: ChaosOptions,
  planFor: (scenario: Scenario, estimateMs: number) => ChaosPlan,
  bound: { tmpPrefix: string; minSeconds: number; extraSeconds: number },
): Rehearsal {
  const began = Date.now();
  if (o.workDir) checkWorkDir(resolve(o.workDir));
  const scenario = chaosScenario(o);
  const concurrency = o.concurrency ?? 10;
  const plan = planFor(scenario, estimateUpgradeMs(scenario, concurrency));
  const timeoutMs = (o.timeoutSeconds ?? Math.max(bound.minSeconds, (plan.estimateMs * 12) / 1000 + bound.extraSeconds)) * 1000;
  // Its logs and event logs hold what the daemon's do: private, whatever a given --work-dir was.
  privateUmask();
  const workDir = privateDir(o.workDir ? resolve(o.workDir) : mkdtempSync(join(tmpdir(), bound.tmpPrefix)));
  const simDir = join(workDir, 'sim');
  mkdirSync(simDir, { recursive: true, mode: 0o700 });
  const runId = newRunId();
  const simLog = pino({ level: process.env.PANOS_LOG_LEVEL ?? 'warn' }, pino.destination({ dest: join(workDir, 'simulator.log'), sync: true }));
  const simStore = LmdbEventStore.open({ path: join(simDir, 'events'), runId });
  return { o, began, scenario, concurrency, plan, timeoutMs, workDir, runId, simLog, simStore, disruptions: [], submitted: [] };
}

/** The simulated Panorama and firewalls over HTTPS, as a real deployment reaches them; with the identity the daemons pin. */
export async function startChaosGateway(a: { nc: NatsConnection; subjects: Subjects; run: Rehearsal; sim: Simulator }): Promise<GatewayHandle & { identity: TlsIdentity }> {
  const gateway = await startGateway({
    nc: a.nc,
    subjects: a.subjects,
    store: a.run.simStore,
    log: a.run.simLog.child({ component: 'gateway' }),
    description: a.sim.describe(),
    port: 0,
    protocol: 'https',
    tlsDir: join(a.run.workDir, 'tls'),
    direct: true,
    hangLimitMs: 3_000,
    requestTimeoutMs: GATEWAY_REQUEST_TIMEOUT_MS,
  });
  if (!hasIdentity(gateway)) {
    await gateway.close();
    throw new Error('the gateway has no TLS identity: chaos runs over HTTPS');
  }
  return gateway;
}

function hasIdentity(g: GatewayHandle): g is GatewayHandle & { identity: TlsIdentity } {
  return Boolean(g.fingerprint && g.identity);
}

/** One job a device (an HA pair's job counts for both peers); a refusal is recorded with its reason. */
export async function submitJobs(ask: Ask, scenario: Scenario, submitted: ChaosReport['submitted']): Promise<void> {
  const done = new Set<string>();
  for (const d of scenario.devices) {
    if (done.has(d.serial)) continue;
    try {
      const r = await ask<{ job: { job_id: string; devices?: string[] } }>('job.submit', { device: d.serial });
      for (const s of r.job.devices ?? [d.serial]) {
        done.add(s);
        submitted.push({ device: s, jobId: r.job.job_id });
      }
    } catch (err) {
      done.add(d.serial);
      submitted.push({ device: d.serial, jobId: null, reason: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** A probe for `until`: true once every one of the jobs is listed and in a terminal state. */
export function allJobsEnded(ask: Ask, ids: ReadonlySet<string>): () => Promise<true | undefined> {
  return async () => {
    const r = await ask<{ jobs: Array<{ job_id: string; upgrade_status: string }> }>('job.list', {});
    const open = r.jobs.filter((j) => ids.has(j.job_id) && !TERMINAL.has(j.upgrade_status));
    return open.length === 0 && r.jobs.filter((j) => ids.has(j.job_id)).length === ids.size ? true : undefined;
  };
}

/** What a run leaves for its report once everything it started has stopped. */
export interface RunOutcome {
  /** When the jobs had been submitted. */
  startedAt: number;
  timedOut: boolean;
  disruptionError: string | undefined;
  /** The data dir whose event log is the daemons' log. */
  daemonDataDir: string;
  /** The runner's own invariants, after the common ones. */
  moreInvariants(daemonEvents: EventEnvelope[]): InvariantResult[];
  live(simEvents: EventEnvelope[]): ChaosReport['live'];
}

/**
 * The invariants checked on both logs as they are on disk, the report written to the work dir (removed
 * when every invariant held and nothing asked to keep it), and the simulator's log closed.
 */
export async function checkRun(run: Rehearsal, r: RunOutcome): Promise<ChaosReport> {
  const { o, scenario, plan, submitted, simStore, workDir, runId } = run;
  const { startedAt } = r;
  const daemonStore = LmdbEventStore.open({ path: join(r.daemonDataDir, 'events') });
  let report: ChaosReport;
  try {
    const daemonEvents: EventEnvelope[] = [...daemonStore.readAll()];
    const simEvents: EventEnvelope[] = [...simStore.readAll()];
    const runs = listRuns(daemonStore).filter((run) => run.role === 'daemon');
    const verify = runs.map((run) => ({ runId: run.runId, report: verifyRun(daemonStore, run.runId) }));
    const check = checkDuplicates(daemonStore);
    const invariants = [...checkInvariants({ scenario, plan, startedAt, daemonEvents, simEvents, submitted, verify, check }), ...r.moreInvariants(daemonEvents)];
    markRunFailure(invariants, { timedOut: r.timedOut, timeoutMs: run.timeoutMs, disruptionError: r.disruptionError });
    const jobs = jobCounts(daemonEvents);
    const ok = invariants.every((i) => i.ok);
    report = {
      ok,
      scenario: scenario.file,
      seed: scenario.seed,
      devices: scenario.devices.length,
      timeScale: scenario.timing.timeScale,
      durationMs: Date.now() - run.began,
      workDir: o.workDir || o.keep || !ok ? workDir : null,
      timedOut: r.timedOut,
      plan,
      disruptions: run.disruptions,
      injected: observedFaults(simEvents, scenario, startedAt),
      live: r.live(simEvents),
      submitted,
      jobs,
      warnings: Object.keys(jobs).length === 0 ? ['no job ran: nothing was upgraded, so the invariants hold without having tested anything'] : [],
      daemonRuns: runs.map((run) => ({ runId: run.runId, verified: verify.find((v) => v.runId === run.runId)!.report.ok, mismatches: verify.find((v) => v.runId === run.runId)!.report.mismatches, stopped: run.stoppedAt !== null })),
      invariants,
    };
    await simStore.append('chaos', [{ type: 'chaos.completed', data: { ok, invariants: invariants.map((i) => ({ name: i.name, ok: i.ok, violations: i.violations.length })) } }]);
    await simStore.append(`run:${runId}`, [{ type: 'run.stopped', data: { role: 'chaos' } }]);
  } finally {
    await daemonStore.close();
    await simStore.close();
  }
  writeFileSync(join(workDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  if (report.workDir === null) rmSync(workDir, { recursive: true, force: true });
  return report;
}
