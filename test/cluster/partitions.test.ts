import test from 'ava';
import { allPartitions, fnv1a32, groupByPartition, partitionKey, partitionOf } from '../../cluster/partitions.ts';
import { rebalance } from '../../cluster/rebalance.ts';

const serials = (n: number): string[] => Array.from({ length: n }, (_, i) => `0079010${String(i).padStart(5, '0')}`);

test('fnv1a32: known vectors, so partitions never change between versions or machines', (t) => {
  t.is(fnv1a32(''), 0x811c9dc5);
  t.is(fnv1a32('a'), 0xe40c292c);
  t.is(fnv1a32('foobar'), 0xbf9cf968);
});

test('partitionOf: both peers of an HA pair, whichever is asked about, land in the same partition', (t) => {
  for (const [a, b] of [
    ['007901000001', '007901000002'],
    ['PA-B', 'PA-A'],
    ['X9', 'X10'],
  ] as const) {
    t.is(partitionKey({ serial: a, haPeer: b }), partitionKey({ serial: b, haPeer: a }));
    t.is(partitionOf({ serial: a, haPeer: b }, 32), partitionOf({ serial: b, haPeer: a }, 32));
  }
  t.is(partitionKey({ serial: 'B', haPeer: 'A' }), 'A');
  t.is(partitionKey({ serial: 'B', haPeer: null }), 'B');
});

test('partitionOf: a thousand serials spread over 32 partitions with no partition empty or more than twice the mean', (t) => {
  const groups = groupByPartition(serials(1000).map((serial) => ({ serial })), 32);
  t.is(groups.size, 32);
  const sizes = [...groups.values()].map((g) => g.length);
  t.is(sizes.reduce((a, b) => a + b, 0), 1000);
  t.true(Math.max(...sizes) <= 2 * (1000 / 32), `largest ${Math.max(...sizes)}`);
});

test('partitionOf: one partition holds everything; a bad count is refused with the range', (t) => {
  t.is(partitionOf({ serial: 'anything' }, 1), 0);
  t.throws(() => partitionOf({ serial: 'x' }, 0), { message: /from 1 to 1024 \(got 0\)/ });
  t.throws(() => allPartitions(2.5), { instanceOf: RangeError });
});

const owners = (entries: Array<[number, string]>): Map<number, string> => new Map(entries);
const heldBy = (plan: ReturnType<typeof rebalance>, m: string): number[] => plan.byMember.get(m)!.holds;

test('rebalance: nobody holds anything, three daemons share 32 partitions 11/11/10 and every partition has one owner', (t) => {
  const plan = rebalance(32, ['b', 'a', 'c'], new Map());
  t.is(plan.target.size, 32);
  t.deepEqual(['a', 'b', 'c'].map((m) => heldBy(plan, m).length), [11, 11, 10]);
  t.deepEqual(new Set(allPartitions(32).map((p) => plan.target.get(p))), new Set(['a', 'b', 'c']));
  t.deepEqual(plan.byMember.get('a')!.release, []);
  t.deepEqual(plan.byMember.get('a')!.acquire, heldBy(plan, 'a'));
});

test('rebalance: the same view gives the same plan whatever order the daemons are listed in', (t) => {
  const current = owners([[0, 'a'], [1, 'a'], [5, 'b']]);
  const one = rebalance(16, ['a', 'b', 'c'], current);
  const two = rebalance(16, ['c', 'b', 'a', 'a'], current);
  t.deepEqual([...one.target.entries()].sort(), [...two.target.entries()].sort());
});

test('rebalance: a balanced cluster is left as it is (no movement)', (t) => {
  const first = rebalance(32, ['a', 'b', 'c'], new Map());
  const again = rebalance(32, ['a', 'b', 'c'], first.target);
  t.deepEqual([...again.target.entries()].sort(), [...first.target.entries()].sort());
  for (const m of ['a', 'b', 'c']) {
    t.deepEqual(again.byMember.get(m)!.acquire, []);
    t.deepEqual(again.byMember.get(m)!.release, []);
  }
});

test('rebalance: a daemon joining takes a fair share, and only from those over their new share (minimal movement)', (t) => {
  const before = rebalance(32, ['a', 'b'], new Map()).target;
  const plan = rebalance(32, ['a', 'b', 'c'], before);
  t.deepEqual(['a', 'b', 'c'].map((m) => heldBy(plan, m).length).sort(), [10, 11, 11]);
  const moved = allPartitions(32).filter((p) => before.get(p) !== plan.target.get(p));
  // The newcomer's share is the least that must move; nothing moves between a and b.
  t.is(moved.length, heldBy(plan, 'c').length);
  t.true(moved.every((p) => plan.target.get(p) === 'c'));
  t.deepEqual([...plan.byMember.get('a')!.release, ...plan.byMember.get('b')!.release].sort((x, y) => x - y), moved);
  t.deepEqual(plan.byMember.get('c')!.acquire, moved);
});

test('rebalance: a daemon leaving (lease expired) has its partitions picked up by the others, and theirs stay put', (t) => {
  const before = rebalance(32, ['a', 'b', 'c'], new Map()).target;
  const plan = rebalance(32, ['a', 'c'], before);
  const bs = allPartitions(32).filter((p) => before.get(p) === 'b');
  t.deepEqual(plan.orphaned, bs);
  t.deepEqual(heldBy(plan, 'a').length + heldBy(plan, 'c').length, 32);
  t.deepEqual(['a', 'c'].map((m) => heldBy(plan, m).length), [16, 16]);
  for (const p of allPartitions(32)) if (before.get(p) !== 'b') t.is(plan.target.get(p), before.get(p), `partition ${p} stays`);
  t.deepEqual(plan.byMember.get('a')!.release, []);
  t.deepEqual([...plan.byMember.get('a')!.acquire, ...plan.byMember.get('c')!.acquire].sort((x, y) => x - y), bs);
});

test('rebalance: a lone daemon holds everything; with no daemon there is no plan; more daemons than partitions leaves some idle', (t) => {
  t.deepEqual(heldBy(rebalance(8, ['solo'], owners([[3, 'gone']])), 'solo'), allPartitions(8));
  t.is(rebalance(8, [], owners([[1, 'a']])).target.size, 0);
  const plan = rebalance(2, ['a', 'b', 'c'], new Map());
  t.deepEqual(['a', 'b', 'c'].map((m) => heldBy(plan, m).length).sort(), [0, 1, 1]);
});

test('rebalance: a daemon holding more than its share keeps its lowest partitions and releases the rest', (t) => {
  const plan = rebalance(4, ['a', 'b'], owners([[0, 'a'], [1, 'a'], [2, 'a'], [3, 'a']]));
  t.deepEqual(plan.byMember.get('a')!.keep, [0, 1]);
  t.deepEqual(plan.byMember.get('a')!.release, [2, 3]);
  t.deepEqual(plan.byMember.get('b')!.acquire, [2, 3]);
});
