import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import { connectBus, connectNats } from '../../bus/connect.ts';
import { BusError, InvalidTokenError, NoResponderError, RemoteError, RequestTimeoutError } from '../../bus/errors.ts';
import { eventPublisher, type EventPublisherOptions, type PublishableEvent } from '../../bus/event-publisher.ts';
import { guardedCommand, startNatsServer, type NatsServerHandle, type NatsServerOptions } from '../../bus/nats-server.ts';
import { requestJson, serveJson } from '../../bus/rpc.ts';
import { Subjects } from '../../bus/subjects.ts';
import { ensureEventStream, eventStreamName } from '../../bus/event-stream.ts';
import { busCopyOf } from '../../eventstore/call-batches.ts';
import { busCopy } from '../../actors/bus-copy.ts';
import { ConcurrencyError } from '../../eventstore/errors.ts';
import type { EventEnvelope } from '../../eventstore/types.ts';
import type { LmdbEventStore } from '../../eventstore/lmdb-event-store.ts';
import { openTestStore, startTestNats, tempDir, uniquePrefix, waitFor } from '../helpers/index.ts';

// connectBus falls back to NATS_URL; this file decides for itself which server each test uses.
delete process.env.NATS_URL;

const nats = startTestNats(test);

/** A server of the test's own (for stop/restart), stopped in teardown. */
async function ownServer(t: ExecutionContext, options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const server = await startNatsServer(options);
  t.teardown(() => server.stop());
  return server;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('nats server: when started then it listens on a free loopback port with JetStream on', async (t) => {
  t.regex(nats.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  t.is(nats.url, `nats://127.0.0.1:${nats.server.port}`);
  t.not(nats.server.port, 4222);
  t.true(nats.server.port > 0);

  const nc = await nats.connect(t);
  const prefix = uniquePrefix();
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.add({ name: `EVT_${prefix.replace(/-/g, '_')}`, subjects: [`${prefix}.evt.>`] });
  t.is(info.config.name, `EVT_${prefix.replace(/-/g, '_')}`);
  const ack = await jetstream(nc).publish(`${prefix}.evt.api.-.call.recorded`, '{}');
  t.is(ack.seq, 1);
  t.is(ack.stream, info.config.name);
});

test('nats server: when stopped then its process has ended and its temp store dir is gone', async (t) => {
  const server = await startNatsServer();
  const pid = server.pid!;
  t.true(isRunning(pid));
  t.true(existsSync(server.storeDir));

  await server.stop();
  t.false(isRunning(pid));
  t.false(existsSync(server.storeDir));
  t.is(server.pid, undefined);
});

test('nats server: when given a store dir then stop leaves it in place', async (t) => {
  const storeDir = join(tempDir(t), 'js');
  const server = await startNatsServer({ storeDir });
  t.is(server.storeDir, storeDir);
  await server.stop();
  t.true(existsSync(storeDir));
});

test('nats server: when restarted then it is back on the same port and a connectNats client reconnects by itself', async (t) => {
  const server = await ownServer(t);
  const { port, url } = server;
  const firstPid = server.pid;
  const nc = await connectNats(url, 'restart-test');
  t.teardown(() => nc.close());
  const subject = `${uniquePrefix()}.cmd.ping`;
  serveJson(nc, subject, () => ({ pong: true }));
  await nc.flush();

  await server.restart();
  t.is(server.port, port);
  t.is(server.url, url);
  t.not(server.pid, firstPid);

  const caller = await connectNats(url, 'restart-caller');
  t.teardown(() => caller.close());
  // Answered only once the old client has reconnected and resubscribed on its own.
  const reply = await waitFor(() => requestJson<{ pong: boolean }>(caller, subject, {}, 250).catch(() => undefined), 15_000);
  t.deepEqual(reply, { ok: true, pong: true });
  t.false(nc.isClosed());
});

test.serial('connect bus: when a url is given then it connects there and starts no server', async (t) => {
  const bus = await connectBus({ url: nats.url, name: 'url-test' });
  t.teardown(() => bus.close());
  t.is(bus.server, undefined);
  t.is(bus.url, nats.url);
  t.is(bus.nc.getServer(), `127.0.0.1:${nats.server.port}`);

  await bus.close();
  t.true(bus.nc.isClosed());
});

test.serial('connect bus: when only NATS_URL is set then it connects there and starts no server', async (t) => {
  process.env.NATS_URL = nats.url;
  t.teardown(() => {
    delete process.env.NATS_URL;
  });
  const bus = await connectBus();
  t.teardown(() => bus.close());
  t.is(bus.server, undefined);
  t.is(bus.url, nats.url);
});

test.serial('connect bus: when neither url nor NATS_URL is set then it starts a private server and stops it on close', async (t) => {
  const bus = await connectBus({ name: 'private-test' });
  t.teardown(() => bus.close());
  const server = bus.server!;
  const pid = server.pid!;
  t.not(server.port, nats.server.port);
  t.is(bus.url, server.url);
  t.is(bus.nc.getServer(), `127.0.0.1:${server.port}`);

  await bus.close();
  t.true(bus.nc.isClosed());
  t.false(isRunning(pid));
  t.false(existsSync(server.storeDir));
});

test('rpc: when the handler returns then the caller gets its result with ok true', async (t) => {
  const [server, client] = [await nats.connect(t), await nats.connect(t)];
  const subject = new Subjects(uniquePrefix()).cmd('job.submit');
  serveJson(server, subject, (payload) => ({ job: { id: 'j1', device: payload.device } }), { queue: 'daemon' });
  await server.flush();

  t.deepEqual(await requestJson(client, subject, { device: '0079' }), { ok: true, job: { id: 'j1', device: '0079' } });
});

test('rpc: when the handler throws then the caller gets a RemoteError with its code and fields', async (t) => {
  const [server, client] = [await nats.connect(t), await nats.connect(t)];
  const subjects = new Subjects(uniquePrefix());
  serveJson(server, subjects.cmd('job.cancel'), () => {
    throw new ConcurrencyError('job:j1', 1, 2);
  });
  serveJson(server, subjects.cmd('job.get'), async () => {
    throw new Error('disk on fire');
  });
  await server.flush();

  const remote = await t.throwsAsync(requestJson(client, subjects.cmd('job.cancel'), {}), { instanceOf: RemoteError });
  t.is(remote?.code, 'CONCURRENCY');
  t.is(remote?.message, 'job:j1: expected seq 1, found 2');
  t.deepEqual(remote?.details, { stream: 'job:j1', expected: 1, actual: 2 });

  const internal = await t.throwsAsync(requestJson(client, subjects.cmd('job.get'), {}), { instanceOf: RemoteError });
  t.is(internal?.code, 'INTERNAL');
  t.is(internal?.message, 'disk on fire');
});

test('rpc: when a payload is not a JSON object then the reply is a BAD_PAYLOAD error and the subscription keeps serving', async (t) => {
  const [server, client] = [await nats.connect(t), await nats.connect(t)];
  const subject = new Subjects(uniquePrefix()).cmd('job.list');
  const seen: Record<string, unknown>[] = [];
  serveJson(server, subject, (payload) => {
    seen.push(payload);
    return { jobs: [] };
  });
  await server.flush();

  for (const bad of ['not json', '{"open": ', '[1,2]', '"text"', 'null']) {
    const reply = (await client.request(subject, bad, { timeout: 2_000 })).json<{ ok?: boolean; error: { code: string; message: string } }>();
    t.is(reply.error.code, 'BAD_PAYLOAD', bad);
    t.false(reply.ok);
  }
  t.deepEqual(await requestJson(client, subject, { all: true }), { ok: true, jobs: [] });
  const empty = (await client.request(subject, '', { timeout: 2_000 })).json<{ ok: boolean }>();
  t.true(empty.ok);
  t.deepEqual(seen, [{ all: true }, {}]);
});

test('rpc: when the handler result is not JSON then the caller gets an error reply instead of a timeout', async (t) => {
  const [server, client] = [await nats.connect(t), await nats.connect(t)];
  const subject = new Subjects(uniquePrefix()).cmd('daemon.status');
  serveJson(server, subject, () => ({ uptime: 1n }));
  await server.flush();

  const error = await t.throwsAsync(requestJson(client, subject, {}, 2_000), { instanceOf: RemoteError });
  t.is(error?.code, 'INTERNAL');
});

test('rpc: a reply over the server\'s max_payload, or an error that echoes a huge payload, reaches the caller as a short error instead of a timeout', async (t) => {
  const [server, client] = [await nats.connect(t), await nats.connect(t)];
  const subjects = new Subjects(uniquePrefix());
  const errors: unknown[] = [];
  serveJson(server, subjects.cmd('device.list'), () => ({ blob: 'x'.repeat((server.info?.max_payload ?? 1024 * 1024) + 1) }), { onError: (err) => errors.push(err) });
  serveJson(server, subjects.cmd('daemon.status'), (payload) => {
    throw new BusError('VALIDATION', `unknown key ${Object.keys(payload)[0]}`);
  });
  await server.flush();

  const tooLarge = await t.throwsAsync(requestJson(client, subjects.cmd('device.list'), {}, 5_000), { instanceOf: RemoteError });
  t.is(tooLarge?.code, 'REPLY_TOO_LARGE');
  t.regex(tooLarge!.message, /^the reply could not be sent over NATS: /);
  t.is(errors.length, 1, 'the failed reply is reported');
  const echoed = await t.throwsAsync(requestJson(client, subjects.cmd('daemon.status'), { ['k'.repeat(500_000)]: 1 }, 5_000), { instanceOf: RemoteError });
  t.is(echoed?.code, 'VALIDATION');
  t.true(echoed!.message.length < 2100, `${echoed!.message.length} characters`);
  t.regex(echoed!.message, /… \(\d+ more characters\)$/);
});

test('rpc: when nobody serves the subject then the caller gets NoResponderError', async (t) => {
  const client = await nats.connect(t);
  const subject = new Subjects(uniquePrefix()).simOp('0079');
  const error = await t.throwsAsync(requestJson(client, subject, {}), { instanceOf: NoResponderError });
  t.is(error?.code, 'NO_RESPONDER');
  t.is(error?.subject, subject);
  t.truthy(error?.cause);
});

test('rpc: when the responder never answers then the caller gets RequestTimeoutError', async (t) => {
  const [server, client] = [await nats.connect(t), await nats.connect(t)];
  const subject = new Subjects(uniquePrefix()).simOp('0079');
  server.subscribe(subject, { callback: () => {} });
  await server.flush();

  const error = await t.throwsAsync(requestJson(client, subject, {}, 150), { instanceOf: RequestTimeoutError });
  t.is(error?.code, 'TIMEOUT');
  t.is(error?.timeoutMs, 150);
  t.is(error?.subject, subject);
});

test('event publisher: when the store appends then each event is published after it is durable, on its subject, with Nats-Msg-Id <stream>:<seq>:<run>@<at>', async (t) => {
  const path = tempDir(t);
  const store = openTestStore(t, { path, runId: 'run-7' });
  const reader = openTestStore(t, { path });
  const [publisherNc, listener] = [await nats.connect(t), await nats.connect(t)];
  const subjects = new Subjects(uniquePrefix());
  const resolved = new Set<string>();
  const received: { subject: string; msgId: string | undefined; runId: string | undefined; causationId: string | undefined; envelope: EventEnvelope; durable: boolean; resolved: boolean }[] = [];
  listener.subscribe(subjects.allEvents(), {
    callback: (_err, msg: Msg) => {
      const envelope = msg.json<EventEnvelope>();
      const [stored] = reader.readStream(envelope.stream, { fromSeq: envelope.seq, toSeq: envelope.seq });
      received.push({
        subject: msg.subject,
        msgId: msg.headers?.get('Nats-Msg-Id'),
        runId: msg.headers?.get('panos-run-id'),
        causationId: msg.headers?.has('panos-causation-id') ? msg.headers.get('panos-causation-id') : undefined,
        envelope,
        durable: stored?.gseq === envelope.gseq,
        resolved: resolved.has(`${envelope.stream}:${envelope.seq}`),
      });
    },
  });
  await listener.flush();
  store.onAppend(eventPublisher(publisherNc, subjects));

  const append = (...args: Parameters<typeof store.append>) =>
    store.append(...args).then((events) => {
      for (const e of events) resolved.add(`${e.stream}:${e.seq}`);
      return events;
    });
  const stored = [
    ...(await append('device:0079', [{ type: 'device.download.started', data: { version: '10.1.0' }, causationId: 'job-1' }])),
    ...(await append('api', [{ type: 'api.call.recorded', data: { cmd: 'show system info' } }])),
  ];
  await t.throwsAsync(append('device:0079', [{ type: 'device.download.completed', data: {} }], { expectedSeq: 0 }), { instanceOf: ConcurrencyError });
  stored.push(...(await append('job:j1', [{ type: 'job.submitted', data: {} }, { type: 'job.step.started', data: { step: 1 } }])));

  await waitFor(() => received.length >= 4);
  t.deepEqual(
    received.map((r) => [r.subject, r.msgId, r.runId, r.causationId]),
    [
      [`${subjects.prefix}.evt.device.0079.download.started`, `device:0079:1:run-7@${stored[0]!.at}`, 'run-7', 'job-1'],
      [`${subjects.prefix}.evt.api.-.call.recorded`, `api:1:run-7@${stored[1]!.at}`, 'run-7', undefined],
      [`${subjects.prefix}.evt.job.j1.submitted`, `job:j1:1:run-7@${stored[2]!.at}`, 'run-7', undefined],
      [`${subjects.prefix}.evt.job.j1.step.started`, `job:j1:2:run-7@${stored[3]!.at}`, 'run-7', undefined],
    ],
  );
  t.deepEqual(received.map((r) => r.envelope), stored);
  t.true(received.every((r) => r.durable && r.resolved));
});

/** A log whose appends are published with `copy`, and what a second connection receives of them. */
async function publishedWith(t: ExecutionContext, copy: EventPublisherOptions['busCopy']): Promise<{ store: LmdbEventStore; received: EventEnvelope[] }> {
  const store = openTestStore(t, { path: tempDir(t), runId: 'run-8' });
  const [publisherNc, listener] = [await nats.connect(t), await nats.connect(t)];
  const subjects = new Subjects(uniquePrefix());
  const received: EventEnvelope[] = [];
  listener.subscribe(subjects.allEvents(), { callback: (_err, msg: Msg) => void received.push(msg.json<EventEnvelope>()) });
  await listener.flush();
  store.onAppend(eventPublisher(publisherNc, subjects, { busCopy: copy }));
  return { store, received };
}

test('event publisher: with busCopy, a batch of served calls goes on the bus without the answers\' text, and the log keeps them', async (t) => {
  const { store, received } = await publishedWith(t, busCopyOf);
  const answer = '<response status="success"><result><system><sw-version>10.2.9</sw-version></system></result></response>';
  const call = { requestId: 'r1', via: 'panorama', target: '0079', command: '<show><system><info/></system></show>', httpStatus: 200, response: answer, responseBytes: answer.length, outcome: 'answered' };

  const [stored] = await store.append('api', [{ type: 'api.calls.served', data: { calls: [call] } }]);
  await store.append('job:j1', [{ type: 'job.submitted', data: { response: 'a field of another event' } }]);

  await waitFor(() => received.length >= 2);
  const { response: _text, ...withoutText } = call;
  t.deepEqual(received[0], { ...stored!, data: { calls: [withoutText] } });
  t.deepEqual(store.readStream('api')[0]?.data, { calls: [call] });
  t.deepEqual(received[1]?.data, { response: 'a field of another event' });
});

test('event publisher: with the daemon\'s busCopy, a snapshot goes on the bus as each area\'s count, and the log keeps its entries', async (t) => {
  const { store, received } = await publishedWith(t, busCopy);
  const routes = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`default 10.${i >> 8}.${i & 255}.0/24 via 10.0.0.1`, { interface: 'ethernet1/2' }]));
  const snapshot = { areas: { routes: { count: 300, entries: routes }, arp: { count: 5000, entries: {}, truncated: true } }, unavailable: { bgp: 'no answer' } };
  const answer = '<response status="success"><result/></response>';

  const [taken] = await store.append('job:j1', [{ type: 'job.snapshot.taken', data: { phase: 'pre', snapshot } }]);
  await store.append('api', [{ type: 'api.calls.recorded', data: { calls: [{ command: 'show jobs all', response: answer, outcome: 'ok' }] } }]);
  await store.append('job:j1', [{ type: 'job.step.completed', data: { step: 'pre-snapshot', hop: 0, version: '10.2.0' } }]);

  await waitFor(() => received.length >= 3);
  t.deepEqual(received[0], {
    ...taken!,
    data: { phase: 'pre', snapshot: { areas: { routes: { count: 300, entries: {} }, arp: { count: 5000, entries: {}, truncated: true } }, unavailable: { bgp: 'no answer' } } },
  });
  t.deepEqual(received[1]?.data, { calls: [{ command: 'show jobs all', outcome: 'ok' }] });
  t.deepEqual(received[2]?.data, { step: 'pre-snapshot', hop: 0, version: '10.2.0' });
  t.deepEqual(store.readStream('job:j1')[0]?.data, { phase: 'pre', snapshot });
});

test('event publisher: when events are published twice then JetStream keeps one copy of each', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const name = `EVT_${subjects.prefix.replace(/-/g, '_')}`;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [subjects.allEvents()] });
  const publish = eventPublisher(nc, subjects);
  const events: PublishableEvent[] = [
    { gseq: 1, stream: 'job:j1', seq: 1, type: 'job.submitted' },
    { gseq: 2, stream: 'job:j1', seq: 2, type: 'job.step.started' },
  ];

  publish(events);
  publish(events);
  await nc.flush();

  const info = await waitFor(async () => {
    const i = await jsm.streams.info(name);
    return i.state.messages === 2 ? i : undefined;
  });
  t.is(info.state.messages, 2);
  const again = await jetstream(nc).publish(subjects.event('job:j1', 'job.submitted'), '{}', { msgID: 'job:j1:1' });
  t.true(again.duplicate);
});

test('event publisher: when one event cannot be named then onError gets it and the rest are still published', async (t) => {
  const [nc, listener] = [await nats.connect(t), await nats.connect(t)];
  const subjects = new Subjects(uniquePrefix());
  const got: string[] = [];
  listener.subscribe(subjects.allEvents(), {
    callback: (_err, msg) => {
      got.push(msg.subject);
    },
  });
  await listener.flush();
  const errors: unknown[] = [];

  eventPublisher(nc, subjects, { onError: (err) => errors.push(err) })([
    { gseq: 1, stream: 'device:a.b', seq: 1, type: 'device.x' },
    { gseq: 2, stream: 'device:0079', seq: 1, type: 'device.y' },
  ]);

  await waitFor(() => got.length === 1);
  t.deepEqual(got, [`${subjects.prefix}.evt.device.0079.y`]);
  t.is(errors.length, 1);
  t.true(errors[0] instanceof InvalidTokenError);
});

test('event publisher: when the connection is closed then publishing is a no-op', async (t) => {
  const nc = await connectNats(nats.url, 'closed-test');
  await nc.close();
  const errors: unknown[] = [];
  eventPublisher(nc, new Subjects(uniquePrefix()), { onError: (err) => errors.push(err) })([{ gseq: 1, stream: 'api', seq: 1, type: 'api.x' }]);
  t.deepEqual(errors, []);
});

test('event stream: when ensured twice then one JetStream stream keeps every event once, even when an event is republished', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  t.true(await ensureEventStream(nc, subjects));
  t.true(await ensureEventStream(nc, subjects));
  const publish = eventPublisher(nc, subjects);
  const e = { gseq: 1, stream: 'job:j1', seq: 1, type: 'job.submitted' };
  publish([e]);
  publish([e]);
  publish([{ gseq: 2, stream: 'job:j1', seq: 2, type: 'job.started' }]);
  await nc.flush();
  const jsm = await jetstreamManager(nc);
  const info = await waitFor(async () => {
    const i = await jsm.streams.info(eventStreamName(subjects));
    return i.state.messages >= 2 ? i : undefined;
  });
  t.deepEqual(info.config.subjects, [`${subjects.prefix}.evt.>`]);
  t.is(info.state.messages, 2);
});

test('event stream: two logs publishing the same stream and seq (the daemon\'s and the simulator\'s api) both keep every event; a republish of one is still dropped', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  t.true(await ensureEventStream(nc, subjects));
  const [daemon, sim] = [openTestStore(t, { path: tempDir(t), runId: 'r20261206T020000-aaaa' }), openTestStore(t, { path: tempDir(t), runId: 'r20261206T020000-bbbb' })];
  daemon.onAppend(eventPublisher(nc, subjects));
  sim.onAppend(eventPublisher(nc, subjects));
  const [fromDaemon] = await daemon.append('api', [{ type: 'api.calls.recorded', data: { calls: [] } }]);
  await sim.append('api', [{ type: 'api.calls.served', data: { calls: [] } }]);
  eventPublisher(nc, subjects)([fromDaemon!]);
  await nc.flush();
  const jsm = await jetstreamManager(nc);
  const info = await waitFor(async () => {
    const i = await jsm.streams.info(eventStreamName(subjects));
    return i.state.messages >= 2 ? i : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is((await jsm.streams.info(eventStreamName(subjects))).state.messages, 2, 'one event of each log, the republished one once');
  t.is(info.state.first_seq, 1);
});

test('nats server: when a server is still running on a store dir then the next start there stops it first and comes back on its port', async (t) => {
  const storeDir = join(tempDir(t), 'nats');
  const left = await startNatsServer({ storeDir, guard: 'none' });
  const leftPid = left.pid!;
  const port = left.port;
  // Never stopped by its handle: as if its owner was killed without a parent-death signal.
  const next = await startNatsServer({ storeDir });
  t.teardown(() => next.stop());
  t.false(isRunning(leftPid));
  t.is(next.port, port);
  t.not(next.pid, leftPid);
});

test('nats server: guarded command: under setpriv the server gets SIGTERM when its parent dies; without setpriv it is started as is', (t) => {
  t.deepEqual(guardedCommand('/usr/sbin/nats-server', ['-p', '-1'], '/usr/bin/setpriv'), {
    file: '/usr/bin/setpriv',
    args: ['--pdeathsig', 'TERM', '--', '/usr/sbin/nats-server', '-p', '-1'],
  });
  t.deepEqual(guardedCommand('/usr/sbin/nats-server', ['-p', '-1'], undefined), { file: '/usr/sbin/nats-server', args: ['-p', '-1'] });
});
