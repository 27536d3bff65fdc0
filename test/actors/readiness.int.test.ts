import test from 'ava';
import type { FleetCheckResult } from '../../actors/readiness.ts';
import { CHECK_NAMES } from '../../checks/index.ts';
import { startTestNats } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { MUTATING_KINDS, command, discover, jobEnded, servedCalls, submit } from './orchestrator-fixture.ts';

const nats = startTestNats(test);
const SEED_DEVICE = '001234567890';

test('readiness: device.check on the fleet reads every device and changes nothing (API-call log and device state)', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  t.is(await discover(stack), 5);
  const versionsBefore = stack.scenario.devices.map((d) => stack.sim.device(d.serial)?.context.record.swVersion);
  const daemonCallsBefore = (await stack.recordedCalls()).length;
  const servedBefore = servedCalls(stack).length;

  const r = await command<FleetCheckResult>(stack, 'device.check', { all: true });
  t.is(r.devices.length, 5);
  t.is(r.policy, 'default');
  const seed = r.devices.find((d) => d.serial === SEED_DEVICE);
  t.truthy(seed?.report, JSON.stringify(seed));
  // Every catalogued check gave a verdict; what the simulator does not answer yet is `unavailable`, never blocking.
  t.is(seed?.report?.verdicts.length, CHECK_NAMES.length);
  for (const v of seed?.report?.verdicts ?? []) if (v.status === 'unavailable') t.false(v.blocking, v.check);
  t.like(seed?.report?.verdicts.find((v) => v.check === 'no_running_jobs'), { status: 'pass' });

  // Zero mutating calls: the daemon's own API-call log says so call by call, and the gateway served none.
  const calls = (await stack.recordedCalls()).slice(daemonCallsBefore) as Array<{ command: string; mutating: boolean; type: string }>;
  t.true(calls.length > 5 * 10, `${calls.length} calls`);
  t.deepEqual(calls.filter((c) => c.mutating), []);
  t.deepEqual(calls.filter((c) => c.type !== 'op' && c.type !== 'config' && c.type !== 'keygen'), []);
  const served = servedCalls(stack).slice(servedBefore);
  t.deepEqual(served.filter((c) => MUTATING_KINDS.has(c.kind)), []);
  t.deepEqual(stack.scenario.devices.map((d) => stack.sim.device(d.serial)?.context.record.swVersion), versionsBefore);
  t.deepEqual((await command<{ jobs: unknown[] }>(stack, 'job.list', {})).jobs, []);
});

test('readiness: a bad policy in a payload is refused with the field named, and nothing runs', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  await discover(stack);
  const err = await t.throwsAsync(command(stack, 'device.check', { devices: [SEED_DEVICE], policy: { checks: { dataplane_cpu: { max_pct: 180 } } } }));
  t.regex(err?.message ?? '', /checks\.dataplane_cpu\.max_pct/);
  // A serial named many times is checked once.
  const once = await command<{ devices: Array<{ serial: string }> }>(stack, 'device.check', { devices: Array.from({ length: 20 }, () => SEED_DEVICE) });
  t.deepEqual(once.devices.map((d) => d.serial), [SEED_DEVICE]);
});

test('readiness: an upgrade job whose blocking check fails stops at validation, says why, and sends nothing that changes the device', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  await discover(stack);
  const servedBefore = servedCalls(stack).length;
  // A gateway the device has no ARP entry for, required by this job's policy.
  const policy = { checks: { arp_entries: { severity: 'block', entries: [{ ip: '203.0.113.250' }] }, no_running_jobs: {} } };
  const job = await command<{ job: { job_id: string } }>(stack, 'job.submit', { device: SEED_DEVICE, policy });
  const done = await jobEnded(stack, job.job.job_id);
  t.is(done.upgrade_status, 'failed');
  t.is(done.error?.step, 'validate');
  t.regex(done.upgrade_message, /readiness check failed: arp_entries: ARP entr\(ies\) not found: 203\.0\.113\.250/);
  const readiness = (done as unknown as { readiness: { ok: boolean; verdicts: Array<{ check: string; status: string }> } }).readiness;
  t.false(readiness.ok);
  t.deepEqual(readiness.verdicts.map((v) => `${v.check} ${v.status}`), ['no_running_jobs pass', 'arp_entries fail']);
  const mine = servedCalls(stack).slice(servedBefore).filter((c) => c.serial === SEED_DEVICE);
  t.deepEqual(mine.filter((c) => MUTATING_KINDS.has(c.kind)), []);
  t.is(stack.sim.device(SEED_DEVICE)?.context.record.swVersion, '10.0.2');
  // The verdicts are in the job's events, so replay shows them.
  const facts = stack.daemonStore!.readStream(`job:${job.job.job_id}`).map((e) => e.type);
  t.true(facts.includes('job.readiness.evaluated'));
});

test('readiness: job submit --checks-only checks the device and submits nothing', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  await discover(stack);
  const r = await command<{ checksOnly: true; checks: FleetCheckResult }>(stack, 'job.submit', { device: SEED_DEVICE, checksOnly: true });
  t.true(r.checksOnly);
  t.is(r.checks.devices[0]?.serial, SEED_DEVICE);
  t.deepEqual((await command<{ jobs: unknown[] }>(stack, 'job.list', {})).jobs, []);
  const healthy = await submit(stack, { device: SEED_DEVICE });
  t.is((await jobEnded(stack, healthy.job_id)).upgrade_status, 'complete');
});
