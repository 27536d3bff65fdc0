import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, jetStreamLogTransport, requestJson, startNatsCluster, Subjects, type NatsClusterHandle } from '../bus/index.ts';
import { LmdbEventStore, ReplicatedLog, type EventEnvelope } from '../eventstore/index.ts';
import { saveConfig, type DaemonConfig } from '../actors/config.ts';
import { privateDir, privateUmask } from '../actors/private-dir.ts';
import { LeaseManager, leaseBucketName, partitionLeaseKey } from '../cluster/index.ts';
import { listRuns, verifyRun } from '../forensics/replay.ts';
import { checkDuplicates } from '../forensics/duplicate-check.ts';
import { checkInvariants, estimateUpgradeMs, jobEnds, markRunFailure, observedFaults } from '../forensics/chaos-check.ts';
import { checkClusterInvariants, clusterChaosPlan } from '../forensics/cluster-check.ts';
import { startGateway, writeCaFile, type GatewayHandle } from '../gateway/index.ts';
import { Simulator } from '../simulator/index.ts';
import { CLI_BIN } from './paths.ts';
import { newRunId } from './runtime.ts';
import { chaosConfig, chaosScenario, GATEWAY_REQUEST_TIMEOUT_MS, type ChaosOptions, type ChaosReport, type DisruptionDone } from './commands/chaos.ts';

/** Cluster settings of the run: short leases so that takeovers fit in a run of minutes. */
const LEASE_SECONDS = 3;
const HEARTBEAT_SECONDS = 1;
const PARTITIONS = 8;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One daemon of the run as a child process, on a data dir of its own (its machine). */
class NodeChild {
  child: ChildProcess | undefined;
  exited: Promise<string> = Promise.resolve('not started');
  constructor(
    readonly name: string,
    readonly dataDir: string,
    private readonly natsUrl: string,
    private readonly workDir: string,
  ) {}

  start(): void {
    const out = openSync(join(this.workDir, `daemon-${this.name}.log`), 'a');
    const child = spawn(process.execPath, [CLI_BIN, 'daemon', '--data-dir', this.dataDir, '--nats-url', this.natsUrl], {
      env: { ...process.env, NATS_URL: this.natsUrl, PANOS_LOG_LEVEL: process.env.PANOS_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r(`exited ${signal ?? code}`)));
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGCONT');
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGCONT');
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
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

const TERMINAL = new Set(['complete', 'download_complete', 'failed', 'cancelled', 'skipped']);

/**
 * `chaos --cluster`: the simulated fleet upgraded by three daemons (child processes, each with its own
 * data dir) on a private 3-node NATS cluster, while the machine of the daemon holding most partitions is
 * lost (kill -9 and its data dir deleted; a new daemon joins later), a NATS node is stopped and started
 * again, and a daemon is frozen past its lease (SIGSTOP) and woken (SIGCONT). Then the single-daemon
 * invariants are checked on the replicated log, with no duplicate mutating call, every job fact under its
 * lease, and nothing sent by the frozen daemon after it woke.
 */
export async function runClusterChaos(o: ChaosOptions, log: Logger = pino({ level: 'silent' })): Promise<ChaosReport> {
  const began = Date.now();
  const scenario = chaosScenario(o);
  const concurrency = o.concurrency ?? 10;
  const plan = clusterChaosPlan(scenario, estimateUpgradeMs(scenario, concurrency));
  const timeoutMs = (o.timeoutSeconds ?? Math.max(180, (plan.estimateMs * 12) / 1000 + 90)) * 1000;
  privateUmask();
  const workDir = privateDir(o.workDir ? resolve(o.workDir) : mkdtempSync(join(tmpdir(), 'panos-chaos-cluster-')));
  const simDir = join(workDir, 'sim');
  mkdirSync(simDir, { recursive: true, mode: 0o700 });
  const runId = newRunId();
  const simLog = pino({ level: process.env.PANOS_LOG_LEVEL ?? 'warn' }, pino.destination({ dest: join(workDir, 'simulator.log'), sync: true }));
  const simStore = LmdbEventStore.open({ path: join(simDir, 'events'), runId });
  let cluster: NatsClusterHandle | undefined;
  let nc: NatsConnection | undefined;
  let sim: Simulator | undefined;
  let gateway: GatewayHandle | undefined;
  let leases: LeaseManager | undefined;
  const nodes: NodeChild[] = [];
  const disruptions: DisruptionDone[] = [];
  const submitted: ChaosReport['submitted'] = [];
  let startedAt = Date.now();
  let timedOut = false;
  let disruptionError: string | undefined;
  let paused: { runId: string; resumedAt: number } | undefined;
  let lastDataDir = '';
  let projected = '';
  try {
    await simStore.append(`run:${runId}`, [{ type: 'run.started', data: { role: 'chaos', cluster: true, pid: process.pid, scenario: scenario.name, seed: scenario.seed, devices: scenario.devices.length } }]);
    await simStore.append('chaos', [{ type: 'chaos.planned', data: { plan } }]);
    cluster = await startNatsCluster({ dir: join(workDir, 'nats'), startTimeoutMs: 60_000 });
    nc = await connectNats(cluster.url, 'panos-upgrade chaos');
    const subjects = new Subjects('panos');
    sim = await Simulator.start({ scenario, store: simStore, log: simLog.child({ component: 'simulator' }), nc, subjects });
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
    const identity = gateway.identity;
    const g = gateway;
    const newNode = (name: string): NodeChild => {
      const dataDir = join(workDir, `daemon-${name}`);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const base = chaosConfig(scenario, g, concurrency, writeCaFile(identity, dataDir));
      const config: DaemonConfig = { ...base, cluster: { ...base.cluster, enabled: true, nodeId: name, replicas: 3, partitions: PARTITIONS, leaseSeconds: LEASE_SECONDS, heartbeatSeconds: HEARTBEAT_SECONDS } };
      saveConfig(dataDir, config);
      const n = new NodeChild(name, dataDir, cluster!.url, workDir);
      nodes.push(n);
      n.start();
      return n;
    };
    const ask = <T extends object>(name: Parameters<Subjects['cmd']>[0], payload: object = {}): Promise<T> => requestJson<T>(nc!, subjects.cmd(name), payload, 15_000);
    const members = async (): Promise<number> => ((await ask<{ cluster?: { members?: unknown[] } }>('daemon.status')).cluster?.members ?? []).length;
    for (const name of ['a', 'b', 'c']) newNode(name);
    // A daemon that could not reach JetStream while the cluster settled is started again (a few times).
    let restarts = 0;
    const up = await until(async () => {
      for (const n of nodes) {
        if (!n.running && restarts < 6) {
          restarts++;
          n.start();
        }
      }
      return (await members()) >= 3 ? true : undefined;
    }, 180_000, 500);
    if (up === undefined) throw new Error(`the three daemons did not all come up within 180 s; see ${workDir}/daemon-*.log`);
    leases = await LeaseManager.open({ nc, bucket: leaseBucketName(subjects.prefix), ttlMs: LEASE_SECONDS * 1000, replicas: 3, holder: 'chaos-reader' });
    const reader = leases;
    /** The running daemon holding most partitions now. */
    const busiest = async (): Promise<NodeChild | undefined> => {
      const count = new Map<string, number>();
      for (let p = 0; p < PARTITIONS; p++) {
        const h = await reader.holderOf(partitionLeaseKey(p));
        if (h) count.set(h.holder, (count.get(h.holder) ?? 0) + 1);
      }
      return nodes.filter((n) => n.running).sort((x, y) => (count.get(y.name) ?? 0) - (count.get(x.name) ?? 0))[0];
    };

    const discovered = await until(async () => (await ask<{ discovered: number }>('device.discover')).discovered, 60_000, 500);
    if (discovered === undefined) throw new Error('discovery did not answer within 60 s');
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
    startedAt = Date.now();
    log.info({ jobs: submitted.filter((s) => s.jobId).length, estimateMs: plan.estimateMs }, 'jobs submitted');

    const disrupting = (async () => {
      for (const d of plan.disruptions) {
        const wait = startedAt + d.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        const t0 = Date.now();
        let detail = '';
        if (d.what === 'machine-lost') {
          const victim = (await busiest())!;
          await victim.kill();
          rmSync(victim.dataDir, { recursive: true, force: true });
          detail = `daemon ${victim.name} killed with SIGKILL and its data dir deleted; `;
          // The others take its partitions over when its leases expire; then a new machine joins.
          await sleep((LEASE_SECONDS + 2 * HEARTBEAT_SECONDS) * 1000);
          const fresh = newNode('d');
          lastDataDir = fresh.dataDir;
          detail += 'daemon d (a new machine, empty data dir) started';
        } else if (d.what === 'nats-node-stop') {
          const i = d.node ?? 0;
          await cluster!.stopNode(i);
          await sleep(Math.max(3_000, 2 * LEASE_SECONDS * 1000));
          await cluster!.startNode(i);
          await cluster!.waitForJetStream(60_000);
          detail = `NATS node ${i + 1} stopped for ${Math.round((Date.now() - t0) / 1000)} s and started again`;
        } else {
          const victim = (await busiest())!;
          const status = await until(async () => {
            const s = await requestJson<{ runId: string; cluster?: { node: string } }>(nc!, subjects.cmd('daemon.status'), {}, 2_000);
            return s.cluster?.node === victim.name ? s.runId : undefined;
          }, 20_000, 50);
          victim.child!.kill('SIGSTOP');
          await sleep((LEASE_SECONDS + 3 * HEARTBEAT_SECONDS) * 1000);
          victim.child!.kill('SIGCONT');
          if (status) paused = { runId: status, resumedAt: Date.now() };
          detail = `daemon ${victim.name} frozen (SIGSTOP) past its lease for ${Math.round((Date.now() - t0) / 1000)} s, then woken (SIGCONT)${status ? ` (run ${status})` : ' (its run id could not be read)'}`;
        }
        disruptions.push({ what: d.what, plannedMs: d.atMs, atMs: t0 - startedAt, tookMs: Date.now() - t0, detail });
        await simStore.append('chaos', [{ type: 'chaos.disruption.completed', data: { ...disruptions.at(-1)! } }]);
        log.info({ what: d.what, tookMs: Date.now() - t0 }, 'disruption done');
      }
    })().catch((err: unknown) => {
      disruptionError = err instanceof Error ? err.message : String(err);
      log.error({ err }, 'a disruption failed');
    });

    const ids = new Set(submitted.filter((s) => s.jobId).map((s) => s.jobId!));
    await disrupting;
    const finished = await until(async () => {
      const r = await ask<{ jobs: Array<{ job_id: string; upgrade_status: string }> }>('job.list', {});
      const open = r.jobs.filter((j) => ids.has(j.job_id) && !TERMINAL.has(j.upgrade_status));
      return open.length === 0 && r.jobs.filter((j) => ids.has(j.job_id)).length === ids.size ? true : undefined;
    }, Math.max(0, startedAt + timeoutMs - Date.now()), 500);
    timedOut = finished === undefined;
  } finally {
    for (const n of nodes) await n.stop().catch(() => undefined);
    // The whole replicated log, projected afresh once every daemon has stopped: what the checks read.
    if (nc) {
      const whole = LmdbEventStore.open({ path: join(workDir, 'log', 'events'), runId });
      try {
        const replica = await ReplicatedLog.open(whole, jetStreamLogTransport(nc, new Subjects('panos')));
        await replica.close();
        projected = join(workDir, 'log');
      } catch (err) {
        log.warn({ err }, 'could not project the replicated log; checking the last daemon’s projection');
      } finally {
        await whole.close();
      }
    }
    await leases?.close().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    await sim?.stop().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
  }

  // The checks read the replicated log as the last daemon projected it, and the simulator's log.
  const survivor = projected || lastDataDir || nodes.filter((n) => n.name !== 'd').at(-1)?.dataDir || '';
  const daemonStore = LmdbEventStore.open({ path: join(survivor, 'events') });
  let report: ChaosReport;
  try {
    const daemonEvents: EventEnvelope[] = [...daemonStore.readAll()];
    const simEvents: EventEnvelope[] = [...simStore.readAll()];
    const runs = listRuns(daemonStore).filter((r) => r.role === 'daemon');
    const verify = runs.map((r) => ({ runId: r.runId, report: verifyRun(daemonStore, r.runId) }));
    const check = checkDuplicates(daemonStore);
    const invariants = [
      ...checkInvariants({ scenario, plan, startedAt, daemonEvents, simEvents, submitted, verify, check }),
      ...checkClusterInvariants({ daemonEvents, ...(paused ? { paused } : {}) }),
    ];
    if (!paused) invariants.push({ name: 'the frozen daemon was observed', ok: false, detail: 'its run id could not be read before it was frozen', violations: ['no paused-leader check was made'] });
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
      live: [],
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
