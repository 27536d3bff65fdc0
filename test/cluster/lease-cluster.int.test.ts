import test, { type ExecutionContext } from 'ava';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '../../bus/connect.ts';
import { LeaseManager, leaseBucketName } from '../../cluster/index.ts';
import { startTestNatsCluster } from '../helpers/nats-cluster.ts';
import { uniquePrefix } from '../helpers/index.ts';

// One file of its own: the last test stops a node.
const nats = startTestNatsCluster(test);

/** A manager connected to one node only (as a daemon next to that node would be), on a replicas-3 bucket. */
async function managerAt(t: ExecutionContext, node: number, bucket: string, ttlMs: number): Promise<LeaseManager> {
  const url = nats.url.split(',')[node]!;
  const nc = await connectNats(url, `lease-${node}`);
  t.teardown(() => nc.close());
  const m = await LeaseManager.open({ nc, bucket, holder: `node${node}`, ttlMs, replicas: 3 });
  t.teardown(() => m.close());
  return m;
}

test.serial('lease on a 3-node cluster: when three daemons on three nodes race for the same free keys then each key has exactly one holder', async (t) => {
  const bucket = leaseBucketName(uniquePrefix());
  const ms = [await managerAt(t, 0, bucket, 10_000), await managerAt(t, 1, bucket, 10_000), await managerAt(t, 2, bucket, 10_000)];
  for (let round = 0; round < 25; round++) {
    const key = `partition-${round}`;
    const got = await Promise.all(ms.map((m) => m.acquire(key)));
    const winners = got.map((g, i) => (g ? i : -1)).filter((i) => i >= 0);
    t.is(winners.length, 1, `${key}: holders ${winners.join(', ')}`);
    const holder = await ms[0]!.holderOf(key);
    t.is(holder?.holder, `node${winners[0]}`);
    t.is(holder?.epoch, got[winners[0]!]!.epoch);
  }
});

test.serial('lease on a 3-node cluster: when the node leading the lease bucket is killed then the holder keeps its lease and a standby cannot take it', async (t) => {
  const bucket = leaseBucketName(uniquePrefix());
  const nc = await nats.connect(t);
  // Holder and standby on the whole cluster (they reconnect to a surviving node), as the daemon's connection is.
  const holder = await LeaseManager.open({ nc, bucket, holder: 'holder', ttlMs: 8_000, replicas: 3 });
  t.teardown(() => holder.close());
  const standby = await LeaseManager.open({ nc: await nats.connect(t), bucket, holder: 'standby', ttlMs: 8_000, replicas: 3 });
  t.teardown(() => standby.close());
  const lost: string[] = [];
  holder.onLost((_k, _e, reason) => lost.push(reason));
  const lease = (await holder.acquire('partition-0'))!;
  const info = await (await jetstreamManager(nc)).streams.info(`KV_${bucket}`);
  const leaderName = info.cluster?.leader;
  const leader = nats.cluster.nodes.findIndex((n) => n.name === leaderName);
  t.true(leader >= 0, `leader ${leaderName} among ${nats.cluster.nodes.map((n) => n.name).join(', ')}`);
  await nats.stopNode(leader, { kill: true });
  try {
    // Two lease times with the leader gone: renewals go on through the new leader.
    // Safety always: the standby never holds the lease while the holder still counts it as its own. Liveness
    // when the election is quick: the holder keeps it. On a loaded two-core machine the election can outlast
    // the lease time; then the lease expires in the bucket after the holder's own clock gave it up.
    const until = Date.now() + 16_000;
    let taken: { key: string; epoch: number } | null = null;
    while (Date.now() < until && !taken) {
      taken = await standby.acquire('partition-0').catch(() => null);
      if (taken) t.is(holder.held('partition-0'), null, 'the standby took the lease while the holder still counted it as its own');
      else await new Promise((r) => setTimeout(r, 500));
    }
    if (taken) {
      t.true(taken.epoch > lease.epoch);
      t.true(lost.length > 0, 'the holder was told it lost the lease');
      t.log(`the election outlasted the lease: the standby took it (epoch ${taken.epoch}) after the holder gave it up (${lost.join(', ')})`);
    } else {
      t.deepEqual(holder.held('partition-0'), { key: 'partition-0', epoch: lease.epoch });
      await holder.confirm('partition-0', lease.epoch);
      t.deepEqual(lost, []);
    }
  } finally {
    await nats.startNode(leader);
  }
});
