import test, { type ExecutionContext } from 'ava';
import type { DaemonConfig } from '../../actors/config.ts';
import { startTestNats, waitFor } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { JobEvents, LONG, control, discover, getJob, jobEnded, servedCalls, submit, type ServedCall } from './orchestrator-fixture.ts';

/**
 * The reboot-detection mistakes of existing upgrade tools, each with the simulator behaving that way.
 * Every test upgrades fw-branch-01 from 10.1.0 to 10.5.1 (one hop) through the gateway.
 */
const nats = startTestNats(test);
const SERIAL = '001234567893';
const FROM = '10.1.0';
const TO = '10.5.1';

async function upgradeWith(t: ExecutionContext, faults: object, config: (c: DaemonConfig) => DaemonConfig = (c) => c) {
  const stack = await startStack(t, nats, { timeScale: 0.02, config });
  const events = new JobEvents(t, stack);
  await discover(stack);
  await control(stack, SERIAL, 'faults', { faults });
  const job = await submit(stack, { device: SERIAL, targetVersion: TO });
  t.deepEqual(job.path, [TO]);
  return { stack, events, jobId: job.job_id };
}

/** Calls the device was served after it acknowledged `request restart system`. */
function afterRestart(stack: Stack): ServedCall[] {
  const calls = servedCalls(stack).filter((c) => c.serial === SERIAL);
  const restart = calls.findIndex((c) => c.kind === 'request.restart.system');
  return restart < 0 ? [] : calls.slice(restart + 1);
}

function phases(events: JobEvents, jobId: string): string[] {
  return events
    .of(jobId)
    .filter((e) => e.type === 'job.reboot.phase-changed')
    .map((e) => (e.data as { phase: string }).phase);
}

test('reboot: when the device keeps answering on the old version for a while after the restart then that is not taken for a reboot into the wrong version', async (t) => {
  // A slow reboot (5 s): the device goes on answering normally (old version, old uptime) for 0.5 s before it goes down.
  const { stack, events, jobId } = await upgradeWith(t, { rebootSlowFactor: 17 });
  const done = await jobEnded(stack, jobId);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.is(done.current_version, TO);

  const answeredOld = afterRestart(stack).filter((c) => c.kind === 'show.system.info' && c.httpStatus === 200 && c.response.includes(`<sw-version>${FROM}</sw-version>`));
  t.true(answeredOld.length >= 1, 'the device answered on its old version after the restart');
  await events.ended(jobId);
  t.deepEqual(events.of(jobId).filter((e) => e.type === 'job.step.failed'), []);
  const seen = phases(events, jobId);
  t.is(seen[0], 'waiting-for-shutdown');
  t.is(seen.at(-1), 'done');
  t.true(seen.indexOf('rebooting') > 0);
});

test('reboot: when Panorama says the device is not connected during and after the reboot then the wait goes on until it is back', async (t) => {
  const { stack, events, jobId } = await upgradeWith(t, {});
  await events.next(jobId, 'job.reboot.acknowledged');
  // Panorama keeps reporting it disconnected after the firewall is back up, as it does until the device reconnects.
  await control(stack, SERIAL, 'faults', { faults: { api: { notConnected: true } } });
  await waitFor(() => stack.sim.device(SERIAL)?.stateName === 'online', LONG);
  const notConnected = (c: ServedCall): boolean => c.httpStatus === 200 && /is not connected to Panorama/.test(c.response);
  const before = afterRestart(stack).filter(notConnected).length;
  await waitFor(() => afterRestart(stack).filter(notConnected).length >= before + 3, LONG);
  t.is((await getJob(stack, jobId)).upgrade_status, 'rebooting', 'still waiting while Panorama says not connected');
  await control(stack, SERIAL, 'faults', { faults: { api: { notConnected: false } } });

  const done = await jobEnded(stack, jobId);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.is(done.current_version, TO);
  t.true(afterRestart(stack).filter(notConnected).length >= 3);
});

test('reboot: when the device is addressed directly then dropped connections, HTML bodies and transient 403s are waited out', async (t) => {
  // 5 s reboot so each booting phase (HTML, then 403) lasts 250 ms; polls every 20 ms.
  const { stack, jobId } = await upgradeWith(t, { rebootSlowFactor: 17 }, (c) => ({ ...c, install: { via: 'direct' }, poll: { ...c.poll, rebootSeconds: 0.02 } }));
  const done = await jobEnded(stack, jobId);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.is(done.current_version, TO);

  const restart = servedCalls(stack).filter((c) => c.kind === 'request.restart.system');
  t.deepEqual(restart.map((c) => `${c.via} ${c.serial}`), [`direct ${SERIAL}`]);
  const calls = afterRestart(stack).filter((c) => c.via === 'direct');
  t.true(calls.some((c) => c.outcome === 'dropped'), 'connections dropped while it was down');
  t.true(calls.some((c) => c.httpStatus === 503 && c.response.startsWith('<html>')), 'an HTML page while the web server started');
  t.true(calls.some((c) => c.httpStatus === 403), 'a 403 while the management plane started');
  t.true(calls.some((c) => c.kind === 'show.chassis-ready' && c.response.includes('no')), 'chassis not ready for a while');
});

test('reboot: when the device comes back on the version it left then the job fails saying which version runs and which was expected', async (t) => {
  const { stack, jobId } = await upgradeWith(t, { reboot: { rate: 1, error: 'boot loader fell back to the previous partition', mode: 'wrong_version' } });
  const done = await jobEnded(stack, jobId);
  t.is(done.upgrade_status, 'failed');
  t.like(done.error, { step: 'reboot' });
  t.true(done.upgrade_message.startsWith(`Reboot of ${TO} failed on ${SERIAL}: `), done.upgrade_message);
  t.true(done.upgrade_message.includes(`running ${FROM} after reboot, expected ${TO}`), done.upgrade_message);
  // It failed on what the device said after it came back, not while it went down.
  t.true(afterRestart(stack).some((c) => /is not connected to Panorama/.test(c.response)));
  t.is(stack.sim.device(SERIAL)?.context.record.swVersion, FROM);
});

test('reboot: when the device never comes back then the job fails after the configured budget, naming the phase it was stuck in', async (t) => {
  const budgetSeconds = 2;
  const { stack, events, jobId } = await upgradeWith(t, { reboot: { rate: 1, error: 'kernel panic', mode: 'never_returns' } }, (c) => ({
    ...c,
    timeouts: { ...c.timeouts, rebootSeconds: budgetSeconds },
  }));
  const done = await jobEnded(stack, jobId);
  t.is(done.upgrade_status, 'failed');
  t.like(done.error, { step: 'reboot' });
  t.true(done.upgrade_message.startsWith(`Reboot of ${TO} failed on ${SERIAL}: `), done.upgrade_message);
  t.regex(done.upgrade_message, /reboot not complete after \d+ ms \(budget 2000 ms\), stuck in phase rebooting/);
  await events.ended(jobId);
  const acknowledged = await events.next(jobId, 'job.reboot.acknowledged');
  const failed = await events.next(jobId, 'job.failed');
  t.true(Date.parse(failed.at) - Date.parse(acknowledged.at) >= budgetSeconds * 1000, 'it waited the whole budget');
});

test('reboot: when the auto-commit after boot fails then the job fails with the AutoCom job and its details', async (t) => {
  const error = 'Validation Error: rulebase -> security -> rules is invalid';
  const { stack, jobId } = await upgradeWith(t, { autocommit: { rate: 1, error } });
  const done = await jobEnded(stack, jobId);
  t.is(done.upgrade_status, 'failed');
  t.like(done.error, { step: 'reboot' });
  t.regex(done.upgrade_message, new RegExp(`^Reboot of ${TO.replace(/\./g, '\\.')} failed on ${SERIAL}: .*auto-commit job \\d+ failed: `));
  t.true(done.upgrade_message.includes(error), done.upgrade_message);
  // The device did boot into the new version: only its configuration failed to load.
  t.is(stack.sim.device(SERIAL)?.context.record.swVersion, TO);
});
