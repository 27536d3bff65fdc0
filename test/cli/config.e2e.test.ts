import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers/index.ts';
import { runCli } from './run-cli.ts';

test('config: when a secret is set then config.json is created with mode 0600 and get and list show it masked', async (t) => {
  const dir = tempDir(t);
  const set = await runCli(t, ['config', 'set', 'panorama.api_key', 'LUFRPT1secretkey1234', '--data-dir', dir]);
  t.is(set.code, 0, set.stderr);
  t.is(set.stdout, `Set panorama.api_key = ****1234 in ${join(dir, 'config.json')}\n`);
  t.is(statSync(join(dir, 'config.json')).mode & 0o777, 0o600);
  t.is((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { panorama: { apiKey: string } }).panorama.apiKey, 'LUFRPT1secretkey1234');

  const get = await runCli(t, ['config', 'get', 'panorama.api_key', '--data-dir', dir]);
  t.is(get.stdout, '****1234\n');
  const list = await runCli(t, ['config', 'list', '--data-dir', dir]);
  t.regex(list.stdout, /^panorama\.api_key\s+\*\*\*\*1234\s+API key for Panorama/m);
  t.false(list.stdout.includes('LUFRPT1secretkey1234'));
  const json = JSON.parse((await runCli(t, ['config', 'list', '--json', '--data-dir', dir])).stdout) as { values: Record<string, string> };
  t.is(json.values['panorama.api_key'], '****1234');
  t.is(json.values.concurrency, '10');
});

test('config: when a password is given as - then it is read from standard input', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, ['config', 'set', 'panorama.password', '-', '--data-dir', dir], { input: 'hunter2hunter2\n' });
  t.is(r.code, 0, r.stderr);
  t.is((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { panorama: { password: string } }).panorama.password, 'hunter2hunter2');
  t.is((await runCli(t, ['config', 'get', 'panorama.password', '--data-dir', dir])).stdout, '****\n');
  // Ctrl-D before pasting (or an empty pipe) reads nothing: the password is kept, not erased.
  const empty = await runCli(t, ['config', 'set', 'panorama.password', '-', '--data-dir', dir], { input: '' });
  t.is(empty.code, 2, empty.stdout + empty.stderr);
  t.is(empty.stderr, `error: nothing was read from standard input, so panorama.password is unchanged (to clear it: panos-upgrade --data-dir ${dir} config set panorama.password "")\n`);
  t.is((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { panorama: { password: string } }).panorama.password, 'hunter2hunter2');
});

test('config: when a key is unknown then it exits 2 and lists the valid keys', async (t) => {
  const r = await runCli(t, ['config', 'set', 'panorama.hostname', 'x', '--data-dir', tempDir(t)]);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown config key "panorama\.hostname"\. Valid keys: panorama\.host, panorama\.api_key, /);
});

test('config: when a value is bad then it exits 2 with the expected form and nothing is written', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, ['config', 'set', 'concurrency', 'ten', '--data-dir', dir]);
  t.is(r.code, 2);
  t.is(r.stderr, 'error: concurrency must be a whole number (got "ten")\n');
  const e = await runCli(t, ['config', 'set', 'install.via', 'carrier-pigeon', '--data-dir', dir]);
  t.is(e.code, 2);
  t.regex(e.stderr, /install\.via must be one of panorama, direct/);
  const f = await runCli(t, ['config', 'set', 'upgrade.paths_file', join(dir, 'nope.yaml'), '--data-dir', dir]);
  t.is(f.code, 2);
  t.regex(f.stderr, /no such file/);
  t.throws(() => statSync(join(dir, 'config.json')));
});

test('config: when a pinned fingerprint is set then tls.insecure is refused with how to unset the pin', async (t) => {
  const dir = tempDir(t);
  const fp = Array.from({ length: 32 }, () => 'AB').join(':');
  t.is((await runCli(t, ['config', 'set', 'tls.fingerprint', fp, '--data-dir', dir])).code, 0);
  const r = await runCli(t, ['config', 'set', 'tls.insecure', 'true', '--data-dir', dir]);
  t.is(r.code, 2);
  t.true(r.stderr.includes(`panos-upgrade --data-dir ${dir} config set tls.fingerprint ""`), r.stderr);
  const bad = await runCli(t, ['config', 'set', 'tls.fingerprint', 'AB:CD', '--data-dir', dir]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /64 hex digits/);
});

test('config: when config.json is malformed then reading and writing exit 2 naming the file, and it is left as it was', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'config.json');
  writeFileSync(file, '{ "panorama": { "host": "pano.example", } ', { mode: 0o600 });
  const list = await runCli(t, ['config', 'list', '--data-dir', dir]);
  t.is(list.code, 2);
  t.true(list.stderr.startsWith(`error: ${file} is not valid JSON`), list.stderr);
  const set = await runCli(t, ['config', 'set', 'concurrency', '5', '--data-dir', dir]);
  t.is(set.code, 2);
  t.true(set.stderr.includes(file));
  t.is(readFileSync(file, 'utf8'), '{ "panorama": { "host": "pano.example", } ');
  const daemon = await runCli(t, ['daemon', '--data-dir', dir], { env: { NATS_URL: 'nats://127.0.0.1:1' } });
  t.is(daemon.code, 2);
  t.true(daemon.stderr.includes(file), daemon.stderr);
});

// issue 12: each of these was accepted by `config set`, and the daemon then refused to start.
test('config: when panorama.host is a value the daemon refuses then config set exits 2 with the words the daemon would use', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string, string]> = [
    ['https://x/', 'panorama.host must be host or host:port, not a URL (got "https://x/")'],
    ['host:99999', 'panorama.host must have a port from 1 to 65535 after the colon (got "host:99999")'],
    ['a b', 'panorama.host must be host or host:port, without spaces (got "a b")'],
    ['', 'panorama.host must not be empty: the daemon cannot start without it'],
  ];
  for (const [value, message] of cases) {
    const r = await runCli(t, ['config', 'set', 'panorama.host', value, '--data-dir', dir]);
    t.is(r.code, 2, value);
    t.is(r.stderr, `error: ${message}\n`, value);
  }
  t.throws(() => statSync(join(dir, 'config.json')), undefined, 'nothing was written');
  // The same value written into the file by hand: the daemon stops at start with the same sentence.
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ panorama: { host: 'host:99999', apiKey: 'k' } }), { mode: 0o600 });
  const daemon = await runCli(t, ['daemon', '--data-dir', dir], { env: { NATS_URL: 'nats://127.0.0.1:1' } });
  t.is(daemon.code, 2);
  t.is(daemon.stderr, `error: ${join(dir, 'config.json')}: ${cases[1]![1]}\n`);
});

test('config: when config.json has an unknown key then config list exits 2 naming it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ panorama: { host: 'pano', hostname: 'pano' } }), { mode: 0o600 });
  const r = await runCli(t, ['config', 'list', '--data-dir', dir]);
  t.is(r.code, 2);
  t.is(r.stderr, `error: ${join(dir, 'config.json')}: unknown key "panorama.hostname": remove it; "panos-upgrade --data-dir ${dir} config list" shows the keys\n`);
});

test('config: when a map is set to {} then config get shows it empty', async (t) => {
  const dir = tempDir(t);
  t.is((await runCli(t, ['config', 'get', 'timeouts.reboot_seconds_by_model', '--data-dir', dir])).stdout, '{"PA-7050":3600,"PA-7080":3600,"PA-5450":2700}\n');
  const set = await runCli(t, ['config', 'set', 'timeouts.reboot_seconds_by_model', '{}', '--data-dir', dir]);
  t.is(set.code, 0, set.stderr);
  t.is((await runCli(t, ['config', 'get', 'timeouts.reboot_seconds_by_model', '--data-dir', dir])).stdout, '{}\n');
});
