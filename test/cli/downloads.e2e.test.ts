import test from 'ava';
import { startTestNats, tempDir } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { runCli, stackEnv } from './run-cli.ts';

const nats = startTestNats(test);

test('cli: when devices are discovered then device list and show print them, and --json is the daemon reply', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const env = stackEnv(nats.url, stack);
  const dir = ['--data-dir', tempDir(t)];
  const discover = await runCli(t, ['device', 'discover', ...dir], { env });
  t.is(discover.code, 0, discover.stderr);
  t.regex(discover.stdout, /^Discovered 5 devices\n {2}inventory: .*inventory\.json$/m);

  const list = await runCli(t, ['device', 'list', ...dir], { env });
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^SERIAL\s+HOSTNAME\s+MODEL\s+VERSION\s+DEVICE GROUP\s+HA\s+MGMT IP\s+CONNECTED$/m);
  t.regex(list.stdout, /^001234567890\s+fw-dc1-01\s+PA-3220\s+10\.0\.2\s+dg-dc1\s/m);
  t.regex(list.stdout, /^5 device\(s\)$/m);

  const json = await runCli(t, ['device', 'list', '--json', ...dir], { env });
  const parsed = JSON.parse(json.stdout) as { ok: boolean; devices: Array<{ serial: string; swVersion: string; deviceGroup: string | null }> };
  t.true(parsed.ok);
  t.deepEqual(
    parsed.devices.map((d) => d.serial),
    ['001234567890', '001234567891', '001234567892', '001234567893', '001234567894'],
  );
  t.deepEqual(parsed.devices.map((d) => d.deviceGroup), ['dg-dc1', 'dg-dc1', 'dg-dc2', 'dg-branch', 'dg-branch']);

  const show = await runCli(t, ['device', 'show', '001234567893', ...dir], { env });
  t.is(show.code, 0, show.stderr);
  t.regex(show.stdout, /^fw-branch-01 \(001234567893\)$/m);
  t.regex(show.stdout, /^ {2}version: +10\.1\.0$/m);
  t.regex(show.stdout, /^ {2}device group: +dg-branch$/m);
  t.regex(show.stdout, /^No jobs for this device\.$/m);

  const missing = await runCli(t, ['device', 'show', '009999999999', ...dir], { env });
  t.is(missing.code, 1);
  // issue 12: the not-found message reads as a sentence, not "device X (not in the inventory: …) not found".
  t.regex(missing.stderr, /^error: device 009999999999 is not in the inventory: run "panos-upgrade [^"]*device discover" first$/m);
  t.true(missing.stderr.includes(`panos-upgrade ${dir.join(' ')} device discover`), missing.stderr);
});

test('cli: when download queue-all runs on the basic scenario then it prints the seed summary and the downloads finish', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const env = stackEnv(nats.url, stack);
  const dir = ['--data-dir', tempDir(t)];
  t.is((await runCli(t, ['device', 'discover', ...dir], { env })).code, 0);

  const dry = await runCli(t, ['download', 'queue-all', '--dry-run', ...dir], { env });
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /^Would queue 4 devices, skip 1 \(dry run: nothing was queued\)$/m);
  // issue 12: a dry run lists what would be queued, with the versions, not only what is skipped.
  t.regex(dry.stdout, /^Would queue:\n {2}fw-dc1-01 \(001234567890\) {2}10\.1\.0, 10\.5\.1, 11\.1\.0\n/m);
  t.regex(dry.stdout, /^ {2}fw-dc2-01 \(001234567892\) {2}10\.1\.0, 10\.5\.1, 11\.1\.0$/m);

  const queued = await runCli(t, ['download', 'queue-all', ...dir], { env });
  t.is(queued.code, 0, queued.stderr);
  t.is(
    queued.stdout,
    [
      'Queued 4 devices, skipped 1',
      'Skipped:',
      '  already runs 11.1.0, the end of the upgrade path configured for 10.0.2 (give a target version to go further) (1):',
      '    fw-branch-02 (001234567894)',
      `Follow them with: panos-upgrade ${dir.join(' ')} download status --watch`,
      '',
    ].join('\n'),
  );

  const watch = await runCli(t, ['download', 'status', '--watch', ...dir], { env });
  t.is(watch.code, 0, watch.stderr);
  // issue 12: the seed's words, "150 complete, 10 downloading, 5 failed".
  t.regex(watch.stdout, /^4 complete \(4 device\(s\)\)$/m);

  const status = await runCli(t, ['download', 'status', ...dir], { env });
  t.regex(status.stdout, /^SERIAL\s+HOSTNAME\s+VERSION\s+STATUS\s+PROGRESS\s+READY\s+JOB\s+MESSAGE$/m);
  t.regex(status.stdout, /^001234567891\s+fw-dc1-02\s+10\.0\.2\s+download_complete\s+100%\s+yes\s+[0-9a-z-]+\s+Downloaded 2 version\(s\): 10\.5\.1, 11\.1\.0\. Skipped 1 \(already present\): 10\.1\.0$/m);
  t.regex(status.stdout, /^001234567892\s+.*All 3 version\(s\) already downloaded: 10\.1\.0, 10\.5\.1, 11\.1\.0$/m);

  const json = JSON.parse((await runCli(t, ['download', 'status', '--json', ...dir], { env })).stdout) as {
    summary: string;
    counts: Record<string, number>;
    total: number;
    devices: Array<Record<string, unknown>>;
  };
  t.is(json.summary, '4 complete');
  t.deepEqual(json.counts, { download_complete: 4 });
  t.is(json.total, 4);
  // One status record shape for job and download views: a row is the job record job status returns.
  const row = json.devices.find((d) => d.device_serial === '001234567891')!;
  t.like(row, { upgrade_status: 'download_complete', ready_for_install: true, skipped_versions: ['10.1.0'], downloaded_versions: ['10.5.1', '11.1.0'] });
  const job = JSON.parse((await runCli(t, ['job', 'status', String(row.job_id), '--json', ...dir], { env })).stdout) as { job: Record<string, unknown> };
  t.deepEqual(Object.keys(row).sort(), Object.keys(job.job).sort());
  t.deepEqual(row, job.job);

  const again = await runCli(t, ['download', 'queue-all', '--json', ...dir], { env });
  const summary = JSON.parse(again.stdout) as { queued: number; skipped: number; queuedDevices: unknown[] };
  t.is(summary.queued, 4, 'finished downloads do not block queueing again');
});
