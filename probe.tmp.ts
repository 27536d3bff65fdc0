import pino from 'pino';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats, startNatsServer, Subjects } from './bus/index.ts';
import { LmdbEventStore } from './eventstore/index.ts';
import { Simulator } from './simulator/index.ts';
import { twoHopFleet } from './bench/lib/fleet-scenario.ts';
const server = await startNatsServer({});
const nc = await connectNats(server.url, 'probe');
const subjects = new Subjects('probe');
const scenario = twoHopFleet(1000, 0.1);
const store = LmdbEventStore.open({ path: mkdtempSync(join(tmpdir(), 'probe-')), runId: 'p' });
const sim = await Simulator.start({ scenario, store, log: pino({ level: 'silent' }), nc, subjects, fresh: true });
const cmds = ['<show><panorama-status></panorama-status></show>','<show><high-availability><state></state></high-availability></show>','<show><ntp></ntp></show>','<request><license><info></info></license></request>','<show><session><all></all></session></show>',"<show><arp><entry name='all'/></arp></show>",'<show><running><tunnel><flow><all></all></flow></tunnel></running></show>','<show><config><running></running></config></show>','<show><routing><route></route></routing></show>','<show><routing><fib></fib></routing></show>','<show><interface>hardware</interface></show>','<show><system><info></info></system></show>','<show><jobs><all></all></jobs></show>','<request><system><software><info></info></software></system></request>','<show><system><state><filter>sw.dev.interface.config</filter></state></system></show>'];
const serials = scenario.devices.map((d) => d.serial);
for (const s of [serials[0], serials[500], serials[999]]) {
  for (const cmd of cmds) {
    const t = performance.now();
    const m = await nc.request(subjects.simOp(s!), JSON.stringify({ type: 'op', cmd }), { timeout: 10000 });
    console.log(s, (performance.now() - t).toFixed(1), 'ms', m.data.length, 'B', cmd.slice(0, 50));
  }
}
await sim.stop(); await nc.close(); await server.stop(); process.exit(0);
