import test from 'ava';
import { createLogger } from '../../cli/logger.ts';
import { API_CALL_SERVED, API_STREAM, ApiRecorder, MAX_RECORD_BATCH, type ApiCallRecord } from '../../gateway/api-recorder.ts';
import { logProblems, openTestStore, waitFor } from '../helpers/index.ts';

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
  store.readStream(API_STREAM).filter((e) => e.type === API_CALL_SERVED).map((e) => (e.data as ApiCallRecord).requestId);

test('api recorder: when many calls are answered in one turn then their records are appended together, in order, at most a batch at a time', async (t) => {
  const store = openTestStore(t);
  const appends: number[] = [];
  store.onAppend((events) => appends.push(events.length));
  const recorder = new ApiRecorder(store, log);
  const n = 2 * MAX_RECORD_BATCH + 88;
  for (let i = 0; i < n; i++) recorder.record(call(i));
  t.deepEqual(appends, [], 'nothing is appended while the turn runs');
  await new Promise((r) => setImmediate(r));
  await recorder.close();
  t.deepEqual(appends, [MAX_RECORD_BATCH, MAX_RECORD_BATCH, 88]);
  t.deepEqual(recorded(store), Array.from({ length: n }, (_, i) => `req-${i}`));
  t.deepEqual(logProblems(store), []);
});

test('api recorder: when calls arrive in separate turns then each turn\'s records are appended soon after it', async (t) => {
  const store = openTestStore(t);
  const appends: number[] = [];
  store.onAppend((events) => appends.push(events.length));
  const recorder = new ApiRecorder(store, log);
  recorder.record(call(1));
  recorder.record(call(2));
  t.deepEqual(await waitFor(() => (recorded(store).length > 0 ? recorded(store) : undefined)), ['req-1', 'req-2']);
  recorder.record(call(3));
  t.deepEqual(await waitFor(() => (recorded(store).length > 2 ? recorded(store) : undefined)), ['req-1', 'req-2', 'req-3']);
  await recorder.close();
  t.deepEqual(appends, [2, 1]);
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
