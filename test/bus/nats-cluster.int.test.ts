import test from 'ava';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { clusterNodeConfig } from '../../bus/nats-cluster.ts';
import { natsServers } from '../../bus/connect.ts';
import { startTestNatsCluster } from '../helpers/nats-cluster.ts';
import { waitFor } from '../helpers/wait-for.ts';

const nats = startTestNatsCluster(test);

test('clusterNodeConfig: a node routes to the other nodes, not to itself, and keeps its own store dir', (t) => {
  const conf = clusterNodeConfig({ name: 'n2', port: 5001, routePort: 6002, storeDir: '/s/n2' }, { name: 'c', routePorts: [6001, 6002, 6003] });
  t.regex(conf, /server_name: "n2"/);
  t.regex(conf, /listen: "127\.0\.0\.1:5001"/);
  t.regex(conf, /store_dir: "\/s\/n2"/);
  t.regex(conf, /nats-route:\/\/127\.0\.0\.1:6001/);
  t.regex(conf, /nats-route:\/\/127\.0\.0\.1:6003/);
  t.notRegex(conf, /nats-route:\/\/127\.0\.0\.1:6002/);
});

test('natsServers: a comma-separated URL list is one server per entry', (t) => {
  t.deepEqual(natsServers('nats://a:1, nats://b:2,,nats://c:3'), ['nats://a:1', 'nats://b:2', 'nats://c:3']);
  t.deepEqual(natsServers('nats://a:1'), ['nats://a:1']);
});

test.serial('cluster: three nodes with distinct ports and store dirs; a replicas-3 stream keeps every message when one node stops', async (t) => {
  const { cluster } = nats;
  t.is(cluster.nodes.length, 3);
  t.is(new Set(cluster.nodes.flatMap((n) => [n.port, n.routePort])).size, 6);
  t.is(new Set(cluster.nodes.map((n) => n.storeDir)).size, 3);

  const nc = await nats.connect(t);
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const info = await jsm.streams.add({ name: 'HARNESS_R3', subjects: ['harness.>'], num_replicas: 3 });
  t.is(info.config.num_replicas, 3);
  t.is((info.cluster?.replicas ?? []).length, 2, 'a leader and two replicas');

  for (let i = 0; i < 10; i++) await js.publish('harness.a', `before-${i}`);

  // Stop the node that leads the stream: another must take over and keep every message.
  const leader = (await jsm.streams.info('HARNESS_R3')).cluster?.leader;
  const stopped = cluster.nodes.findIndex((n) => n.name === leader);
  t.true(stopped >= 0, `the stream leader ${leader} is one of the nodes`);
  await nats.stopNode(stopped, { kill: true });
  t.false(cluster.nodes[stopped]!.running);

  // While the stream elects a new leader a publish is refused (no responders) or times out: retried with its
  // message id, it is stored once.
  for (let i = 0; i < 10; i++) {
    await waitFor(() => js.publish('harness.a', `after-${i}`, { msgID: `after-${i}`, timeout: 2_000 }), 30_000, 200);
  }
  const during = await jsm.streams.info('HARNESS_R3');
  t.is(during.state.messages, 20);
  t.not(during.cluster?.leader, leader);

  await nats.startNode(stopped);
  t.true(cluster.nodes[stopped]!.running);
  const after = await jsm.streams.info('HARNESS_R3');
  t.is(after.state.messages, 20);
  t.true((after.cluster?.replicas ?? []).every((r) => r.current), 'the restarted node has caught up');
  const last = await jsm.streams.getMessage('HARNESS_R3', { last_by_subj: 'harness.a' });
  t.is(last?.string(), 'after-9');
});
