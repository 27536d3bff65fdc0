import test from 'ava';
import { join } from 'node:path';
import { LmdbEventStore } from '../../eventstore/index.ts';
import type { CheckReport } from '../../forensics/duplicate-check.ts';
import { tempDir } from '../helpers/index.ts';
import { runCli } from '../cli/run-cli.ts';

/**
 * `panos-upgrade replay check` on a data dir whose log holds issue 11's window: the daemon recorded
 * the install done, was SIGKILLed before it recorded the step done, and the next daemon run sent the
 * install again. The log alone must show it.
 */
const SERIAL = '001234567893';
const INSTALL = '<request><system><software><install><version>10.5.1</version></install></software></system></request>';

async function writeLog(dir: string): Promise<void> {
  const store = LmdbEventStore.open({ path: join(dir, 'events') });
  const job = (type: string, data: unknown, runId: string) => store.append('job:j1', [{ type, data, runId }]);
  const call = (runId: string) =>
    store.append('api', [{ type: 'api.call.recorded', runId, data: { at: '', host: '127.0.0.1:9443', target: SERIAL, type: 'op', command: INSTALL, durationMs: 4, attempt: 1, outcome: 'ok', panosStatus: 'success' } }]);
  await store.append('run:r1', [{ type: 'run.started', data: { role: 'daemon', pid: 1 }, runId: 'r1' }]);
  await job('job.submitted', { jobId: 'j1', kind: 'upgrade', device: { serial: SERIAL } }, 'r1');
  await job('job.step.started', { step: 'install', hop: 0, version: '10.5.1', attempt: 1 }, 'r1');
  await job('job.install.requested', { version: '10.5.1', hop: 0, baselineJobId: 3 }, 'r1');
  await call('r1');
  await job('job.install.completed', { version: '10.5.1', hop: 0 }, 'r1');
  await store.append('run:r2', [{ type: 'run.started', data: { role: 'daemon', pid: 2 }, runId: 'r2' }]);
  await job('job.install.requested', { version: '10.5.1', hop: 0, baselineJobId: 4 }, 'r2');
  await call('r2');
  await store.close();
}

test('replay check: when a data dir holds a second install of the same step after a crash then the command names it and exits 1; a clean run exits 0', async (t) => {
  const dir = tempDir(t);
  await writeLog(dir);
  const text = await runCli(t, ['replay', 'check', 'r2', '--data-dir', dir]);
  t.is(text.code, 1, text.stderr);
  t.regex(text.stdout, /DUPLICATE 001234567893: request\.system\.software\.install 10\.5\.1 sent 2× for job j1 \(install of hop 0, attempt 1\)/);
  t.regex(text.stdout, /run r1.*run r2/);
  const json = await runCli(t, ['replay', 'check', '--data-dir', dir, '--json']);
  t.is(json.code, 1);
  const report = JSON.parse(json.stdout) as CheckReport;
  t.like(report, { runId: null, ok: false, mutating: 2 });
  t.is(report.duplicates.length, 1);

  const clean = tempDir(t);
  const store = LmdbEventStore.open({ path: join(clean, 'events') });
  await store.append('run:r1', [{ type: 'run.started', data: { role: 'daemon', pid: 1 }, runId: 'r1' }]);
  await store.close();
  const ok = await runCli(t, ['replay', 'check', 'r1', '--data-dir', clean]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, /No device received a mutating command twice for the same step/);
});
