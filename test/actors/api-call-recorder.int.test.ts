import test from 'ava';
import pino from 'pino';
import { apiCallRecorder } from '../../actors/device-access.ts';
import type { ApiCallRecord } from '../../panos/client.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { logProblems, openTestStore, waitFor } from '../helpers/index.ts';

const call = (n: number): ApiCallRecord => ({ at: new Date(0).toISOString(), host: 'pano', target: `S${n}`, type: 'op', mutating: false, command: '<show><jobs><id>1</id></jobs></show>', durationMs: n, attempt: 1, outcome: 'ok' });

test('api call recorder: the calls of one event-loop turn are appended together, in order, each a record of its own', async (t) => {
  const store = openTestStore(t);
  const appends: Array<readonly EventEnvelope[]> = [];
  store.onAppend((events) => appends.push(events));
  const record = apiCallRecorder(store, pino({ level: 'silent' }));
  for (let n = 1; n <= 3; n++) record(call(n));
  await waitFor(() => appends.length === 1);
  record(call(4));
  await waitFor(() => appends.length === 2);
  t.deepEqual(appends.map((a) => a.length), [3, 1]);
  const stored = store.readStream('api');
  t.deepEqual(stored.map((e) => (e.data as ApiCallRecord).target), ['S1', 'S2', 'S3', 'S4']);
  t.true(stored.every((e) => e.type === 'api.call.recorded'));
  t.deepEqual(logProblems(store), []);
});
