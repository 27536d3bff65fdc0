import test from 'ava';
import { BUSY_CALLS_PER_SECOND, untilBusy } from '../../simulator/heap.ts';
import type { LocalSimulator, SimOpPayload } from '../../gateway/index.ts';

/** A simulator that answers with what it was asked, and a clock the test moves. */
function harness(): { sim: LocalSimulator; busy: () => number; clock: { now: number } } {
  let busyCalls = 0;
  const clock = { now: 0 };
  const inner: LocalSimulator = {
    owns: (serial) => serial === 'fw1',
    op: (serial, request) => ({ serial, cmd: request.cmd }),
    control: (serial, action) => ({ serial, action }),
  };
  const sim = untilBusy(inner, () => busyCalls++, () => clock.now);
  return { sim, busy: () => busyCalls, clock };
}

const op: SimOpPayload = { type: 'op', cmd: '<show><system><info/></system></show>' };

test('sim busy: when calls come a few a second then the idle settings stay, and every answer is passed through', (t) => {
  const { sim, busy, clock } = harness();
  // 20 calls a second for a minute: a daemon polling a few firewalls.
  for (let i = 0; i < 1_200; i++) {
    clock.now = i * 50;
    t.deepEqual(sim.op('fw1', op), { serial: 'fw1', cmd: op.cmd });
  }
  t.is(busy(), 0);
  t.true(sim.owns('fw1'));
  t.false(sim.owns('fw2'));
});

test('sim busy: when BUSY_CALLS_PER_SECOND calls come within one second then busy runs once, control actions counted', (t) => {
  const { sim, busy, clock } = harness();
  for (let i = 0; i < BUSY_CALLS_PER_SECOND - 1; i++) {
    clock.now = i * 5;
    if (i % 2) sim.op('fw1', op);
    else t.deepEqual(sim.control('fw1', 'reboot', {}), { serial: 'fw1', action: 'reboot' });
  }
  t.is(busy(), 0, 'one call short');
  sim.op('fw1', op);
  t.is(busy(), 1);
  for (let i = 0; i < 3 * BUSY_CALLS_PER_SECOND; i++) sim.op('fw1', op);
  t.is(busy(), 1, 'only once');
});

test('sim busy: when a second ends short of the limit then the count starts again', (t) => {
  const { sim, busy, clock } = harness();
  for (let i = 0; i < BUSY_CALLS_PER_SECOND - 1; i++) sim.op('fw1', op);
  clock.now = 1_000;
  for (let i = 0; i < BUSY_CALLS_PER_SECOND - 1; i++) sim.op('fw1', op);
  t.is(busy(), 0);
  sim.op('fw1', op);
  t.is(busy(), 1);
});
