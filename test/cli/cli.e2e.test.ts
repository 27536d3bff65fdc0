import test from 'ava';
import { startTestNats, tempDir, uniquePrefix } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { runCli, stackEnv } from './run-cli.ts';

const nats = startTestNats(test);

test('cli: when no daemon answers on the configured NATS then the command exits 1 and says how to start one', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, ['job', 'list', '--data-dir', dir], { env: { NATS_URL: nats.url, PANOS_SUBJECT_PREFIX: uniquePrefix() } });
  t.is(r.code, 1);
  // issue 12: the hint repeats the --data-dir the user gave.
  t.true(r.stderr.includes(`. Start it with: panos-upgrade --data-dir ${dir} daemon\n`), r.stderr);
  t.regex(r.stderr, /^error: no daemon is answering on panos-t\w+\.cmd\.job\.list\./m);
});

test('cli: when there is no NATS_URL and no daemon.json then job submit exits 1 with the hint and where it looked', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, ['job', 'submit', '--device', '001234567890', '--data-dir', dir]);
  t.is(r.code, 1);
  t.true(r.stderr.startsWith(`error: no daemon is answering on panos.cmd.job.submit. Start it with: panos-upgrade --data-dir ${dir} daemon\n`), r.stderr);
  t.true(r.stderr.includes(`no daemon.json in ${dir}`), r.stderr);
});

test('cli: when a flag is unknown then it exits 2 before anything is sent', async (t) => {
  // Nothing listens on port 1: reaching NATS at all would end in exit 1, not 2.
  const r = await runCli(t, ['job', 'list', '--everything'], { env: { NATS_URL: 'nats://127.0.0.1:1' } });
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown option '--everything'/);
});

test('cli: when a serial or a version is malformed then job submit exits 2 naming the expected form', async (t) => {
  const bad = await runCli(t, ['job', 'submit', '--device', '0012.34'], { env: { NATS_URL: 'nats://127.0.0.1:1' } });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /expected a device serial/);
  const version = await runCli(t, ['job', 'submit', '--device', '001234567890', '--target', 'eleven'], { env: { NATS_URL: 'nats://127.0.0.1:1' } });
  t.is(version.code, 2);
  t.regex(version.stderr, /expected a PAN-OS version/);
  const status = await runCli(t, ['job', 'list', '--status', 'done'], { env: { NATS_URL: 'nats://127.0.0.1:1' } });
  t.is(status.code, 2);
  t.regex(status.stderr, /expected one of pending, validating/);
});

test('cli: when status is asked then it shows the inventory size and jobs by status', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const env = stackEnv(nats.url, stack);
  const dir = ['--data-dir', tempDir(t)];
  t.is((await runCli(t, ['device', 'discover', ...dir], { env })).code, 0);
  const r = await runCli(t, ['status', ...dir], { env });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^ {2}devices: +5 in the inventory$/m);
  const json = JSON.parse((await runCli(t, ['status', '--json', ...dir], { env })).stdout) as { devices: number; concurrency: number };
  t.is(json.devices, 5);
  t.is(json.concurrency, stack.config.concurrency);
});
