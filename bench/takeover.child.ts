// Takeover on a real 3-node nats-server cluster started here, with the simulator and gateway in this process:
// `panos-upgrade daemon` processes in cluster mode (active and standby, one partition), the active killed
// (SIGKILL from the test-only crash hook, right after it recorded a download's PAN-OS job id) and its data
// dir deleted; measured from its death to the standby holding the lease, to the first call the standby makes
// to the device (the step resumed), and to the first fact it records. The baseline: one daemon on the same
// cluster without cluster mode, killed at the same point and started again at once on its own data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_CONFIG, simulatedFleetAccess, saveConfig, type DaemonConfig } from '../actors/config.ts';
import { connectNats, eventPublisher, findOnPath, guardedCommand, requestJson, startNatsCluster, Subjects, type NatsClusterHandle } from '../bus/index.ts';
import { shippedScenario } from '../cli/paths.ts';
import { LeaseManager, leaseBucketName } from '../cluster/index.ts';
import { busCopyOf, LmdbEventStore, type EventEnvelope } from '../eventstore/index.ts';
import { isServedCalls, oneEventPerCall, startGateway, writeCaFile } from '../gateway/index.ts';
import { loadScenarioFile } from '../scenarios/index.ts';
import { Simulator } from '../simulator/index.ts';
import { repoRoot, serveParent } from './lib/child.ts';
import { HEARTBEAT_SECONDS, LEASE_SECONDS } from './takeover.bench.ts';

export interface TakeoverTrial {
  mode: 'takeover' | 'restart';
  /** Death of the active → the standby holds the lease (takeover only). */
  leaseMs: number | null;
  /** Death → the first API call served to the job's device afterwards (the step resumed). */
  firstCallMs: number;
  /** Death → the first fact of the job published afterwards. */
  firstFactMs: number;
  status: string;
}

const DEVICE = '001234567893';
const TARGET = '11.1.0';
const CRASH_AFTER = 'job.download.enqueued:1';
const log = pino({ level: 'silent' });
const dirs: string[] = [];
let cluster: NatsClusterHandle | undefined;
let nc: NatsConnection | undefined;
let trialNo = 0;
const daemons = new Set<ChildProcess>();

function tempDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `panos-bench-${name}-`));
  dirs.push(d);
  return d;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve(probe()).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `panos-upgrade daemon` on `dataDir`; resolves once it says it is up. Tied to this process's life (pdeathsig). */
async function daemon(dataDir: string, prefix: string, env: Record<string, string>): Promise<{ child: ChildProcess; exit: Promise<number> }> {
  const cmd = guardedCommand(process.execPath, ['bin/panos-upgrade.mjs', 'daemon'], findOnPath('setpriv'));
  const child = spawn(cmd.file, cmd.args, {
    cwd: repoRoot,
    env: { ...process.env, PANOS_UPGRADE_HOME: dataDir, NATS_URL: cluster!.url, PANOS_SUBJECT_PREFIX: prefix, PANOS_LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  daemons.add(child);
  // The moment it died, taken when its exit is seen.
  const exit = new Promise<number>((resolve) => child.once('exit', () => (daemons.delete(child), resolve(Date.now()))));
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => (out += c));
  await until('daemon up', () => (out.includes('Daemon up:') ? true : child.exitCode !== null ? Promise.reject(new Error('exited')) : undefined), 120_000, 50);
  return { child, exit };
}

async function trial(mode: 'takeover' | 'restart'): Promise<TakeoverTrial> {
  trialNo += 1;
  const prefix = `bench-takeover${trialNo}`;
  const subjects = new Subjects(prefix);
  const scenario = loadScenarioFile(shippedScenario('basic'), { timeScale: 0.02, env: {} });
  const simStore = LmdbEventStore.open({ path: tempDir('sim'), runId: 'sim' });
  // When each call to the device was answered, by this process's clock (the gateway runs here).
  const served: number[] = [];
  const offServed = simStore.onAppend((events) => {
    for (const e of oneEventPerCall(events.filter((x) => x.stream === 'api' && isServedCalls(x)))) {
      if ((e.data as { target?: string | null }).target === DEVICE) served.push(Date.parse(e.at));
    }
  });
  const offPublish = simStore.onAppend(eventPublisher(nc!, subjects, { busCopy: busCopyOf }));
  const sim = await Simulator.start({ scenario, store: simStore, log, nc: nc!, subjects });
  const gateway = await startGateway({ nc: nc!, subjects, store: simStore, log, port: 0, protocol: 'https', direct: true });
  const facts: number[] = [];
  const sub = nc!.subscribe(subjects.streamEvents('job'), { callback: (err: Error | null, _m: Msg) => void (err ? undefined : facts.push(Date.now())) });
  const leases = await LeaseManager.open({ nc: nc!, bucket: leaseBucketName(prefix), ttlMs: LEASE_SECONDS * 1000, replicas: 3, holder: 'bench-reader' });
  try {
    const configDir = tempDir('config');
    const config: DaemonConfig = {
      ...DEFAULT_CONFIG,
      ...simulatedFleetAccess({ port: gateway.port, fingerprint: gateway.fingerprint, apiKey: scenario.apiKey, caFile: gateway.identity ? writeCaFile(gateway.identity, configDir) : '' }),
      rateLimit: 2000,
      upgrade: { ...DEFAULT_CONFIG.upgrade, paths: scenario.upgradePaths },
      retries: { maxAttempts: 3, backoffSeconds: 0.1 },
      timeouts: { apiSeconds: 5, jobSeconds: 60, rebootSeconds: 30, rebootSecondsByModel: {}, rebootStartGraceSeconds: 5 },
      poll: { jobSeconds: 0.05, rebootSeconds: 0.05 },
      cluster: { ...DEFAULT_CONFIG.cluster, enabled: mode === 'takeover', replicas: 3, partitions: 1, leaseSeconds: LEASE_SECONDS, heartbeatSeconds: HEARTBEAT_SECONDS },
    };
    const crash = { PANOS_UPGRADE_TEST_HOOKS: '1', PANOS_UPGRADE_TEST_CRASH_AFTER: CRASH_AFTER };
    const dirA = tempDir('a');
    saveConfig(dirA, { ...config, cluster: { ...config.cluster, nodeId: 'a' } });
    const a = await daemon(dirA, prefix, crash);
    let b: Awaited<ReturnType<typeof daemon>> | undefined;
    const ask = <T extends object>(name: Parameters<Subjects['cmd']>[0], payload: object): Promise<T> => requestJson<T>(nc!, subjects.cmd(name), payload, 120_000);
    if (mode === 'takeover') {
      await until('a holds the lease', async () => ((await leases.holderOf('partition-0'))?.holder === 'a' ? true : undefined), 60_000, 50);
      const dirB = tempDir('b');
      saveConfig(dirB, { ...config, cluster: { ...config.cluster, nodeId: 'b' } });
      b = await daemon(dirB, prefix, {});
    }
    await ask('device.discover', {});
    const { job } = await ask<{ job: { job_id: string } }>('job.submit', { device: DEVICE, targetVersion: TARGET });
    const diedAt = await a.exit;
    let leaseMs: number | null = null;
    if (mode === 'takeover') {
      // The machine is lost with it.
      rmSync(dirA, { recursive: true, force: true });
      leaseMs = (await until('b holds the lease', async () => ((await leases.holderOf('partition-0'))?.holder === 'b' ? Date.now() : undefined), 60_000, 10)) - diedAt;
    } else {
      // The baseline: started again at once, on the same machine and data dir.
      b = await daemon(dirA, prefix, {});
    }
    const firstCallMs = (await until('a call to the device after the death', () => served.find((at) => at > diedAt), 120_000)) - diedAt;
    const firstFactMs = (await until('a fact after the death', () => facts.find((at) => at > diedAt), 120_000)) - diedAt;
    const end = await until(
      'the job ends',
      async () => {
        const r = await ask<{ job: { upgrade_status: string } }>('job.get', { jobId: job.job_id });
        return ['complete', 'failed', 'cancelled'].includes(r.job.upgrade_status) ? r.job.upgrade_status : undefined;
      },
      180_000,
      200,
    );
    b?.child.kill('SIGKILL');
    if (b) await b.exit;
    return { mode, leaseMs, firstCallMs, firstFactMs, status: end };
  } finally {
    for (const d of daemons) d.kill('SIGKILL');
    sub.unsubscribe();
    await leases.close();
    await gateway.close();
    await sim.stop();
    offServed();
    offPublish();
    await simStore.close();
  }
}

await serveParent(async () => {
  cluster = await startNatsCluster({ startTimeoutMs: 60_000 });
  nc = await connectNats(cluster.url, 'bench takeover');
  return {
    info: { ownedPids: cluster.nodes.map((n) => n.pid), url: cluster.url },
    handlers: { trial: (p: { mode: 'takeover' | 'restart' }) => trial(p.mode) },
    onStop: async () => {
      for (const d of daemons) d.kill('SIGKILL');
      await nc?.close();
      await cluster?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
});
