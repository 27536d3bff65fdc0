import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { repoRoot, startTestNats, tempDir } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { runCli } from './run-cli.ts';

const nats = startTestNats(test);

interface JsonError {
  ok: false;
  error: { code: string; message: string; exitCode: number; hints?: string[]; [k: string]: unknown };
}

// issue 12: under --json a failing command printed nothing on stdout, so a script could not read the error code.
test('cli --json: when a submit conflicts, a job or a device is unknown then stdout is {ok:false,error} with the same exit code', async (t) => {
  // Real-time downloads (10 s each): the first job is still running when the second is submitted.
  const stack = await startStack(t, nats, { scenario: 'basic', timeScale: 1 });
  const dataDir = tempDir(t);
  // The global options as a user gives them; the hints must repeat them.
  const globals = ['--data-dir', dataDir, '--nats-url', nats.url];
  const env = { PANOS_SUBJECT_PREFIX: stack.subjects.prefix };
  t.is((await runCli(t, [...globals, 'device', 'discover'], { env })).code, 0);
  const first = await runCli(t, [...globals, 'job', 'submit', '--device', '001234567890', '--download-only', '--json'], { env });
  t.is(first.code, 0, first.stderr);
  const jobId = (JSON.parse(first.stdout) as { job: { job_id: string } }).job.job_id;

  const conflict = await runCli(t, [...globals, 'job', 'submit', '--device', '001234567890', '--json'], { env });
  t.is(conflict.code, 1);
  const c = JSON.parse(conflict.stdout) as JsonError;
  t.like(c, { ok: false, error: { code: 'CONFLICTING_JOB_TYPE', existingJobId: jobId, exitCode: 1 } });
  t.true(c.error.message.includes(jobId), c.error.message);
  t.true(
    c.error.hints?.includes(`cancel it:    panos-upgrade --data-dir ${dataDir} --nats-url ${nats.url} job cancel ${jobId}`),
    JSON.stringify(c.error.hints),
  );

  const unknownJob = await runCli(t, [...globals, 'job', 'status', 'zz-000000', '--json'], { env });
  t.is(unknownJob.code, 1);
  t.like(JSON.parse(unknownJob.stdout) as JsonError, { ok: false, error: { code: 'NOT_FOUND', what: 'job', exitCode: 1 } });
  t.true(unknownJob.stderr.includes(`panos-upgrade --data-dir ${dataDir} --nats-url ${nats.url} job list`), unknownJob.stderr);

  const unknownDevice = await runCli(t, [...globals, 'job', 'submit', '--device', '009999999999', '--json'], { env });
  t.is(unknownDevice.code, 1);
  t.like(JSON.parse(unknownDevice.stdout) as JsonError, { ok: false, error: { code: 'NOT_FOUND', what: 'device', exitCode: 1 } });

  const usage = await runCli(t, [...globals, 'job', 'status', 'NOT A JOB', '--json'], { env });
  t.is(usage.code, 2);
  t.like(JSON.parse(usage.stdout) as JsonError, { ok: false, error: { code: 'USAGE', exitCode: 2 } });
});

test('cli --json: when there is no daemon then stdout says NO_DAEMON and the exit code is 1', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, ['status', '--json', '--data-dir', dir]);
  t.is(r.code, 1);
  const e = JSON.parse(r.stdout) as JsonError;
  t.is(e.error.code, 'NO_DAEMON');
  t.true(e.error.message.endsWith(`Start it with: panos-upgrade --data-dir ${dir} daemon`), e.error.message);
});

/** Run the CLI with its stdout a pipe whose reader has already gone (`… | head -1` once head has exited). */
function runIntoClosedPipe(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/panos-upgrade.mjs'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

// issue 12: `config list | head -1` ended with a Node stack trace (EPIPE) and status 1.
test('cli: when the reader of stdout has gone then the command ends quietly with status 0', async (t) => {
  const dir = tempDir(t);
  for (const args of [['config', 'list'], ['config', 'list', '--json'], ['config', 'get', 'concurrency']]) {
    const r = await runIntoClosedPipe([...args, '--data-dir', dir]);
    t.is(r.stderr, '', args.join(' '));
    t.is(r.code, 0, args.join(' '));
  }
});
