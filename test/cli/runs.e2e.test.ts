import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { eventLogPath } from '../../cli/runtime.ts';
import { exited, onLines, tempDir, waitFor } from '../helpers/index.ts';
import { runCli, startCli } from './run-cli.ts';

interface Run {
  runId: string;
  role: string;
  state: string;
}

// issue 12: replay list said "(no stop recorded)" alike for a daemon still running and one killed with SIGKILL;
// and a simulator could be started on a running daemon's data dir.
test('replay list: a running daemon run reads running and a SIGKILLed one killed; a simulator refuses the daemon data dir', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ panorama: { host: '127.0.0.1:9', apiKey: 'k' } }), { mode: 0o600 });
  const daemon = startCli(t, ['daemon', '--data-dir', dir]);
  const out: string[] = [];
  onLines(daemon.stdout, (l) => out.push(l));
  onLines(daemon.stderr, (l) => out.push(l));
  await waitFor(() => out.some((l) => l.startsWith('Daemon up:')), 60_000, 50);

  const running = JSON.parse((await runCli(t, ['replay', 'list', '--json', '--data-dir', dir])).stdout) as Run[];
  t.deepEqual(running.map((r) => [r.role, r.state]), [['daemon', 'running']]);
  const human = await runCli(t, ['replay', 'list', '--data-dir', dir]);
  t.regex(human.stdout, new RegExp(`running \\(pid ${daemon.pid}\\)`));

  const sim = await runCli(t, ['sim', '--port', '0', '--data-dir', dir]);
  t.is(sim.code, 2);
  t.regex(sim.stderr, new RegExp(`^error: a daemon \\(pid ${daemon.pid}, running since [^)]+\\) uses this data dir \\(${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\); give the simulator its own --data-dir`, 'm'));

  daemon.kill('SIGKILL');
  await exited(daemon);
  const killed = JSON.parse((await runCli(t, ['replay', 'list', '--json', '--data-dir', dir])).stdout) as Run[];
  t.deepEqual(killed.map((r) => [r.role, r.state]), [['daemon', 'killed']]);
  t.regex((await runCli(t, ['replay', 'list', '--data-dir', dir])).stdout, /killed \(no stop recorded\)/);
});

// The seed's order (the mock first, then the client) with both on the default data dir: the simulator
// refused a running daemon's dir, but a daemon started on a running simulator's dir wrote into its log.
test('daemon: when a simulator runs in its data dir then it exits 2 naming the simulator, and records no run', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ panorama: { host: '127.0.0.1:9', apiKey: 'k' } }), { mode: 0o600 });
  const sim = startCli(t, ['sim', '--port', '0', '--data-dir', dir]);
  const out: string[] = [];
  onLines(sim.stdout, (l) => out.push(l));
  await waitFor(() => out.some((l) => l.startsWith('Press Ctrl-C')), 60_000, 50);

  const daemon = await runCli(t, ['daemon', '--data-dir', dir]);
  t.is(daemon.code, 2, daemon.stdout + daemon.stderr);
  t.regex(daemon.stderr, new RegExp(`^error: a simulator \\(pid ${sim.pid}, running since [^)]+\\) uses this data dir \\(${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\); give the daemon its own --data-dir`, 'm'));
  const runs = JSON.parse((await runCli(t, ['replay', 'list', '--json', '--data-dir', dir])).stdout) as Run[];
  t.deepEqual(runs.map((r) => [r.role, r.state]), [['simulator', 'running']]);
  sim.kill('SIGTERM');
  t.deepEqual(await exited(sim), { code: 0, signal: null });
});

// issue 12: a simulator whose port was taken failed after recording its run, leaving a run that never served.
test('sim: when its port is taken then it exits 2 saying so, and records no run', async (t) => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen({ host: '127.0.0.1', port: 0 }, resolve));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const dir = tempDir(t);
  const r = await runCli(t, ['sim', '--port', String(port), '--data-dir', dir]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, new RegExp(`^error: port ${port} is already in use on 127\\.0\\.0\\.1 .*give another --port, or 0 for any free one`, 'm'));
  t.false(existsSync(eventLogPath(dir)), 'no event log, so no run');
});

test("sim: --config is the original mock's name for --scenario: it reads the file given, and cannot be given with --scenario", async (t) => {
  const both = await runCli(t, ['sim', '--config', 'scenarios/basic.yaml', '--scenario', 'scenarios/basic.yaml', '--data-dir', tempDir(t)]);
  t.is(both.code, 2);
  t.regex(both.stderr, /option '--config <file>' cannot be used with option '-s, --scenario <file>'/);
  const missing = await runCli(t, ['sim', '--config', 'scenarios/no-such.yaml', '--port', '0', '--data-dir', tempDir(t)]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /no-such\.yaml/);
});
