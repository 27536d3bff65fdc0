import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { saveConfig } from '../../actors/config.ts';
import { connectBus } from '../../bus/connect.ts';
import { onLines, startTestNats, tempDir, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { runCli, startCli } from './run-cli.ts';

const nats = startTestNats(test);

// issue 13 point 1: any local process could upgrade the whole fleet through the daemon's NATS.
test('cli: against a daemon on its own NATS, the operator (found through daemon.json) submits; the read-only user and no credentials are refused with a clear error', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', daemon: false });
  const dir = stack.dataDir;
  const daemon = startCli(t, ['daemon', '--data-dir', dir]);
  const output: string[] = [];
  onLines(daemon.stdout, (l) => output.push(l));
  await waitFor(() => output.some((l) => l.startsWith('Daemon up:')), 90_000, 50);
  const info = JSON.parse(readFileSync(join(dir, 'daemon.json'), 'utf8')) as { natsUrl: string; natsUsers: { operator: string; reader: string } };
  t.deepEqual(info.natsUsers, { operator: join(dir, 'nats/daemon/users/operator.nk'), reader: join(dir, 'nats/daemon/users/reader.nk') });
  t.notRegex(readFileSync(join(dir, 'daemon.json'), 'utf8'), /SU[A-Z0-9]{20,}/, 'no seed in daemon.json');
  t.true(output.some((l) => l.includes(`operator ${info.natsUsers.operator}, read-only ${info.natsUsers.reader}`)));

  const discover = await runCli(t, ['device', 'discover', '--data-dir', dir]);
  t.is(discover.code, 0, discover.stderr);
  const serial = stack.scenario.devices[0]!.serial;

  const asReader = ['--data-dir', dir, '--nats-nkey', info.natsUsers.reader];
  const list = await runCli(t, ['job', 'list', ...asReader]);
  t.is(list.code, 0, list.stderr);
  const started = Date.now();
  const refused = await runCli(t, ['job', 'submit', '--device', serial, '--download-only', ...asReader]);
  t.true(Date.now() - started < 30_000, 'refused, not left to time out');
  t.is(refused.code, 1);
  t.regex(refused.stderr, /^error: the NATS user this connection signed in as may not send on panos\.cmd\.job\.submit\.$/m);
  t.regex(refused.stderr, /needs the operator user/);

  const anonymous = await runCli(t, ['job', 'submit', '--device', serial, '--download-only', '--nats-url', info.natsUrl]);
  t.is(anonymous.code, 1);
  t.regex(anonymous.stderr, new RegExp(`^error: the NATS server at ${info.natsUrl} refused the connection's credentials \\(authorization violation\\)\\.$`, 'm'));

  const submitted = await runCli(t, ['job', 'submit', '--device', serial, '--download-only', '--data-dir', dir]);
  t.is(submitted.code, 0, submitted.stderr);
  const asOperatorByEnv = await runCli(t, ['job', 'list', '--nats-url', info.natsUrl], { env: { NATS_NKEY: info.natsUsers.operator } });
  t.is(asOperatorByEnv.code, 0, asOperatorByEnv.stderr);
  t.true(asOperatorByEnv.stdout.includes(serial));
});

test('daemon: on a NATS server of your own, it signs in with the nats.* files of its config; the CLI with the operator seed submits, and a daemon with a wrong seed exits saying so', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', daemon: false });
  const dir = stack.dataDir;
  // "Your own server": one with the users and permissions of docs/nats-security.md for the prefix panos.
  const server = await connectBus({ url: undefined, storeDir: tempDir(t), privateUsers: { prefix: 'panos', user: 'reader' }, name: 'test owner' });
  t.teardown(() => server.close());
  const files = server.privateAuth!.files;

  saveConfig(dir, { ...stack.config, nats: { ...stack.config.nats, url: server.url, nkeyFile: files.operator } });
  const wrong = await runCli(t, ['daemon', '--data-dir', dir]);
  t.is(wrong.code, 1);
  t.false(existsSync(join(dir, 'events')), 'refused before the event log was opened');
  t.regex(wrong.stderr, /^error: the NATS user this connection signed in as may not subscribe to panos\.cmd\.daemon\.status\.\n  the daemon signs in as the daemon user: panos-upgrade (--data-dir \S+ )?config set nats.nkey_file FILE/m);

  saveConfig(dir, { ...stack.config, nats: { ...stack.config.nats, url: server.url, nkeyFile: files.daemon } });
  const daemon = startCli(t, ['daemon', '--data-dir', dir]);
  const output: string[] = [];
  onLines(daemon.stdout, (l) => output.push(l));
  await waitFor(() => output.some((l) => l.startsWith('Daemon up:')), 90_000, 50);
  t.true(output[0]!.includes(`NATS ${server.url}`));

  const asOperator = ['--nats-url', server.url, '--nats-nkey', files.operator];
  const discover = await runCli(t, ['device', 'discover', ...asOperator]);
  t.is(discover.code, 0, discover.stderr);
  const submitted = await runCli(t, ['job', 'submit', '--device', stack.scenario.devices[0]!.serial, '--download-only', '--dry-run', ...asOperator]);
  t.is(submitted.code, 0, submitted.stderr);
});

// A NATS URL with a password in it was repeated in daemon.json, logs, the run's event, `status` and errors.
test('cli: a NATS URL that carries credentials is refused wherever it is given, with exit 2 and the password masked, and nothing is recorded', async (t) => {
  const dir = tempDir(t);
  const url = 'nats://daemon:hunter2hunter2@127.0.0.1:9';
  const set = await runCli(t, ['config', 'set', 'nats.url', url, '--data-dir', dir]);
  t.is(set.code, 2, set.stdout + set.stderr);
  t.regex(set.stderr, /nats\.url must not carry credentials \(got nats:\/\/daemon:\*\*\*\*@127\.0\.0\.1:9\): give them as files/);
  t.false(set.stderr.includes('hunter2'));
  for (const r of [
    await runCli(t, ['daemon', '--data-dir', dir], { env: { NATS_URL: url } }),
    await runCli(t, ['daemon', '--data-dir', dir, '--nats-url', url]),
    await runCli(t, ['job', 'list', '--data-dir', dir, '--nats-url', `nats://127.0.0.1:9,nats://tok3n-s3cret@127.0.0.1:8`]),
    // Forms --nats-url's own check refused with the whole value in commander's message.
    await runCli(t, ['status', '--data-dir', dir, '--nats-url', 'daemon:hunter2x@127.0.0.1:9']),
    await runCli(t, ['status', '--data-dir', dir, '--nats-url', 'NATS://daemon:hunter2y@127.0.0.1:9']),
    await runCli(t, ['status', '--data-dir', dir, '--nats-url', 'nats://127.0.0.1:9, daemon:hunter2z@127.0.0.1:8']),
  ]) {
    t.is(r.code, 2, r.stdout + r.stderr);
    t.regex(r.stderr, /carries credentials/);
    t.regex(r.stderr, /\*\*\*\*@127\.0\.0\.1/);
    for (const secret of ['hunter2', 'tok3n']) t.false((r.stdout + r.stderr).includes(secret), r.stdout + r.stderr);
  }
  t.false(existsSync(join(dir, 'daemon.json')));
  t.false(existsSync(join(dir, 'events')), 'no run recorded');
});
