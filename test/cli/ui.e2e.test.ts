import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { exited, onLines, startTestNats, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { runCli, startCli } from './run-cli.ts';

const nats = startTestNats(test);
/** Child processes start slowly on a loaded 2-core machine. */
const LOADED = 120_000;

test('daemon: with ui.listen set it serves the live view and /metrics there and prints the address; panos-upgrade ui serves the same from another process', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', daemon: false });
  const dir = stack.dataDir;
  const refused = await runCli(t, ['config', 'set', 'ui.listen', '0.0.0.0:8470', '--data-dir', dir]);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /ui\.listen.*0\.0\.0\.0 is not a loopback address/);
  t.is((await runCli(t, ['config', 'set', 'ui.listen', '127.0.0.1:0', '--data-dir', dir])).code, 0);

  const daemon = startCli(t, ['daemon', '--data-dir', dir]);
  const output: string[] = [];
  onLines(daemon.stdout, (l) => output.push(l));
  const line = await waitFor(() => output.find((l) => l.includes('live view http://')), LOADED, 50);
  const url = /live view (http:\/\/127\.0\.0\.1:\d+)\//.exec(line)![1]!;
  t.true(line.includes(join(dir, 'ui-operator-token')), line);
  t.is((await runCli(t, ['device', 'discover', '--data-dir', dir])).code, 0);
  const metrics = await waitFor(async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return /^panos_upgrade_devices\{version="10\.0\.2"\} 3$/m.test(text) ? text : undefined;
  }, LOADED, 100);
  t.regex(metrics, /^process_cpu_seconds_total /m);
  t.regex(await (await fetch(`${url}/`)).text(), /<div id="app">|npm run build:web/);
  // An action reaches the daemon as the NATS operator (the daemon's own user may not send commands).
  const token = readFileSync(join(dir, 'ui-operator-token'), 'utf8').trim();
  const res = await fetch(`${url}/api/jobs/no-such-job/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error: { code: string; message: string } };
  t.is(res.status, 404, JSON.stringify(body));
  t.is(body.error.code, 'NOT_FOUND');

  // The same view from a separate process, reading the daemon's log and following its NATS.
  const ui = startCli(t, ['ui', '--listen', '127.0.0.1:0', '--data-dir', dir]);
  const uiOut: string[] = [];
  onLines(ui.stdout, (l) => uiOut.push(l));
  onLines(ui.stderr, (l) => uiOut.push(l));
  const uiLine = await waitFor(() => uiOut.find((l) => l.startsWith('Live view http://')), LOADED, 50).catch((err: Error) => {
    throw new Error(`panos-upgrade ui did not come up: ${uiOut.join('\n')}`, { cause: err });
  });
  const uiUrl = /Live view (http:\/\/127\.0\.0\.1:\d+)\//.exec(uiLine)![1]!;
  const fleet = (await (await fetch(`${uiUrl}/api/fleet`)).json()) as { devices: Array<{ serial: string }> };
  t.is(fleet.devices.length, 5);
  ui.kill('SIGTERM');
  t.deepEqual(await exited(ui), { code: 0, signal: null });

  daemon.kill('SIGTERM');
  t.deepEqual(await exited(daemon), { code: 0, signal: null });
  t.false(existsSync(join(dir, 'daemon.json')));
});
