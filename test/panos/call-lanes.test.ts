import test from 'ava';
import { CallLanes, TokenBucket } from '../../panos/call-lanes.ts';

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('call lanes: when every slot is taken then a call with precedence goes before the calls without it that waited longer, each lane in its order', async (t) => {
  const lanes = new CallLanes(2);
  const order: string[] = [];
  const held = [await lanes.enter(false), await lanes.enter(false)];
  const enter = (name: string, precedence: boolean) =>
    lanes.enter(precedence).then((slot) => {
      order.push(name);
      return slot;
    });
  const waiting = [enter('a', false), enter('b', false), enter('pair-1', true), enter('pair-2', true)];
  await tick();
  t.deepEqual(order, [], 'nobody gets in while both slots are taken');
  t.deepEqual(lanes.load, { active: 2, first: 2, rest: 2 });
  held[0]!.leave();
  await tick();
  t.deepEqual(order, ['pair-1']);
  held[1]!.leave();
  await tick();
  t.deepEqual(order, ['pair-1', 'pair-2']);
  for (const slot of await Promise.all(waiting.slice(2))) slot.leave();
  await tick();
  t.deepEqual(order, ['pair-1', 'pair-2', 'a', 'b']);
  for (const slot of await Promise.all(waiting.slice(0, 2))) slot.leave();
  t.deepEqual(lanes.load, { active: 0, first: 0, rest: 0 });
});

test('call lanes: when a waiting call is aborted then it rejects with the reason and gives up its place; a slot left twice counts once', async (t) => {
  const lanes = new CallLanes(1);
  const slot = await lanes.enter(false);
  const ac = new AbortController();
  const aborted = lanes.enter(true, ac.signal);
  const next = lanes.enter(false);
  ac.abort(new Error('job cancelled'));
  await t.throwsAsync(aborted, { message: 'job cancelled' });
  t.deepEqual(lanes.load, { active: 1, first: 0, rest: 1 });
  slot.leave();
  slot.leave();
  const nextSlot = await next;
  t.deepEqual(lanes.load, { active: 1, first: 0, rest: 0 }, 'the second leave of the same slot let nobody else in');
  nextSlot.leave();
  await t.throwsAsync(lanes.enter(false, AbortSignal.abort(new Error('already'))), { message: 'already' });
  t.deepEqual(lanes.load, { active: 0, first: 0, rest: 0 });
});

test('call lanes: when a call stays on the wire past slowMs after it was sent then its slot goes to the next call, and its own end later frees nothing more; one not sent yet (waiting for the rate limit) keeps its slot', async (t) => {
  const lanes = new CallLanes(1, 30);
  // The lanes' timers do not keep a process up (a client's sockets do): this test's does.
  const alive = setTimeout(() => undefined, 5000);
  t.teardown(() => clearTimeout(alive));

  const waitingForToken = await lanes.enter(false);
  let admitted = false;
  const next = lanes.enter(false).then((slot) => ((admitted = true), slot));
  await sleep(80);
  t.false(admitted, 'admitted but not sent: no slow clock yet');

  waitingForToken.sent();
  const nextSlot = await next;
  t.true(admitted, 'admitted once the first call had been on the wire for slowMs');
  t.deepEqual(lanes.load, { active: 1, first: 0, rest: 0 });
  waitingForToken.leave();
  t.deepEqual(lanes.load, { active: 1, first: 0, rest: 0 }, 'the slow call had given its slot up already');
  nextSlot.leave();
  t.deepEqual(lanes.load, { active: 0, first: 0, rest: 0 });
});

test('token bucket: calls go one token apart; a call with precedence takes the next token before the calls that waited longer; an aborted wait takes none', async (t) => {
  let clock = 0;
  // A clock that moves only when the bucket sleeps: every figure below is exact.
  const bucket = new TokenBucket(10, 1, () => clock, async (ms) => void (clock += ms));
  const went: string[] = [];
  const take = (name: string, precedence = false, signal?: AbortSignal) => bucket.take(precedence, signal).then(() => void went.push(name));
  const first = take('a');
  const ac = new AbortController();
  const aborted = bucket.take(false, ac.signal);
  const rest = [take('b'), take('c'), take('pair', true)];
  ac.abort(new Error('stopped'));
  await t.throwsAsync(aborted, { message: 'stopped' });
  await Promise.all([first, ...rest]);
  t.deepEqual(went, ['a', 'pair', 'b', 'c']);
  t.is(clock, 300, 'three waits of one token each (100 ms at 10 a second): the aborted call took none');
});
