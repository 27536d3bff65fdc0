import test from 'ava';
import { ProjectionMismatchError, type EventEnvelope, type LogEntry } from '../../eventstore/index.ts';
import { decodeEntry, encodeEntry } from '../../eventstore/replicated-log.ts';
import { openTestStore } from '../helpers/index.ts';

const at = '2026-12-04T16:00:00.000Z';
const entry = (stream: string, seq: number, types: string[], extra: Partial<LogEntry> = {}): LogEntry => ({
  v: 1,
  id: `${stream}:${seq}:${types.join('-')}`,
  stream,
  seq,
  events: types.map((type) => ({ type, data: { type }, at })),
  ...extra,
});

test('applyEntries: entries are applied in log order with gseq in that order; an entry that no longer continues its stream is void (null) and stores nothing', async (t) => {
  const store = openTestStore(t);
  const heard: EventEnvelope[] = [];
  store.onAppend((es) => heard.push(...es));
  const results = await store.applyEntries([
    { logSeq: 1, own: true, entry: entry('job:a', 1, ['job.submitted', 'job.started'], { epoch: 3 }) },
    { logSeq: 2, own: false, entry: entry('job:b', 1, ['job.submitted']) },
    // A second writer also wrote job:a's seq 3… and a third raced for seq 3 with the first writer: the first in log order wins.
    { logSeq: 3, own: false, entry: entry('job:a', 3, ['job.stepped']) },
    { logSeq: 4, own: true, entry: entry('job:a', 3, ['job.lost']) },
    { logSeq: 5, own: false, entry: entry('job:a', 1, ['job.stale']) },
  ]);
  t.deepEqual(results.map((r) => (r === null ? null : r.map((e) => [e.gseq, e.stream, e.seq, e.type]))), [
    [
      [1, 'job:a', 1, 'job.submitted'],
      [2, 'job:a', 2, 'job.started'],
    ],
    [[3, 'job:b', 1, 'job.submitted']],
    [[4, 'job:a', 3, 'job.stepped']],
    null,
    null,
  ]);
  t.is(store.readStream('job:a').at(0)?.epoch, 3);
  t.deepEqual(store.readStream('job:a').map((e) => e.type), ['job.submitted', 'job.started', 'job.stepped']);
  t.true(store.isVoidEntry(4));
  t.true(store.isVoidEntry(5));
  t.false(store.isVoidEntry(3));
  t.is(store.projectionPosition().logSeq, 5);
  t.is(store.streamLogSeq('job:a'), 5, 'the subject\'s last log entry, void or not: what the next writer must expect');
  t.is(store.streamLogSeq('job:b'), 2);
  t.deepEqual(heard.map((e) => e.type), ['job.submitted', 'job.started'], 'listeners hear own, stored events only');

  // Idempotent: the same entries again change nothing.
  const again = await store.applyEntries([{ logSeq: 3, own: false, entry: entry('job:a', 3, ['job.stepped']) }]);
  t.deepEqual(again, [[]]);
  t.is(store.lastGseq(), 4);
});

test('applyEntries: a gap in log sequences is refused and nothing is written', async (t) => {
  const store = openTestStore(t);
  await store.applyEntries([{ logSeq: 1, own: false, entry: entry('job:a', 1, ['job.submitted']) }]);
  await t.throwsAsync(store.applyEntries([{ logSeq: 3, own: false, entry: entry('job:a', 2, ['job.started']) }]), { instanceOf: ProjectionMismatchError, message: /skips from entry 1 to 3/ });
  t.is(store.lastGseq(), 1);
  t.is(store.projectionPosition().logSeq, 1);
});

test('log entries: encode/decode round trip; bytes that are not an entry are refused with the log position', (t) => {
  const e = entry('campaign:c', 4, ['campaign.wave'], { snapshot: { s: 1 }, epoch: 2, writer: 'd1' });
  t.deepEqual(decodeEntry(encodeEntry(e), 9), e);
  t.throws(() => decodeEntry(new TextEncoder().encode('nope'), 9), { instanceOf: ProjectionMismatchError, message: /log entry 9 is not JSON/ });
  t.throws(() => decodeEntry(new TextEncoder().encode('{"v":2}'), 10), { instanceOf: ProjectionMismatchError, message: /log entry 10 is not a panos-upgrade log entry/ });
});
