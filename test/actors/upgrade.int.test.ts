import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { RemoteError } from '../../bus/index.ts';
import { shippedScenario } from '../../cli/paths.ts';
import { scenarioFromObject } from '../../scenarios/index.ts';
import { startTestNats, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { JobEvents, LONG, MUTATING_KINDS, command, control, discover, jobEnded, servedCalls, submit } from './orchestrator-fixture.ts';

const nats = startTestNats(test);
const SEED_DEVICE = '001234567890';

test('upgrade: when a device on 10.0.2 is upgraded then it goes 10.1.0 → 10.5.1 → 11.1.0, each hop downloaded before its install and rebooted after it', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  const events = new JobEvents(t, stack);
  t.is(await discover(stack), 5);
  const submitted = await submit(stack, { device: SEED_DEVICE });
  t.deepEqual(submitted.path, ['10.1.0', '10.5.1', '11.1.0']);
  t.is(submitted.upgrade_status, 'pending');

  const done = await jobEnded(stack, submitted.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.is(done.current_version, '11.1.0');
  t.is(done.progress, 100);
  t.regex(done.upgrade_message, /10\.0\.2 → 11\.1\.0 \(3 hop\(s\)\)/);
  t.is(stack.sim.device(SEED_DEVICE)?.context.record.swVersion, '11.1.0');

  // The order of what the device was told, from the gateway's log of served calls.
  const mine = servedCalls(stack).filter((c) => c.serial === SEED_DEVICE && c.outcome === 'answered');
  const changes = mine.filter((c) => c.kind === 'request.system.software.install' || c.kind === 'request.restart.system').map((c) => (c.version ? `install ${c.version}` : 'restart'));
  t.deepEqual(changes, ['install 10.1.0', 'restart', 'install 10.5.1', 'restart', 'install 11.1.0', 'restart']);
  // No install before its image was downloaded: the device's own log has the download completing first.
  const simLog = stack.simStore.readStream(`sim:${SEED_DEVICE}`);
  for (const version of ['10.1.0', '10.5.1', '11.1.0']) {
    const downloaded = simLog.findIndex((e) => e.type === 'sim.download.completed' && (e.data as { version: string }).version === version);
    const installStarted = simLog.findIndex((e) => e.type === 'sim.install.started' && (e.data as { version: string }).version === version);
    t.true(downloaded >= 0 && installStarted > downloaded, `download of ${version} finished before its install started`);
  }
  // The job's own facts say the same, published on panos.evt.job.<id>.>.
  await events.ended(submitted.job_id);
  const types = events.of(submitted.job_id).map((e) => e.type);
  t.is(types.filter((x) => x === 'job.reboot.completed').length, 3);
  t.is(types.at(-1), 'job.completed');
});

test('download-only: when images are partly present then the status shows the seed’s downloading, skipping, summary and all-present examples on the way', async (t) => {
  // basic.yaml with what is staged set here: fw-dc1-01 nothing, fw-dc1-02 the first hop, fw-dc2-01 all three.
  const doc = parse(readFileSync(shippedScenario('basic'), 'utf8')) as { devices: Array<{ serial: string; downloaded_versions?: string[] }> };
  const staged: Record<string, string[]> = { '001234567890': [], '001234567891': ['10.1.0'], '001234567892': ['10.1.0', '10.5.1', '11.1.0'] };
  for (const d of doc.devices) if (staged[d.serial]) d.downloaded_versions = staged[d.serial];
  const stack = await startStack(t, nats, { scenario: scenarioFromObject(doc, 'basic-staged', { timeScale: 0.02, env: {} }) });
  const events = new JobEvents(t, stack);
  await discover(stack);
  const [none, partly, all] = await Promise.all(['001234567890', '001234567891', '001234567892'].map((device) => submit(stack, { device, downloadOnly: true })));
  const ended = await Promise.all([none!, partly!, all!].map((j) => jobEnded(stack, j.job_id)));
  await Promise.all([none!, partly!, all!].map((j) => events.ended(j.job_id)));

  const during = events.statuses(none!.job_id).find((s) => s.upgrade_message === 'Downloading version 10.1.0 (1/3)');
  t.like(during, { upgrade_status: 'downloading', upgrade_message: 'Downloading version 10.1.0 (1/3)', progress: 30, downloaded_versions: [], skipped_versions: [] });
  const skipping = events.statuses(partly!.job_id).find((s) => s.upgrade_message.startsWith('Version 10.1.0 already downloaded'));
  t.like(skipping, {
    upgrade_status: 'downloading',
    upgrade_message: 'Version 10.1.0 already downloaded, skipping (1/3)',
    progress: 40,
    downloaded_versions: [],
    skipped_versions: ['10.1.0'],
  });
  t.like(ended[1], {
    upgrade_status: 'download_complete',
    upgrade_message: 'Downloaded 2 version(s): 10.5.1, 11.1.0. Skipped 1 (already present): 10.1.0',
    progress: 100,
    downloaded_versions: ['10.5.1', '11.1.0'],
    skipped_versions: ['10.1.0'],
    ready_for_install: true,
  });
  t.like(ended[2], {
    upgrade_status: 'download_complete',
    upgrade_message: 'All 3 version(s) already downloaded: 10.1.0, 10.5.1, 11.1.0',
    progress: 100,
    downloaded_versions: [],
    skipped_versions: ['10.1.0', '10.5.1', '11.1.0'],
    ready_for_install: true,
  });
  t.like(ended[0], { upgrade_status: 'download_complete', downloaded_versions: ['10.1.0', '10.5.1', '11.1.0'], skipped_versions: [], ready_for_install: true });
  // Nothing was installed or restarted, and nothing already present was fetched again.
  const calls = servedCalls(stack);
  t.deepEqual(calls.filter((c) => c.kind === 'request.system.software.install' || c.kind === 'request.restart.system'), []);
  const fetched = calls.filter((c) => c.kind === 'request.system.software.download').map((c) => `${c.serial} ${c.version}`).sort();
  t.deepEqual(fetched, ['001234567890 10.1.0', '001234567890 10.5.1', '001234567890 11.1.0', '001234567891 10.5.1', '001234567891 11.1.0']);

  // Images staged by the earlier job are found by the next one.
  const again = await submit(stack, { device: '001234567890', downloadOnly: true });
  t.like(await jobEnded(stack, again.job_id), { upgrade_status: 'download_complete', upgrade_message: 'All 3 version(s) already downloaded: 10.1.0, 10.5.1, 11.1.0' });
  const status = await command<{ counts: Record<string, number>; devices: Array<{ device: string; status: string }> }>(stack, 'download.status');
  t.deepEqual(status.counts, { download_complete: 3 });
});

test('job submit: when a device already has a job then a second one is a DuplicateJobError and the other kind a ConflictingJobTypeError, both naming the job', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  await discover(stack);
  const first = await submit(stack, { device: SEED_DEVICE });

  const duplicate = await t.throwsAsync(submit(stack, { device: SEED_DEVICE }), { instanceOf: RemoteError });
  t.is(duplicate?.code, 'DUPLICATE_JOB');
  t.is((duplicate as RemoteError).details.existingJobId, first.job_id);
  t.true(duplicate?.message.includes(first.job_id));

  const conflict = await t.throwsAsync(submit(stack, { device: SEED_DEVICE, downloadOnly: true }), { instanceOf: RemoteError });
  t.is(conflict?.code, 'CONFLICTING_JOB_TYPE');
  t.like((conflict as RemoteError).details, { existingJobId: first.job_id, existingKind: 'upgrade', device: SEED_DEVICE });
  t.true(conflict?.message.includes(`panos-upgrade job cancel ${first.job_id}`), conflict?.message);

  // The cancel the message suggests works, and then the other kind is accepted.
  await command(stack, 'job.cancel', { jobId: first.job_id });
  t.is((await jobEnded(stack, first.job_id)).upgrade_status, 'cancelled');
  const next = await submit(stack, { device: SEED_DEVICE, downloadOnly: true });
  t.is(next.kind, 'download-only');
  t.not(next.job_id, first.job_id);
});

test('job submit: when it is a dry run then the full plan comes back and not one mutating call reaches a device', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  await discover(stack);
  const before = await waitFor(() => {
    const calls = servedCalls(stack);
    // Discovery's last call is `show devicegroups`: once it is in the log, none of discovery's calls comes later.
    return calls.some((c) => c.kind === 'show.devices.connected') && calls.some((c) => c.kind === 'show.devicegroups') ? calls.length : undefined;
  }, LONG);
  const plan = await command<{ dryRun: boolean; device: string; plan: { hops: Array<{ version: string; action: string }> }; wouldDownload: string[]; alreadyPresent: string[] }>(
    stack,
    'job.submit',
    { device: '001234567891', dryRun: true },
  );
  t.true(plan.dryRun);
  t.deepEqual(
    plan.plan.hops.map((h) => `${h.action} ${h.version}`),
    ['install 10.1.0', 'install 10.5.1', 'install 11.1.0'],
  );
  t.deepEqual(plan.wouldDownload, ['10.5.1', '11.1.0']);
  t.deepEqual(plan.alreadyPresent, ['10.1.0']);
  // Calls are recorded in the order they end: once a later discovery's call is in the log, every call of the dry run is too.
  await discover(stack);
  const during = await waitFor(() => {
    const calls = servedCalls(stack).slice(before);
    const sentinel = calls.findIndex((c) => c.kind === 'show.devices.connected');
    return sentinel >= 0 ? calls.slice(0, sentinel) : undefined;
  }, LONG);
  t.true(during.some((c) => c.kind === 'request.system.software.info'));
  t.deepEqual(during.filter((c) => MUTATING_KINDS.has(c.kind)), []);
  t.true(during.every((c) => c.serial === '001234567891'));
  const jobs = await command<{ jobs: unknown[] }>(stack, 'job.list', {});
  t.deepEqual(jobs.jobs, []);
});

test('upgrade: when the routes drop during the upgrade then the post-check fails the job naming the metric and its limit', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  const events = new JobEvents(t, stack);
  await discover(stack);
  const serial = '001234567893'; // fw-branch-01, 110 routes
  const job = await submit(stack, { device: serial, targetVersion: '10.5.1' });
  t.deepEqual(job.path, ['10.5.1']);
  await events.next(job.job_id, 'job.snapshot.taken');
  await control(stack, serial, 'metrics', { metrics: { routes: 100 } });

  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'failed');
  t.is(done.current_version, '10.5.1');
  t.regex(done.upgrade_message, new RegExp(`^Post-upgrade check failed on ${serial}: routes: count 110 → 100 \\(-10, -9\\.09%\\), allowed ±0%`));
  t.like(done.error, { step: 'compare' });
  const routes = done.checks.find((c) => c.area === 'routes');
  t.like(routes, { before: 110, after: 100, ok: false });
  t.is(routes?.missing.length, 10, 'the diff names the routes that disappeared');
});
