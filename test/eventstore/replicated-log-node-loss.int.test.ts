import test from 'ava';
import { jetstreamManager } from '@nats-io/jetstream';
import { ensureLogStream, jetStreamLogTransport, logStreamName, Subjects } from '../../bus/index.ts';
import { ReplicatedLog } from '../../eventstore/index.ts';
import { logProblems, openTestStore, uniquePrefix, waitFor } from '../helpers/index.ts';
import { startTestNatsCluster } from '../helpers/nats-cluster.ts';

// A file of its own: stopping a node would slow every other test sharing the cluster.
const cluster = startTestNatsCluster(test);

test('replicated log: the node leading the log stream is killed in the middle of appends; every append resolves, nothing is lost or stored twice, and a rebuilt projection is the same', async (t) => {
  const nc = await cluster.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 3 });
  const store = openTestStore(t);
  const log = await ReplicatedLog.open(store, jetStreamLogTransport(nc, subjects), { writer: 'w', publishTimeoutMs: 2_000 });
  t.teardown(() => log.close());

  const jsm = await jetstreamManager(nc);
  const name = logStreamName(subjects);
  const leader = (await jsm.streams.info(name)).cluster?.leader;
  const victim = cluster.cluster.nodes.findIndex((n) => n.name === leader);
  t.true(victim >= 0, `the stream leader ${leader} is a node`);

  const STREAMS = 4;
  const PER_STREAM = 40;
  let appended = 0;
  const writers = Array.from({ length: STREAMS }, async (_, s) => {
    for (let i = 0; i < PER_STREAM; i++) {
      await store.append(`job:${s}`, [{ type: 'job.stepped', data: { s, i } }]);
      appended++;
    }
  });
  await waitFor(() => appended >= 30, 30_000);
  await cluster.stopNode(victim, { kill: true });
  const atKill = appended;
  await Promise.all(writers);
  t.true(atKill < STREAMS * PER_STREAM, 'the node died while appends were going on');

  for (let s = 0; s < STREAMS; s++) {
    t.deepEqual(
      store.readStream(`job:${s}`).map((e) => (e.data as { i: number }).i),
      Array.from({ length: PER_STREAM }, (_, i) => i),
      `job:${s} holds every append once, in order`,
    );
  }
  t.deepEqual(logProblems(store), []);
  const info = await waitFor(async () => {
    const i = await jsm.streams.info(name);
    return i.cluster?.leader && i.cluster.leader !== leader ? i : undefined;
  }, 30_000, 200);
  t.is(info.state.messages, STREAMS * PER_STREAM, 'no entry stored twice');

  // With the node back, a daemon on a new machine rebuilds the same projection.
  await cluster.startNode(victim);
  const fresh = openTestStore(t);
  const log2 = await ReplicatedLog.open(fresh, jetStreamLogTransport(nc, subjects), { writer: 'x' });
  t.teardown(() => log2.close());
  t.deepEqual([...fresh.readAll()], [...store.readAll()]);
});
