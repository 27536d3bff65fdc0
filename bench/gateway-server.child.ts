// The simulator and its gateway in one process, as `panos-upgrade sim --http --no-direct` runs them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { connectNats, eventPublisher, startNatsServer, Subjects } from '../bus/index.ts';
import { LmdbEventStore } from '../eventstore/index.ts';
import { startGateway } from '../gateway/index.ts';
import { generateFleetScenario, scenarioFromObject } from '../scenarios/index.ts';
import { Simulator } from '../simulator/index.ts';
import { processStats, serveParent } from './lib/child.ts';

export interface GatewayServerInfo {
  url: string;
  /** Paths of `show system info` calls through Panorama (`target=`), one per firewall. */
  paths: string[];
  /** Mean size of the XML body those calls return. */
  bodyBytes: number;
  natsPid: number | undefined;
  ownedPids: Array<number | undefined>;
}

const devices = Number(process.argv[2] ?? 1000);

await serveParent<GatewayServerInfo>(async () => {
  const server = await startNatsServer({ jetstream: false });
  const nc = await connectNats(server.url, 'bench gateway');
  const subjects = new Subjects('bench');
  const dir = mkdtempSync(join(tmpdir(), 'panos-bench-gw-'));
  const log = pino({ level: 'error' });
  const store = LmdbEventStore.open({ path: dir, runId: 'bench' });
  const off = store.onAppend(eventPublisher(nc, subjects));
  const scenario = scenarioFromObject(generateFleetScenario({ devices }), '<bench>', { env: {} });
  const sim = await Simulator.start({ scenario, store, log: log.child({ component: 'simulator' }), nc, subjects, fresh: true });
  const gateway = await startGateway({
    nc,
    subjects,
    store,
    log: log.child({ component: 'gateway' }),
    description: sim.describe(),
    port: 0,
    protocol: 'http',
    direct: false,
  });
  const cmd = encodeURIComponent('<show><system><info></info></system></show>');
  const key = encodeURIComponent(scenario.apiKey);
  const paths = scenario.devices.map((d) => `/api/?type=op&cmd=${cmd}&target=${d.serial}&key=${key}`);
  let total = 0;
  const sample = paths.slice(0, 50);
  for (const p of sample) {
    const res = await fetch(gateway.panoramaUrl + p);
    const body = await res.text();
    if (res.status !== 200 || !body.includes('status="success"')) throw new Error(`gateway answered ${res.status}: ${body.slice(0, 200)}`);
    total += Buffer.byteLength(body);
  }
  return {
    info: { url: gateway.panoramaUrl, paths, bodyBytes: Math.round(total / sample.length), natsPid: server.pid, ownedPids: [server.pid] },
    handlers: { stats: () => processStats() },
    async onStop() {
      await gateway.close();
      await sim.stop();
      off();
      await store.close();
      await nc.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
