import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ChaosReport } from '../../chaos/index.ts';
import type { ChaosPlan } from '../../forensics/chaos-check.ts';
import { listRuns, verifyRun } from '../../forensics/replay.ts';
import { LmdbEventStore } from '../../eventstore/index.ts';
import { repoRoot, tempDir } from '../helpers/index.ts';

/** `panos-upgrade <args>` as a user runs it; resolves with its exit code and output. */
function cli(t: ExecutionContext, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/panos-upgrade.mjs'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PANOS_LOG_LEVEL: 'error' } });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const SCALE = '0.02';

/** Faults that fire on every attempt in chaos.yaml: each seed must show them on the same devices. */
const CERTAIN: Array<[string, RegExp]> = [
  ['009900000002', /^reboot never returns$/],
  ['009900000003', /^crash \(unplanned reboot\): Kernel panic/],
  ['009900000009', /^install failed: .*Image file is corrupt/],
  ['009900000012', /^disk full mid-download$/],
  ['009900000015', /^auto-commit failed: /],
  ['009900000022', /^reboot into the wrong version$/],
];

async function chaosRun(t: ExecutionContext, seed: number, extra: readonly string[] = []): Promise<{ report: ChaosReport; dir: string }> {
  const dir = tempDir(t, 'panos-chaos-e2e-');
  const started = Date.now();
  const run = await cli(t, ['chaos', '--seed', String(seed), '--time-scale', SCALE, '--json', '--work-dir', dir, ...extra]);
  const report = JSON.parse(run.stdout) as ChaosReport;
  t.log(`seed ${seed}: ${Date.now() - started} ms, ${report.injected.length} kinds of fault showed, jobs ${JSON.stringify(report.jobs)}`);
  const failed = report.invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.violations.join('; ')}`);
  t.is(run.code, 0, `exit ${run.code}; failed invariants: ${failed.join(' | ')}; stderr: ${run.stderr.slice(-2000)}`);
  return { report, dir };
}

function checkReport(t: ExecutionContext, report: ChaosReport, seed: number, kills = 1): void {
  t.true(report.ok);
  t.is(report.seed, seed);
  t.is(report.devices, 30);
  t.false(report.timedOut);
  t.deepEqual(
    report.invariants.map((i) => [i.name, i.ok]),
    [
      ['every job ends in a terminal state with a reason', true],
      ['no device was sent a second install or restart for the same step', true],
      ['the two peers of an HA pair were never down together and none is left suspended', true],
      ['no event was lost: logs gapless and replay verify passes for the daemon runs', true],
      ['every device the faults did not touch is upgraded', true],
    ],
  );
  // Each disruption happened, at its planned moment or right after the one before it.
  t.deepEqual(
    report.disruptions.map((d) => d.what),
    report.plan.disruptions.map((d) => d.what),
  );
  for (const d of report.disruptions) t.true(d.atMs >= d.plannedMs - 5, `${d.what} at +${d.atMs} ms, planned +${d.plannedMs} ms`);
  // Every daemon but the last was killed (no run.stopped), and each run replays to what it recorded. A
  // daemon killed during its start-up may die before it records its run.
  t.is(report.disruptions.filter((d) => d.what === 'daemon-kill').length, kills);
  t.true(report.daemonRuns.length >= 2 && report.daemonRuns.length <= kills + 1, `${report.daemonRuns.length} daemon runs`);
  t.deepEqual(
    report.daemonRuns.map((r) => [r.stopped, r.verified]),
    report.daemonRuns.map((_, i) => [i === report.daemonRuns.length - 1, true]),
  );
  // Where the faults showed: every certain fault on its device, each with a time.
  for (const [device, fault] of CERTAIN) {
    t.true(
      report.injected.some((f) => f.device === device && fault.test(f.fault) && f.firstMs >= 0),
      `${device} shows ${fault}: ${JSON.stringify(report.injected.filter((f) => f.device === device))}`,
    );
  }
  t.deepEqual(report.submitted.filter((s) => s.jobId === null).map((s) => s.device), ['009900000030'], 'only the device already on the target has no job');
}

test.serial('chaos: when seed 1 runs on chaos.yaml then every invariant holds under the disruptions, and the plan is the one the seed gives', async (t) => {
  const { report, dir } = await chaosRun(t, 1);
  checkReport(t, report, 1);
  const planned = await cli(t, ['chaos', '--seed', '1', '--time-scale', SCALE, '--plan', '--json']);
  t.is(planned.code, 0);
  t.deepEqual(JSON.parse(planned.stdout) as ChaosPlan, report.plan);

  // The work dir holds both logs; replay reads them as any run.
  const store = LmdbEventStore.open({ path: join(dir, 'daemon', 'events') });
  t.teardown(() => store.close());
  const runs = listRuns(store).filter((r) => r.role === 'daemon');
  t.deepEqual(
    runs.map((r) => verifyRun(store, r.runId).ok),
    [true, true],
  );
});

test.serial('chaos: when seed 2 runs with three kills then every invariant holds too, the daemon is killed running, during a start-up and while it resumes, and the same faults show on the same devices', async (t) => {
  const { report, dir } = await chaosRun(t, 2, ['--kills', '3']);
  checkReport(t, report, 2, 3);
  t.deepEqual(
    report.disruptions.filter((d) => d.what === 'daemon-kill').map((d) => d.kill),
    ['running', 'start-up', 'resume'],
  );
  // Every live fault landed on a device whose job was still running: it ended after the fault went on.
  t.true(report.live.length > 0);
  const sim = LmdbEventStore.open({ path: join(dir, 'sim', 'events') });
  const daemon = LmdbEventStore.open({ path: join(dir, 'daemon', 'events') });
  t.teardown(async () => {
    await sim.close();
    await daemon.close();
  });
  for (const injected of sim.readStream('chaos').filter((e) => e.type === 'chaos.fault.injected')) {
    const device = (injected.data as { device: string }).device;
    const jobId = report.submitted.find((s) => s.device === device)?.jobId;
    t.truthy(jobId, `${device} has a job`);
    const end = daemon.readStream(`job:${jobId}`).find((e) => ['job.completed', 'job.failed', 'job.cancelled', 'job.ha.completed', 'job.ha.failed', 'job.ha.cancelled'].includes(e.type));
    t.true(end !== undefined && end.at > injected.at, `${device}: job ${jobId} ended at ${end?.at}, the fault went on at ${injected.at}`);
  }
  const seed1 = await cli(t, ['chaos', '--seed', '1', '--time-scale', SCALE, '--plan', '--json']);
  const again = await cli(t, ['chaos', '--seed', '2', '--time-scale', SCALE, '--kills', '3', '--plan', '--json']);
  t.deepEqual(JSON.parse(again.stdout) as ChaosPlan, report.plan, 'one seed, one plan');
  t.notDeepEqual((JSON.parse(seed1.stdout) as ChaosPlan).disruptions, report.plan.disruptions);
});

test.serial('chaos: when the run cannot finish in time then an invariant fails and the exit code is 1', async (t) => {
  const dir = tempDir(t, 'panos-chaos-e2e-');
  const run = await cli(t, ['chaos', '--seed', '3', '--devices', '4', '--time-scale', SCALE, '--timeout', '0.2', '--json', '--work-dir', dir]);
  t.is(run.code, 1, run.stderr.slice(-2000));
  const report = JSON.parse(run.stdout) as ChaosReport;
  t.false(report.ok);
  t.true(report.timedOut);
  const terminal = report.invariants.find((i) => i.name === 'every job ends in a terminal state with a reason');
  t.false(terminal?.ok);
  t.regex(terminal?.violations[0] ?? '', /^gave up waiting after 0 s$/);
});
