import test from 'ava';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateDir } from '../../actors/private-dir.ts';
import { tempDir } from '../helpers/index.ts';
import { runCli } from './run-cli.ts';

// Issue 13 point 4: pre-existing data dirs (and chaos work dirs) kept 0755; secrets on the config set
// command line were accepted silently (visible in ps and the shell history).

const mode = (p: string): number => statSync(p).mode & 0o777;

function worldReadable(t: Parameters<typeof tempDir>[0]): string {
  const dir = join(tempDir(t), 'data');
  mkdirSync(join(dir, 'events'), { recursive: true });
  writeFileSync(join(dir, 'inventory.json'), '{}\n');
  writeFileSync(join(dir, 'events', 'data.mdb'), '');
  chmodSync(join(dir, 'inventory.json'), 0o644);
  chmodSync(join(dir, 'events', 'data.mdb'), 0o644);
  chmodSync(join(dir, 'events'), 0o755);
  chmodSync(dir, 0o755);
  return dir;
}

test('data dir: when it existed with 0755 and 0644 files then a command makes it 0700 and its files 0600', async (t) => {
  const dir = worldReadable(t);
  const r = await runCli(t, ['config', 'set', 'concurrency', '5', '--data-dir', dir]);
  t.is(r.code, 0, r.stderr);
  t.is(mode(dir), 0o700);
  t.is(mode(join(dir, 'events')), 0o700);
  for (const f of ['inventory.json', 'config.json', join('events', 'data.mdb')]) t.is(mode(join(dir, f)), 0o600, f);
});

test('data dir: tightening never follows a symbolic link out of it', (t) => {
  const dir = worldReadable(t);
  const outside = join(tempDir(t), 'shared.pem');
  writeFileSync(outside, 'x');
  chmodSync(outside, 0o644);
  symlinkSync(outside, join(dir, 'link.pem'));
  privateDir(dir);
  t.is(mode(outside), 0o644);
  t.is(mode(join(dir, 'inventory.json')), 0o600);
});

test('data dir: a shared directory (sticky bit, like /tmp) is refused as a data dir, and a directory that is not one of ours is not walked', (t) => {
  const shared = join(tempDir(t), 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  t.throws(() => privateDir(shared), { message: /is a shared directory \(sticky bit, as \/tmp is\)/ });
  t.is(mode(shared), 0o777);

  const home = join(tempDir(t), 'home');
  mkdirSync(join(home, 'bin'), { recursive: true });
  writeFileSync(join(home, 'bin', 'tool'), '#!/bin/sh\n');
  chmodSync(join(home, 'bin', 'tool'), 0o755);
  privateDir(home);
  t.is(mode(join(home, 'bin', 'tool')), 0o755, 'no marker of a data dir: its content is left alone');
  writeFileSync(join(home, 'config.json'), '{}');
  privateDir(home);
  t.is(mode(join(home, 'bin', 'tool')), 0o700, 'in a data dir, group and other bits go; the owner keeps its execute bit');
});

test('config set: when a secret is given on the command line then it is set, with a warning that says how to use -; from standard input there is none', async (t) => {
  const dir = join(tempDir(t), 'data');
  const secret = 'LUFRPT1-command-line-secret';
  const onLine = await runCli(t, ['config', 'set', 'panorama.api_key', secret, '--data-dir', dir]);
  t.is(onLine.code, 0, onLine.stderr);
  t.regex(onLine.stderr, /^warning: panorama\.api_key was given on the command line, where other users see it \(ps\) and the shell keeps it \(history\)/m);
  // With the --data-dir given, so that following it sets the same file.
  t.true(onLine.stderr.includes(`panos-upgrade --data-dir ${dir} config set panorama.api_key -`), onLine.stderr);
  t.false(onLine.stderr.includes(secret) || onLine.stdout.includes(secret), 'the warning does not repeat the secret');
  t.is((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { panorama: { apiKey: string } }).panorama.apiKey, secret);

  const piped = await runCli(t, ['config', 'set', 'panorama.password', '-', '--data-dir', dir], { input: 'from-stdin-pw\n' });
  t.is(piped.code, 0, piped.stderr);
  t.false(piped.stderr.includes('warning'), piped.stderr);
  const plain = await runCli(t, ['config', 'set', 'panorama.username', 'admin', '--data-dir', dir]);
  t.false(plain.stderr.includes('warning'), 'not a secret: no warning');
});
