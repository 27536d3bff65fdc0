import test from 'ava';
import { Scheduler, type WorkUnit } from '../../actors/scheduler.ts';

/** A unit whose run the test finishes by hand, recording when it started. */
function unit(id: string, started: string[], devices: string[] = [id]) {
  let finish!: () => void;
  let fail!: (err: Error) => void;
  const u: WorkUnit = {
    id,
    devices,
    run: () => {
      started.push(id);
      return new Promise<void>((resolve, reject) => {
        finish = resolve;
        fail = reject;
      });
    },
  };
  return {
    unit: u,
    finish: () => finish(),
    fail: (err: Error) => fail(err),
  };
}

/** Let settled runs reach the scheduler (their `.finally` is a few microtasks away). */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

test('scheduler: when units are queued beyond the limit then they start in FIFO order as slots free up', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(1);
  const [a, b, c] = ['a', 'b', 'c'].map((id) => unit(id, started));
  for (const u of [a!, b!, c!]) s.enqueue(u.unit);
  t.deepEqual(started, ['a']);
  t.is(s.running, 1);
  t.is(s.waiting, 2);
  a!.finish();
  await tick();
  t.deepEqual(started, ['a', 'b']);
  b!.finish();
  await tick();
  t.deepEqual(started, ['a', 'b', 'c']);
  c!.finish();
  await tick();
  t.is(s.running, 0);
  t.is(s.waiting, 0);
});

test('scheduler: when the limit is 2 then two units run at once and the third waits for one of them', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(2);
  const units = ['a', 'b', 'c'].map((id) => unit(id, started));
  for (const u of units) s.enqueue(u.unit);
  t.deepEqual(started, ['a', 'b']);
  t.true(s.isQueued('c'));
  units[1]!.finish();
  await tick();
  t.deepEqual(started, ['a', 'b', 'c']);
  t.is(s.running, 2);
  t.false(s.isQueued('c'));
});

test('scheduler: when a unit fails then the queue goes on', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(1);
  const a = unit('a', started);
  const b = unit('b', started);
  s.enqueue(a.unit);
  s.enqueue(b.unit);
  a.fail(new Error('device unreachable'));
  await tick();
  t.deepEqual(started, ['a', 'b']);
  t.is(s.running, 1);
});

test('scheduler: when a unit is adopted then it runs at once, even over the limit, and counts against it', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(1);
  const running = unit('running', started);
  const adopted = unit('adopted', started);
  const queued = unit('queued', started);
  s.enqueue(running.unit);
  s.adopt(adopted.unit);
  s.enqueue(queued.unit);
  t.deepEqual(started, ['running', 'adopted']);
  t.is(s.running, 2);
  running.finish();
  await tick();
  t.deepEqual(started, ['running', 'adopted'], 'the adopted unit still holds the only slot');
  adopted.finish();
  await tick();
  t.deepEqual(started, ['running', 'adopted', 'queued']);
});

test('scheduler: when a queued unit is dequeued then it never runs, and a running or unknown one cannot be dequeued', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(1);
  const a = unit('a', started);
  const b = unit('b', started);
  s.enqueue(a.unit);
  s.enqueue(b.unit);
  t.true(s.dequeue('b'));
  t.false(s.isQueued('b'));
  t.false(s.dequeue('a'));
  t.false(s.dequeue('nope'));
  a.finish();
  await tick();
  t.deepEqual(started, ['a']);
});

test('scheduler: when the concurrency is raised then waiting units start, and it never goes below 1', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(1);
  const units = ['a', 'b', 'c'].map((id) => unit(id, started));
  for (const u of units) s.enqueue(u.unit);
  s.setConcurrency(3);
  t.is(s.concurrency, 3);
  t.deepEqual(started, ['a', 'b', 'c']);
  s.setConcurrency(0);
  t.is(s.concurrency, 1);
});

test('scheduler: when idle is awaited then it resolves once nothing runs and nothing waits', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(1);
  await s.idle();
  const a = unit('a', started);
  const b = unit('b', started);
  s.enqueue(a.unit);
  s.enqueue(b.unit);
  let idle = false;
  const waiting = s.idle().then(() => (idle = true));
  a.finish();
  await tick();
  t.false(idle);
  b.finish();
  await waiting;
  t.true(idle);
});

test('scheduler: when a queued unit is dequeued then idle does not wait for it', async (t) => {
  const started: string[] = [];
  const s = new Scheduler(1);
  const a = unit('a', started);
  const b = unit('b', started);
  s.enqueue(a.unit);
  s.enqueue(b.unit);
  const idle = s.idle();
  t.true(s.dequeue('b'));
  a.finish();
  await idle;
  t.deepEqual(started, ['a']);
  t.is(s.waiting, 0);
});
