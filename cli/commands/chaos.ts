import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { privateDir, privateUmask } from '../../actors/private-dir.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import pino, { type Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, requestJson, startNatsServer, Subjects, type NatsServerHandle } from '../../bus/index.ts';
import { LmdbEventStore, type EventEnvelope } from '../../eventstore/index.ts';
import { DEFAULT_CONFIG, saveConfig, type DaemonConfig } from '../../actors/config.ts';
import { listRuns, verifyRun } from '../../forensics/replay.ts';
import { checkDuplicates } from '../../forensics/duplicate-check.ts';
import {
  chaosPlan,
  checkInvariants,
  estimateUpgradeMs,
  jobEnds,
  markRunFailure,
  observedFaults,
  type ChaosPlan,
  type DisruptionKind,
  type InvariantResult,
  type KillPhase,
  type ObservedFault,
} from '../../forensics/chaos-check.ts';
import { startGateway, writeCaFile, type GatewayHandle } from '../../gateway/index.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/types.ts';
import { Simulator, handleControl } from '../../simulator/index.ts';
import { CLI_BIN, shippedScenario } from '../paths.ts';
import { awaitChaosCampaign, startChaosCampaign } from '../chaos-campaign.ts';
import { checkCampaignInvariants } from '../../forensics/campaign-check.ts';
import { newRunId } from '../runtime.ts';
import { runClusterChaos } from '../chaos-cluster.ts';
import { clusterChaosPlan } from '../../forensics/cluster-check.ts';

export interface ChaosOptions {
  scenario: string;
  seed: number;
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
  /** Three daemons on a private 3-node NATS cluster: a machine lost, a NATS node stopped, a leader frozen (cli/chaos-cluster.ts). */
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
  jobs: Record<string, number>;
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
export function chaosScenario(o: ChaosOptions): Scenario {
  const loaded = loadScenarioFile(o.scenario, o.timeScale !== undefined ? { timeScale: o.timeScale } : {});
  return selectDevices({ ...loaded, seed: o.seed }, o.devices);
}

/** Daemon settings for a simulator at a small time scale; outages (restarts) are real time, so retries wait real time. */
export function chaosConfig(scenario: Scenario, gateway: GatewayHandle, concurrency: number, caFile: string): DaemonConfig {
  const t = scenario.timing;
  const slow = Math.max(1, ...scenario.failures.filter((f) => f.operation === 'reboot' && f.mode === 'slow').map((f) => f.factor ?? 4));
  // Scaled durations, plus real seconds for the outages the run causes (a lost request costs a timeout).
  const rebootSeconds = ((t.rebootMs[1] * slow + t.autoCommitMs[1]) * 3) / 1000 + OUTAGE_MARGIN_SECONDS;
  return {
    ...DEFAULT_CONFIG,
    panorama: { host: `127.0.0.1:${gateway.port}`, apiKey: scenario.apiKey, username: '', password: '' },
    // As a real deployment: HTTPS, Panorama pinned by fingerprint, each firewall checked against its CA.
    protocol: 'https',
    tls: { caFile: '', fingerprint: gateway.fingerprint ?? '', insecure: false },
    firewall: { ...DEFAULT_CONFIG.firewall, tls: { caFile, trustOnFirstUse: false, insecure: false } },
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

const BIN = CLI_BIN;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not there yet
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

/** The daemon as a child process (`panos-upgrade daemon`), its output in the work dir. */
class DaemonChild {
  private child: ChildProcess | undefined;
  private starts = 0;

  constructor(
    private readonly dataDir: string,
    private readonly natsUrl: string,
    private readonly workDir: string,
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  /** Spawn a daemon; resolves its exit as `exited <signal or code>`. */
  private spawn(): Promise<string> {
    this.starts++;
    const out = openSync(join(this.workDir, `daemon-${this.starts}.log`), 'w');
    const child = spawn(process.execPath, [BIN, 'daemon', '--data-dir', this.dataDir, '--nats-url', this.natsUrl], {
      env: { ...process.env, NATS_URL: this.natsUrl, PANOS_LOG_LEVEL: process.env.PANOS_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.child = child;
    return new Promise<string>((r) => child.once('exit', (code, signal) => r(`exited ${signal ?? code}`)));
  }

  /** Start a daemon and SIGKILL it `afterMs` after it was spawned: while it loads, opens its log and resumes its jobs. */
  async killDuringStartUp(afterMs: number): Promise<string> {
    const exited = this.spawn();
    const early = await Promise.race([exited, sleep(afterMs).then(() => undefined)]);
    if (early) return `daemon ${this.starts} ${early} by itself within ${afterMs} ms of its start; see ${this.workDir}/daemon-${this.starts}.log`;
    await this.kill();
    return `daemon ${this.starts} killed with SIGKILL ${afterMs} ms after it was started`;
  }

  async start(): Promise<string> {
    const exited = this.spawn();
    const up = until(async () => {
      const s = await requestJson<{ runId?: string }>(this.nc, this.subjects.cmd('daemon.status'), {}, 1000);
      return s.runId;
    }, 60_000);
    const runId = await Promise.race([up, exited.then((why) => Promise.reject(new Error(`the daemon ${why} before it was up; see ${this.workDir}/daemon-${this.starts}.log`)))]);
    if (!runId) throw new Error(`the daemon did not answer within 60 s; see ${this.workDir}/daemon-${this.starts}.log`);
    return runId;
  }

  /** SIGKILL: no goodbye, no run.stopped; what is on disk is all the next daemon gets. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }
}

const TERMINAL = new Set(['complete', 'download_complete', 'failed', 'cancelled', 'skipped']);

/**
 * A fleet upgrade under faults: private NATS, simulator and gateway in this process, the daemon as a
 * child process; while it runs, the daemon is SIGKILLed and restarted, the simulator stopped and
 * started on the same log, NATS restarted on the same port, and live faults switched on and off, each
 * at a moment drawn from the seed. Then the invariants are checked on the logs. Bounded in time.
 */
export async function runChaos(o: ChaosOptions, log: Logger = pino({ level: 'silent' })): Promise<ChaosReport> {
  const began = Date.now();
  const scenario = chaosScenario(o);
  const concurrency = o.concurrency ?? 10;
  const plan = chaosPlan(scenario, estimateUpgradeMs(scenario, concurrency), { kills: o.kills ?? 1 });
  // Generous: a safety bound, not a measure; HTTPS handshakes and kills cost real time on a busy machine.
  const timeoutMs = (o.timeoutSeconds ?? Math.max(120, (plan.estimateMs * 12) / 1000 + 60)) * 1000;
  // Its logs and event logs hold what the daemon's do: private, whatever a given --work-dir was.
  privateUmask();
  const workDir = privateDir(o.workDir ? resolve(o.workDir) : mkdtempSync(join(tmpdir(), 'panos-chaos-')));
  const simDir = join(workDir, 'sim');
  const dataDir = join(workDir, 'daemon');
  mkdirSync(simDir, { recursive: true, mode: 0o700 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const runId = newRunId();
  const simLog = pino({ level: process.env.PANOS_LOG_LEVEL ?? 'warn' }, pino.destination({ dest: join(workDir, 'simulator.log'), sync: true }));

  let nats: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;
  let sim: Simulator | undefined;
  let gateway: GatewayHandle | undefined;
  let daemon: DaemonChild | undefined;
  const simStore = LmdbEventStore.open({ path: join(simDir, 'events'), runId });
  const disruptions: DisruptionDone[] = [];
  const submitted: ChaosReport['submitted'] = [];
  let startedAt = Date.now();
  let timedOut = false;
  let disruptionError: string | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    await simStore.append(`run:${runId}`, [{ type: 'run.started', data: { role: 'chaos', pid: process.pid, scenario: scenario.name, seed: scenario.seed, devices: scenario.devices.length } }]);
    await simStore.append('chaos', [{ type: 'chaos.planned', data: { plan } }]);
    nats = await startNatsServer({ storeDir: join(workDir, 'nats') });
    nc = await connectNats(nats.url, 'panos-upgrade chaos');
    const subjects = new Subjects('panos');
    const startSim = async (): Promise<Simulator> => Simulator.start({ scenario, store: simStore, log: simLog.child({ component: 'simulator' }), nc: nc!, subjects });
    sim = await startSim();
    gateway = await startGateway({
      nc,
      subjects,
      store: simStore,
      log: simLog.child({ component: 'gateway' }),
      description: sim.describe(),
      port: 0,
      protocol: 'https',
      tlsDir: join(workDir, 'tls'),
      direct: true,
      hangLimitMs: 3_000,
      requestTimeoutMs: GATEWAY_REQUEST_TIMEOUT_MS,
    });
    if (!gateway.fingerprint || !gateway.identity) throw new Error('the gateway has no TLS identity: chaos runs over HTTPS');
    saveConfig(dataDir, chaosConfig(scenario, gateway, concurrency, writeCaFile(gateway.identity, dataDir)));
    daemon = new DaemonChild(dataDir, nats.url, workDir, nc, subjects);
    await daemon.start();
    const ask = <T extends object>(name: Parameters<Subjects['cmd']>[0], payload: object = {}): Promise<T> => requestJson<T>(nc!, subjects.cmd(name), payload, 10_000);

    const discovered = await until(async () => (await ask<{ discovered: number }>('device.discover')).discovered, 30_000, 200);
    if (discovered === undefined) throw new Error('discovery did not answer within 30 s');
    const done = new Set<string>();
    const campaignId = o.campaign ? await startChaosCampaign(ask, scenario, concurrency) : undefined;
    for (const d of campaignId ? [] : scenario.devices) {
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
    startedAt = Date.now();
    log.info({ jobs: submitted.filter((s) => s.jobId).length, estimateMs: plan.estimateMs }, 'jobs submitted');

    // Live faults on and off, at their moments, on a device still being worked on: the planned one if its
    // job is running then, else the first of its candidates whose job is (a fault on a finished device shows nothing).
    const faulted = new Set<string>();
    const inProgress = async (): Promise<Set<string>> => {
      const r = await ask<{ jobs: Array<{ device_serial: string; upgrade_status: string }> }>('job.list', { active: true });
      return new Set(r.jobs.filter((j) => j.upgrade_status !== 'pending' && j.upgrade_status !== 'paused').flatMap((j) => j.device_serial.split('+')));
    };
    for (const i of plan.injections) {
      let device: string | undefined;
      timers.push(
        setTimeout(() => {
          void (async () => {
            const busy = await inProgress().catch(() => new Set<string>());
            device = i.candidates.find((c) => busy.has(c) && !faulted.has(c));
            if (!device) {
              await simStore.append('chaos', [{ type: 'chaos.fault.skipped', data: { fault: i.fault, reason: 'no candidate device had a running job', atMs: Date.now() - startedAt } }]);
              return;
            }
            faulted.add(device);
            await handleControl(sim!, device, 'faults', { faults: i.faults });
            await simStore.append('chaos', [{ type: 'chaos.fault.injected', data: { device, planned: i.device, fault: i.fault, faults: i.faults, atMs: Date.now() - startedAt } }]);
          })().catch((err: unknown) => log.warn({ err, device: i.device }, 'could not inject a fault'));
        }, i.atMs),
        setTimeout(() => {
          if (!device) return;
          const on = device;
          void handleControl(sim!, on, 'faults', { faults: {}, replace: true })
            .then(() => simStore.append('chaos', [{ type: 'chaos.fault.cleared', data: { device: on, fault: i.fault, atMs: Date.now() - startedAt } }]))
            .then(() => faulted.delete(on))
            .catch((err: unknown) => log.warn({ err, device: on }, 'could not clear a fault'));
        }, i.untilMs),
      );
    }
    // Disruptions one after the other, each at its moment (or as soon as the previous one is over).
    const disrupting = (async () => {
      for (const [index, d] of plan.disruptions.entries()) {
        const wait = startedAt + d.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        const t0 = Date.now();
        let detail = '';
        if (d.what === 'daemon-kill') {
          // A start-up or resume kill that follows hits the daemon started after this one: start it there.
          const next = plan.disruptions[index + 1];
          const followed = next?.what === 'daemon-kill' && (next.kill === 'start-up' || next.kill === 'resume');
          if (d.kill === 'start-up') {
            detail = await daemon!.killDuringStartUp(d.afterMs ?? 0);
          } else if (d.kill === 'resume') {
            const run = await daemon!.start();
            await sleep(d.afterMs ?? 0);
            await daemon!.kill();
            detail = `run ${run} killed with SIGKILL ${d.afterMs ?? 0} ms after it answered, while it resumed its jobs`;
          } else {
            await daemon!.kill();
            detail = 'killed with SIGKILL';
          }
          if (!followed) detail += `; restarted as run ${await daemon!.start()}`;
        } else if (d.what === 'simulator-restart') {
          await sim!.stop();
          sim = await startSim();
          detail = `stopped and started on the same log: ${sim.restored} device(s) resumed from their snapshots`;
        } else {
          await nats!.restart();
          detail = `restarted on port ${nats!.port}`;
        }
        disruptions.push({ what: d.what, ...(d.kill ? { kill: d.kill } : {}), plannedMs: d.atMs, atMs: t0 - startedAt, tookMs: Date.now() - t0, detail });
        await simStore.append('chaos', [{ type: 'chaos.disruption.completed', data: { ...disruptions.at(-1)! } }]);
        log.info({ what: d.what, tookMs: Date.now() - t0 }, 'disruption done');
      }
    })().catch((err: unknown) => {
      // A disruption that cannot be undone (the daemon does not come back) leaves the jobs unfinished: the report says so.
      disruptionError = err instanceof Error ? err.message : String(err);
      log.error({ err }, 'a disruption failed');
    });

    if (campaignId) timedOut = !(await awaitChaosCampaign(ask, campaignId, timeoutMs, submitted));
    const ids = new Set(submitted.filter((s) => s.jobId).map((s) => s.jobId!));
    const finished = await until(async () => {
      const r = await ask<{ jobs: Array<{ job_id: string; upgrade_status: string }> }>('job.list', {});
      const open = r.jobs.filter((j) => ids.has(j.job_id) && !TERMINAL.has(j.upgrade_status));
      return open.length === 0 && r.jobs.filter((j) => ids.has(j.job_id)).length === ids.size ? true : undefined;
    }, timeoutMs, 250);
    timedOut = finished === undefined;
    // Every disruption happens, even after the jobs ended, so that each run exercises them all.
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([disrupting, new Promise((r) => (guard = setTimeout(r, Math.max(0, startedAt + timeoutMs - Date.now()) + 30_000)))]);
    clearTimeout(guard);
    // A job that ended after a late disruption is checked as it is now.
    if (!timedOut) {
      await until(async () => {
        const r = await ask<{ jobs: Array<{ job_id: string; upgrade_status: string }> }>('job.list', {});
        return r.jobs.every((j) => !ids.has(j.job_id) || TERMINAL.has(j.upgrade_status)) ? true : undefined;
      }, 30_000, 250);
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    await daemon?.stop().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    await sim?.stop().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await nats?.stop().catch(() => undefined);
  }

  // The checks read both logs as they are on disk.
  const daemonStore = LmdbEventStore.open({ path: join(dataDir, 'events') });
  let report: ChaosReport;
  try {
    const daemonEvents: EventEnvelope[] = [...daemonStore.readAll()];
    const simEvents: EventEnvelope[] = [...simStore.readAll()];
    const runs = listRuns(daemonStore).filter((r) => r.role === 'daemon');
    const verify = runs.map((r) => ({ runId: r.runId, report: verifyRun(daemonStore, r.runId) }));
    const check = checkDuplicates(daemonStore);
    const invariants = [...checkInvariants({ scenario, plan, startedAt, daemonEvents, simEvents, submitted, verify, check }), ...(o.campaign ? checkCampaignInvariants(daemonEvents) : [])];
    markRunFailure(invariants, { timedOut, timeoutMs, disruptionError });
    const jobs = jobEnds(daemonEvents);
    const ok = invariants.every((i) => i.ok);
    report = {
      ok,
      scenario: scenario.file,
      seed: scenario.seed,
      devices: scenario.devices.length,
      timeScale: scenario.timing.timeScale,
      durationMs: Date.now() - began,
      workDir: o.workDir || o.keep || !ok ? workDir : null,
      timedOut,
      plan,
      disruptions,
      injected: observedFaults(simEvents, scenario, startedAt),
      live: liveFaults(simEvents),
      submitted,
      jobs,
      daemonRuns: runs.map((r) => ({ runId: r.runId, verified: verify.find((v) => v.runId === r.runId)!.report.ok, mismatches: verify.find((v) => v.runId === r.runId)!.report.mismatches, stopped: r.stoppedAt !== null })),
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

/** The chaos stream's record of the live faults switched on and off. */
function liveFaults(events: readonly EventEnvelope[]): ChaosReport['live'] {
  const out: ChaosReport['live'] = [];
  for (const e of events) {
    if (e.stream !== 'chaos') continue;
    const d = e.data as { device?: string; planned?: string; fault?: string; atMs?: number };
    if (e.type === 'chaos.fault.injected' && d.device) out.push({ device: d.device, planned: d.planned ?? d.device, fault: d.fault ?? '?', atMs: d.atMs ?? 0, clearedMs: null });
    if (e.type === 'chaos.fault.cleared') {
      const open = out.find((f) => f.device === d.device && f.clearedMs === null);
      if (open) open.clearedMs = d.atMs ?? null;
    }
  }
  return out;
}

function ms(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
}

export function formatChaosReport(r: ChaosReport): string {
  const out: string[] = [];
  out.push(`Chaos run of ${r.scenario} with seed ${r.seed}: ${r.devices} device(s), time scale ${r.timeScale}, ${ms(r.durationMs)}${r.timedOut ? ' (gave up waiting)' : ''}`);
  out.push('', 'Disruptions:');
  for (const d of r.disruptions) out.push(`  +${ms(d.atMs).padEnd(9)} ${`${d.what}${d.kill && d.kill !== 'running' ? ` (${d.kill})` : ''}`.padEnd(22)} took ${ms(d.tookMs)}: ${d.detail}`);
  if (r.disruptions.length < r.plan.disruptions.length) out.push(`  (${r.plan.disruptions.length - r.disruptions.length} planned disruption(s) did not happen)`);
  out.push('', 'Faults declared in the scenario:');
  for (const f of r.plan.declared) out.push(`  ${f.device.padEnd(14)} ${f.fault}`);
  if (r.plan.injections.length > 0) {
    out.push('', 'Faults switched on live (panos.sim.ctl.<serial>.faults), on devices still being worked on:');
    for (const i of r.live) {
      const moved = i.device !== i.planned ? ` (planned for ${i.planned}, whose job was not running)` : '';
      out.push(`  ${i.device.padEnd(14)} ${i.fault}, from +${ms(i.atMs)}${i.clearedMs !== null ? ` to +${ms(i.clearedMs)}` : ''}${moved}`);
    }
    if (r.live.length < r.plan.injections.length) out.push(`  (${r.plan.injections.length - r.live.length} planned fault(s) found no device with a running job)`);
  }
  out.push('', 'Faults that showed (device, fault, when):');
  if (r.injected.length === 0) out.push('  none');
  for (const f of r.injected) out.push(`  ${f.device.padEnd(14)} ${f.fault}${f.count > 1 ? ` ×${f.count}` : ''} at +${ms(f.firstMs)}${f.count > 1 ? `…+${ms(f.lastMs)}` : ''}`);
  const skipped = r.submitted.filter((s) => !s.jobId);
  out.push('', `Jobs: ${Object.entries(r.jobs).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}${skipped.length ? `; not submitted: ${skipped.map((s) => `${s.device} (${s.reason})`).join('; ')}` : ''}`);
  out.push(`Daemon runs: ${r.daemonRuns.map((d) => `${d.runId}${d.stopped ? '' : ' (killed)'} ${d.verified ? 'verified' : `${d.mismatches} mismatch(es)`}`).join(', ')}`);
  out.push('', 'Invariants:');
  for (const i of r.invariants) {
    out.push(`  ${i.ok ? 'PASS' : 'FAIL'}  ${i.name}: ${i.detail}`);
    for (const v of i.violations.slice(0, 20)) out.push(`        ✗ ${v}`);
    if (i.violations.length > 20) out.push(`        … and ${i.violations.length - 20} more`);
    for (const n of i.notes ?? []) out.push(`        note: ${n}`);
  }
  out.push('', r.ok ? 'All invariants hold.' : 'Some invariants failed.');
  if (r.workDir) out.push(`Logs and report: ${r.workDir}`);
  return out.join('\n');
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${value}"`);
  return n;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number greater than 0, got "${value}"`);
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}"`);
  return n;
}

export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description(
      'upgrade a simulated fleet under injected faults while the daemon is killed, the simulator and NATS restarted; then check the invariants (exit 1 if any fails)',
    )
    .option('-s, --scenario <file>', 'scenario with failures', shippedScenario('chaos'))
    .requiredOption('--seed <n>', 'seed for every fault and every disruption moment (one seed, the same faults)', parseSeed)
    .option('--devices <k>', 'only the first K devices (HA peers come along)', parseCount)
    .option('--time-scale <factor>', 'multiply every simulated duration (default 0.05)', parsePositive)
    .option('--concurrency <n>', 'devices (or HA pairs) upgraded at once', parseCount)
    .option('--kills <n>', 'daemon SIGKILLs in the run (default 1); from the second on, some hit the restarted daemon during its start-up or while it resumes', parseCount)
    .option('--timeout <seconds>', 'stop waiting for the jobs after this long', parsePositive)
    .option('--work-dir <dir>', 'keep the logs (event logs, daemon output, report.json) here')
    .option('--keep', 'keep the temporary work dir even when every invariant holds')
    .option('--cluster', 'three daemons on a private 3-node NATS cluster: the busiest daemon’s machine is lost (kill -9, data dir deleted), a NATS node stopped, a daemon frozen past its lease; also checks every job fact was made under its lease and the frozen daemon sent nothing after it woke')
    .option('--campaign', 'upgrade the fleet with one campaign (canary, 25 %, rest; soak; a window; a budget) and check its invariants too')
    .option('--plan', 'only print the plan this seed gives (disruptions, live faults) and exit')
    .option('--json', 'print the report as JSON')
    .action(
      async (opts: {
        scenario: string;
        seed: number;
        campaign?: boolean;
        cluster?: boolean;
        devices?: number;
        timeScale?: number;
        concurrency?: number;
        kills?: number;
        timeout?: number;
        workDir?: string;
        keep?: boolean;
        plan?: boolean;
        json?: boolean;
      }) => {
        const options: ChaosOptions = {
          scenario: opts.scenario,
          seed: opts.seed,
          timeScale: opts.timeScale ?? 0.05,
          ...(opts.devices !== undefined ? { devices: opts.devices } : {}),
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
          ...(opts.kills !== undefined ? { kills: opts.kills } : {}),
          ...(opts.timeout !== undefined ? { timeoutSeconds: opts.timeout } : {}),
          ...(opts.workDir ? { workDir: opts.workDir } : {}),
          ...(opts.keep ? { keep: true } : {}),
          ...(opts.campaign ? { campaign: true } : {}),
          ...(opts.cluster ? { cluster: true } : {}),
        };
        if (opts.cluster && (opts.campaign || opts.kills !== undefined)) throw new InvalidArgumentError('--cluster has its own disruptions: it cannot be combined with --campaign or --kills');
        if (opts.plan) {
          const scenario = chaosScenario(options);
          const estimate = estimateUpgradeMs(scenario, options.concurrency ?? 10);
          const plan = options.cluster ? clusterChaosPlan(scenario, estimate) : chaosPlan(scenario, estimate, { kills: options.kills ?? 1 });
          process.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlan(plan)}\n`);
          return;
        }
        const log = pino({ level: process.env.PANOS_LOG_LEVEL ?? 'warn' }, pino.destination(2));
        const report = options.cluster ? await runClusterChaos(options, log) : await runChaos(options, log);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatChaosReport(report)}\n`);
        if (!report.ok) process.exitCode = 1;
      },
    );
}

export function formatPlan(p: ChaosPlan): string {
  const lines = [`Seed ${p.seed}, estimated upgrade ${ms(p.estimateMs)}:`];
  for (const d of p.disruptions) lines.push(`  +${ms(d.atMs).padEnd(9)} ${d.what}${d.kill && d.kill !== 'running' ? ` during ${d.kill}, ${d.afterMs ?? 0} ms after the restart ${d.kill === 'start-up' ? 'began' : 'answered'}` : ''}`);
  for (const i of p.injections) lines.push(`  +${ms(i.atMs).padEnd(9)} ${i.device}: ${i.fault} until +${ms(i.untilMs)}`);
  for (const f of p.declared) lines.push(`  declared   ${f.device}: ${f.fault}`);
  return lines.join('\n');
}
