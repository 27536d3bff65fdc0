import test from 'ava';
import { createLogger } from '../../cli/logger.ts';
import { API_CALL_SERVED, API_CALLS_SERVED, API_STREAM, ApiRecorder, MAX_BATCH_TEXT, MAX_RECORD_BATCH, oneEventPerCall, type ApiCallRecord, type ServedCallsRecord } from '../../gateway/api-recorder.ts';
import { logProblems, openTestStore, servedCallEvents, waitFor } from '../helpers/index.ts';

const log = createLogger({ level: 'silent' });

function call(i: number): ApiCallRecord {
  return {
    requestId: `req-${i}`,
    via: 'panorama',
    address: '127.0.0.1',
    target: null,
    type: 'op',
    command: '<show><clock/></show>',
    httpStatus: 200,
    panosStatus: 'success',
    panosCode: null,
    durationMs: 0.5,
    response: '<response status="success"/>',
    responseBytes: 29,
    outcome: 'answered',
  };
}

const recorded = (store: ReturnType<typeof openTestStore>): string[] =>
  servedCallEvents(store).map((e) => (e.data as ApiCallRecord).requestId);
/** How many calls each `api.calls.served` event holds, in log order. */
const batches = (store: ReturnType<typeof openTestStore>): number[] =>
  store.readStream(API_STREAM).filter((e) => e.type === API_CALLS_SERVED).map((e) => (e.data as ServedCallsRecord).calls.length);

test('api recorder: when many calls are answered in one turn then their records are appended together, in order, at most a batch at a time, one event per batch', async (t) => {
  const store = openTestStore(t);
  const appends: number[] = [];
  store.onAppend((events) => appends.push(events.length));
  const recorder = new ApiRecorder(store, log);
  const n = 2 * MAX_RECORD_BATCH + 88;
  for (let i = 0; i < n; i++) recorder.record(call(i));
  t.deepEqual(appends, [], 'nothing is appended while the turn runs');
  await new Promise((r) => setImmediate(r));
  await recorder.close();
  t.deepEqual(appends, [1, 1, 1], 'one event per append');
  t.deepEqual(batches(store), [MAX_RECORD_BATCH, MAX_RECORD_BATCH, 88]);
  t.deepEqual(recorded(store), Array.from({ length: n }, (_, i) => `req-${i}`));
  t.deepEqual(logProblems(store), []);
});

test('api recorder: when calls arrive in separate turns then each turn\'s records are appended soon after it', async (t) => {
  const store = openTestStore(t);
  const recorder = new ApiRecorder(store, log);
  recorder.record(call(1));
  recorder.record(call(2));
  t.deepEqual(await waitFor(() => (recorded(store).length > 0 ? recorded(store) : undefined)), ['req-1', 'req-2']);
  recorder.record(call(3));
  t.deepEqual(await waitFor(() => (recorded(store).length > 2 ? recorded(store) : undefined)), ['req-1', 'req-2', 'req-3']);
  await recorder.close();
  t.deepEqual(batches(store), [2, 1]);
});

test('api recorder: when the gateway stops gracefully then the records still waiting for their batch are appended before close resolves, and later ones are not', async (t) => {
  const store = openTestStore(t);
  const recorder = new ApiRecorder(store, log);
  for (let i = 0; i < 10; i++) recorder.record(call(i));
  await recorder.close();
  t.is(recorded(store).length, 10, 'close appended the batch it had not flushed yet');
  recorder.record(call(99));
  await new Promise((r) => setTimeout(r, 20));
  t.false(recorded(store).includes('req-99'));
});

test('api recorder: written() appends the waiting batch at once and resolves when every record made so far is in the log; the recorder goes on after it', async (t) => {
  const store = openTestStore(t);
  const recorder = new ApiRecorder(store, log);
  recorder.record(call(1));
  recorder.record(call(2));
  t.deepEqual(recorded(store), [], 'still waiting for its batch');
  await recorder.written();
  t.deepEqual(recorded(store), ['req-1', 'req-2']);
  recorder.record(call(3));
  await recorder.written();
  t.deepEqual(recorded(store), ['req-1', 'req-2', 'req-3']);
  await recorder.written();
  await recorder.close();
  t.deepEqual(logProblems(store), []);
});

test('api recorder: when the answers are large then a batch closes at about MAX_BATCH_TEXT bytes, so that each event fits a NATS message and stays an ordinary heap object (under 128 KB of JSON)', async (t) => {
  const store = openTestStore(t);
  const sizes: number[] = [];
  store.onAppend((events) => sizes.push(...events.map((e) => Buffer.byteLength(JSON.stringify(e)))));
  const recorder = new ApiRecorder(store, log);
  const big = (i: number): ApiCallRecord => ({ ...call(i), command: `<show>${'c'.repeat(1990)}</show>`, response: 'r'.repeat(2000) });
  for (let i = 0; i < 200; i++) recorder.record(big(i));
  await recorder.close();
  const perEvent = batches(store);
  t.true(perEvent.length >= 3, `200 calls of 4 KB split into ${perEvent.length} events`);
  t.is(perEvent.reduce((a, b) => a + b, 0), 200);
  t.true(Math.max(...sizes) < MAX_BATCH_TEXT + 8 * 1024, `largest event ${Math.max(...sizes)} bytes as JSON`);
  t.true(Math.max(...sizes) < 128 * 1024, `largest event ${Math.max(...sizes)} bytes as JSON`);
  t.deepEqual(recorded(store), Array.from({ length: 200 }, (_, i) => `req-${i}`));
});

test('api recorder: oneEventPerCall gives one api.call.served per call, with its own time, from batches and from the single events of older logs alike', (t) => {
  const single = { gseq: 1, stream: 'api', seq: 1, type: API_CALL_SERVED, at: '2026-01-01T00:00:00.000Z', data: call(1) };
  const batch = {
    gseq: 2,
    stream: 'api',
    seq: 2,
    type: API_CALLS_SERVED,
    at: '2026-01-01T00:00:01.000Z',
    data: { calls: [{ ...call(2), at: '2026-01-01T00:00:00.990Z' }, { ...call(3), at: '2026-01-01T00:00:00.995Z' }] },
  };
  const other = { gseq: 3, stream: 'job:j1', seq: 1, type: 'job.submitted', at: '2026-01-01T00:00:02.000Z', data: {} };
  const out = oneEventPerCall([single, batch, other]);
  t.deepEqual(
    out.map((e) => [e.gseq, e.type, e.at, (e.data as { requestId?: string }).requestId]),
    [
      [1, API_CALL_SERVED, '2026-01-01T00:00:00.000Z', 'req-1'],
      [2, API_CALL_SERVED, '2026-01-01T00:00:00.990Z', 'req-2'],
      [2, API_CALL_SERVED, '2026-01-01T00:00:00.995Z', 'req-3'],
      [3, 'job.submitted', '2026-01-01T00:00:02.000Z', undefined],
    ],
  );
});

test('api recorder: recent() gives the newest calls first across batches, as many as asked', async (t) => {
  const store = openTestStore(t);
  const recorder = new ApiRecorder(store, log);
  for (let turn = 0; turn < 5; turn++) {
    for (let i = 0; i < 30; i++) recorder.record(call(turn * 30 + i));
    await recorder.written();
  }
  t.is(batches(store).length, 5);
  t.deepEqual(
    recorder.recent(40).map((c) => c.requestId),
    Array.from({ length: 40 }, (_, i) => `req-${149 - i}`),
  );
  t.is(recorder.recent(1000).length, 150);
  await recorder.close();
});
