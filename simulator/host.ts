import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import { lockDataDir, refuseDataDirOf } from '../actors/data-dir-lock.ts';
import { resolveDataDir } from '../actors/data-dir.ts';
import { openRuntime, type Runtime } from '../actors/runtime.ts';
import { natsAuthFromEnv } from '../bus/index.ts';
import { IDENTITY_DIR, startGateway, type GatewayHandle } from '../gateway/index.ts';
import { ValidationError } from '../panos/errors.ts';
import { loadScenarioFile } from '../scenarios/index.ts';
import type { Scenario } from '../scenarios/types.ts';
import { LARGE_SCENARIO_BYTES, LARGE_SCENARIO_DEVICES, untilBusy } from './heap.ts';
import { writeSimConnection } from './connection-file.ts';
import { Simulator } from './simulator.ts';

function checkPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ValidationError(
          err.code === 'EADDRINUSE'
            ? `port ${port} is already in use on ${host} (another simulator, or another program): give another --port, or 0 for any free one. Nothing was started or recorded`
            : `cannot listen on ${host}:${port} (${err.code ?? err.message}). Nothing was started or recorded`,
          'port',
        ),
      ),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export interface SimulatorHostOptions {
  scenarioFile: string;
  timeScale?: number;
  /** Ignore device state recorded by earlier sessions in the data dir. */
  fresh: boolean;
  port: number;
  protocol: 'http' | 'https';
  tls?: { certFile: string; keyFile: string };
  direct: boolean;
  hangLimitMs?: number;
  newCert?: boolean;
  dataDir?: string;
  natsUrl?: string;
  log: Logger;
  /** Called once the simulator is busy (tuneSimulatorHeap's restore). */
  onBusy: () => void;
}

/** A running simulator with its gateway, event log and private NATS, as `panos-upgrade sim` runs it. */
export interface SimulatorHost {
  sim: Simulator;
  scenario: Scenario;
  gateway: GatewayHandle;
  rt: Runtime;
  /** connection.json, for `config from-sim`. */
  connectionFile: string;
  startupMs: number;
  close(): Promise<void>;
}

/**
 * Start the simulator on a scenario with its XML API gateway in one process: the data dir locked to it
 * (and refused if a daemon's), the port checked before a run is recorded, the devices called in-process,
 * the connection file written. Call tuneSimulatorHeap (./heap.ts) before this module is loaded.
 */
export async function startSimulatorHost(o: SimulatorHostOptions): Promise<SimulatorHost> {
  const { log } = o;
  const started = performance.now();
  // A large scenario's start (its YAML, then every device) runs hot loops: hot functions are optimized
  // from the start (its young generation still waits for the load, as a small one's does).
  const large = (statSync(o.scenarioFile, { throwIfNoEntry: false })?.size ?? 0) > LARGE_SCENARIO_BYTES;
  if (large) setFlagsFromString('--turbofan');
  const scenario = loadScenarioFile(o.scenarioFile, o.timeScale !== undefined ? { timeScale: o.timeScale } : {});
  if (!large && scenario.devices.length > LARGE_SCENARIO_DEVICES) setFlagsFromString('--turbofan');
  // One simulator per data dir: its device state, event log and private NATS store are its own.
  const simDir = resolveDataDir(o.dataDir);
  await lockDataDir(simDir, 'simulator');
  // A daemon's data dir is not a simulator's: their logs and private NATS stores would mix.
  await refuseDataDirOf(simDir, 'daemon', 'simulator');
  // Checked before the run is recorded: a simulator that cannot serve leaves no run behind.
  if (o.port !== 0) await checkPortFree('127.0.0.1', o.port);
  const rt = await openRuntime({
    role: 'simulator',
    log,
    dataDir: simDir,
    ...(o.natsUrl ? { natsUrl: o.natsUrl } : {}),
    // The simulator's user: alone in its NATS account, since its subjects carry keygen passwords.
    auth: natsAuthFromEnv(),
    privateUser: 'simulator',
    details: { scenario: scenario.name, file: scenario.file },
  });
  const sim = await Simulator.start({
    scenario,
    store: rt.store,
    log: log.child({ component: 'simulator' }),
    nc: rt.bus.nc,
    subjects: rt.subjects,
    fresh: o.fresh,
  });
  let gateway: GatewayHandle;
  try {
    gateway = await startGateway({
      nc: rt.bus.nc,
      subjects: rt.subjects,
      store: rt.store,
      log: log.child({ component: 'gateway' }),
      description: sim.describe(),
      // The simulator runs here: its devices are called directly, not over NATS. Once busy it ends
      // the idle settings of V8 (tuneSimulatorHeap): a simulator called a few times a second stays small.
      simulator: untilBusy(sim, o.onBusy),
      port: o.port,
      protocol: o.protocol,
      direct: o.direct,
      ...(o.tls ? { tls: o.tls } : { tlsDir: join(rt.dataDir, IDENTITY_DIR) }),
      ...(o.newCert ? { newCert: true } : {}),
      ...(o.hangLimitMs !== undefined ? { hangLimitMs: o.hangLimitMs } : {}),
    });
  } catch (err) {
    await sim.stop();
    await rt.close();
    throw err;
  }
  const connectionFile = writeSimConnection(rt.dataDir, {
    version: 1,
    url: gateway.panoramaUrl,
    host: new URL(gateway.panoramaUrl).host,
    protocol: gateway.protocol,
    apiKey: scenario.apiKey,
    ...(gateway.fingerprint ? { fingerprint: gateway.fingerprint } : {}),
    ...(gateway.identity?.caFile ? { caFile: gateway.identity.caFile } : {}),
    direct: gateway.addresses.length > 1,
    scenario: resolve(scenario.file),
    ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
    scenarioName: scenario.name,
    natsUrl: rt.bus.url,
    ...(rt.bus.privateAuth ? { natsNkeyFile: rt.bus.privateAuth.files.simulator } : {}),
    subjectPrefix: rt.subjects.prefix,
    pid: process.pid,
    startedAt: new Date().toISOString(),
  });
  return {
    sim,
    scenario,
    gateway,
    rt,
    connectionFile,
    startupMs: Math.round(performance.now() - started),
    async close() {
      await gateway.close();
      await sim.stop();
      await rt.close();
    },
  };
}
