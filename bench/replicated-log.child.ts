// The replicated event log (cluster mode) against raw JetStream publishes on a real 3-node nats-server
// cluster started here: appends through LmdbEventStore + ReplicatedLog (one R3 entry per append, expected
// last subject sequence, message id, projected into LMDB) against `js.publish` of entries of the same
// size to a stream of the same configuration, each awaiting its acknowledgement.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, ensureLogStream, jetStreamLogTransport, logStreamConfig, startNatsCluster, Subjects, type NatsClusterHandle } from '../bus/index.ts';
import { encodeEntry, LmdbEventStore, ReplicatedLog } from '../eventstore/index.ts';
import { processStats, serveParent } from './lib/child.ts';

const dirs: string[] = [];
function tempDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `panos-bench-${name}-`));
  dirs.push(d);
  return d;
}

/** A typical fact of the daemon's log: an API call record with a short XML answer (as in eventlog.child.ts). */
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

export interface ReplicatedTrial {
  eventsPerSecond: number;
  events: number;
  ms: number;
}

let cluster: NatsClusterHandle | undefined;
let nc: NatsConnection | undefined;
let trialNo = 0;

async function trial(kind: 'log' | 'raw', appenders: number, durationMs: number, maxEvents: number, replicas: number): Promise<ReplicatedTrial> {
  if (!nc) throw new Error('start first');
  trialNo += 1;
  // A fresh stream per trial (same configuration both sides), so no trial starts on a longer stream.
  const subjects = new Subjects(`bench${trialNo}${kind}`);
  await ensureLogStream(nc, subjects, { replicas });
  let events = 0;
  const start = performance.now();
  const end = start + durationMs;
  if (kind === 'log') {
    const store = LmdbEventStore.open({ path: tempDir('replicated'), runId: 'bench' });
    const log = await ReplicatedLog.open(store, jetStreamLogTransport(nc, subjects), { writer: 'bench' });
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: appenders }, async (_, i) => {
        const stream = `job:bench-${i}`;
        while (performance.now() < t0 + durationMs && events < maxEvents) {
          await store.append(stream, [{ type: 'job.download.progressed', data: payload(i) }]);
          events++;
        }
      }),
    );
    const ms = performance.now() - t0;
    await log.close();
    await store.close();
    return { eventsPerSecond: (events / ms) * 1000, events, ms };
  }
  const js = jetstream(nc);
  await Promise.all(
    Array.from({ length: appenders }, async (_, i) => {
      const stream = `job:bench-${i}`;
      let seq = 0;
      while (performance.now() < end && events < maxEvents) {
        seq += 1;
        // The bytes of the same entry the log would publish.
        const data = encodeEntry({ v: 1, id: `${stream}:${seq}:000000000000`, stream, seq, events: [{ type: 'job.download.progressed', data: payload(i), at: new Date().toISOString(), runId: 'bench' }], writer: 'bench' });
        await js.publish(subjects.log(stream), data);
        events++;
      }
    }),
  );
  const ms = performance.now() - start;
  return { eventsPerSecond: (events / ms) * 1000, events, ms };
}

await serveParent(async () => {
  cluster = await startNatsCluster({ dir: tempDir('cluster'), startTimeoutMs: 60_000 });
  nc = await connectNats(cluster.url, 'panos-bench');
  const jsm = await jetstreamManager(nc);
  return {
    info: { pid: process.pid, nodes: cluster.nodes.map((n) => n.pid) },
    handlers: {
      trial: (p: { kind: 'log' | 'raw'; appenders: number; durationMs: number; maxEvents: number; replicas: number }) => trial(p.kind, p.appenders, p.durationMs, p.maxEvents, p.replicas),
      streamConfig: () => logStreamConfig(new Subjects('bench'), 3),
      stats: () => processStats(),
      jsInfo: async () => (await jsm.getAccountInfo()).streams,
    },
    async onStop() {
      await nc?.close().catch(() => undefined);
      await cluster?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
});
