import test from 'ava';
import { crashListener, crashPointFromEnv } from '../../actors/crash-hook.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';

const on = { PANOS_UPGRADE_TEST_HOOKS: '1' };
const event = (type: string): EventEnvelope => ({ gseq: 1, stream: 'job:x', seq: 1, type, at: '', data: {} });

test('crash hook: without both test variables nothing is armed; a point is type and nth, SIGKILL by default', (t) => {
  t.is(crashPointFromEnv({ PANOS_UPGRADE_TEST_CRASH_AFTER: 'job.install.requested' }), undefined);
  t.is(crashPointFromEnv(on), undefined);
  t.deepEqual(crashPointFromEnv({ ...on, PANOS_UPGRADE_TEST_CRASH_AFTER: 'job.install.requested:2' }), { type: 'job.install.requested', nth: 2, signal: 'SIGKILL' });
});

test('crash hook: PANOS_UPGRADE_TEST_CRASH_SIGNAL=SIGSTOP freezes instead of killing; any other signal is refused', (t) => {
  t.deepEqual(crashPointFromEnv({ ...on, PANOS_UPGRADE_TEST_CRASH_AFTER: 'job.ha.peer.suspended', PANOS_UPGRADE_TEST_CRASH_SIGNAL: 'SIGSTOP' }), {
    type: 'job.ha.peer.suspended',
    nth: 1,
    signal: 'SIGSTOP',
  });
  t.throws(() => crashPointFromEnv({ ...on, PANOS_UPGRADE_TEST_CRASH_AFTER: 'job.x', PANOS_UPGRADE_TEST_CRASH_SIGNAL: 'SIGTERM' }), { message: /expected SIGKILL or SIGSTOP/ });
});

test('crash hook: the listener fires once, at the n-th event of the type', (t) => {
  let fired = 0;
  const listen = crashListener({ type: 'job.install.requested', nth: 2, signal: 'SIGSTOP' }, () => fired++);
  listen([event('job.install.requested'), event('job.install.enqueued')]);
  t.is(fired, 0);
  listen([event('job.install.requested')]);
  listen([event('job.install.requested')]);
  t.is(fired, 1);
});
