import test from 'ava';
import { exited, onLines, startTestNats, tempDir, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { runCli, stackEnv, startCli } from './run-cli.ts';
import { control } from '../actors/orchestrator-fixture.ts';

const nats = startTestNats(test);

test('cli: when job submit --download-only --wait follows a job then it exits 0 with the final status', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const env = stackEnv(nats.url, stack);
  const dir = ['--data-dir', tempDir(t)];
  t.is((await runCli(t, ['device', 'discover', ...dir], { env })).code, 0);

  const r = await runCli(t, ['job', 'submit', '--device', '001234567890', '--download-only', '--wait', ...dir], { env });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Submitted download-only job [0-9a-z-]+ for fw-dc1-01 \(001234567890\)$/m);
  t.regex(r.stdout, /downloading {2}Downloading version 10\.1\.0 \(1\/3\)$/m);
  t.regex(r.stdout, /^fw-dc1-01 \(001234567890\) {2}download_complete {2}Downloaded 3 version\(s\): 10\.1\.0, 10\.5\.1, 11\.1\.0$/m);

  const jobId = /job ([0-9a-z-]+) for/.exec(r.stdout)?.[1] ?? '';
  const status = await runCli(t, ['job', 'status', jobId, '--json', ...dir], { env });
  const job = (JSON.parse(status.stdout) as { job: Record<string, unknown> }).job;
  t.like(job, { job_id: jobId, upgrade_status: 'download_complete', progress: 100, ready_for_install: true, downloaded_versions: ['10.1.0', '10.5.1', '11.1.0'] });

  const human = await runCli(t, ['job', 'status', jobId, ...dir], { env });
  t.regex(human.stdout, /^ {2}status: +download_complete \(100%\)$/m);
  t.regex(human.stdout, /^ {2}ready for install: yes$/m);

  const waitJson = await runCli(t, ['job', 'submit', '--device', '001234567893', '--download-only', '--wait', '--json', ...dir], { env });
  t.is(waitJson.code, 0, waitJson.stderr);
  t.like(JSON.parse(waitJson.stdout), { ok: true, job: { device_serial: '001234567893', upgrade_status: 'download_complete' } });
});

test('cli: job submit --wait --json on a job that fails prints one JSON reply, ok false with the job and the error, and exits 1', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', timeScale: 0.02, config: (c) => ({ ...c, retries: { maxAttempts: 1, backoffSeconds: 0.1 } }) });
  const env = stackEnv(nats.url, stack);
  const dir = ['--data-dir', tempDir(t)];
  t.is((await runCli(t, ['device', 'discover', ...dir], { env })).code, 0);
  await control(stack, '001234567893', 'faults', { faults: { download: { rate: 1, error: 'Failed to download 10.1.0: checksum mismatch' } } });
  const r = await runCli(t, ['job', 'submit', '--device', '001234567893', '--download-only', '--wait', '--json', ...dir], { env });
  t.is(r.code, 1, r.stderr);
  // One document: a script reads ok false, not a first ok true.
  const reply = JSON.parse(r.stdout) as { ok: boolean; job: { upgrade_status: string }; error: { code: string; message: string; exitCode: number } };
  t.false(reply.ok);
  t.is(reply.job.upgrade_status, 'failed');
  t.like(reply.error, { code: 'JOB_FAILED', exitCode: 1 });
  t.regex(reply.error.message, /checksum mismatch/);
  t.regex(r.stderr, /^error: job \S+ ended failed: .*checksum mismatch/m);
});

test('cli: when a device already has a download-only job then an upgrade exits 1 naming the job and the cancel command', async (t) => {
  // Slow downloads (50 s each): the first job is still running through six CLI calls, even on a loaded machine.
  const stack = await startStack(t, nats, { scenario: 'basic', timeScale: 5 });
  const env = stackEnv(nats.url, stack);
  const dir = ['--data-dir', tempDir(t)];
  t.is((await runCli(t, ['device', 'discover', ...dir], { env })).code, 0);
  const first = await runCli(t, ['job', 'submit', '--device', '001234567890', '--download-only', '--json', ...dir], { env });
  t.is(first.code, 0, first.stderr);
  const jobId = (JSON.parse(first.stdout) as { job: { job_id: string } }).job.job_id;

  const conflict = await runCli(t, ['job', 'submit', '--device', '001234567890', ...dir], { env });
  t.is(conflict.code, 1);
  t.regex(conflict.stderr, new RegExp(`^error: device 001234567890 already has an active download-only job ${jobId}`, 'm'));
  t.true(conflict.stderr.includes(`panos-upgrade ${dir.join(' ')} job cancel ${jobId}`), conflict.stderr);

  const duplicate = await runCli(t, ['job', 'submit', '--device', '001234567890', '--download-only', ...dir], { env });
  t.is(duplicate.code, 1);
  t.true(duplicate.stderr.includes(`panos-upgrade ${dir.join(' ')} job cancel ${jobId}`), duplicate.stderr);

  const active = JSON.parse((await runCli(t, ['job', 'list', '--active', '--json', ...dir], { env })).stdout) as { jobs: Array<{ job_id: string }> };
  t.deepEqual(
    active.jobs.map((j) => j.job_id),
    [jobId],
  );
  const table = await runCli(t, ['job', 'list', '--device', '001234567890', ...dir], { env });
  t.regex(table.stdout, /^JOB\s+KIND\s+DEVICE\s+HOSTNAME\s+STATUS\s+PROGRESS\s+SUBMITTED\s+MESSAGE$/m);
  t.regex(table.stdout, new RegExp(`^${jobId}\\s+download-only\\s+001234567890\\s+fw-dc1-01\\s`, 'm'));

  const cancel = await runCli(t, ['job', 'cancel', jobId, ...dir], { env });
  t.is(cancel.code, 0, cancel.stderr);
  t.regex(cancel.stdout, new RegExp(`^(Cancelled job|Cancel requested for job) ${jobId} \\(fw-dc1-01 \\(001234567890\\)\\)`, 'm'));

  const unknown = await runCli(t, ['job', 'status', 'zz-000000', ...dir], { env });
  t.is(unknown.code, 1);
  t.true(unknown.stderr.includes(`panos-upgrade ${dir.join(' ')} job list`), unknown.stderr);
});

test('cli: Ctrl-C while the daemon has not yet answered a submit says the job may have been submitted and how to check, and exits 130', async (t) => {
  // A daemon that takes the request and does not answer (busy, or stuck).
  const nc = await nats.connect(t);
  const prefix = `stuck${process.pid}`;
  let received = 0;
  nc.subscribe(`${prefix}.cmd.job.submit`, { callback: () => void received++ });
  await nc.flush();
  const child = startCli(t, ['job', 'submit', '--device', '001234567890', '--wait', '--data-dir', tempDir(t)], { NATS_URL: nats.url, PANOS_SUBJECT_PREFIX: prefix });
  const err: string[] = [];
  onLines(child.stderr, (l) => err.push(l));
  await waitFor(() => received === 1, 30_000, 20);
  child.kill('SIGINT');
  t.deepEqual(await exited(child), { code: 130, signal: null });
  t.regex(err.join('\n'), /the job may have been submitted all the same: check with panos-upgrade --data-dir \S+ job list --device 001234567890/);
});
