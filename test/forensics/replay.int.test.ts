import test from 'ava';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { LmdbEventStore, type EventEnvelope } from '../../eventstore/index.ts';
import { exportRun, listRuns, stateAt, timeline, verifyRun } from '../../forensics/replay.ts';
import { startTestNats, tempDir } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { command, discover, jobEnded, submit } from '../actors/orchestrator-fixture.ts';
import type { ExecutionContext } from 'ava';

const nats = startTestNats(test);
const ACTIVE = '001234567890';
const BRANCH = '001234567892';

/** ha-pair.yaml: upgrade the pair (a pair job with four child jobs) and the standalone branch firewall. */
async function upgradeRun(t: ExecutionContext): Promise<{ stack: Stack; pairId: string; branchId: string }> {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  await discover(stack);
  const [pair, branch] = await Promise.all([submit(stack, { device: ACTIVE }), submit(stack, { device: BRANCH })]);
  const ended = await Promise.all([jobEnded(stack, pair.job_id), jobEnded(stack, branch.job_id)]);
  t.deepEqual(
    ended.map((j) => j.upgrade_status),
    ['complete', 'complete'],
    ended.map((j) => j.upgrade_message).join(' | '),
  );
  return { stack, pairId: pair.job_id, branchId: branch.job_id };
}

/** A copy of a stopped daemon's log directory, opened as a store. */
function copyLog(t: ExecutionContext, stack: Stack): { dir: string; open: () => LmdbEventStore } {
  const dir = join(tempDir(t, 'panos-replay-copy-'), 'events');
  cpSync(join(stack.dataDir, 'events'), dir, { recursive: true });
  return {
    dir,
    open: () => {
      const store = LmdbEventStore.open({ path: dir });
      t.teardown(() => store.close());
      return store;
    },
  };
}

test('replay: when a small upgrade ran on the stack then every job and pair stream replays through its machine to exactly what was recorded', async (t) => {
  const { stack, pairId, branchId } = await upgradeRun(t);
  const store = stack.daemonStore!;
  const report = verifyRun(store, 'daemon');
  t.true(report.ok, JSON.stringify(report.streams.filter((s) => !s.ok)));
  t.true(report.gseq.ok);
  t.is(report.gseq.last, store.lastGseq());
  const jobs = report.streams.filter((s) => s.kind === 'job');
  const pairs = report.streams.filter((s) => s.kind === 'pair');
  t.deepEqual(pairs.map((s) => s.stream), [`job:${pairId}`]);
  // Two download-only and two upgrade children of the pair, and the branch job.
  t.is(jobs.length, 5);
  t.true(jobs.some((s) => s.stream === `job:${branchId}`));
  t.true(report.streams.some((s) => s.stream === 'api' && s.kind === 'log' && s.ok));
  // Device streams are folded as the daemon folds them: discovery, then what the jobs changed.
  const devices = report.streams.filter((s) => s.kind === 'device');
  t.true(devices.length >= 3 && devices.every((s) => s.ok), JSON.stringify(devices));

  const [run] = listRuns(store);
  t.like(run, { runId: 'daemon', role: 'unknown', firstGseq: 1 });
  t.true((run?.byKind.job ?? 0) > 50 && (run?.byKind.api ?? 0) > 50);
  const lines = [...exportRun(store, 'daemon')];
  t.is(lines.length, run?.events ?? -1);
  t.deepEqual(JSON.parse(lines[0]!) as EventEnvelope, [...store.readAll({ limit: 1 })][0]);
});

test('replay state: when asked at the end of the run then it equals what the daemon reports, and mid-run it shows the job where it stood', async (t) => {
  const { stack, pairId, branchId } = await upgradeRun(t);
  const store = stack.daemonStore!;
  const live = await command<{ jobs: Array<{ job_id: string; upgrade_status: string; upgrade_message: string; progress: number; current_version: string | null }> }>(stack, 'job.list', {});
  const end = stateAt(store, 'daemon');
  const replayed = [...end.jobs, ...end.pairs].map((j) => ({ job_id: j.job_id, upgrade_status: j.upgrade_status, upgrade_message: j.upgrade_message, progress: j.progress }));
  const reported = live.jobs.map((j) => ({ job_id: j.job_id, upgrade_status: j.upgrade_status, upgrade_message: j.upgrade_message, progress: j.progress }));
  const byId = (a: { job_id: string }, b: { job_id: string }): number => a.job_id.localeCompare(b.job_id);
  t.deepEqual(replayed.sort(byId), reported.sort(byId));
  t.true(end.pairs.some((p) => p.job_id === pairId && p.upgrade_status === 'complete'));
  t.deepEqual(end.devices.map((d) => d.serial), [ACTIVE, '001234567891', BRANCH]);
  t.true(end.devices.every((d) => d.swVersion === '11.1.0'));

  // Where the branch job stood when its second install was enqueued.
  const enqueued = store.readStream(`job:${branchId}`).filter((e) => e.type === 'job.install.enqueued')[1]!;
  const mid = stateAt(store, 'daemon', enqueued.gseq);
  t.is(mid.position, enqueued.gseq);
  t.is(mid.at, enqueued.at);
  const branch = mid.jobs.find((j) => j.job_id === branchId);
  t.like(branch, { upgrade_status: 'installing', upgrade_message: 'Installing version 11.1.0 (2/2)', current_version: '10.5.1', step: 'install' });
  t.deepEqual(branch?.panos_jobs.filter((j) => j.kind === 'install').map((j) => j.version), ['10.5.1', '11.1.0']);

  // The timeline of the branch device has the install command and the device's answer.
  const lines = timeline(store, 'daemon', { device: BRANCH });
  const install = lines.find((l) => l.api?.command === 'request system software install 11.1.0');
  t.regex(install?.api?.answer ?? '', /^job \d+ enqueued$/);
  t.is(install?.api?.target, BRANCH);
  t.true(lines.some((l) => l.type === 'job.completed' && l.stream === `job:${branchId}`));
  t.false(lines.some((l) => l.api !== undefined && l.api.target !== BRANCH));
  const jobOnly = timeline(store, 'daemon', { job: pairId });
  t.true(jobOnly.some((l) => l.type === 'job.ha.completed'));
  t.true(jobOnly.some((l) => l.stream !== `job:${pairId}` && l.type === 'job.reboot.completed'), 'the pair’s children are in its timeline');
});

test('replay verify: when a copy of the log gets a bogus fact, loses a fact, or loses an event from the middle then verify names the stream and the first difference', async (t) => {
  const { stack, branchId } = await upgradeRun(t);
  await stack.stopDaemon();
  const stream = `job:${branchId}`;

  // A bogus fact appended after the job completed.
  const bogus = copyLog(t, stack).open();
  const original = bogus.readStream(stream);
  await bogus.append(stream, [{ type: 'job.download.completed', data: { version: '11.1.0', hop: 1 }, runId: 'daemon' }]);
  const withBogus = verifyRun(bogus, 'daemon');
  t.false(withBogus.ok);
  const bad = withBogus.streams.filter((s) => !s.ok);
  t.deepEqual(bad.map((s) => s.stream), [stream]);
  t.regex(bad[0]?.difference ?? '', new RegExp(`^seq ${original.length + 1} \\(job\\.download\\.completed at .*\\): the job already ended`));

  // A device stream with a fact of another kind, and one for a device never discovered.
  const devices = copyLog(t, stack).open();
  const [deviceStream] = devices.streamNames('device:');
  await devices.append(deviceStream!, [{ type: 'job.download.completed', data: {}, runId: 'daemon' }]);
  await devices.append('device:009999999999', [{ type: 'device.version.changed', data: { from: '10.0.2', to: '10.1.0', jobId: 'x' }, runId: 'daemon' }]);
  const withDevices = verifyRun(devices, 'daemon');
  t.deepEqual(
    withDevices.streams.filter((s) => !s.ok).map((s) => [s.stream, s.kind, s.difference?.replace(/ at [^)]+\)/, ')')]),
    [
      ['device:009999999999', 'device', 'seq 1 (device.version.changed): the device was not discovered before it'],
      [deviceStream, 'device', `seq ${devices.readStream(deviceStream!).length} (job.download.completed): not a device fact`],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );

  // A machine-made fact dropped while rebuilding the log: the replay no longer reaches the recorded facts.
  const source = copyLog(t, stack).open();
  const rebuilt = LmdbEventStore.open({ path: join(tempDir(t, 'panos-replay-rebuilt-'), 'events') });
  t.teardown(() => rebuilt.close());
  const dropped = source.readStream(stream).find((e) => e.type === 'job.step.completed' && (e.data as { step: string }).step === 'install')!;
  for (const e of source.readAll()) {
    if (e.gseq === dropped.gseq) continue;
    await rebuilt.append(e.stream, [{ type: e.type, data: e.data, at: e.at, ...(e.runId ? { runId: e.runId } : {}) }]);
  }
  const withDrop = verifyRun(rebuilt, 'daemon');
  t.false(withDrop.ok);
  t.true(withDrop.gseq.ok, 'the rebuilt log has no gap: only the machine can tell');
  const dropVerdict = withDrop.streams.find((s) => !s.ok);
  t.is(dropVerdict?.stream, stream);
  t.regex(dropVerdict?.difference ?? '', new RegExp(`^seq ${dropped.seq} \\(job\\.step\\.started at .*\\): the machine \\(in "installing"\\) does not produce it`));

  // An event deleted from the middle of a copy: the global position and the stream's seq have a gap.
  const raw = copyLog(t, stack);
  const env = open({ path: raw.dir, noSubdir: false, compression: true, maxDbs: 8 });
  const log = env.openDB<EventEnvelope, number>({ name: 'log' });
  const streams = env.openDB<number, [string, number]>({ name: 'streams' });
  await log.remove(dropped.gseq);
  await streams.remove([stream, dropped.seq]);
  await env.close();
  const withGap = verifyRun(raw.open(), 'daemon');
  t.false(withGap.ok);
  t.is(withGap.gseq.difference, `global position ${dropped.gseq} is missing (next is ${dropped.gseq + 1})`);
  t.is(withGap.streams.find((s) => s.stream === stream)?.difference, `seq ${dropped.seq} is missing (found ${dropped.seq + 1} at position ${dropped.seq})`);
});
