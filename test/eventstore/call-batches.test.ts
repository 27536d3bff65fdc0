import test from 'ava';
import { busCopyOf, isCallBatch, oneEventPerCall } from '../../eventstore/call-batches.ts';

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

test('call batches: the bus copy of a batch leaves out each answer’s text and keeps every other field; the stored event is not changed, and other events go as they are', (t) => {
  const answer = '<response status="success"><result><system><hostname>fw-1</hostname></system></result></response>';
  const served = ev('api.calls.served', {
    calls: [
      { requestId: 'r1', command: '<show><system><info/></system></show>', response: answer, responseBytes: answer.length, outcome: 'answered' },
      { requestId: 'r2', command: null, response: null, responseBytes: 0, outcome: 'dropped' },
    ],
  });
  const recorded = ev('api.calls.recorded', { calls: [{ command: 'show jobs all', response: '<response status="success"/>', outcome: 'ok' }, 'not a record'] });
  const stored = JSON.stringify([served, recorded]);

  t.deepEqual(JSON.parse(JSON.stringify(busCopyOf(served))), {
    ...served,
    data: {
      calls: [
        { requestId: 'r1', command: '<show><system><info/></system></show>', responseBytes: answer.length, outcome: 'answered' },
        { requestId: 'r2', command: null, responseBytes: 0, outcome: 'dropped' },
      ],
    },
  });
  t.deepEqual(JSON.parse(JSON.stringify(busCopyOf(recorded))).data, { calls: [{ command: 'show jobs all', outcome: 'ok' }, 'not a record'] });
  t.is(JSON.stringify([served, recorded]), stored);

  const other = ev('job.step.started', { step: 'install', response: 'kept' });
  const single = ev('api.call.served', { response: answer });
  const malformed = ev('api.calls.served', { calls: 'x' });
  for (const e of [other, single, malformed]) t.is(busCopyOf(e), e);
});
