import test from 'ava';
import { CallLanes } from '../../panos/call-lanes.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('call lanes: when every slot is taken then a call with precedence goes before the calls without it that waited longer, each lane in its order', async (t) => {
  const lanes = new CallLanes(2);
  const order: string[] = [];
  const held = [await lanes.enter(false), await lanes.enter(false)];
  const enter = (name: string, precedence: boolean) =>
    lanes.enter(precedence).then((leave) => {
      order.push(name);
      return leave;
    });
  const waiting = [enter('a', false), enter('b', false), enter('pair-1', true), enter('pair-2', true)];
  await tick();
  t.deepEqual(order, [], 'nobody gets in while both slots are taken');
  t.deepEqual(lanes.load, { active: 2, first: 2, rest: 2 });
  held[0]!();
  await tick();
  t.deepEqual(order, ['pair-1']);
  held[1]!();
  await tick();
  t.deepEqual(order, ['pair-1', 'pair-2']);
  for (const leave of await Promise.all(waiting.slice(2))) leave();
  await tick();
  t.deepEqual(order, ['pair-1', 'pair-2', 'a', 'b']);
  for (const leave of await Promise.all(waiting.slice(0, 2))) leave();
  t.deepEqual(lanes.load, { active: 0, first: 0, rest: 0 });
});

test('call lanes: when a waiting call is aborted then it rejects with the reason and gives up its place; a slot released twice counts once', async (t) => {
  const lanes = new CallLanes(1);
  const leave = await lanes.enter(false);
  const ac = new AbortController();
  const aborted = lanes.enter(true, ac.signal);
  const next = lanes.enter(false);
  ac.abort(new Error('job cancelled'));
  await t.throwsAsync(aborted, { message: 'job cancelled' });
  t.deepEqual(lanes.load, { active: 1, first: 0, rest: 1 });
  leave();
  leave();
  const leaveNext = await next;
  t.deepEqual(lanes.load, { active: 1, first: 0, rest: 0 }, 'the second release of the same slot let nobody else in');
  leaveNext();
  await t.throwsAsync(lanes.enter(false, AbortSignal.abort(new Error('already'))), { message: 'already' });
  t.deepEqual(lanes.load, { active: 0, first: 0, rest: 0 });
});

test('call lanes: when a call stays on the wire past slowMs then its slot goes to the next call, and its own end later frees nothing more', async (t) => {
  const lanes = new CallLanes(1, 30);
  // The lanes' timers do not keep a process up (a client's sockets do): this test's does.
  const alive = setTimeout(() => undefined, 5000);
  t.teardown(() => clearTimeout(alive));
  const slow = await lanes.enter(false);
  let admitted = false;
  const next = lanes.enter(false).then((leave) => ((admitted = true), leave));
  await tick();
  t.false(admitted);
  const leaveNext = await next;
  t.true(admitted, 'admitted once the first call was slow');
  t.deepEqual(lanes.load, { active: 1, first: 0, rest: 0 });
  slow();
  t.deepEqual(lanes.load, { active: 1, first: 0, rest: 0 }, 'the slow call had given its slot up already');
  leaveNext();
  t.deepEqual(lanes.load, { active: 0, first: 0, rest: 0 });
});
