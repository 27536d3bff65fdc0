// One simulator size in a fresh process (so RSS is this fleet's alone): start N firewall actors served
// over NATS, then measure `show system info` over NATS against a bare NATS echo on the same connections.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { connectNats, startNatsServer, Subjects, type NatsServerHandle } from '../bus/index.ts';
import { LmdbEventStore } from '../eventstore/index.ts';
import { generateFleetScenario, scenarioFromObject } from '../scenarios/index.ts';
import { Simulator } from '../simulator/index.ts';
import { processStats, serveParent } from './lib/child.ts';
import { summarize } from './lib/stats.ts';

const SHOW_SYSTEM_INFO = JSON.stringify({ type: 'op', cmd: '<show><system><info></info></system></show>' });

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function settle(): Promise<void> {
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
}

export interface SimScaleResult {
  devices: number;
  haPairs: number;
  scenarioBuildMs: number;
  startMs: number;
  rssMiB: number;
  maxRssMiB: number;
  /** Heap after start minus heap before the scenario was built, per device (scenario objects included). */
  heapPerDeviceBytes: number;
  baselineRssMiB: number;
  sim: ReturnType<typeof summarize>;
  echo: ReturnType<typeof summarize>;
  replyBytes: number;
}

async function measure(server: NatsServerHandle, size: number, samplesPerSide: number, maxMs: number): Promise<SimScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'panos-bench-sim-'));
  const nc = await connectNats(server.url, 'bench simulator');
  const client = await connectNats(server.url, 'bench client');
  const subjects = new Subjects('bench');
  let sim: Simulator | undefined;
  let store: LmdbEventStore | undefined;
  try {
    await settle();
    const base = process.memoryUsage();
    const t0 = performance.now();
    const doc = generateFleetScenario({ devices: size });
    // The object route: the YAML route for 100,000 devices spends most of its time parsing.
    const scenario = scenarioFromObject(doc, `<bench fleet-${size}>`, { env: {} });
    const t1 = performance.now();
    store = LmdbEventStore.open({ path: dir, runId: 'bench' });
    sim = await Simulator.start({ scenario, store, log: pino({ level: 'silent' }), nc, subjects, fresh: true });
    // The wildcard subscription is sent to the server with the next flush: until then nothing answers.
    await nc.flush();
    const serials = scenario.devices.map((d) => d.serial);
    const first = await client.request(subjects.simOp(serials[0]!), SHOW_SYSTEM_INFO, { timeout: 10_000 });
    const t2 = performance.now();
    await settle();
    const after = process.memoryUsage();

    const replyBytes = first.data.length;
    const echoBody = 'x'.repeat(Math.max(0, replyBytes));
    const echoSubject = 'bench.echo';
    nc.subscribe(echoSubject, {
      callback: (_err, msg) => {
        msg.respond(echoBody);
      },
    });
    await nc.flush();

    const pick = (): string => serials[Math.floor(Math.random() * serials.length)]!;
    const askSim = async (): Promise<number> => {
      const s = performance.now();
      const m = await client.request(subjects.simOp(pick()), SHOW_SYSTEM_INFO, { timeout: 10_000 });
      const d = performance.now() - s;
      if (!m.string().includes('"status":200')) throw new Error(`unexpected reply: ${m.string().slice(0, 200)}`);
      return d;
    };
    const askEcho = async (): Promise<number> => {
      const s = performance.now();
      await client.request(echoSubject, SHOW_SYSTEM_INFO, { timeout: 10_000 });
      return performance.now() - s;
    };
    for (let i = 0; i < 200; i++) {
      await askSim();
      await askEcho();
    }
    // Alternating blocks, so that noise from the shared machine falls on both sides alike.
    const simSamples: number[] = [];
    const echoSamples: number[] = [];
    const deadline = performance.now() + maxMs;
    while (simSamples.length < samplesPerSide && performance.now() < deadline) {
      for (let i = 0; i < 100; i++) simSamples.push(await askSim());
      for (let i = 0; i < 100; i++) echoSamples.push(await askEcho());
    }
    const stats = processStats();
    return {
      devices: sim.size,
      haPairs: doc.ha_pairs.length,
      scenarioBuildMs: t1 - t0,
      startMs: t2 - t1,
      rssMiB: after.rss / 2 ** 20,
      maxRssMiB: stats.maxRssMiB,
      heapPerDeviceBytes: (after.heapUsed - base.heapUsed) / size,
      baselineRssMiB: base.rss / 2 ** 20,
      sim: summarize(simSamples),
      echo: summarize(echoSamples),
      replyBytes,
    };
  } finally {
    await sim?.stop();
    await store?.close();
    await client.close();
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await serveParent(async () => {
  const server = await startNatsServer({ jetstream: false });
  return {
    info: { pid: process.pid, ownedPids: [server.pid] },
    handlers: {
      run: (p: { size: number; samples: number; maxMs: number }) => measure(server, p.size, p.samples, p.maxMs),
    },
    onStop: () => server.stop(),
  };
});
