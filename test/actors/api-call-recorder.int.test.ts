import test from 'ava';
import pino from 'pino';
import { API_CALL_RECORDED, API_CALLS_RECORDED, apiCallRecorder } from '../../actors/device-access.ts';
import { oneEventPerCall, RECORD_BATCH_MS } from '../../eventstore/call-batches.ts';
import type { ApiCallRecord } from '../../panos/client.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { logProblems, openTestStore, waitFor } from '../helpers/index.ts';

const call = (n: number): ApiCallRecord => ({ at: new Date(n * 1000).toISOString(), host: 'pano', target: `S${n}`, type: 'op', mutating: false, command: '<show><jobs><id>1</id></jobs></show>', durationMs: n, attempt: 1, outcome: 'ok' });

test('api call recorder: the calls of a few milliseconds go in one api.calls.recorded event, read back as one api.call.recorded per call, in order', async (t) => {
  const store = openTestStore(t);
  const appends: Array<readonly EventEnvelope[]> = [];
  store.onAppend((events) => appends.push(events));
  const recorder = apiCallRecorder(store, pino({ level: 'silent' }));
  recorder.record(call(1));
  await new Promise((r) => setImmediate(r));
  recorder.record(call(2));
  recorder.record(call(3));
  await waitFor(() => appends.length === 1);
  await new Promise((r) => setTimeout(r, RECORD_BATCH_MS * 3));
  recorder.record(call(4));
  await waitFor(() => appends.length === 2);
  const stored = store.readStream('api');
  t.deepEqual(stored.map((e) => e.type), [API_CALLS_RECORDED, API_CALLS_RECORDED]);
  t.deepEqual(stored.map((e) => (e.data as { calls: ApiCallRecord[] }).calls.length), [3, 1]);
  const calls = oneEventPerCall(stored);
  t.deepEqual(calls.map((e) => e.type), Array(4).fill(API_CALL_RECORDED));
  t.deepEqual(calls.map((e) => (e.data as ApiCallRecord).target), ['S1', 'S2', 'S3', 'S4']);
  // Each call keeps its own time, and the seq of the event that holds it.
  t.deepEqual(calls.map((e) => e.at), [1, 2, 3, 4].map((n) => new Date(n * 1000).toISOString()));
  t.deepEqual(calls.map((e) => e.seq), [1, 1, 1, 2]);
  t.deepEqual(logProblems(store), []);
});

test('api call recorder: close appends the calls still waiting for their batch, and takes none after', async (t) => {
  const store = openTestStore(t);
  const recorder = apiCallRecorder(store, pino({ level: 'silent' }));
  recorder.record(call(1));
  recorder.record(call(2));
  await recorder.close();
  // Appended by close itself, not by the batch's timer.
  t.deepEqual(oneEventPerCall(store.readStream('api')).map((e) => (e.data as ApiCallRecord).target), ['S1', 'S2']);
  recorder.record(call(3));
  await new Promise((r) => setTimeout(r, RECORD_BATCH_MS * 3));
  t.is(store.readStream('api').length, 1);
});
