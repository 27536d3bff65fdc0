import test from 'ava';
import { Membership, membershipBucketName } from '../../cluster/membership.ts';
import { startTestNats, uniquePrefix, waitFor } from '../helpers/index.ts';

const nats = startTestNats(test);

test('membership: two daemons see each other; one that leaves is gone at once, one that stops heartbeating is gone after the TTL', async (t) => {
  const nc = await nats.connect(t);
  const bucket = membershipBucketName(uniquePrefix());
  const a = await Membership.join({ nc, bucket, node: 'a', ttlMs: 1_500, heartbeatMs: 200, partitions: () => [0, 2] });
  const b = await Membership.join({ nc, bucket, node: 'b', ttlMs: 1_500, heartbeatMs: 200 });
  const c = await Membership.join({ nc, bucket, node: 'c', ttlMs: 1_500, heartbeatMs: 200 });
  t.teardown(() => Promise.all([a.close(), b.close(), c.close()]).then(() => undefined));
  const live = await a.live();
  t.deepEqual(live.map((m) => m.node), ['a', 'b', 'c']);
  t.deepEqual(live[0]!.partitions, [0, 2]);
  t.is(live[0]!.instance, a.instance);

  await b.close({ leave: true });
  t.deepEqual((await a.live()).map((m) => m.node), ['a', 'c']);

  // c stops renewing (a crashed or paused process): its entry expires with the bucket's TTL, a's does not.
  await c.close();
  const stoppedAt = Date.now();
  await waitFor(async () => (await a.live()).every((m) => m.node !== 'c'), 10_000, 100);
  t.true(Date.now() - stoppedAt >= 1_000, 'not before the TTL');
  t.deepEqual((await a.live()).map((m) => m.node), ['a']);
});

test('membership: a heartbeat longer than half the TTL, or a node id with a dot, is refused before joining', async (t) => {
  const nc = await nats.connect(t);
  const bucket = membershipBucketName(uniquePrefix());
  await t.throwsAsync(Membership.join({ nc, bucket, node: 'a', ttlMs: 1_000, heartbeatMs: 600 }), { message: /at most half the membership time/ });
  await t.throwsAsync(Membership.join({ nc, bucket, node: 'a.b', ttlMs: 1_000, heartbeatMs: 100 }), { message: /not a valid node id/ });
});
