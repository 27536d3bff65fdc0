import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { LmdbEventStore, type EventEnvelope, type StoredSnapshot } from '../../eventstore/index.ts';
import { tempDir } from '../helpers/index.ts';
import { T0, at, fact, jobRun } from '../forensics/job-log.ts';
import { runCli } from './run-cli.ts';

/** A data dir whose event log holds run `r1`: its start, and each job's recorded facts with their stored snapshot. */
async function dataDirWith(t: ExecutionContext, jobs: Record<string, { log: EventEnvelope[]; snapshot: StoredSnapshot }>, earlier?: { role: string }): Promise<string> {
  const dir = tempDir(t, 'panos-replay-cli-');
  const store = LmdbEventStore.open({ path: join(dir, 'events') });
  try {
    // An earlier run `r0` of another process, before r1.
    if (earlier) {
      await store.append('run:r0', [
        { type: 'run.started', data: { role: earlier.role, pid: 1 }, at: at(-3), runId: 'r0' },
        { type: 'run.stopped', data: { role: earlier.role }, at: at(-2), runId: 'r0' },
      ]);
    }
    await store.append('run:r1', [{ type: 'run.started', data: { role: 'daemon', pid: 1 }, at: at(-1), runId: 'r1' }]);
    for (const [stream, { log, snapshot }] of Object.entries(jobs)) {
      await store.append(
        stream,
        log.map((e) => ({ type: e.type, data: e.data, at: e.at, runId: 'r1' })),
        { snapshot: snapshot.state },
      );
    }
  } finally {
    await store.close();
  }
  return dir;
}

const validated = { swVersion: '10.0.2', freeDiskMb: 9000, neededMb: 2048, contentUpdate: false, notes: [] };

test('replay verify: when the recorded times step back during the run (an NTP step) then verify does not crash: one line per stream, OK, exit 0', async (t) => {
  const steady = jobRun([{ type: 'start', now: T0 + 10 }, fact('job.validated', validated, 20), { type: 'step.done', now: T0 + 30 }, { type: 'cancel', by: 'operator', now: T0 + 40 }]);
  const stepped = jobRun([
    { type: 'start', now: T0 + 10 },
    fact('job.validated', validated, 20),
    { type: 'step.done', now: T0 - 90_000 },
    { type: 'cancel', by: 'operator', now: T0 - 89_990 },
  ]);
  const dir = await dataDirWith(t, { 'job:j1': steady, 'job:j2': stepped });
  const r = await runCli(t, ['replay', 'verify', 'r1', '--data-dir', dir]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  t.deepEqual(r.stdout.trim().split('\n'), [
    `OK        job:j1 (job, ${steady.log.length} events)`,
    `OK        job:j2 (job, ${stepped.log.length} events)`,
    'OK        run:r1 (log, 1 events)',
    `OK        global positions 1…${1 + steady.log.length + stepped.log.length} (${1 + steady.log.length + stepped.log.length} events)`,
    'Run r1: 2 job stream(s) replayed through their machines to exactly what was recorded; 3 stream(s) gapless.',
  ]);
});

const cancelled = () => jobRun([{ type: 'start', now: T0 + 10 }, fact('job.validated', validated, 20), { type: 'step.done', now: T0 + 30 }, { type: 'cancel', by: 'operator', now: T0 + 40 }]);

test('replay show --device: a malformed serial is a usage error (exit 2); a serial the run never touched is not found (exit 1), not an empty timeline', async (t) => {
  const dir = await dataDirWith(t, { 'job:j1': cancelled() });
  const malformed = await runCli(t, ['replay', 'show', 'r1', '--device', 'fw-01', '--data-dir', dir]);
  t.is(malformed.code, 2);
  t.regex(malformed.stderr, /^error: option '--device <serial>' argument 'fw-01' is invalid\. expected a device serial/);
  const unknown = await runCli(t, ['replay', 'show', 'r1', '--device', '12', '--data-dir', dir]);
  t.is(unknown.code, 1);
  t.is(unknown.stdout, '');
  t.is(
    unknown.stderr.trim(),
    `error: nothing in run r1 concerns device 12: no job, device or simulator stream of it and no API call to it; list the run's devices with: panos-upgrade --data-dir ${dir} replay state r1`,
  );
  const job = await runCli(t, ['replay', 'show', 'r1', '--job', 'nope', '--data-dir', dir]);
  t.is(job.code, 1);
  t.regex(job.stderr, /^error: nothing in run r1 concerns job nope: /);
  const known = await runCli(t, ['replay', 'show', 'r1', '--device', '001234567890', '--data-dir', dir]);
  t.is(known.code, 0, known.stderr);
  t.true(known.stdout.includes('job.cancel.requested'), known.stdout);
});

test('replay state --at: a position past the log, or before the run, is refused with the run\'s positions (exit 2)', async (t) => {
  const job = cancelled();
  const dir = await dataDirWith(t, { 'job:j1': job }, { role: 'simulator' });
  const last = 2 + 1 + job.log.length;
  const past = await runCli(t, ['replay', 'state', 'r1', '--at', '999999', '--data-dir', dir]);
  t.is(past.code, 2);
  t.is(past.stderr.trim(), `error: position 999999 is past the end of the log, whose last position is ${last} (run r1 runs from position 3 to ${last})`);
  const before = await runCli(t, ['replay', 'state', 'r1', '--at', '1', '--data-dir', dir]);
  t.is(before.code, 2);
  t.is(before.stderr.trim(), `error: position 1 is before run r1: it runs from position 3 to ${last}`);
  const inside = await runCli(t, ['replay', 'state', 'r1', '--at', '4', '--data-dir', dir]);
  t.is(inside.code, 0, inside.stderr);
  t.regex(inside.stdout, /^Run r1 at position 4 /);
});

test('replay export --out into a directory that does not exist: a clear usage error (exit 2), nothing written', async (t) => {
  const dir = await dataDirWith(t, { 'job:j1': cancelled() });
  const out = join(dir, 'no-such-dir', 'x.jsonl');
  const r = await runCli(t, ['replay', 'export', 'r1', '--out', out, '--data-dir', dir]);
  t.is(r.code, 2);
  t.is(r.stderr.trim(), `error: cannot write --out ${out}: its directory ${join(dir, 'no-such-dir')} does not exist; give a file in an existing directory you can write to`);
  const ok = await runCli(t, ['replay', 'export', 'r1', '--out', join(dir, 'x.jsonl'), '--data-dir', dir]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /^Wrote \d+ event\(s\) of run r1 to /);
});

test('replay scenario of a simulator run: the error names the run\'s role and the event type the daemon stores, api.calls.recorded', async (t) => {
  const dir = await dataDirWith(t, { 'job:j1': cancelled() }, { role: 'simulator' });
  const r = await runCli(t, ['replay', 'scenario', 'r0', '--out', join(dir, 'rec.yaml'), '--data-dir', dir]);
  t.is(r.code, 1);
  t.is(
    r.stderr.trim(),
    `error: run r0 is a simulator run: it has no API calls recorded by a daemon (api.calls.recorded events): record a daemon run against the devices first, and give its run id (panos-upgrade --data-dir ${dir} replay list shows each run's role)`,
  );
});
