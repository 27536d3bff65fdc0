import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetCheckResult } from '../../actors/readiness.ts';
import { shippedScenario } from '../../cli/paths.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { startTestNats } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { command, control, discover } from './orchestrator-fixture.ts';

const nats = startTestNats(test);
const SEED_DEVICE = '001234567890';

/** The shipped basic scenario with its text changed, written in the test's temp dir and loaded as `sim --scenario` would. */
function basicWith(t: ExecutionContext, edit: (yaml: string) => string, timeScale: number) {
  const dir = mkdtempSync(join(tmpdir(), 'panos-scenario-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const original = readFileSync(shippedScenario('basic'), 'utf8');
  const text = edit(original);
  if (text === original) throw new Error('the scenario edit changed nothing');
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, text);
  return loadScenarioFile(file, { timeScale, env: {} });
}

async function verdict(stack: Stack, serial: string, name: string) {
  const r = await command<FleetCheckResult>(stack, 'device.check', { devices: [serial] });
  const v = r.devices[0]?.report?.verdicts.find((x) => x.check === name);
  if (!v) throw new Error(`no ${name} verdict: ${JSON.stringify(r.devices[0])}`);
  return { v, ok: r.ok };
}

test('readiness on the simulator: a Panorama older than the target fails panorama_version and blocks', async (t) => {
  const scenario = basicWith(t, (y) => y.replace(/(panorama:\n(?:.*\n)*?\s+version: )"11\.1\.0"/, '$1"10.1.0"'), 0.02);
  t.is(scenario.panorama.swVersion, '10.1.0');
  const stack = await startStack(t, nats, { scenario });
  await discover(stack);
  const { v, ok } = await verdict(stack, SEED_DEVICE, 'panorama_version');
  t.like(v, { status: 'fail', blocking: true });
  t.is(v.message, 'Panorama runs 10.1.0, older than the target 11.1.0: upgrade Panorama first (it must run the same feature release or later)');
  t.false(ok);
});

test('readiness on the simulator: a firewall with no Panorama configured fails panorama_connected and blocks', async (t) => {
  const scenario = basicWith(t, (y) => y.replace(/(hostname: fw-dc1-01\n)/, '$1    readiness: { panorama: false }\n'), 0.02);
  const stack = await startStack(t, nats, { scenario });
  await discover(stack);
  const { v, ok } = await verdict(stack, SEED_DEVICE, 'panorama_connected');
  t.like(v, { status: 'fail', blocking: true });
  t.is(v.message, 'no Panorama is configured on the device');
  t.false(ok);
  // Its neighbour, configured as usual, passes.
  t.regex((await verdict(stack, '001234567891', 'panorama_connected')).v.message, /^connected to 127\.0\.0\.1/);
});

test('readiness on the simulator: a firewall Panorama does not see connected cannot be read through Panorama; the check reports the device, not a verdict', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  await discover(stack);
  // Discovered, then dropped off Panorama (a scenario's `connected: false` device is never discovered at all).
  await control(stack, '001234567891', 'faults', { faults: { api: { notConnected: true } } });
  const r = await command<FleetCheckResult>(stack, 'device.check', { devices: ['001234567891'] });
  t.false(r.ok);
  t.like(r.devices[0], { serial: '001234567891', error: '001234567891 is unreachable: not-connected' });
  t.is(r.devices[0]?.report, undefined);
});

test('readiness on the simulator: a software download started through the XML API fails no_running_jobs while it runs', async (t) => {
  // A download of 3000 scenario seconds, 60 s at this time scale: still running when the check reads the job list.
  const scenario = basicWith(t, (y) => y.replace('download_duration: 10', 'download_duration: 3000'), 0.02);
  const stack = await startStack(t, nats, { scenario, protocol: 'http' });
  await discover(stack);
  t.is((await verdict(stack, SEED_DEVICE, 'no_running_jobs')).v.status, 'pass');

  const cmd = '<request><system><software><download><version>10.1.0</version></download></software></system></request>';
  const url = `http://127.0.0.1:${stack.gateway.port}/api/?${new URLSearchParams({ type: 'op', cmd, target: SEED_DEVICE, key: scenario.apiKey })}`;
  const reply = await (await fetch(url)).text();
  const jobId = /<job>(\d+)<\/job>/.exec(reply)?.[1];
  t.truthy(jobId, reply);

  const { v, ok } = await verdict(stack, SEED_DEVICE, 'no_running_jobs');
  t.like(v, { status: 'fail', blocking: true });
  t.regex(v.message, new RegExp(`^job\\(s\\) still running: Downld ${jobId} \\(ACT, \\d+%\\); wait for them to finish$`));
  t.false(ok);
});
