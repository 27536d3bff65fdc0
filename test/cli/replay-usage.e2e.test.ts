import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { LmdbEventStore, type EventEnvelope, type StoredSnapshot } from '../../eventstore/index.ts';
import { tempDir } from '../helpers/index.ts';
import { T0, at, fact, jobRun } from '../forensics/job-log.ts';
import { runCli } from './run-cli.ts';

/** A data dir whose event log holds run `r1`: its start, and each job's recorded facts with their stored snapshot. */
async function dataDirWith(t: ExecutionContext, jobs: Record<string, { log: EventEnvelope[]; snapshot: StoredSnapshot }>): Promise<string> {
  const dir = tempDir(t, 'panos-replay-cli-');
  const store = LmdbEventStore.open({ path: join(dir, 'events') });
  try {
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
