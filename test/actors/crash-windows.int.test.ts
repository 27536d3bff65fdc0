import test from 'ava';
import { startTestNats } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { countBy, discover, jobEnded, servedCalls, submit } from './orchestrator-fixture.ts';
import { crashAfter, crashed, startDaemonChild } from './daemon-child.ts';
import type { CheckReport } from '../../forensics/duplicate-check.ts';
import { runCli } from '../cli/run-cli.ts';

/**
 * The two windows of issue 11: the daemon SIGKILLed right after a step's effect is recorded done
 * (`job.install.completed`, `job.reboot.completed`) and before the step itself is, then started again.
 * The device must not get the install or the restart a second time.
 */
const nats = startTestNats(test);
const SERIAL = '001234567893'; // fw-branch-01, upgraded from 10.1.0 to 10.5.1

for (const point of ['job.install.completed', 'job.reboot.completed']) {
  test(`crash: when the daemon is killed right after ${point} is durable then the restart completes the step without sending it again`, async (t) => {
    const stack = await startStack(t, nats, { timeScale: 0.05, daemon: false, config: (c) => ({ ...c, upgrade: { ...c.upgrade, updateContent: false } }) });
    const first = await startDaemonChild(t, stack, nats, crashAfter(point));
    await discover(stack);
    const job = await submit(stack, { device: SERIAL, targetVersion: '10.5.1' });
    t.deepEqual(job.path, ['10.5.1']);
    await crashed(first);
    await startDaemonChild(t, stack, nats);

    const done = await jobEnded(stack, job.job_id);
    t.is(done.upgrade_status, 'complete', done.upgrade_message);
    t.is(stack.sim.device(SERIAL)!.context.record.swVersion, '10.5.1');
    const calls = servedCalls(stack).filter((c) => c.serial === SERIAL);
    t.deepEqual([...countBy(calls.filter((c) => c.kind === 'request.system.software.install'), (c) => c.version ?? '?')], [['10.5.1', 1]], 'one install');
    t.is(calls.filter((c) => c.kind === 'request.restart.system').length, 1, 'one restart');
    t.is(calls.filter((c) => c.kind === 'request.system.software.download').length, 1, 'one download');
    // The daemon's own log says the same: `replay check` over both daemon runs finds no duplicate.
    const check = await runCli(t, ['replay', 'check', '--data-dir', stack.dataDir, '--json']);
    const report = JSON.parse(check.stdout) as CheckReport;
    t.is(check.code, 0, check.stdout);
    t.deepEqual(report.duplicates, []);
    t.true(report.mutating >= 3, `${report.mutating} mutating command(s) in the daemon's log`);
  });
}
