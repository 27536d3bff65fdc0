// The simulator and its gateway in one process, as `panos-upgrade sim` runs them: the gateway calls the
// simulator in-process. Two gateways on the same simulator and event log: plain HTTP (as `--http
// --no-direct`) and HTTPS with the certificate the simulator's CA issues (as the default).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayHandle } from '../gateway/index.ts';
import { tuneSimulatorHeap } from '../simulator/heap.ts';
import { processStats, serveParent } from './lib/child.ts';

// The V8 settings of `panos-upgrade sim`, made as it makes them: before the simulator's modules load.
const serving = tuneSimulatorHeap();
const [{ default: pino }, { connectNats, eventPublisher, startNatsServer, Subjects }, { busCopyOf, LmdbEventStore }, { startGateway }, { generateFleetScenario, scenarioFromObject }, { Simulator }] =
  await Promise.all([
    import('pino'),
    import('../bus/index.ts'),
    import('../eventstore/index.ts'),
    import('../gateway/index.ts'),
    import('../scenarios/index.ts'),
    import('../simulator/index.ts'),
  ]);

export interface GatewayServerInfo {
  /** Origins of the plain HTTP and the HTTPS gateway. */
  url: string;
  httpsUrl: string;
  /** The HTTPS gateway's certificate and key (PEM), for the bare HTTPS baseline to serve the same. */
  tls: { cert: string; key: string };
  /** Paths of `show system info` calls through Panorama (`target=`), one per firewall. */
  paths: string[];
  /** Mean size of the XML body those calls return. */
  bodyBytes: number;
  natsPid: number | undefined;
  ownedPids: Array<number | undefined>;
}

const devices = Number(process.argv[2] ?? 1000);
/** `nats` puts the gateway on the NATS transport (the before side of the in-process change). */
const transport = process.argv[3] === 'nats' ? 'nats' : 'in-process';

await serveParent<GatewayServerInfo>(async () => {
  const server = await startNatsServer({ jetstream: false });
  const nc = await connectNats(server.url, 'bench gateway');
  const subjects = new Subjects('bench');
  const dir = mkdtempSync(join(tmpdir(), 'panos-bench-gw-'));
  const log = pino({ level: 'error' });
  const store = LmdbEventStore.open({ path: dir, runId: 'bench' });
  const off = store.onAppend(eventPublisher(nc, subjects, { busCopy: busCopyOf }));
  const scenario = scenarioFromObject(generateFleetScenario({ devices }), '<bench>', { env: {} });
  const sim = await Simulator.start({ scenario, store, log: log.child({ component: 'simulator' }), nc, subjects, fresh: true });
  const start = (protocol: 'http' | 'https'): Promise<GatewayHandle> =>
    startGateway({
      nc,
      subjects,
      store,
      log: log.child({ component: 'gateway' }),
      description: sim.describe(),
      ...(transport === 'in-process' ? { simulator: sim } : {}),
      port: 0,
      protocol,
      direct: false,
    });
  const http = await start('http');
  const https = await start('https');
  const cmd = encodeURIComponent('<show><system><info></info></system></show>');
  const key = encodeURIComponent(scenario.apiKey);
  const paths = scenario.devices.map((d) => `/api/?type=op&cmd=${cmd}&target=${d.serial}&key=${key}`);
  let total = 0;
  const sample = paths.slice(0, 50);
  for (const p of sample) {
    const res = await fetch(http.panoramaUrl + p);
    const body = await res.text();
    if (res.status !== 200 || !body.includes('status="success"')) throw new Error(`gateway answered ${res.status}: ${body.slice(0, 200)}`);
    total += Buffer.byteLength(body);
  }
  serving();
  return {
    info: {
      url: http.panoramaUrl,
      httpsUrl: https.panoramaUrl,
      tls: { cert: https.tls!.cert, key: https.tls!.key },
      paths,
      bodyBytes: Math.round(total / sample.length),
      natsPid: server.pid,
      ownedPids: [server.pid],
    },
    handlers: { stats: () => processStats() },
    async onStop() {
      await http.close();
      await https.close();
      await sim.stop();
      off();
      await store.close();
      await nc.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
