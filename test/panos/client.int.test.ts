import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import {
  BadResponseError,
  DeviceNotConnectedError,
  DeviceUnreachableError,
  JobTimeoutError,
  PanosApiError,
  PanosAuthError,
  PanosClient,
  PanosJobFailedError,
  TransportError,
  authErrorXml,
  downloadEnqueuedXml,
  errorXml,
  escapeXml,
  expectJobOk,
  installEnqueuedXml,
  isMutatingCommand,
  jobXml,
  keygenXml,
  notConnectedXml,
  restartXml,
  systemInfoXml,
  type ApiCallRecord,
  type PanosClientOptions,
  type PanosJob,
} from '../../panos/index.ts';
import { closedPort, startScriptedServer, type ApiRequest, type Reply } from '../helpers/scripted-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { ERROR_17, RESTART_ERROR_FORM, firewall } from './samples.ts';

/** Base64 with `+`, `/` and `=`, so encoding mistakes show. */
const KEY = 'LUFRPT1+Zm9v/YmFy==';
const PASSWORD = 'S3cr3t&p@ss=word+';
const SERIAL = '007954000123451';

const SYSTEM_INFO = systemInfoXml(firewall({ bootedAt: Date.now() - 3_600_000 }), Date.now());
const answer = (req: ApiRequest): Reply => (cmdKind(req) === 'install' ? installEnqueuedXml(7) : SYSTEM_INFO);

function cmdKind(req: ApiRequest): string {
  const cmd = req.params['cmd'] ?? '';
  if (cmd.includes('<install>')) return 'install';
  if (cmd.includes('<download>')) return 'download';
  if (cmd.includes('<restart>')) return 'restart';
  if (cmd.includes('<jobs>')) return 'job';
  if (cmd.includes('<system><info')) return 'system-info';
  return req.params['type'] ?? 'unknown';
}

function client(host: string, options: Partial<PanosClientOptions> = {}): PanosClient {
  const c = new PanosClient({ host, protocol: 'http', apiKey: KEY, backoffBaseMs: 5, backoffMaxMs: 20, ...options });
  return c;
}

function job(overrides: Partial<PanosJob> = {}): PanosJob {
  const now = Date.now();
  return {
    id: 42,
    type: 'SWInstall',
    user: 'admin',
    enqueuedAt: now - 10_000,
    startedAt: now - 10_000,
    endsAt: now + 10_000,
    status: 'ACT',
    result: 'PEND',
    details: [],
    warnings: [],
    description: '',
    ...overrides,
  };
}

/** A `sleep` that only records the delays asked for (and can act on them), so backoff is visible and instant. */
function recordingSleep(onSleep: (ms: number, n: number) => void | Promise<void> = () => undefined) {
  const delays: number[] = [];
  const fn = async (ms: number) => {
    delays.push(ms);
    await onSleep(ms, delays.length);
  };
  return { delays, fn };
}

test('client: when calling an op then it POSTs a form to /api/ with type, cmd, target and the key last', async (t) => {
  const server = await startScriptedServer(t, () => SYSTEM_INFO);
  const c = client(server.host);
  t.teardown(() => c.close());

  const info = await c.systemInfo({ target: SERIAL });

  t.is(info.serial, SERIAL);
  t.is(info.swVersion, '10.1.3');
  const [req] = server.requests;
  t.is(req?.method, 'POST');
  t.is(req?.path, '/api/');
  t.is(req?.headers['content-type'], 'application/x-www-form-urlencoded');
  t.deepEqual(req?.order, ['type', 'cmd', 'target', 'key']);
  t.deepEqual(req?.params, { type: 'op', cmd: '<show><system><info/></system></show>', target: SERIAL, key: KEY });
  t.true(req?.rawBody.endsWith(`&key=${encodeURIComponent(KEY)}`));
});

test('client: when only a username and password are given then one keygen runs first and its key is used', async (t) => {
  const server = await startScriptedServer(t, (req) => {
    if (req.params['type'] === 'keygen') return keygenXml(KEY);
    return req.params['key'] === KEY ? SYSTEM_INFO : { status: 403, statusMessage: 'Invalid Credential', body: authErrorXml() };
  });
  const c = client(server.host, { apiKey: undefined, username: 'admin', password: PASSWORD });
  t.teardown(() => c.close());

  const infos = await Promise.all([c.systemInfo(), c.systemInfo(), c.systemInfo()]);

  t.deepEqual(
    infos.map((i) => i.serial),
    [SERIAL, SERIAL, SERIAL],
  );
  const keygens = server.requests.filter((r) => r.params['type'] === 'keygen');
  t.is(keygens.length, 1);
  t.deepEqual(keygens[0]?.params, { type: 'keygen', user: 'admin', password: PASSWORD });
});

test('client: when keygen is called explicitly then it returns the key', async (t) => {
  const server = await startScriptedServer(t, () => keygenXml(KEY));
  const c = client(server.host, { apiKey: undefined, username: 'admin', password: PASSWORD });
  t.teardown(() => c.close());

  t.is(await c.keygen(), KEY);
});

test('client: when the device answers HTTP 403 Invalid Credential then PanosAuthError and no retry', async (t) => {
  const server = await startScriptedServer(t, () => ({ status: 403, statusMessage: 'Invalid Credential', body: authErrorXml() }));
  const c = client(server.host);
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.systemInfo(), { instanceOf: PanosAuthError });

  t.is(err?.code, 'PANOS_AUTH');
  t.is(server.requests.length, 1);
});

test('client: when the body says code 403 with HTTP 200 then PanosAuthError', async (t) => {
  const server = await startScriptedServer(t, () => authErrorXml());
  const c = client(server.host);
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.systemInfo(), { instanceOf: PanosAuthError });

  t.is(err?.message, 'Invalid Credential');
});

test('client: when the device answers code 17 then PanosApiError with the code and lines', async (t) => {
  const server = await startScriptedServer(t, () => ERROR_17);
  const c = client(server.host);
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.op('<show><foo/></show>'), { instanceOf: PanosApiError });

  t.is(err?.panosCode, '17');
  t.deepEqual(err?.lines, [' show -> foo  is unexpected']);
  t.is(server.requests.length, 1);
});

test('client: when a target is not connected to Panorama then DeviceNotConnectedError', async (t) => {
  const server = await startScriptedServer(t, () => notConnectedXml(SERIAL));
  const c = client(server.host);
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.systemInfo({ target: SERIAL }), { instanceOf: DeviceNotConnectedError });

  t.true(err instanceof DeviceUnreachableError);
  t.is(err?.code, 'DEVICE_NOT_CONNECTED');
  t.is(err?.target, SERIAL);
  t.is(server.requests.length, 1);
});

test('client: when the answer is HTML, empty or garbage then BadResponseError', async (t) => {
  const bodies: Reply[] = [
    { body: '<html><body>Loading…</body></html>', contentType: 'text/html' },
    '',
    'Service Unavailable, try later',
  ];
  const server = await startScriptedServer(t, (req) => bodies[req.n - 1] ?? '');
  const c = client(server.host, { maxAttempts: 1 });
  t.teardown(() => c.close());

  const reasons: string[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const err = await t.throwsAsync(c.systemInfo(), { instanceOf: BadResponseError });
    reasons.push(err?.reason ?? '');
  }

  t.deepEqual(reasons, ['HTML instead of XML', 'an empty body', 'non-XML text "Service Unavailable, try later"']);
});

test('client: when a read meets refused, reset and HTTP 502 then it retries with exponential backoff and succeeds', async (t) => {
  const server = await startScriptedServer(t, (req) => (req.n === 1 ? 'reset' : req.n === 2 ? { status: 502, body: 'Bad Gateway' } : SYSTEM_INFO));
  await server.stop();
  const sleep = recordingSleep(async (_ms, n) => {
    if (n === 1) await server.start();
  });
  const records: ApiCallRecord[] = [];
  const c = client(server.host, { sleep: sleep.fn, random: () => 0.5, backoffBaseMs: 100, backoffMaxMs: 10_000, recorder: (r) => records.push(r) });
  t.teardown(() => c.close());

  const info = await c.systemInfo();

  t.is(info.serial, SERIAL);
  // equal jitter: ceiling/2 + random × ceiling/2, ceilings 100, 200, 400
  t.deepEqual(sleep.delays, [75, 150, 300]);
  t.is(server.requests.length, 3);
  t.deepEqual(
    records.map((r) => [r.attempt, r.outcome, r.httpStatus]),
    [
      [1, 'unreachable', undefined],
      [2, 'unreachable', undefined],
      [3, 'unreachable', 502],
      [4, 'ok', 200],
    ],
  );
});

test('client: when a read keeps being refused then it gives up after maxAttempts with reason refused', async (t) => {
  const port = await closedPort();
  const sleep = recordingSleep();
  const c = client(`127.0.0.1:${port}`, { maxAttempts: 3, sleep: sleep.fn });
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.systemInfo(), { instanceOf: TransportError });

  t.is(err?.reason, 'refused');
  t.false(err?.requestSent);
  t.is(err?.code, 'DEVICE_UNREACHABLE');
  t.is(sleep.delays.length, 2);
});

test('client: when a read answers HTML once then it is retried', async (t) => {
  const server = await startScriptedServer(t, (req) => (req.n === 1 ? { body: '<html></html>', contentType: 'text/html' } : SYSTEM_INFO));
  const c = client(server.host);
  t.teardown(() => c.close());

  const info = await c.systemInfo();

  t.is(info.serial, SERIAL);
  t.is(server.requests.length, 2);
});

test('client: when install is reset after sending then it is not retried and says the request was sent', async (t) => {
  const server = await startScriptedServer(t, () => 'reset');
  const sleep = recordingSleep();
  const c = client(server.host, { sleep: sleep.fn });
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.install('10.2.0'), { instanceOf: TransportError });

  t.is(err?.reason, 'reset');
  t.true(err?.requestSent);
  t.is(server.requests.length, 1);
  t.deepEqual(sleep.delays, []);
});

test('client: when download gets HTTP 500 or HTML then it is not retried', async (t) => {
  const server = await startScriptedServer(t, (req) => (req.n === 1 ? { status: 500, body: '' } : { body: '<html></html>', contentType: 'text/html' }));
  const c = client(server.host);
  t.teardown(() => c.close());

  const e5xx = await t.throwsAsync(c.download('10.2.0', { syncToPeer: true }), { instanceOf: TransportError });
  const eHtml = await t.throwsAsync(c.download('10.2.0', { syncToPeer: true }), { instanceOf: BadResponseError });

  t.is(e5xx?.reason, 'http-5xx');
  t.is(e5xx?.httpStatus, 500);
  t.is(eHtml?.reason, 'HTML instead of XML');
  t.is(server.requests.length, 2);
});

test('client: when a mutating command is refused then it is retried, since it cannot have arrived', async (t) => {
  const server = await startScriptedServer(t, (req) => installEnqueuedXml(req.n + 3452));
  await server.stop();
  const sleep = recordingSleep(async () => server.start());
  const c = client(server.host, { sleep: sleep.fn });
  t.teardown(() => c.close());

  const jobId = await c.install('10.2.0');

  t.is(jobId, 3453);
  t.is(sleep.delays.length, 1);
  t.is(server.requests[0]?.params['cmd'], '<request><system><software><install><version>10.2.0</version></install></software></system></request>');
});

test('client: when download is enqueued then it returns the job id and sends sync-to-peer', async (t) => {
  const server = await startScriptedServer(t, () => downloadEnqueuedXml(3448));
  const c = client(server.host);
  t.teardown(() => c.close());

  t.is(await c.download('10.2.0', { syncToPeer: true, target: SERIAL }), 3448);
  t.is(
    server.requests[0]?.params['cmd'],
    '<request><system><software><download><sync-to-peer>yes</sync-to-peer><version>10.2.0</version></download></software></system></request>',
  );
});

test('client: when restart is answered in either form then it is acknowledged', async (t) => {
  const server = await startScriptedServer(t, (req) => (req.n === 1 ? restartXml() : RESTART_ERROR_FORM));
  const c = client(server.host);
  t.teardown(() => c.close());

  const success = await c.restart();
  const errorForm = await c.restart();

  t.deepEqual(success, { acknowledged: true, text: 'Command succeeded with no output' });
  t.deepEqual(errorForm, { acknowledged: true, text: 'Command succeeded with no output' });
});

test('client: when restart drops the connection after sending then it is not acknowledged and not resent', async (t) => {
  const server = await startScriptedServer(t, () => 'reset');
  const c = client(server.host);
  t.teardown(() => c.close());

  const result = await c.restart({ target: SERIAL });

  t.deepEqual(result, { acknowledged: false });
  t.is(server.requests.length, 1);
  t.is(cmdKind(server.requests[0]!), 'restart');
});

test('client: when restart is refused with another error then it throws', async (t) => {
  const server = await startScriptedServer(t, () => errorXml(undefined, ['Another install is in progress']));
  const c = client(server.host);
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.restart(), { instanceOf: PanosApiError });

  t.deepEqual(err?.lines, ['Another install is in progress']);
});

test('client: when the device does not answer within the call timeout then reason timeout', async (t) => {
  const server = await startScriptedServer(t, () => 'hang');
  const c = client(server.host, { maxAttempts: 1 });
  t.teardown(() => c.close());
  const started = Date.now();

  const err = await t.throwsAsync(c.systemInfo({ timeoutMs: 600 }), { instanceOf: TransportError });

  t.is(err?.reason, 'timeout');
  t.is(server.requests.length, 1);
  t.true(err?.requestSent);
  t.true(Date.now() - started < 2_000);
});

test('client: when the default timeout is short then a hanging read is retried and then fails', async (t) => {
  const server = await startScriptedServer(t, () => 'hang');
  const records: ApiCallRecord[] = [];
  const c = client(server.host, { timeoutMs: 100, maxAttempts: 2, recorder: (r) => records.push(r) });
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.systemInfo(), { instanceOf: TransportError });

  t.is(err?.reason, 'timeout');
  t.deepEqual(
    records.map((r) => [r.attempt, r.outcome]),
    [
      [1, 'unreachable'],
      [2, 'unreachable'],
    ],
  );
});

test('client: when the signal aborts a call then it rejects with the abort reason and records it', async (t) => {
  const server = await startScriptedServer(t, () => 'hang');
  const records: ApiCallRecord[] = [];
  const c = client(server.host, { recorder: (r) => records.push(r) });
  t.teardown(() => c.close());
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('operator cancelled')), 50);

  const err = await t.throwsAsync(c.systemInfo({ signal: controller.signal }));

  t.is(err?.message, 'operator cancelled');
  t.deepEqual(
    records.map((r) => r.outcome),
    ['aborted'],
  );
});

test('client: when waiting for a job then ACT polls, a 403 and a reset are waited out until FIN', async (t) => {
  const replies: Reply[] = [
    jobXml(job({ status: 'ACT' }), Date.now()),
    { status: 403, statusMessage: 'Invalid Credential', body: authErrorXml() },
    'reset',
    jobXml(job({ status: 'ACT', endsAt: Date.now() + 1 }), Date.now()),
    jobXml(job({ status: 'FIN', result: 'OK', finishedAt: Date.now(), details: ['Software installed'] }), Date.now()),
  ];
  const server = await startScriptedServer(t, (req) => replies[req.n - 1] ?? 'hang');
  const c = client(server.host);
  t.teardown(() => c.close());
  const seen: string[] = [];

  const final = await c.waitForJob(42, { intervalMs: 5, timeoutMs: 5_000, onProgress: (j) => seen.push(j.status) });

  t.is(final.status, 'FIN');
  t.true(final.ok);
  t.is(expectJobOk(final), final);
  t.deepEqual(seen, ['ACT', 'ACT', 'FIN']);
  t.is(server.requests.length, 5);
});

test('client: when a job finishes FAIL then expectJobOk throws PanosJobFailedError with the details', async (t) => {
  const details = ['Failed to install 10.2.0 with the following errors.', 'The software manager is currently in use. Please try again later.'];
  const server = await startScriptedServer(t, () => jobXml(job({ status: 'FIN', result: 'FAIL', finishedAt: Date.now(), details }), Date.now()));
  const c = client(server.host);
  t.teardown(() => c.close());

  const final = await c.waitForJob(42, { intervalMs: 5, timeoutMs: 5_000 });
  const err = t.throws(() => expectJobOk(final), { instanceOf: PanosJobFailedError });

  t.deepEqual(err?.details, details);
  t.is(err?.jobId, '42');
});

test('client: when a job never finishes then waitForJob throws JobTimeoutError', async (t) => {
  const server = await startScriptedServer(t, () => jobXml(job({ status: 'ACT' }), Date.now()));
  // virtual time: each poll interval passes at once, whatever the load on the machine
  let clock = 0;
  const c = client(server.host, { now: () => clock, sleep: async (ms) => void (clock += ms) });
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.waitForJob(42, { intervalMs: 10_000, timeoutMs: 60_000 }), { instanceOf: JobTimeoutError });

  t.is(err?.code, 'JOB_TIMEOUT');
  t.is(err?.lastStatus, 'ACT');
  t.is(err?.elapsedMs, 60_000);
  t.is(server.requests.length, 6);
});

test('client: a wait for a job that began before a restart counts its timeout from when the job began, looks once even when past it, and says how long since', async (t) => {
  const server = await startScriptedServer(t, () => jobXml(job({ status: 'ACT' }), Date.now()));
  let clock = 0;
  const c = client(server.host, { now: () => clock, sleep: async (ms) => void (clock += ms) });
  t.teardown(() => c.close());
  // Began 50 s ago with a 10-minute timeout: 9 min 10 s are left, looked at every 60 s.
  const late = await t.throwsAsync(c.waitForJob(42, { intervalMs: 60_000, timeoutMs: 600_000, elapsedMs: 50_000 }), { instanceOf: JobTimeoutError });
  t.is(late?.elapsedMs, 600_000);
  t.is(server.requests.length, 10);
  // Began past its timeout: a short last window of looks (two intervals and a request's timeout), then the timeout.
  const before = server.requests.length;
  const past = await t.throwsAsync(c.waitForJob(42, { intervalMs: 5_000, timeoutMs: 60_000, elapsedMs: 900_000 }), { instanceOf: JobTimeoutError });
  t.true(server.requests.length - before >= 2, `${server.requests.length - before} looks`);
  t.true((past?.elapsedMs ?? 0) >= 900_000);
  t.true((past?.elapsedMs ?? 0) <= 900_000 + 10_000 + 30_000);
});

test('client: a late resumed wait whose first look meets a transient error still sees the job finished at the next look', async (t) => {
  let n = 0;
  const server = await startScriptedServer(t, () => (++n === 1 ? 'reset' : jobXml(job({ status: 'FIN', result: 'OK' }), Date.now())));
  let clock = 0;
  const c = client(server.host, { now: () => clock, sleep: async (ms) => void (clock += ms) });
  t.teardown(() => c.close());
  const done = await c.waitForJob(42, { intervalMs: 5_000, timeoutMs: 60_000, elapsedMs: 900_000 });
  t.is(done.status, 'FIN');
});

test('client: when the job id is unknown then waitForJob throws the API error at once', async (t) => {
  const server = await startScriptedServer(t, () => errorXml(undefined, ['job 42 not found']));
  const c = client(server.host);
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.waitForJob(42, { intervalMs: 5, timeoutMs: 5_000 }), { instanceOf: PanosApiError });

  t.deepEqual(err?.lines, ['job 42 not found']);
  t.is(server.requests.length, 1);
});

test('client: when requestsPerSecond is set then calls are spaced by the token bucket', async (t) => {
  const server = await startScriptedServer(t, () => SYSTEM_INFO);
  const records: ApiCallRecord[] = [];
  // virtual time, so the spacing is the bucket's alone: a wall clock also measures how late each call's
  // continuation ran on a loaded machine (CI once saw gaps of 44, 58, 68, 95 ms for 50 ms tokens)
  let clock = 1_000_000;
  const sleeps: number[] = [];
  // the clock moves in a later turn, after the call let go has stamped its record, as on an idle machine
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      sleeps.push(ms);
      setImmediate(() => {
        clock += ms;
        resolve();
      });
    });
  const c = client(server.host, { requestsPerSecond: 20, recorder: (r) => records.push(r), now: () => clock, sleep });
  t.teardown(() => c.close());

  await Promise.all([c.systemInfo(), c.systemInfo(), c.systemInfo(), c.systemInfo(), c.systemInfo()]);

  // `at` is stamped when a call leaves the bucket: one token at once, then one each 50 ms
  const at = records.map((r) => Date.parse(r.at)).sort((a, b) => a - b);
  t.deepEqual(
    at.map((a) => a - 1_000_000),
    [0, 50, 100, 150, 200],
  );
  t.deepEqual(sleeps, [50, 50, 50, 50]);
  t.is(server.requests.length, 5);
});

test('client: when calls succeed and fail then the recorder gets each one and no record, error or log holds a secret', async (t) => {
  const server = await startScriptedServer(t, (req) => {
    if (req.params['type'] === 'keygen') return keygenXml(KEY);
    switch (req.n) {
      case 2:
        return SYSTEM_INFO;
      case 3:
        // a device that echoes its parameters back must not leak them either
        return errorXml('17', [`Illegal value for key ${KEY} and ${PASSWORD}`]);
      case 4:
        return { status: 403, statusMessage: 'Invalid Credential', body: authErrorXml() };
      default:
        return 'reset';
    }
  });
  const records: ApiCallRecord[] = [];
  const logs: unknown[] = [];
  const logger = { debug: (o: object, m: string) => logs.push([o, m]), warn: (o: object, m: string) => logs.push([o, m]) };
  const c = client(server.host, { apiKey: undefined, username: 'admin', password: PASSWORD, recorder: (r) => records.push(r), logger, maxAttempts: 2 });
  t.teardown(() => c.close());

  const errors: unknown[] = [];
  await c.systemInfo({ target: SERIAL });
  for (const call of [() => c.op('<show><foo/></show>'), () => c.systemInfo(), () => c.systemInfo()]) {
    errors.push(await t.throwsAsync(call()));
  }

  t.deepEqual(
    records.map((r) => [r.type, r.attempt, r.outcome]),
    [
      ['keygen', 1, 'ok'],
      ['op', 1, 'ok'],
      ['op', 1, 'api-error'],
      ['op', 1, 'auth-error'],
      ['op', 1, 'unreachable'],
      ['op', 2, 'unreachable'],
    ],
  );
  t.is(records[0]?.response, '[redacted]');
  t.is(records[1]?.target, SERIAL);
  t.is(records[2]?.panosCode, '17');
  t.is(records[1]?.command, '<show><system><info/></system></show>');
  const text = JSON.stringify({ records, logs, errors: errors.map((e) => [String(e), (e as Error).stack, JSON.stringify(e), (e as Error).cause]) });
  for (const secret of [KEY, PASSWORD, encodeURIComponent(KEY), encodeURIComponent(PASSWORD), 'key=']) {
    t.false(text.includes(secret), `found ${secret}`);
  }
  t.true(text.includes('[redacted]'));
});

test('client: when a long answer holds a secret across the cut, or past it, then the record keeps 4,000 characters with neither the secret nor a prefix of it', async (t) => {
  // A device that echoes the key: once astride the 4,000th character, once a megabyte later.
  const filler = (n: number) => 'r'.repeat(n);
  const body = `<response status="success"><result>${filler(4000 - 36 - 5)}${KEY}${filler(1_000_000)}${KEY}</result></response>`;
  const server = await startScriptedServer(t, () => body);
  const records: ApiCallRecord[] = [];
  const c = client(server.host, { recorder: (r) => records.push(r) });
  t.teardown(() => c.close());
  await c.op('<show><routing><route/></routing></show>');
  const response = records[0]?.response ?? '';
  t.true(response.startsWith('<response status="success"><result>rrr'));
  t.is(response.indexOf('[more'), -1);
  t.regex(response, /…\[\d+ more\]$/);
  t.is(response.replace(/…\[\d+ more\]$/, '').length, 4000);
  for (let n = 4; n <= KEY.length; n++) t.false(response.includes(KEY.slice(0, n)), `a ${n}-character prefix of the key survived`);
});

test('client: when an answer echoes a secret early and again just past the cut, or XML-escaped, or as non-XML text, then no record, error or log holds it or a prefix of it', async (t) => {
  const prefix = '<response status="success"><result>';
  // Ten early copies shorten the scrubbed text, so a copy the window cut in half would slide inside the cut.
  const early = KEY.repeat(10);
  const at = 4000 + KEY.length - 5;
  const echoed = `${prefix}${early}${'r'.repeat(at - prefix.length - early.length)}${KEY}${'r'.repeat(1000)}</result></response>`;
  const escaped = errorXml('17', [`Illegal value for password ${PASSWORD}`]);
  const server = await startScriptedServer(t, (req) => {
    switch (req.n) {
      case 1:
        return echoed;
      case 2:
        return escaped;
      default:
        // A proxy that answers the form back as plain text.
        return `type=keygen&user=admin&password=${PASSWORD}&key=${KEY}`;
    }
  });
  t.true(escaped.includes(escapeXml(PASSWORD)) && escapeXml(PASSWORD) !== PASSWORD, 'the answer carries the password XML-escaped');
  const records: ApiCallRecord[] = [];
  const logs: unknown[] = [];
  const logger = { debug: (o: object, m: string) => logs.push([o, m]), warn: (o: object, m: string) => logs.push([o, m]) };
  const c = client(server.host, { username: 'admin', password: PASSWORD, recorder: (r) => records.push(r), logger, maxAttempts: 1 });
  t.teardown(() => c.close());
  await c.op('<show><routing><route/></routing></show>');
  const errors = [await t.throwsAsync(c.op('<show><foo/></show>')), await t.throwsAsync(c.systemInfo())];
  t.is(records.length, 3);
  t.regex(errors[1]!.message, /non-XML text/);
  const text = JSON.stringify({ records, logs, errors: errors.map((e) => [String(e), (e as Error).stack, JSON.stringify(e)]) });
  for (const secret of [KEY, PASSWORD]) {
    for (const form of [secret, escapeXml(secret), encodeURIComponent(secret)]) {
      for (let n = 5; n <= form.length; n++) t.false(text.includes(form.slice(0, n)), `a ${n}-character prefix of ${JSON.stringify(form)} survived`);
    }
  }
});

test('client: isMutatingCommand: when the command is a show or a check/info then it is a read', (t) => {
  t.false(isMutatingCommand('<show><system><info/></system></show>'));
  t.false(isMutatingCommand('<request><system><software><check/></software></system></request>'));
  t.false(isMutatingCommand('<request><content><upgrade><info></info></upgrade></content></request>'));
  t.true(isMutatingCommand('<request><restart><system/></restart></request>'));
  t.true(isMutatingCommand('<request><high-availability><state><suspend/></state></high-availability></request>'));
  t.true(isMutatingCommand('<debug><something/></debug>'));
});

// ---- TLS ----

interface Tls {
  key: string;
  cert: string;
  fingerprint: string;
}

let tlsMaterial: Promise<Tls> | undefined;
function selfSigned(): Promise<Tls> {
  tlsMaterial ??= generate([{ name: 'commonName', value: 'fw-lab' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  }).then((p) => ({ key: p.private, cert: p.cert, fingerprint: new X509Certificate(p.cert).fingerprint256 }));
  return tlsMaterial;
}

test('client: TLS: when the certificate is self-signed then default verification rejects it before sending anything', async (t) => {
  const tls = await selfSigned();
  const server = await startScriptedServer(t, answer, { tls });
  const c = new PanosClient({ host: server.host, apiKey: KEY });
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.systemInfo(), { instanceOf: TransportError });

  t.is(err?.reason, 'tls');
  t.true(err?.certificate);
  t.false(err?.requestSent);
  t.is(server.requests.length, 0);
});

test('client: TLS: when the pinned fingerprint matches then the self-signed certificate is accepted', async (t) => {
  const tls = await selfSigned();
  const server = await startScriptedServer(t, answer, { tls });
  const colon = new PanosClient({ host: server.host, apiKey: KEY, fingerprint: tls.fingerprint });
  const plain = new PanosClient({ host: server.host, apiKey: KEY, fingerprint: tls.fingerprint.replaceAll(':', '').toLowerCase() });
  t.teardown(() => (colon.close(), plain.close()));

  t.is((await colon.systemInfo()).serial, SERIAL);
  // install goes over a fresh (not pooled) connection: the pin is checked there too
  t.is(await plain.install('10.2.0'), 7);
  t.is(server.requests.length, 2);
});

test('client: TLS: when the pinned fingerprint does not match then the connection is rejected and the key never sent', async (t) => {
  const tls = await selfSigned();
  const server = await startScriptedServer(t, answer, { tls });
  const wrong = tls.fingerprint.replace(/^../, tls.fingerprint.startsWith('00') ? '11' : '00');
  const c = new PanosClient({ host: server.host, apiKey: KEY, fingerprint: wrong });
  t.teardown(() => c.close());

  const err = await t.throwsAsync(c.systemInfo(), { instanceOf: TransportError });

  t.is(err?.reason, 'tls');
  t.true(err?.certificate);
  t.is(server.requests.length, 0);
});

test('client: TLS: when insecure is set then a self-signed certificate is accepted', async (t) => {
  const tls = await selfSigned();
  const server = await startScriptedServer(t, answer, { tls });
  const c = new PanosClient({ host: server.host, apiKey: KEY, insecure: true });
  t.teardown(() => c.close());

  t.is((await c.systemInfo()).serial, SERIAL);
});

test('client: TLS: when caFile holds the signing certificate then it verifies', async (t) => {
  const tls = await selfSigned();
  const server = await startScriptedServer(t, answer, { tls });
  const caFile = join(tempDir(t), 'ca.pem');
  writeFileSync(caFile, tls.cert);
  const c = new PanosClient({ host: server.host, apiKey: KEY, caFile });
  t.teardown(() => c.close());

  t.is((await c.systemInfo()).serial, SERIAL);
});

test('client: when the options are contradictory or incomplete then the constructor refuses them', (t) => {
  t.throws(() => new PanosClient({ host: 'fw:443' }), { message: /apiKey/ });
  t.throws(() => new PanosClient({ host: 'https://fw/api/', apiKey: KEY }), { message: /not a URL/ });
  t.throws(() => new PanosClient({ host: 'fw:99999', apiKey: KEY }), { message: /port/ });
  t.throws(() => new PanosClient({ host: 'fw', apiKey: KEY, insecure: true, fingerprint: 'ab'.repeat(32) }), { message: /one of/ });
  t.throws(() => new PanosClient({ host: 'fw', apiKey: KEY, fingerprint: 'abcd' }), { message: /SHA-256/ });
});

test('client: when its call slots are all taken then a call with precedence is sent before the calls without it that waited longer, and a call slower than slowCallMs stops holding its slot', async (t) => {
  let releaseFirst: (r: Reply) => void = () => undefined;
  const server = await startScriptedServer(t, (req) => (req.n === 1 ? new Promise<Reply>((r) => (releaseFirst = r)) : SYSTEM_INFO));
  const c = client(server.host, { maxSockets: 8, callSlots: 1, slowCallMs: 60_000 });
  t.teardown(() => c.close());
  const first = c.systemInfo({ target: 'first' });
  while (server.requests.length < 1) await new Promise((r) => setTimeout(r, 5));
  const later = [c.systemInfo({ target: 'standalone-1' }), c.systemInfo({ target: 'standalone-2' }), c.systemInfo({ target: 'pair-member', precedence: true })];
  await new Promise((r) => setTimeout(r, 50));
  t.is(server.requests.length, 1, 'one slot: the others wait in the client, not on the wire');
  releaseFirst(SYSTEM_INFO);
  await Promise.all([first, ...later]);
  t.deepEqual(
    server.requests.map((r) => r.params['target']),
    ['first', 'pair-member', 'standalone-1', 'standalone-2'],
  );

  // A call that takes long (a firewall slow to answer through Panorama) gives its slot up after slowCallMs.
  const hung = await startScriptedServer(t, (req) => (req.n === 1 ? 'hang' : SYSTEM_INFO));
  const d = client(hung.host, { maxSockets: 8, callSlots: 1, slowCallMs: 100, timeoutMs: 600, maxAttempts: 1 });
  t.teardown(() => d.close());
  const stuck = d.systemInfo({ target: 'not-answering' });
  const answered = await d.systemInfo({ target: 'next' });
  t.is(answered.serial, firewall({ bootedAt: 0 }).serial);
  t.deepEqual(hung.requests.map((r) => r.params['target']), ['not-answering', 'next']);
  await t.throwsAsync(stuck, { instanceOf: TransportError });
});

test('client: with a rate limit, a call waiting for its turn keeps its slot, and a call with precedence that comes later takes the next slot and the next token', async (t) => {
  const server = await startScriptedServer(t, () => SYSTEM_INFO);
  // One call per 50 ms; two slots; a call on the wire for 30 ms counts as slow.
  const c = client(server.host, { maxSockets: 8, callSlots: 2, slowCallMs: 30, requestsPerSecond: 20 });
  t.teardown(() => c.close());
  const normal = Array.from({ length: 8 }, (_, i) => c.systemInfo({ target: `standalone-${i + 1}` }));
  while (server.requests.length < 4) await new Promise((r) => setTimeout(r, 5));
  const sentBefore = server.requests.length;
  const pair = c.systemInfo({ target: 'pair-member', precedence: true });
  await Promise.all([...normal, pair]);
  const order = server.requests.map((r) => r.params['target']);
  // Both slots are held by calls waiting for their turn: the pair's call takes the next slot that frees and
  // the next token, before the standalone call that waited for it, not after every standalone call (which
  // had let themselves in when a call's slow clock started at admission).
  t.true(order.indexOf('pair-member') <= sentBefore + 1, `${sentBefore} sent before it: ${order.join(' ')}`);
  t.is(order.at(-1), 'standalone-8', order.join(' '));
});
