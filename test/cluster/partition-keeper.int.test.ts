import test from 'ava';
import { LeaseManager, leaseBucketName } from '../../cluster/lease-manager.ts';
import { Membership, membershipBucketName } from '../../cluster/membership.ts';
import { PartitionKeeper } from '../../cluster/partition-keeper.ts';
import { startTestNats, uniquePrefix, waitFor } from '../helpers/index.ts';

const nats = startTestNats(test);

test('partition keeper: a lease whose work cannot start (the log not caught up) is given back and taken again, not held with no work', async (t) => {
  const nc = await nats.connect(t);
  const prefix = uniquePrefix();
  const leases = await LeaseManager.open({ nc, bucket: leaseBucketName(prefix), holder: 'a', ttlMs: 3_000, renewEveryMs: 500 });
  const membership = await Membership.join({ nc, bucket: membershipBucketName(prefix), node: 'a', ttlMs: 3_000, heartbeatMs: 500 });
  const calls: string[] = [];
  let failures = 1;
  const keeper = new PartitionKeeper({
    leases,
    membership,
    partitions: 1,
    intervalMs: 200,
    hooks: {
      gained: async (key, epoch) => {
        calls.push(`gained ${key} ${epoch}`);
        if (key === 'partition-0' && failures-- > 0) throw new Error('the projection stands at entry 3 of 9');
      },
      releasing: async (key) => void calls.push(`releasing ${key}`),
      lost: (key) => void calls.push(`lost ${key}`),
    },
  });
  t.teardown(async () => {
    await keeper.stop({ release: true });
    await membership.close({ leave: true });
    await leases.close({ release: true });
  });
  await keeper.start();
  await waitFor(() => keeper.holds('partition-0'), 10_000, 50);
  const gained = calls.filter((c) => c.startsWith('gained partition-0'));
  t.is(gained.length, 2, calls.join(', '));
  // The first try's work was stopped and its lease released; the second try holds a newer epoch.
  t.true(calls.includes('releasing partition-0'), calls.join(', '));
  const epochs = gained.map((c) => Number(c.split(' ')[2]));
  t.true(epochs[1]! > epochs[0]!, calls.join(', '));
  t.deepEqual(keeper.partitions(), [0]);
  t.false(calls.some((c) => c.startsWith('lost')), calls.join(', '));
});
