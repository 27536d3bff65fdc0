import { request } from 'node:http';
import test, { type ExecutionContext } from 'ava';
import pino from 'pino';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { connectBus, connectNats, type BusConnection } from '../../bus/connect.ts';
import { NatsAuthorizationError, NatsPermissionError } from '../../bus/errors.ts';
import { ensureEventStream, eventStreamName } from '../../bus/event-stream.ts';
import { natsAuthFromEnv, natsConnectionOptions, NatsCredentialsError, READ_ONLY_COMMANDS, type PrivateUser } from '../../bus/auth.ts';
import { requestJson, serveJson } from '../../bus/rpc.ts';
import { COMMANDS, Subjects } from '../../bus/subjects.ts';
import { shippedScenario } from '../../cli/paths.ts';
import { startGateway } from '../../gateway/index.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { Simulator } from '../../simulator/index.ts';
import { openTestStore, tempDir, uniquePrefix, waitFor } from '../helpers/index.ts';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsServer } from '../../bus/nats-server.ts';
import { generateSelfSigned } from '../../gateway/tls-material.ts';

const log = pino({ level: 'silent' });

/** A private server with the NKey users, its daemon-side connection answering every command, and a way to connect as any user. */
async function securedBus(t: ExecutionContext) {
  const dir = tempDir(t);
  const prefix = uniquePrefix();
  const subjects = new Subjects(prefix);
  const bus = await connectBus({ url: undefined, storeDir: dir, privateUsers: { prefix, user: 'daemon' }, name: 'test daemon' });
  t.teardown(() => bus.close());
  for (const c of COMMANDS) serveJson(bus.nc, subjects.cmd(c), () => ({ served: c }), { queue: 'daemon' });
  t.true(await ensureEventStream(bus.nc, subjects), 'the daemon user may create the event stream');
  await bus.nc.flush();
  const as = async (user: PrivateUser): Promise<NatsConnection> => {
    const nc = await connectNats(bus.url, `test ${user}`, { nkeyFile: bus.privateAuth!.files[user] });
    t.teardown(() => nc.close());
    return nc;
  };
  return { bus, subjects, prefix, as, dir };
}

/** Subscribe and report whether the server refused the subscription (a permissions violation closes it). */
async function trySubscribe(nc: NatsConnection, subject: string, seen: Msg[]): Promise<'refused' | 'allowed'> {
  let refused = false;
  nc.subscribe(subject, {
    callback: (err, m) => {
      if (err) refused = true;
      else seen.push(m);
    },
  });
  await nc.flush();
  // The server's -ERR arrives after the PONG of flush at the latest once a second round trip is made.
  await nc.flush();
  return refused ? 'refused' : 'allowed';
}

test('nats auth: when a client has no credentials then the private server refuses the connection at once', async (t) => {
  const { bus } = await securedBus(t);
  const err = await t.throwsAsync(connectNats(bus.url, 'anonymous', undefined, { maxReconnectAttempts: 0, timeout: 5_000 }));
  t.regex(String(err?.message), /authorization/i);
});

test('nats auth: the user seed files are 0600 in a 0700 dir, and the server configuration holds public keys only', async (t) => {
  const { bus, dir } = await securedBus(t);
  for (const file of Object.values(bus.privateAuth!.files)) t.is(statSync(file).mode & 0o777, 0o600, file);
  t.is(statSync(`${dir}/users`).mode & 0o777, 0o700);
  t.notRegex(bus.privateAuth!.serverConfig, /"SU[A-Z0-9]+"/);
  t.regex(bus.privateAuth!.serverConfig, /nkey: "U[A-Z0-9]{55}"/);
});

test('nats auth: when the read-only user sends a mutating command then it is refused at once with a permission error; read-only commands are answered', async (t) => {
  const { subjects, as } = await securedBus(t);
  const reader = await as('reader');
  for (const c of READ_ONLY_COMMANDS) t.deepEqual(await requestJson(reader, subjects.cmd(c), {}, 5_000), { ok: true, served: c });
  const started = Date.now();
  for (const c of COMMANDS.filter((c) => !(READ_ONLY_COMMANDS as readonly string[]).includes(c))) {
    const err = await t.throwsAsync(requestJson(reader, subjects.cmd(c), {}, 30_000), { instanceOf: NatsPermissionError });
    t.is(err?.subject, subjects.cmd(c));
    t.is(err?.code, 'NATS_PERMISSION');
  }
  t.true(Date.now() - started < 15_000, 'refused, not timed out');
});

test('nats auth: when the operator sends commands then all are answered; it may not publish events nor answer commands', async (t) => {
  const { subjects, as } = await securedBus(t);
  const operator = await as('operator');
  for (const c of COMMANDS) t.deepEqual(await requestJson(operator, subjects.cmd(c), {}, 5_000), { ok: true, served: c });
  t.is(await trySubscribe(operator, `${subjects.prefix}.cmd.>`, []), 'refused');
  const spoof = await t.throwsAsync(requestJson(operator, `${subjects.prefix}.evt.job.x.submitted`, {}, 30_000), { instanceOf: NatsPermissionError });
  t.is(spoof?.operation, 'publish');
});

test('nats auth: when the read-only user reads the event stream then it may catch up but not delete or purge it', async (t) => {
  const { bus, subjects, as } = await securedBus(t);
  bus.nc.publish(`${subjects.prefix}.evt.job.j1.submitted`, JSON.stringify({ type: 'job.submitted' }));
  await bus.nc.flush();
  const reader = await as('reader');
  const seen: Msg[] = [];
  t.is(await trySubscribe(reader, `${subjects.prefix}.evt.>`, seen), 'allowed');
  const jsm = await jetstreamManager(reader);
  const name = eventStreamName(subjects);
  await waitFor(async () => (await jsm.streams.info(name)).state.messages === 1);
  const first = await jsm.streams.getMessage(name, { seq: 1 });
  t.is(first?.subject, `${subjects.prefix}.evt.job.j1.submitted`);
  await t.throwsAsync(jsm.streams.purge(name));
  await t.throwsAsync(jsm.streams.delete(name));
  t.is((await jsm.streams.info(name)).state.messages, 1);
});

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

test('nats auth: when the simulator answers a keygen then its password is not readable by the operator, the reader or the daemon', async (t) => {
  const { bus, prefix, as } = await securedBus(t);
  const subjects = new Subjects(prefix);
  const scenario = loadScenarioFile(shippedScenario('basic'), { timeScale: 0.02, env: {} });
  const simNc = await as('simulator');
  const store = openTestStore(t);
  const sim = await Simulator.start({ scenario, store, log, nc: simNc, subjects });
  t.teardown(() => sim.stop());
  const gateway = await startGateway({ nc: simNc, subjects, store, log, port: 0, protocol: 'http', direct: false });
  t.teardown(() => gateway.close());

  const watchers: Record<string, Msg[]> = {};
  const refusedSim: Record<string, string> = {};
  for (const user of ['operator', 'reader', 'daemon'] as const) {
    const nc = user === 'daemon' ? bus.nc : await as(user);
    watchers[user] = [];
    refusedSim[user] = await trySubscribe(nc, `${prefix}.sim.>`, []);
    for (const s of ['_INBOX.>', `${prefix}.evt.>`]) await trySubscribe(nc, s, watchers[user]!);
  }
  t.deepEqual(refusedSim, { operator: 'refused', reader: 'refused', daemon: 'refused' });
  const simSeen: Msg[] = [];
  t.is(await trySubscribe(await as('simulator'), `${prefix}.sim.>`, simSeen), 'allowed');

  const password = scenario.admins[0]?.password ?? 'admin';
  const user = scenario.admins[0]?.username ?? 'admin';
  const answer = await httpGet(`${gateway.panoramaUrl}/api/?type=keygen&user=${encodeURIComponent(user)}&password=${encodeURIComponent(password)}`);
  t.regex(answer, /<key>/);
  // The traffic was on this server, in the simulator's account.
  await waitFor(() => simSeen.some((m) => m.string().includes(password)));
  await bus.nc.flush();
  for (const [u, msgs] of Object.entries(watchers)) {
    t.false(
      msgs.some((m) => m.string().includes(password)),
      `${u} saw the keygen password`,
    );
  }
});

test('nats auth: when the server speaks TLS then a client given its CA connects, and one without it is refused', async (t) => {
  const dir = tempDir(t);
  const material = await generateSelfSigned(['127.0.0.1'], 'nats test server');
  const cert = join(dir, 'server.pem');
  const key = join(dir, 'server-key.pem');
  writeFileSync(cert, material.cert);
  writeFileSync(key, material.key, { mode: 0o600 });
  const server = await startNatsServer({ jetstream: false, config: `tls { cert_file: ${JSON.stringify(cert)}, key_file: ${JSON.stringify(key)} }\n` });
  t.teardown(() => server.stop());

  const nc = await connectNats(server.url, 'tls client', natsAuthFromEnv({ NATS_CA: cert }));
  t.teardown(() => nc.close());
  t.true(nc.info?.tls_required === true);
  const sub = nc.subscribe('tls.ping', { callback: (_e, m) => void m.respond('pong') });
  t.teardown(() => sub.unsubscribe());
  t.is((await nc.request('tls.ping', '', { timeout: 5_000 })).string(), 'pong');

  await t.throwsAsync(connectNats(server.url, 'no ca', undefined, { maxReconnectAttempts: 0, timeout: 5_000 }));
});

test('nats auth: when a server takes users with passwords or a token then the NATS_* variables sign in, a password file works, and a wrong password is refused', async (t) => {
  const dir = tempDir(t);
  const users = await startNatsServer({ jetstream: false, config: 'authorization { users: [ { user: "ops", password: "s3cret-ops" } ] }\n' });
  t.teardown(() => users.stop());
  const byEnv = await connectNats(users.url, 'user env', natsAuthFromEnv({ NATS_USER: 'ops', NATS_PASSWORD: 's3cret-ops' }));
  t.teardown(() => byEnv.close());
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, 's3cret-ops\n', { mode: 0o600 });
  const byFile = await connectNats(users.url, 'user file', { user: 'ops', passwordFile });
  t.teardown(() => byFile.close());
  const wrong = await t.throwsAsync(connectNats(users.url, 'wrong', { user: 'ops', password: 'nope' }, { maxReconnectAttempts: 0, timeout: 5_000 }), { instanceOf: NatsAuthorizationError });
  t.false(String(wrong?.message).includes('nope'), 'the refusal does not repeat the secret');

  const token = await startNatsServer({ jetstream: false, config: 'authorization { token: "tok-123" }\n' });
  t.teardown(() => token.stop());
  const byToken = await connectNats(token.url, 'token', natsAuthFromEnv({ NATS_TOKEN: 'tok-123' }));
  t.teardown(() => byToken.close());
  t.false(byToken.isClosed());
  const missing = t.throws(() => natsConnectionOptions({ nkeyFile: join(dir, 'absent.nk') }), { instanceOf: NatsCredentialsError });
  t.is(missing?.message, `cannot read the NATS NKey seed file ${join(dir, 'absent.nk')}: no such file`);
});
