import test from 'ava';
import { isCallBatch, oneEventPerCall } from '../../eventstore/call-batches.ts';

const ev = (type: string, data: unknown, at = '2026-12-05T10:00:00.000Z') => ({ gseq: 7, stream: 'api', seq: 3, type, at, data });

test('call batches: each batch, the daemon’s and the gateway’s, reads as one event per call with its own time; anything else passes unchanged', (t) => {
  const recorded = ev('api.calls.recorded', { calls: [{ at: '2026-12-05T09:59:59.100Z', command: 'a' }, { command: 'b' }] });
  const served = ev('api.calls.served', { calls: [{ at: '2026-12-05T09:59:58.000Z', requestId: 'r1' }] });
  const single = ev('api.call.recorded', { command: 'c' });
  const other = ev('job.step.started', { step: 'install' });
  const out = oneEventPerCall([recorded, served, single, other]);
  t.deepEqual(
    out.map((e) => [e.type, e.at, e.gseq, e.seq]),
    [
      ['api.call.recorded', '2026-12-05T09:59:59.100Z', 7, 3],
      // A call without its own time takes its batch's.
      ['api.call.recorded', '2026-12-05T10:00:00.000Z', 7, 3],
      ['api.call.served', '2026-12-05T09:59:58.000Z', 7, 3],
      ['api.call.recorded', '2026-12-05T10:00:00.000Z', 7, 3],
      ['job.step.started', '2026-12-05T10:00:00.000Z', 7, 3],
    ],
  );
  t.deepEqual(out[1]!.data, { command: 'b' });
  t.is(out[3], single);
  t.is(out[4], other);
});

test('call batches: a batch without a list of calls gives nothing, and a type named like an object property is not a batch', (t) => {
  t.deepEqual(oneEventPerCall([ev('api.calls.recorded', null), ev('api.calls.served', { calls: 'x' })]), []);
  for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    t.false(isCallBatch(type), type);
    const e = ev(type, { calls: [{ command: 'x' }] });
    t.deepEqual(oneEventPerCall([e]), [e]);
  }
  t.true(isCallBatch('api.calls.recorded'));
  t.true(isCallBatch('api.calls.served'));
});
