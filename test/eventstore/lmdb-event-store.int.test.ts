import test from 'ava';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { LmdbEventStore } from '../../eventstore/lmdb-event-store.ts';
import { ConcurrencyError, InvalidEventError, StoreClosedError } from '../../eventstore/errors.ts';
import type { EventEnvelope, Fold, NewEvent } from '../../eventstore/types.ts';
import { exited, logProblems, onLines, openTestStore, spawnTs, tempDir, waitFor } from '../helpers/index.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const AT = '2026-03-01T10:00:00.000Z';
const clock = (): number => T0;

const ev = (type: string, data: unknown = {}, extra: Partial<NewEvent> = {}): NewEvent => ({ type, data, ...extra });
const gseqs = (events: Iterable<EventEnvelope>): number[] => [...events].map((e) => e.gseq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('event store: when events are appended then append resolves with numbered envelopes and readStream returns them', async (t) => {
  const store = openTestStore(t, { now: clock });

  const first = await store.append('job:j1', [ev('job.submitted', { device: '0079' }), ev('job.step.started', { step: 1 })]);
  const other = await store.append('device:0079', [ev('device.download.started', { version: '10.1.0' }, { at: '2026-03-01T09:00:00.000Z' })]);
  const third = await store.append('job:j1', [ev('job.step.completed', { step: 1 })]);

  t.deepEqual(first, [
    { gseq: 1, stream: 'job:j1', seq: 1, type: 'job.submitted', at: AT, data: { device: '0079' } },
    { gseq: 2, stream: 'job:j1', seq: 2, type: 'job.step.started', at: AT, data: { step: 1 } },
  ]);
  t.deepEqual(other, [
    { gseq: 3, stream: 'device:0079', seq: 1, type: 'device.download.started', at: '2026-03-01T09:00:00.000Z', data: { version: '10.1.0' } },
  ]);
  t.deepEqual(third, [{ gseq: 4, stream: 'job:j1', seq: 3, type: 'job.step.completed', at: AT, data: { step: 1 } }]);
  t.deepEqual(store.readStream('job:j1'), [...first, ...third]);
  t.deepEqual(store.readStream('job:j1', { fromSeq: 2 }), [first[1], ...third]);
  t.deepEqual(store.readStream('job:j1', { toSeq: 2 }), first);
  t.deepEqual(store.readStream('job:j1', { fromSeq: 2, toSeq: 2 }), [first[1]]);
  t.deepEqual(store.readStream('device:0079'), other);
  t.deepEqual(store.readStream('job:unknown'), []);
});

test('event store: when reading all after a position then events come in gseq order, bounded by to and limit', async (t) => {
  const store = openTestStore(t, { now: clock });
  t.is(store.lastGseq(), 0);
  t.deepEqual([...store.readAll()], []);

  await store.append('job:a', [ev('job.submitted'), ev('job.step.started')]);
  await store.append('device:1', [ev('device.download.started')]);
  await store.append('api', [ev('api.call.recorded'), ev('api.call.recorded')]);

  t.is(store.lastGseq(), 5);
  t.deepEqual(gseqs(store.readAll()), [1, 2, 3, 4, 5]);
  t.deepEqual(gseqs(store.readAll({ after: 2 })), [3, 4, 5]);
  t.deepEqual(gseqs(store.readAll({ after: 1, to: 3 })), [2, 3]);
  t.deepEqual(gseqs(store.readAll({ limit: 2 })), [1, 2]);
  t.deepEqual(gseqs(store.readAll({ after: 5 })), []);
  t.deepEqual(
    [...store.readAll()].map((e) => `${e.stream}:${e.seq}`),
    ['job:a:1', 'job:a:2', 'device:1:1', 'api:1', 'api:2'],
  );
});

test('event store: when stream names share a prefix then streamHead and streamNames tell them apart', async (t) => {
  const store = openTestStore(t);
  await store.append('device:1', [ev('device.a'), ev('device.b')]);
  await store.append('device:10', [ev('device.a')]);
  await store.append('device:2', [ev('device.a'), ev('device.b'), ev('device.c')]);
  await store.append('devices', [ev('devices.counted')]);
  await store.append('job:a', [ev('job.submitted')]);
  await store.append('api', [ev('api.call.recorded')]);

  t.is(store.streamHead('device:1'), 2);
  t.is(store.streamHead('device:10'), 1);
  t.is(store.streamHead('device:2'), 3);
  t.is(store.streamHead('device:3'), 0);
  t.is(store.streamHead('device'), 0);
  t.deepEqual([...store.streamNames('device:')], ['device:1', 'device:10', 'device:2']);
  t.deepEqual([...store.streamNames('job:')], ['job:a']);
  t.deepEqual([...store.streamNames('sim:')], []);
  t.deepEqual([...store.streamNames()], ['api', 'device:1', 'device:10', 'device:2', 'devices', 'job:a']);
  t.deepEqual(
    store.readStream('device:1').map((e) => e.type),
    ['device.a', 'device.b'],
  );
});

test('event store: when a stream is folded then evolve sees only that stream, in seq order', async (t) => {
  const store = openTestStore(t);
  const progress: Fold<{ steps: string[]; lastSeq: number }> = {
    initialState: () => ({ steps: [], lastSeq: 0 }),
    evolve: (state, e) => ({ steps: [...state.steps, `${e.seq}:${e.type}`], lastSeq: e.seq }),
  };
  await store.append('job:a', [ev('job.submitted')]);
  await store.append('job:b', [ev('job.submitted')]);
  await store.append('job:a', [ev('job.step.started'), ev('job.step.completed')]);

  t.deepEqual(store.fold('job:a', progress), {
    steps: ['1:job.submitted', '2:job.step.started', '3:job.step.completed'],
    lastSeq: 3,
  });
  t.deepEqual(store.fold('job:b', progress), { steps: ['1:job.submitted'], lastSeq: 1 });
  t.deepEqual(store.fold('job:none', progress), { steps: [], lastSeq: 0 });
});

test('event store: when an append carries a snapshot then getSnapshot returns it with the seq and gseq of its last event', async (t) => {
  const store = openTestStore(t);
  t.is(store.getSnapshot('device:1'), undefined);

  await store.append('job:x', [ev('job.submitted')]);
  await store.append('device:1', [ev('device.download.started'), ev('device.download.completed')], {
    snapshot: { value: 'online', downloaded: ['10.1.0'] },
  });
  t.deepEqual(store.getSnapshot('device:1'), { seq: 2, gseq: 3, state: { value: 'online', downloaded: ['10.1.0'] } });

  const written = await store.append('device:1', [], { snapshot: { value: 'installing' }, expectedSeq: 2 });
  t.deepEqual(written, []);
  const snapshotOnly = store.getSnapshot<{ value: string }>('device:1');
  t.is(snapshotOnly?.seq, 2);
  t.deepEqual(snapshotOnly?.state, { value: 'installing' });

  await t.throwsAsync(store.append('device:1', [ev('device.install.started')], { expectedSeq: 1, snapshot: { value: 'stale' } }), {
    instanceOf: ConcurrencyError,
  });
  t.deepEqual(store.getSnapshot<{ value: string }>('device:1')?.state, { value: 'installing' });
  t.is(store.streamHead('device:1'), 2);
});

test('event store: when 500 appends run concurrently over many streams then each stream seq and the gseq are gapless', async (t) => {
  const store = openTestStore(t);
  const appends = range(0, 499).map((i) =>
    store.append(
      `device:${String(i % 40).padStart(4, '0')}`,
      range(1, 1 + (i % 3)).map((k) => ev('device.test.appended', { i, k })),
    ),
  );
  const results = await Promise.all(appends);
  const total = results.reduce((n, r) => n + r.length, 0);

  for (const batch of results) {
    // One append is one transaction: its events take consecutive positions.
    t.deepEqual(gseqs(batch), range(batch[0]!.gseq, batch[0]!.gseq + batch.length - 1));
  }
  t.deepEqual(gseqs(results.flat()).sort((a, b) => a - b), range(1, total));
  const byStream = new Map<string, number[]>();
  for (const e of results.flat()) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e.seq]);
  t.is(byStream.size, 40);
  for (const [stream, seqs] of byStream) {
    t.deepEqual(seqs.sort((a, b) => a - b), range(1, seqs.length), stream);
    t.is(store.streamHead(stream), seqs.length);
  }
  t.deepEqual([...store.readAll()], results.flat().sort((a, b) => a.gseq - b.gseq));
  t.deepEqual(logProblems(store), []);
});

test('event store: when expectedSeq does not match the head then append throws ConcurrencyError, writes nothing, and concurrent appends still land', async (t) => {
  const store = openTestStore(t);
  await store.append('job:a', [ev('job.submitted', { n: 'a1' })]);

  // Issued in one turn, so they share one group commit and run in this order.
  const settled = await Promise.allSettled([
    store.append('job:a', [ev('job.step.started', { n: 'a2' })], { expectedSeq: 1 }),
    store.append('job:a', [ev('job.step.started', { n: 'lost1' }), ev('job.step.completed', { n: 'lost2' })], {
      expectedSeq: 1,
      snapshot: { lost: true },
    }),
    store.append('job:b', [ev('job.submitted', { n: 'b1' })]),
    store.append('job:c', [ev('job.submitted', { n: 'lost3' })], { expectedSeq: 3 }),
    store.append('job:c', [ev('job.submitted', { n: 'c1' })], { expectedSeq: 0 }),
  ]);

  t.deepEqual(
    settled.map((s) => s.status),
    ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
  );
  const [, lost, , lostC] = settled;
  const error = lost?.status === 'rejected' ? (lost.reason as unknown) : undefined;
  t.true(error instanceof ConcurrencyError);
  t.like(error, { code: 'CONCURRENCY', stream: 'job:a', expected: 1, actual: 2, message: 'job:a: expected seq 1, found 2' });
  t.like(lostC?.status === 'rejected' ? lostC.reason : undefined, { stream: 'job:c', expected: 3, actual: 0 });

  t.deepEqual(
    [...store.readAll()].map((e) => [e.gseq, e.stream, e.seq, (e.data as { n: string }).n]),
    [
      [1, 'job:a', 1, 'a1'],
      [2, 'job:a', 2, 'a2'],
      [3, 'job:b', 1, 'b1'],
      [4, 'job:c', 1, 'c1'],
    ],
  );
  t.is(store.getSnapshot('job:a'), undefined);
  t.deepEqual(logProblems(store), []);
});

test('event store: appends made within the group-commit window, in different event turns, share one commit and keep their order', async (t) => {
  const path = tempDir(t);
  // A window that several event turns fit in even on a loaded machine (50 ms was not, with other tests running).
  const store = openTestStore(t, { path, groupCommitMs: 1000 });
  await store.append('job:a', [ev('job.submitted', { n: 'a1' })]);
  const txns = open({ path, noSubdir: false });
  const lastTxn = (): number => (txns.getStats() as { lastTxnId: number }).lastTxnId;
  const before = lastTxn();

  const heard: number[] = [];
  store.onAppend((events) => heard.push(...events.map((e) => e.gseq)));
  const pending: Array<Promise<EventEnvelope[]>> = [];
  for (const [stream, n] of [['job:b', 'b1'], ['job:a', 'a2'], ['job:c', 'c1'], ['job:a', 'a3']] as const) {
    pending.push(store.append(stream, [ev('job.step.started', { n })]));
    await new Promise((r) => setImmediate(r));
  }
  const stored = await Promise.all(pending);

  t.is(lastTxn() - before, 1, 'one commit for the four appends');
  t.deepEqual(
    stored.map(([e]) => [e?.gseq, e?.stream, e?.seq]),
    [
      [2, 'job:b', 1],
      [3, 'job:a', 2],
      [4, 'job:c', 1],
      [5, 'job:a', 3],
    ],
  );
  t.deepEqual(heard, [2, 3, 4, 5]);
  t.deepEqual(logProblems(store), []);
});

test('event store: an append still waiting for its group commit when the store closes is committed, and resolves', async (t) => {
  const path = tempDir(t);
  const first = LmdbEventStore.open({ path, now: clock, groupCommitMs: 60_000 });
  const waiting = first.append('job:a', [ev('job.submitted', { n: 'a1' })]);
  await first.close();
  t.deepEqual(
    (await waiting).map((e) => [e.gseq, e.seq]),
    [[1, 1]],
  );
  const second = openTestStore(t, { path, now: clock });
  t.deepEqual(
    second.readStream('job:a').map((e) => (e.data as { n: string }).n),
    ['a1'],
  );
});

test('event store: when a store is closed and reopened then it returns the same events and continues numbering', async (t) => {
  const path = tempDir(t);
  const first = LmdbEventStore.open({ path, now: clock });
  await first.append('job:a', [ev('job.submitted', { device: '0079' })]);
  await first.append('device:0079', [ev('device.download.started')], { snapshot: { value: 'downloading' } });
  await first.append('job:a', [ev('job.step.started', { nested: { list: [1, 'two', null, true] } })]);
  const before = [...first.readAll()];
  await first.close();
  await first.close();

  t.true(first.isClosed);
  t.throws(() => first.readStream('job:a'), { instanceOf: StoreClosedError });
  t.throws(() => first.lastGseq(), { instanceOf: StoreClosedError });
  await t.throwsAsync(first.append('job:a', [ev('job.step.completed')]), { instanceOf: StoreClosedError, code: 'STORE_CLOSED' });

  const second = openTestStore(t, { path, now: clock });
  t.deepEqual([...second.readAll()], before);
  t.deepEqual(second.getSnapshot('device:0079'), { seq: 1, gseq: 2, state: { value: 'downloading' } });
  const next = await second.append('job:a', [ev('job.step.completed')]);
  t.deepEqual(next.map((e) => [e.gseq, e.seq]), [[4, 3]]);
  t.deepEqual(logProblems(second), []);
});

test('event store: when the path is a directory name with a dot then the environment lives in that directory', async (t) => {
  const root = tempDir(t);
  const existing = join(root, 'existing.lmdb');
  mkdirSync(existing);
  const missing = join(root, 'nested', 'events.lmdb');

  for (const path of [existing, missing]) {
    const store = openTestStore(t, { path });
    const [stored] = await store.append('api', [ev('api.call.recorded')]);
    t.is(stored?.gseq, 1);
    t.true(statSync(path).isDirectory(), path);
    t.true(existsSync(join(path, 'data.mdb')), path);
  }
});

test('event store: when events carry runId and causationId then both are kept, and the store runId fills in a missing one', async (t) => {
  const withRun = openTestStore(t, { runId: 'run-1' });
  const stored = await withRun.append('job:a', [
    ev('job.submitted', {}, { causationId: 'cmd-1' }),
    ev('job.step.started', {}, { runId: 'run-2' }),
  ]);
  t.like(stored[0], { runId: 'run-1', causationId: 'cmd-1' });
  t.like(stored[1], { runId: 'run-2' });
  t.false('causationId' in stored[1]!);
  t.deepEqual(withRun.readStream('job:a'), stored);

  const withoutRun = openTestStore(t);
  const [plain] = await withoutRun.append('job:a', [ev('job.submitted')]);
  t.false('runId' in plain!);
  t.false('causationId' in plain!);
  t.deepEqual(withoutRun.readStream('job:a'), [plain]);
});

test('event store: when the stream name is invalid then append throws InvalidEventError and writes nothing', async (t) => {
  const store = openTestStore(t);
  const invalid = ['', 'a\u0000b', 'x'.repeat(401), 'device:a.b', 'device:a b', 'device:*', 'device:>', 'device:', ':0079', 'dev ice:1', 'device.x:1', 'device:\t1'];
  for (const stream of invalid) {
    await t.throwsAsync(store.append(stream, [ev('device.download.started')]), { instanceOf: InvalidEventError }, JSON.stringify(stream));
  }
  t.is(store.lastGseq(), 0);

  for (const stream of ['api', 'device:0079', 'job:4f3c-9a1b', 'sim:PA-VM_01', 'run:2026-03-01T10:00:00Z']) {
    const [stored] = await store.append(stream, [ev('x.happened')]);
    t.is(stored?.stream, stream);
  }
});

test('event store: when an event is not a typed plain-JSON fact then append throws InvalidEventError and writes nothing', async (t) => {
  const store = openTestStore(t);
  class Version {
    constructor(readonly v: string) {}
  }
  const bad: unknown[] = [
    { type: '', data: {} },
    { data: {} },
    { type: 'device.x' },
    { type: 'device.x', data: undefined },
    { type: 'device.x', data: { when: new Date(T0) } },
    { type: 'device.x', data: { big: 1n } },
    { type: 'device.x', data: { missing: undefined } },
    { type: 'device.x', data: { ratio: Number.NaN } },
    { type: 'device.x', data: [Number.POSITIVE_INFINITY] },
    { type: 'device.x', data: { fn: () => 1 } },
    { type: 'device.x', data: new Map([['a', 1]]) },
    { type: 'device.x', data: { v: new Version('10.1.0') } },
    { type: 'device.x', data: {}, at: 12 },
    { type: 'device..x', data: {} },
    { type: 'device.x.', data: {} },
    { type: 'device.x y', data: {} },
    { type: 'device.*', data: {} },
  ];
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  bad.push({ type: 'device.x', data: circular });
  for (const e of bad) {
    await t.throwsAsync(store.append('device:1', [ev('device.ok'), e as NewEvent]), { instanceOf: InvalidEventError });
  }
  t.is(store.lastGseq(), 0);
  // The error names where the bad value is.
  await t.throwsAsync(store.append('device:1', [{ type: 'device.x', data: { routes: [{ ok: 1 }, { at: new Date(T0) }] } }]), { message: /data\.routes\[1\]\.at is not plain JSON/ });
  await t.throwsAsync(store.append('device:1', [{ type: 'device.x', data: circular }]), { message: /data\.self is not plain JSON/ });

  // The same object twice, not inside itself, is plain JSON.
  const shared = { n: 1 };
  const [ok] = await store.append('device:1', [ev('device.ok', { a: [1, 'b', null, false, { c: -0.5 }], d: null, e: [shared, { shared }] })]);
  t.deepEqual(ok?.data, { a: [1, 'b', null, false, { c: -0.5 }], d: null, e: [{ n: 1 }, { shared: { n: 1 } }] });
});

test('event store: when appends resolve then onAppend listeners get durable events in gseq order, and nothing after unsubscribe', async (t) => {
  const path = tempDir(t);
  const store = openTestStore(t, { path });
  const reader = openTestStore(t, { path });
  const seen: number[] = [];
  const notYetReadable: number[] = [];
  const unsubscribe = store.onAppend((events) => {
    for (const e of events) {
      seen.push(e.gseq);
      const [found] = reader.readStream(e.stream, { fromSeq: e.seq, toSeq: e.seq });
      if (found?.gseq !== e.gseq) notYetReadable.push(e.gseq);
    }
  });

  const appends: Promise<EventEnvelope[]>[] = [];
  for (const i of range(0, 199)) {
    // A new turn every 20 appends, so several group commits are in flight at once.
    if (i % 20 === 0) await new Promise(setImmediate);
    appends.push(store.append(`job:${i % 17}`, range(0, i % 2).map(() => ev('job.step.started', { i }))));
  }
  const results = await Promise.all(appends);
  const total = results.flat().length;
  t.deepEqual(seen, range(1, total));
  t.deepEqual(notYetReadable, []);

  unsubscribe();
  await store.append('job:0', [ev('job.step.completed')]);
  t.is(seen.length, total);
});

test('event store: when an onAppend listener throws then the append still resolves and the other listeners still run', async (t) => {
  const errors: unknown[] = [];
  const store = openTestStore(t, { onListenerError: (err) => errors.push(err) });
  const seen: number[] = [];
  store.onAppend(() => {
    throw new Error('listener broke');
  });
  store.onAppend((events) => seen.push(...gseqs(events)));

  const stored = await store.append('job:a', [ev('job.submitted')]);
  t.deepEqual(gseqs(stored), [1]);
  t.deepEqual(seen, [1]);
  t.is(errors.length, 1);
  t.is((errors[0] as Error).message, 'listener broke');
});

test('event store: when tailing then existing events come first, then live ones from this store and from another instance on the same path, until aborted', async (t) => {
  const path = tempDir(t);
  const store = openTestStore(t, { path, pollMs: 20 });
  const other = openTestStore(t, { path, pollMs: 20 });
  await store.append('job:a', [ev('job.submitted'), ev('job.step.started'), ev('job.step.completed')]);

  const abort = new AbortController();
  const got: EventEnvelope[] = [];
  const consumer = (async () => {
    for await (const e of store.tail(1, abort.signal)) got.push(e);
  })();

  await waitFor(() => got.length === 2);
  t.deepEqual(gseqs(got), [2, 3]);

  await store.append('job:a', [ev('job.completed')]);
  await waitFor(() => got.length === 3);
  await other.append('device:9', [ev('device.version.changed', { to: '11.1.0' })]);
  await waitFor(() => got.length === 4);
  t.deepEqual(got.slice(2).map((e) => `${e.gseq}:${e.stream}:${e.type}`), ['4:job:a:job.completed', '5:device:9:device.version.changed']);

  abort.abort();
  await consumer;
  await store.append('job:a', [ev('job.archived')]);
  t.is(got.length, 4);
});

test('event store: when the store closes then a waiting tail ends', async (t) => {
  const path = tempDir(t);
  const store = LmdbEventStore.open({ path, pollMs: 60_000 });
  await store.append('api', [ev('api.call.recorded')]);
  const got: number[] = [];
  const consumer = (async () => {
    for await (const e of store.tail(0)) got.push(e.gseq);
  })();
  await waitFor(() => got.length === 1);
  await store.close();
  await consumer;
  t.deepEqual(got, [1]);
});

test('event store: when another process appends to a stream between two appends of this one then the next seq follows its events', async (t) => {
  const path = tempDir(t);
  const store = openTestStore(t, { path });
  // device:0000 is the fixture's first stream: one appender with one stream writes only there.
  await store.append('device:0000', [ev('device.test.appended')]);
  await store.append('device:0000', [ev('device.test.appended')], { expectedSeq: 1 });
  const child = spawnTs(t, 'test/fixtures/appender.ts', [path, '--writer', 'other', '--count', '1', '--appenders', '1', '--streams', '1']);
  t.deepEqual(await exited(child), { code: 0, signal: null });
  // The other process wrote seq 3 (and gseq 3): this store's head of the stream is stale and must not be used.
  await t.throwsAsync(store.append('device:0000', [ev('device.test.appended')], { expectedSeq: 2 }), { instanceOf: ConcurrencyError });
  const [stored] = await store.append('device:0000', [ev('device.test.appended')]);
  t.like(stored, { seq: 4, gseq: 4 });
  t.deepEqual(store.readStream('device:0000').map((e) => [e.seq, e.gseq, e.runId]), [
    [1, 1, undefined],
    [2, 2, undefined],
    [3, 3, 'run-other'],
    [4, 4, undefined],
  ]);
  t.deepEqual(logProblems(store), []);
});

test('event store: when two processes append to the same path concurrently then gseq and each stream seq stay gapless', async (t) => {
  const path = tempDir(t);
  const writers = ['a', 'b'].map((writer) => {
    const child = spawnTs(t, 'test/fixtures/appender.ts', [path, '--writer', writer, '--count', '3000', '--streams', '8', '--wait']);
    const acked = new Map<string, string>();
    let ready = false;
    onLines(child.stdout!, (line) => {
      if (line === 'ready') ready = true;
      else acked.set(line.slice(0, line.indexOf('\t')), line.slice(line.indexOf('\t') + 1));
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    return { child, acked, isReady: () => ready, stderr: () => stderr };
  });
  await waitFor(() => writers.every((w) => w.isReady()), 20_000);
  for (const w of writers) w.child.stdin!.end('go\n');

  const exits = await Promise.all(writers.map((w) => exited(w.child)));
  t.deepEqual(exits, [{ code: 0, signal: null }, { code: 0, signal: null }], writers.map((w) => w.stderr()).join('\n'));

  const store = openTestStore(t, { path });
  const all = [...store.readAll()];
  t.is(all.length, writers[0]!.acked.size + writers[1]!.acked.size);
  t.deepEqual(logProblems(store), []);
  for (const w of writers) {
    for (const [key, json] of w.acked) {
      const envelope = JSON.parse(json) as EventEnvelope;
      t.is(key, `${envelope.stream}:${envelope.seq}:${envelope.gseq}`);
      t.deepEqual(all[envelope.gseq - 1], envelope);
    }
  }
  // The two writers really interleaved: some stream holds events of both.
  const writersOf = new Map<string, Set<string>>();
  for (const e of all) writersOf.set(e.stream, (writersOf.get(e.stream) ?? new Set()).add((e.data as { writer: string }).writer));
  t.true([...writersOf.values()].some((w) => w.size === 2));
});
