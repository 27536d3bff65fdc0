import test from 'ava';
import { createActor, createMachine } from 'xstate';
import { MAX_TIMER_MS, deadlineEffect, type DeadlineClock } from '../../machines/effects.ts';
import { NEVER } from '../../machines/firewall.logic.ts';

/** A clock whose timers run only when the test says so; it records each delay asked for. */
function manualClock(start: number) {
  let now = start;
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const clock: DeadlineClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const timer = { fn, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (id) => {
      (id as { cleared: boolean }).cleared = true;
    },
  };
  /** Let time pass to the first pending timer and run it. */
  const fire = (): void => {
    const timer = timers.find((x) => !x.cleared);
    if (!timer) throw new Error('no timer pending');
    timer.cleared = true;
    now += timer.ms;
    timer.fn();
  };
  return { clock, timers, fire };
}

function host(clock: DeadlineClock, at: number) {
  const received: string[] = [];
  const machine = createMachine({ invoke: { src: 'deadline', input: { at } }, on: { 'deadline.reached': { actions: () => received.push('reached') } } }).provide({
    actors: { deadline: deadlineEffect(clock) },
  });
  createActor(machine).start();
  return received;
}

test('deadline: when the deadline is further than setTimeout can wait then it is waited for in steps and never fires early', (t) => {
  // Node runs a timer over 2^31-1 ms after 1 ms: a stalled download (NEVER) would finish at once.
  const { clock, timers, fire } = manualClock(1_000);
  const received = host(clock, NEVER);
  t.true(timers.every((x) => x.ms <= MAX_TIMER_MS));
  fire();
  fire();
  t.deepEqual(received, []);
  t.true(timers.every((x) => x.ms <= MAX_TIMER_MS));
});

test('deadline: when the deadline is a little over the timer limit away then it fires once, on time', (t) => {
  const { clock, timers, fire } = manualClock(0);
  const received = host(clock, MAX_TIMER_MS + 5);
  fire();
  t.deepEqual(received, []);
  fire();
  t.deepEqual(received, ['reached']);
  t.deepEqual(
    timers.map((x) => x.ms),
    [MAX_TIMER_MS, 5],
  );
});
