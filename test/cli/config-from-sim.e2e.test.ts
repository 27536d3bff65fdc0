import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shippedScenario } from '../../cli/paths.ts';
import { tempDir } from '../helpers/index.ts';
import { runCli } from './run-cli.ts';

/** A pid no process has: the simulator that wrote the file has stopped. */
const GONE = 2 ** 22 + 12345;

test('config from-sim: when the simulator ran with --port 48913 --http and has stopped then the command printed to start it again has them', async (t) => {
  const simDir = tempDir(t, 'panos-fromsim-sim-');
  const dataDir = tempDir(t, 'panos-fromsim-data-');
  const scenario = shippedScenario('basic');
  writeFileSync(
    join(simDir, 'connection.json'),
    JSON.stringify({
      version: 1,
      url: 'http://127.0.0.1:48913',
      host: '127.0.0.1:48913',
      protocol: 'http',
      apiKey: 'test-api-key',
      direct: true,
      scenario,
      scenarioName: 'basic',
      natsUrl: 'nats://127.0.0.1:4222',
      subjectPrefix: 'panos',
      pid: GONE,
      startedAt: '2026-12-04T12:00:00.000Z',
    }),
    { mode: 0o600 },
  );
  const r = await runCli(t, ['--data-dir', dataDir, 'config', 'from-sim', simDir]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.true(lines.includes('  protocol = http') && lines.includes('  panorama.host = 127.0.0.1:48913'), r.stdout);
  const at = lines.indexOf(`The simulator (pid ${GONE}) is not running now: start it again with`);
  t.true(at > 0, r.stdout);
  t.is(lines[at + 1], `  panos-upgrade --data-dir ${simDir} sim --scenario ${scenario} --port 48913 --http`);
});

test('config from-sim: when the simulator data dir has no connection file then the hint names that dir once, as the data dir to start the simulator with', async (t) => {
  const simDir = tempDir(t, 'panos-fromsim-none-');
  const dataDir = tempDir(t, 'panos-fromsim-data-');
  const r = await runCli(t, ['--data-dir', dataDir, 'config', 'from-sim', simDir]);
  t.is(r.code, 2);
  t.is(r.stderr.trim(), `error: no simulator connection file at ${join(simDir, 'connection.json')}: start the simulator with: panos-upgrade --data-dir ${simDir} sim`);
});
