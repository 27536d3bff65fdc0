import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startTestNats, tempDir } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { control, jobEnded } from '../actors/orchestrator-fixture.ts';
import type { QueueSummary } from '../../actors/daemon.ts';
import { runCli, stackEnv } from './run-cli.ts';

const nats = startTestNats(test);

test('cli: check prints a table per check and exits 0 on a ready fleet, 1 with the failing device named when a blocking check fails', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', timeScale: 0.02 });
  const env = stackEnv(nats.url, stack);
  const dir = ['--data-dir', tempDir(t)];
  t.is((await runCli(t, ['device', 'discover', ...dir], { env })).code, 0);

  const ready = await runCli(t, ['check', '--device', '001234567890', ...dir], { env });
  t.is(ready.code, 0, ready.stderr);
  t.regex(ready.stdout, /^no_locks — No config or commit locks$/m);
  t.regex(ready.stdout, /^\s+fw-dc1-01 \(001234567890\)\s+pass\s+block\s+no locks$/m);
  t.regex(ready.stdout, /^Ready: 1 device\(s\), no blocking failure \(policy default\)$/m);

  await control(stack, '001234567891', 'faults', { faults: { readiness: { commitLock: 'ops' } } });
  const all = await runCli(t, ['check', '--all', '--json', ...dir], { env });
  t.is(all.code, 1);
  const r = JSON.parse(all.stdout) as { ok: boolean; devices: Array<{ serial: string; report: { ok: boolean; verdicts: Array<{ check: string; status: string; message: string }> } }> };
  t.false(r.ok);
  t.is(r.devices.length, 5);
  t.deepEqual(r.devices.filter((d) => !d.report.ok).map((d) => d.serial), ['001234567891']);
  t.like(r.devices.find((d) => d.serial === '001234567891')?.report.verdicts.find((v) => v.check === 'no_locks'), { status: 'fail', message: 'commit lock by ops; remove the lock(s) before upgrading' });

  const human = await runCli(t, ['check', '--all', ...dir], { env });
  t.is(human.code, 1);
  t.regex(human.stdout, /^no_locks — No config or commit locks: 1 device\(s\) failing$/m);
  t.regex(human.stdout, /^Not ready: 001234567891 \(policy default\)$/m);

  // A policy file with a mistake is refused here with its file, line and field; nothing is sent.
  const bad = join(tempDir(t), 'site.yaml');
  writeFileSync(bad, 'checks:\n  no_locks:\n    severity: sometimes\n');
  const refused = await runCli(t, ['check', '--all', '--policy', bad, ...dir], { env });
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: checks\\.no_locks\\.severity`));
  // The same lock as a warning: ready.
  const lenient = join(tempDir(t), 'lenient.yaml');
  writeFileSync(lenient, 'checks:\n  no_locks: { severity: warn }\n');
  const lenientRun = await runCli(t, ['job', 'submit', '--device', '001234567891', '--checks-only', '--policy', lenient, ...dir], { env });
  t.is(lenientRun.code, 0, lenientRun.stdout + lenientRun.stderr);
});

test('cli: upgrade queue --policy sends the policy with each job it queues, and a policy file with a mistake is refused before anything is queued', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', timeScale: 0.02 });
  const env = stackEnv(nats.url, stack);
  const dir = ['--data-dir', tempDir(t)];
  t.is((await runCli(t, ['device', 'discover', ...dir], { env })).code, 0);
  // A commit lock blocks the shipped policy's no_locks check; the site's policy only warns of it.
  await control(stack, '001234567891', 'faults', { faults: { readiness: { commitLock: 'ops' } } });

  const bad = join(tempDir(t), 'site.yaml');
  writeFileSync(bad, 'checks:\n  no_locks:\n    severity: sometimes\n');
  const refused = await runCli(t, ['upgrade', 'queue', '--all', '--policy', bad, ...dir], { env });
  t.is(refused.code, 2, refused.stdout + refused.stderr);
  t.regex(refused.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: checks\\.no_locks\\.severity`));
  const none = await runCli(t, ['job', 'list', '--json', ...dir], { env });
  t.deepEqual((JSON.parse(none.stdout) as { jobs: unknown[] }).jobs, []);

  const lenient = join(tempDir(t), 'lenient.yaml');
  writeFileSync(lenient, 'name: lenient\nchecks:\n  no_locks: { severity: warn }\n');
  const queued = await runCli(t, ['upgrade', 'queue', '--device', '001234567891', '--policy', lenient, '--json', ...dir], { env });
  t.is(queued.code, 0, queued.stdout + queued.stderr);
  const summary = JSON.parse(queued.stdout) as QueueSummary;
  t.is(summary.queued, 1);
  // The device named again while its job runs: skipped, and the exit code says it was not queued.
  const again = await runCli(t, ['upgrade', 'queue', '--device', '001234567891', ...dir], { env });
  t.is(again.code, 1, again.stdout + again.stderr);
  t.regex(again.stdout, /^Queued 0 devices, skipped 1$/m);
  t.regex(again.stderr, /^error: 1 device you named was not queued \(001234567891: already has an active upgrade job /m);
  // An empty policy file would run no check: refused with its name.
  const empty = join(tempDir(t), 'empty.yaml');
  writeFileSync(empty, '');
  const none2 = await runCli(t, ['upgrade', 'queue', '--all', '--policy', empty, ...dir], { env });
  t.is(none2.code, 2, none2.stdout + none2.stderr);
  t.true(none2.stderr.includes(`${empty}: checks: missing: without a checks: section no readiness check runs`), none2.stderr);
  const job = await jobEnded(stack, summary.queuedDevices[0]!.jobId!);
  t.is(job.upgrade_status, 'complete', job.upgrade_message);
  t.like(job.readiness?.verdicts.find((v) => v.check === 'no_locks'), { status: 'fail', blocking: false, message: 'commit lock by ops; remove the lock(s) before upgrading' });
});
