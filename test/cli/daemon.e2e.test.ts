import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { exited, onLines, startTestNats, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { runCli, startCli } from './run-cli.ts';

const nats = startTestNats(test);

test('daemon: when it runs on its own private nats-server then the CLI finds it through daemon.json, until it stops', async (t) => {
  // The simulator and gateway on the test's NATS; the daemon (a child process) reaches them over HTTPS only.
  const stack = await startStack(t, nats, { scenario: 'basic', daemon: false });
  const dir = stack.dataDir;
  const file = join(dir, 'daemon.json');
  const daemon = startCli(t, ['daemon', '--data-dir', dir]);
  const output: string[] = [];
  onLines(daemon.stdout, (l) => output.push(l));
  await waitFor(() => existsSync(file) && output.some((l) => l.startsWith('Daemon up:')), 30_000, 50);
  const info = JSON.parse(readFileSync(file, 'utf8')) as { natsUrl: string; pid: number; runId: string; startedAt: string };
  t.is(info.pid, daemon.pid ?? -1);
  t.regex(info.natsUrl, /^nats:\/\/127\.0\.0\.1:\d+$/);
  t.not(info.natsUrl, nats.url);
  t.regex(info.runId, /^r\d{8}T\d{6}-[0-9a-f]{4}$/);

  const discover = await runCli(t, ['device', 'discover', '--data-dir', dir]);
  t.is(discover.code, 0, discover.stderr);
  t.regex(discover.stdout, /^Discovered 5 devices$/m);
  const status = await runCli(t, ['status', '--data-dir', dir]);
  t.regex(status.stdout, new RegExp(`^ {2}NATS: +${info.natsUrl} \\(from ${file}\\)`, 'm'));
  t.regex(status.stdout, new RegExp(`^ {2}as: +credentials from ${file} \\(the operator user\\)$`, 'm'));

  const second = await runCli(t, ['daemon', '--data-dir', dir]);
  t.is(second.code, 1);
  t.regex(second.stderr, new RegExp(`^error: another daemon \\(pid ${info.pid}, running since [^)]+\\) is already running on this data dir \\(${dir}\\)`, 'm'));
  t.true(existsSync(file), 'the refused daemon leaves the running one announced');

  daemon.kill('SIGTERM');
  t.deepEqual(await exited(daemon), { code: 0, signal: null });
  t.false(existsSync(file));
  const after = await runCli(t, ['job', 'list', '--data-dir', dir]);
  t.is(after.code, 1);
  t.true(after.stderr.startsWith(`error: no daemon is answering on panos.cmd.job.list. Start it with: panos-upgrade --data-dir ${dir} daemon\n`), after.stderr);
});
