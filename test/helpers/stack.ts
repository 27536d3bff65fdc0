import type { ExecutionContext } from 'ava';
import pino from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { Subjects, ensureLogStream, eventPublisher, jetStreamLogTransport } from '../../bus/index.ts';
import { LmdbEventStore, oneEventPerCall, ReplicatedLog } from '../../eventstore/index.ts';
import { busCopy } from '../../actors/bus-copy.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/types.ts';
import { Simulator } from '../../simulator/index.ts';
import { startGateway, writeCaFile, type GatewayHandle } from '../../gateway/index.ts';
import { DEFAULT_CONFIG, saveConfig, type DaemonConfig } from '../../actors/config.ts';
import { Daemon, type DeviceAccess } from '../../actors/daemon.ts';
import { createDeviceAccess } from '../../actors/device-access.ts';
import type { Fence } from '../../actors/fence.ts';
import { shippedScenario } from '../../cli/paths.ts';
import type { TestNats } from './nats.ts';
import { uniquePrefix } from './nats.ts';
import { servedCallEvents } from './event-store.ts';

export interface StackOptions {
  /** A shipped scenario name (`basic`) or a loaded scenario. */
  scenario?: string | Scenario;
  timeScale?: number;
  /** Change the daemon's test configuration. */
  config?: (c: DaemonConfig) => DaemonConfig;
  /** Run the daemon in this process (default), or leave it to the test (e.g. as a child process). */
  daemon?: boolean;
  protocol?: 'https' | 'http';
  direct?: boolean;
  /** Keep the gateway's CA and certificates here (as `sim --data-dir` does), e.g. to restart it with one certificate changed. */
  tlsDir?: string;
  /** Connections of the simulator (with the gateway) and of the daemon, e.g. as different NATS users; default one from `nats`. */
  connections?: { sim: NatsConnection; daemon: NatsConnection };
  /** The subject prefix; default a unique one. */
  prefix?: string;
  /** The in-process daemon's fence (cluster mode: every mutating call checked against a lease). */
  fence?: Fence;
  /** Cluster mode's event log: the daemon's store projects the JetStream stream PANOS_LOG with these replicas. */
  replicatedLog?: { replicas: number; writer?: string };
  /** Wrap the daemon's way to the devices, e.g. to see how it asks for them. */
  access?: (access: DeviceAccess) => DeviceAccess;
}

/** The whole product on real parts: nats-server, simulator, gateway over HTTP(S), daemon, LMDB logs. */
export interface Stack {
  /** The daemon's connection (the simulator's too, unless options.connections gave it another). */
  nc: NatsConnection;
  subjects: Subjects;
  scenario: Scenario;
  sim: Simulator;
  /** The simulator's and gateway's event log (its `api` stream has every call the gateway served). */
  simStore: LmdbEventStore;
  gateway: GatewayHandle;
  config: DaemonConfig;
  /** The daemon's data dir (config.json, events/). */
  dataDir: string;
  daemon: Daemon | undefined;
  daemonStore: LmdbEventStore | undefined;
  /** The replicated log the daemon's store projects (options.replicatedLog). */
  daemonLog: ReplicatedLog | undefined;
  /** Start (or restart) the in-process daemon on the data dir. */
  startDaemon(): Promise<Daemon>;
  stopDaemon(): Promise<void>;
  /** Remove the daemon's event log from its data dir (the daemon stopped): as on a new machine. */
  wipeDaemonLog(): void;
  /** Calls the gateway served, oldest first: `{ command, target, outcome, … }`. */
  servedCalls(): Array<Record<string, unknown>>;
  /** Calls the daemon made, oldest first, once the records still waiting for their batch are in its log: `{ command, mutating, … }`. */
  recordedCalls(): Promise<Array<Record<string, unknown>>>;
}

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Test defaults: fast polling, short retries, everything scaled for a simulator at a small time scale. */
export function testConfig(gateway: GatewayHandle, scenario: Scenario, caFile = ''): DaemonConfig {
  return {
    ...DEFAULT_CONFIG,
    panorama: { host: `127.0.0.1:${gateway.port}`, apiKey: scenario.apiKey, username: '', password: '' },
    // Panorama pinned; each firewall (its own certificate) trusted through the simulated CA, as on a real fleet.
    firewall: { ...DEFAULT_CONFIG.firewall, tls: { caFile, trustOnFirstUse: false, insecure: false } },
    protocol: gateway.protocol,
    tls: { caFile: '', fingerprint: gateway.fingerprint ?? '', insecure: false },
    concurrency: 10,
    rateLimit: 2000,
    upgrade: { ...DEFAULT_CONFIG.upgrade, paths: scenario.upgradePaths },
    retries: { maxAttempts: 3, backoffSeconds: 0.1 },
    timeouts: { apiSeconds: 5, jobSeconds: 60, rebootSeconds: 30, rebootSecondsByModel: {}, rebootStartGraceSeconds: 5 },
    poll: { jobSeconds: 0.05, rebootSeconds: 0.05 },
  };
}

export async function startStack(t: ExecutionContext, nats: Pick<TestNats, 'connect'> | undefined, options: StackOptions = {}): Promise<Stack> {
  if (!nats && !options.connections) throw new Error('startStack: give a TestNats or options.connections');
  const simNc = options.connections?.sim ?? (await nats!.connect(t));
  const nc = options.connections?.daemon ?? simNc;
  const subjects = new Subjects(options.prefix ?? uniquePrefix());
  const scenario =
    typeof options.scenario === 'object'
      ? options.scenario
      : loadScenarioFile(shippedScenario(options.scenario ?? 'basic'), { timeScale: options.timeScale ?? 0.02, env: {} });
  const simDir = mkdtempSync(join(tmpdir(), 'panos-sim-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'panos-data-'));
  const simStore = LmdbEventStore.open({ path: simDir, runId: 'sim' });
  const offSim = simStore.onAppend(eventPublisher(simNc, subjects, { busCopy }));
  const sim = await Simulator.start({ scenario, store: simStore, log, nc: simNc, subjects });
  const gateway = await startGateway({
    nc: simNc,
    subjects,
    store: simStore,
    log,
    port: 0,
    protocol: options.protocol ?? 'https',
    direct: options.direct ?? true,
    ...(options.tlsDir ? { tlsDir: options.tlsDir } : {}),
  });
  const caFile = gateway.identity ? writeCaFile(gateway.identity, dataDir) : '';
  const config = (options.config ?? ((c) => c))(testConfig(gateway, scenario, caFile));
  saveConfig(dataDir, config);

  let daemon: Daemon | undefined;
  let daemonStore: LmdbEventStore | undefined;
  let daemonLog: ReplicatedLog | undefined;
  let access: ReturnType<typeof createDeviceAccess> | undefined;
  let offDaemon: (() => void) | undefined;
  const stack: Stack = {
    nc,
    subjects,
    scenario,
    sim,
    simStore,
    gateway,
    config,
    dataDir,
    get daemon() {
      return daemon;
    },
    get daemonStore() {
      return daemonStore;
    },
    get daemonLog() {
      return daemonLog;
    },
    async startDaemon() {
      await stack.stopDaemon();
      daemonStore = LmdbEventStore.open({ path: join(dataDir, 'events'), runId: 'daemon' });
      if (options.replicatedLog) {
        await ensureLogStream(nc, subjects, { replicas: options.replicatedLog.replicas });
        daemonLog = await ReplicatedLog.open(daemonStore, jetStreamLogTransport(nc, subjects), { writer: options.replicatedLog.writer ?? 'test-daemon' });
      }
      offDaemon = daemonStore.onAppend(eventPublisher(nc, subjects, { busCopy }));
      access = createDeviceAccess(config, { store: daemonStore, log });
      const daemonAccess = options.access ? options.access(access) : access;
      daemon = await Daemon.start({ store: daemonStore, log, config, access: daemonAccess, dataDir, nc, subjects, ...(options.fence ? { fence: options.fence } : {}) });
      return daemon;
    },
    async stopDaemon() {
      if (!daemon) return;
      await daemon.stop();
      await access?.close();
      offDaemon?.();
      await daemonLog?.close();
      await daemonStore?.close();
      daemon = undefined;
      daemonStore = undefined;
      daemonLog = undefined;
    },
    wipeDaemonLog() {
      if (daemonStore) throw new Error('wipeDaemonLog: stop the daemon first');
      rmSync(join(dataDir, 'events'), { recursive: true, force: true });
    },
    servedCalls() {
      return servedCallEvents(simStore).map((e) => e.data as Record<string, unknown>);
    },
    async recordedCalls() {
      await access?.callsRecorded();
      return daemonStore ? oneEventPerCall(daemonStore.readStream('api')).map((e) => e.data as Record<string, unknown>) : [];
    },
  };
  if (options.daemon ?? true) await stack.startDaemon();
  t.teardown(async () => {
    await stack.stopDaemon();
    await gateway.close();
    await sim.stop();
    offSim();
    await simStore.close();
    rmSync(simDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  return stack;
}
