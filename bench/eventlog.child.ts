// The LMDB event log against raw lmdb in the same process: durable appends with N concurrent appenders,
// and the replay of a 1,000-device run (every job, pair and device stream folded) against a raw ordered
// range read of the same log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import pino from 'pino';
import { DEFAULT_CONFIG, simulatedFleetAccess, type DaemonConfig } from '../actors/config.ts';
import { Daemon } from '../actors/daemon.ts';
import { createDeviceAccess } from '../actors/device-access.ts';
import { stateAt } from '../forensics/replay.ts';
import { connectNats, eventPublisher, startNatsServer, Subjects } from '../bus/index.ts';
import { busCopyOf, LmdbEventStore, type EventEnvelope } from '../eventstore/index.ts';
import { startGateway, writeCaFile } from '../gateway/index.ts';
import { Simulator } from '../simulator/index.ts';
import { processStats, serveParent } from './lib/child.ts';
import { twoHopFleet } from './lib/fleet-scenario.ts';

const dirs: string[] = [];
function tempDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `panos-bench-${name}-`));
  dirs.push(d);
  return d;
}

/** The store's own options (lmdb-event-store.ts), so both sides write the same bytes the same way. */
function rawEnv(path: string) {
  return open({ path, noSubdir: false, compression: true, maxDbs: 8 });
}

/** A typical fact of the daemon's log: an API call record with a short XML answer. */
function payload(i: number): Record<string, unknown> {
  return {
    at: new Date().toISOString(),
    host: '127.0.0.1:8443',
    target: `0079${String(i).padStart(8, '0')}`,
    type: 'op',
    command: '<show><jobs><id>12</id></jobs></show>',
    durationMs: 3,
    attempt: 1,
    httpStatus: 200,
    outcome: 'ok',
    panosStatus: 'success',
    response:
      '<response status="success"><result><job><tenq>2026/11/22 05:00:00</tenq><tdeq>05:00:00</tdeq><id>12</id><user/><type>Downld</type>' +
      '<status>ACT</status><queued>NO</queued><stoppable>yes</stoppable><result>PEND</result><tfin/><description/><positionInQ>0</positionInQ>' +
      '<progress>40</progress><details><line>Downloading 10.2.0</line></details><warnings/></job></result></response>',
  };
}

export interface AppendTrial {
  eventsPerSecond: number;
  events: number;
  ms: number;
}

/** Each appender appends one event at a time to its own stream and waits until it is durable, until the time or count bound. */
async function appendTrial(kind: 'store' | 'raw', appenders: number, durationMs: number, maxEvents: number): Promise<AppendTrial> {
  const path = tempDir(`append-${kind}`);
  let events = 0;
  const start = performance.now();
  const end = start + durationMs;
  if (kind === 'store') {
    const store = LmdbEventStore.open({ path, runId: 'bench' });
    await Promise.all(
      Array.from({ length: appenders }, async (_, i) => {
        const stream = `job:bench-${i}`;
        while (performance.now() < end && events < maxEvents) {
          await store.append(stream, [{ type: 'job.download.progressed', data: payload(i) }]);
          events++;
        }
      }),
    );
    const ms = performance.now() - start;
    await store.close();
    return { eventsPerSecond: (events / ms) * 1000, events, ms };
  }
  // Raw: the same two puts per event (log entry and stream index) in lmdb's batched writes, then the same flush.
  const env = rawEnv(path);
  const log = env.openDB<EventEnvelope, number>({ name: 'log' });
  const streams = env.openDB<number, [string, number]>({ name: 'streams' });
  let gseq = 0;
  const at = new Date().toISOString();
  await Promise.all(
    Array.from({ length: appenders }, async (_, i) => {
      const stream = `job:bench-${i}`;
      let seq = 0;
      while (performance.now() < end && events < maxEvents) {
        const g = ++gseq;
        seq++;
        void log.put(g, { gseq: g, stream, seq, type: 'job.download.progressed', at, data: payload(i), runId: 'bench' });
        await streams.put([stream, seq], g);
        await env.flushed;
        events++;
      }
    }),
  );
  const ms = performance.now() - start;
  await env.close();
  return { eventsPerSecond: (events / ms) * 1000, events, ms };
}

interface RunLog {
  path: string;
  runId: string;
  events: number;
  devices: number;
  templateDevices: number;
  templateEvents: number;
  templateMs: number;
  cloneMs: number;
  eventsByKind: Record<string, number>;
}

/**
 * A 1,000-device run's log: a real run of the whole stack on a small fleet (HA pair included) gives the
 * daemon's events; they are copied per block of devices with serials and job ids renamed, interleaved
 * as a concurrent run writes them, into a fresh log under one run id.
 */
async function buildRun(devices: number, templateDevices: number): Promise<RunLog> {
  const t0 = performance.now();
  const template = await templateRun(templateDevices);
  const t1 = performance.now();
  const copies = Math.ceil(devices / templateDevices);
  const serials = [...template.serials];
  const jobIds = [...template.jobIds];
  const path = tempDir('run');
  const runId = 'r-bench-1000';
  const store = LmdbEventStore.open({ path, runId });
  const eventsByKind: Record<string, number> = {};
  let events = 0;
  const renamed = (text: string, k: number): string => {
    let out = text;
    for (const s of serials) out = out.replaceAll(s, `${s.slice(0, 7)}${String(k).padStart(3, '0')}${s.slice(10)}`);
    for (const j of jobIds) out = out.replaceAll(j, `${j}-${k}`);
    return out;
  };
  for (const e of template.events) {
    const text = JSON.stringify({ stream: e.stream, type: e.type, at: e.at, data: e.data });
    const appends: Array<Promise<unknown>> = [];
    for (let k = 0; k < copies; k++) {
      const c = JSON.parse(renamed(text, k)) as { stream: string; type: string; at: string; data: unknown };
      appends.push(store.append(c.stream, [{ type: c.type, at: c.at, data: c.data }]));
      const kind = c.stream.split(':')[0]!;
      eventsByKind[kind] = (eventsByKind[kind] ?? 0) + 1;
      events++;
    }
    await Promise.all(appends);
  }
  await store.close();
  return {
    path,
    runId,
    events,
    devices: copies * templateDevices,
    templateDevices,
    templateEvents: template.events.length,
    templateMs: t1 - t0,
    cloneMs: performance.now() - t1,
    eventsByKind,
  };
}

/** The whole product on a small fleet (nats-server, simulator, HTTPS gateway, daemon), every device upgraded over two hops. */
async function templateRun(devices: number): Promise<{ events: EventEnvelope[]; serials: Set<string>; jobIds: Set<string> }> {
  const server = await startNatsServer({ jetstream: false });
  const nc = await connectNats(server.url, 'bench eventlog template');
  const subjects = new Subjects('bench');
  const log = pino({ level: 'error' });
  const simStore = LmdbEventStore.open({ path: tempDir('template-sim'), runId: 'sim' });
  const offSim = simStore.onAppend(eventPublisher(nc, subjects, { busCopy: busCopyOf }));
  const scenario = twoHopFleet(devices, 0.02, 1);
  const sim = await Simulator.start({ scenario, store: simStore, log, nc, subjects, fresh: true });
  const gateway = await startGateway({ nc, subjects, store: simStore, log, description: sim.describe(), port: 0, protocol: 'https', direct: true });
  const dataDir = tempDir('template-daemon');
  const store = LmdbEventStore.open({ path: join(dataDir, 'events'), runId: 'template' });
  const config: DaemonConfig = {
    ...DEFAULT_CONFIG,
    ...simulatedFleetAccess({ port: gateway.port, fingerprint: gateway.fingerprint, apiKey: scenario.apiKey, caFile: gateway.identity ? writeCaFile(gateway.identity, dataDir) : '' }),
    concurrency: devices,
    rateLimit: 100_000,
    upgrade: { ...DEFAULT_CONFIG.upgrade, paths: scenario.upgradePaths },
    retries: { maxAttempts: 3, backoffSeconds: 0.1 },
    timeouts: { apiSeconds: 30, jobSeconds: 60, rebootSeconds: 60, rebootSecondsByModel: {}, rebootStartGraceSeconds: 10 },
    poll: { jobSeconds: 0.05, rebootSeconds: 0.05 },
  };
  const access = createDeviceAccess(config, { store, log });
  const daemon = await Daemon.start({ store, log, config, access, dataDir, nc, subjects });
  try {
    await daemon.discover();
    const submitted = new Set<string>();
    for (const d of scenario.devices) {
      if (submitted.has(d.serial)) continue;
      submitted.add(d.serial);
      if (d.ha) submitted.add(d.ha.peerSerial);
      await daemon.submit({ device: d.serial });
    }
    await daemon.idle();
    // A pair's download children end `download_complete`; everything else must be complete.
    const failed = [...daemon.allJobs(), ...daemon.allPairs()].filter((j) => j.status !== 'complete' && j.status !== 'download_complete');
    if (failed.length > 0) throw new Error(`template run: ${failed.length} jobs did not complete (${failed[0]?.message})`);
    const events = [...store.readAll()];
    const jobIds = new Set(daemon.allJobs().map((j) => j.jobId).concat(daemon.allPairs().map((p) => p.jobId)));
    return { events, serials: new Set(scenario.devices.map((d) => d.serial)), jobIds };
  } finally {
    await daemon.stop();
    await access.close();
    await store.close();
    await gateway.close();
    await sim.stop();
    offSim();
    await simStore.close();
    await nc.close();
    await server.stop();
  }
}

/** The product's replay: every job, pair and device stream of the run folded (what `replay state` shows). */
async function replayOnce(run: RunLog): Promise<{ ms: number; jobs: number; pairs: number; devices: number }> {
  const store = LmdbEventStore.open({ path: run.path });
  try {
    const t = performance.now();
    const state = stateAt(store, run.runId);
    const ms = performance.now() - t;
    return { ms, jobs: state.jobs.length, pairs: state.pairs.length, devices: state.devices.length };
  } finally {
    await store.close();
  }
}

/** The raw counterpart: one ordered range read of the whole log, every value decoded. */
async function rawReadOnce(run: RunLog): Promise<{ ms: number; events: number }> {
  const env = rawEnv(run.path);
  const log = env.openDB<EventEnvelope, number>({ name: 'log' });
  try {
    const t = performance.now();
    let n = 0;
    for (const { value } of log.getRange({ start: 1 })) if (value.runId === run.runId) n++;
    return { ms: performance.now() - t, events: n };
  } finally {
    await env.close();
  }
}

let built: RunLog | undefined;

await serveParent(async () => ({
  info: { pid: process.pid },
  handlers: {
    append: (p: { kind: 'store' | 'raw'; appenders: number; durationMs: number; maxEvents: number }) => appendTrial(p.kind, p.appenders, p.durationMs, p.maxEvents),
    buildRun: async (p: { devices: number; templateDevices: number }) => {
      built = await buildRun(p.devices, p.templateDevices);
      return built;
    },
    replay: () => {
      if (!built) throw new Error('buildRun first');
      return replayOnce(built);
    },
    rawRead: () => {
      if (!built) throw new Error('buildRun first');
      return rawReadOnce(built);
    },
    stats: () => processStats(),
  },
  async onStop() {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  },
}));
