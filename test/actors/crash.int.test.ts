import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Msg } from '@nats-io/transport-node';
import { isOpError, parseOpCommand } from '../../panos/commands.ts';
import { exited, onLines, repoRoot, startTestNats, waitFor } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { JobEvents, LONG, control, countBy, discover, jobEnded, servedCalls, submit } from './orchestrator-fixture.ts';

/**
 * The daemon killed with SIGKILL in the middle of a step, then started again on the same data dir: it
 * resumes from its event log and reconciles with the device instead of sending the step again.
 */
const nats = startTestNats(test);
const SERIAL = '001234567893'; // fw-branch-01, upgraded from 10.1.0 to 10.5.1

/**
 * `panos-upgrade daemon` as a child process on the stack's data dir, NATS server and subjects (given in the
 * environment, which every version of the command line honours); resolves once it says it is up.
 */
async function startDaemonChild(t: ExecutionContext, stack: Stack): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/panos-upgrade.mjs', 'daemon'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PANOS_UPGRADE_HOME: stack.dataDir,
      NATS_URL: nats.url,
      PANOS_SUBJECT_PREFIX: stack.subjects.prefix,
      PANOS_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const stderr: string[] = [];
  onLines(child.stderr!, (line) => stderr.push(line));
  let up = false;
  onLines(child.stdout!, (line) => {
    if (line.startsWith('Daemon up:')) up = true;
  });
  try {
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}`);
      return up;
    }, LONG);
  } catch (err) {
    throw new Error(`the daemon did not come up: ${stderr.slice(-20).join('\n')}`, { cause: err });
  }
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  const { signal } = await exited(child);
  if (signal !== 'SIGKILL') throw new Error(`daemon ended with ${String(signal)}, not SIGKILL`);
}

/** Installs and restarts each device was sent, by what they were for. */
function mutations(stack: Stack) {
  const calls = servedCalls(stack).filter((c) => c.serial === SERIAL);
  return {
    installs: countBy(calls.filter((c) => c.kind === 'request.system.software.install'), (c) => c.version ?? '?'),
    restarts: calls.filter((c) => c.kind === 'request.restart.system').length,
  };
}

test('crash: when the daemon is killed during a download, an install and a reboot then each restart resumes the step and nothing is sent twice', async (t) => {
  // A download takes 1.5 s, an install 0.75 s, a reboot 2.25 s: each kill lands inside its step.
  const stack = await startStack(t, nats, { timeScale: 0.15, daemon: false, config: (c) => ({ ...c, upgrade: { ...c.upgrade, updateContent: false } }) });
  const events = new JobEvents(t, stack);
  let daemon = await startDaemonChild(t, stack);
  await discover(stack);
  const job = await submit(stack, { device: SERIAL, targetVersion: '10.5.1' });
  t.deepEqual(job.path, ['10.5.1']);
  const device = stack.sim.device(SERIAL)!;

  await events.next(job.job_id, 'job.download.enqueued');
  t.is(device.stateName, 'downloading');
  await kill(daemon);
  daemon = await startDaemonChild(t, stack);

  await events.next(job.job_id, 'job.install.enqueued');
  t.is(device.stateName, 'installing');
  await kill(daemon);
  daemon = await startDaemonChild(t, stack);

  await events.next(job.job_id, 'job.reboot.acknowledged');
  t.true(device.stateName.startsWith('rebooting'), device.stateName);
  await kill(daemon);
  daemon = await startDaemonChild(t, stack);

  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.is(done.current_version, '10.5.1');
  t.is(device.context.record.swVersion, '10.5.1');
  const { installs, restarts } = mutations(stack);
  t.deepEqual([...installs.entries()], [['10.5.1', 1]]);
  t.is(restarts, 1, 'one restart for the hop');
  // The download was not sent again after the restart either.
  const downloads = countBy(servedCalls(stack).filter((c) => c.serial === SERIAL && c.kind === 'request.system.software.download'), (c) => c.version ?? '?');
  t.deepEqual([...downloads.entries()], [['10.5.1', 1]]);
  await events.ended(job.job_id);
  t.is(events.of(job.job_id).filter((e) => e.type === 'job.reboot.completed').length, 1);
});

test('crash: when the daemon is killed after recording an install request whose answer it never got then the restart finds the install with show jobs all', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.1, daemon: false, config: (c) => ({ ...c, upgrade: { ...c.upgrade, updateContent: false } }) });
  const events = new JobEvents(t, stack);
  // Watch the calls the gateway forwards to the simulator: the install is in flight once it is seen here.
  let installArrived = false;
  const sub = stack.nc.subscribe(stack.subjects.simOpAll(), {
    callback: (err: Error | null, msg: Msg) => {
      if (err) return;
      const p = msg.json<{ cmd?: string; target?: string }>();
      const cmd = p.cmd ? parseOpCommand(p.cmd) : undefined;
      if (cmd && !isOpError(cmd) && cmd.kind === 'request.system.software.install' && p.target === SERIAL) installArrived = true;
    },
  });
  t.teardown(() => sub.unsubscribe());
  let daemon = await startDaemonChild(t, stack);
  await discover(stack);
  const job = await submit(stack, { device: SERIAL, targetVersion: '10.5.1' });
  t.deepEqual(job.path, ['10.5.1']);
  const device = stack.sim.device(SERIAL)!;

  // The device gets slow while it downloads (1 s): every later call waits 1 s before it is carried out.
  await events.next(job.job_id, 'job.download.enqueued');
  await control(stack, SERIAL, 'faults', { faults: { api: { latencyMs: 1000 } } });
  await events.next(job.job_id, 'job.install.requested');
  await waitFor(() => installArrived, LONG, 1);
  await kill(daemon);
  t.deepEqual(
    events.of(job.job_id).filter((e) => e.type === 'job.install.enqueued'),
    [],
    'killed before the answer with the job id came back',
  );
  // The device carries the install out all the same.
  const installJob = await waitFor(() => device.context.record.jobs.find((j) => j.type === 'SWInstall'), LONG);
  await control(stack, SERIAL, 'faults', { faults: { api: { latencyMs: 0 } } });
  daemon = await startDaemonChild(t, stack);

  const enqueued = await events.next(job.job_id, 'job.install.enqueued');
  t.is((enqueued.data as { panosJobId: number }).panosJobId, installJob.id);
  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.is(done.current_version, '10.5.1');
  const { installs, restarts } = mutations(stack);
  t.deepEqual([...installs.entries()], [['10.5.1', 1]]);
  t.is(restarts, 1);
  t.is(device.context.record.jobs.filter((j) => j.type === 'SWInstall').length, 1);
});
