import test from 'ava';
import { startTestNats } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import type { QueueSummary } from '../../actors/daemon.ts';
import { shippedScenario } from '../../cli/paths.ts';
import type { JobStatusRecord } from '../../machines/upgrade-job.fold.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { JobEvents, command, control, countBy, discover, jobEnded, servedCalls } from './orchestrator-fixture.ts';

const nats = startTestNats(test);

interface DownloadStatus {
  counts: Record<string, number>;
  total: number;
  devices: Array<{ device_serial: string; upgrade_status: string; job_id: string; downloaded_versions: string[]; skipped_versions: string[]; upgrade_message: string }>;
}

test('download queue-all: when fleet-230 is queued then 215 devices get a download job and 15 are skipped for having no upgrade path', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'fleet-230', timeScale: 0.002, config: (c) => ({ ...c, concurrency: 10 }) });
  t.is(await discover(stack), 230);

  const dry = await command<QueueSummary>(stack, 'download.queue-all', { dryRun: true });
  t.like(dry, { dryRun: true, queued: 215, skipped: 15 });
  t.true(dry.queuedDevices.every((d) => d.jobId === null));

  const summary = await command<QueueSummary>(stack, 'download.queue-all', {}, 120_000);
  t.like(summary, { dryRun: false, queued: 215, skipped: 15 });
  t.is(summary.queuedDevices.length, 215);
  // The 5 HA pairs are one pair job each, shared by both peers; every other device has its own.
  const byJob = new Map<string, string[]>();
  for (const d of summary.queuedDevices) byJob.set(d.jobId!, [...(byJob.get(d.jobId!) ?? []), d.device]);
  t.is(byJob.size, 210);
  const pairs = [...byJob.values()].filter((serials) => serials.length > 1);
  t.is(pairs.length, 5);
  for (const [a, b] of pairs) t.is(stack.sim.device(a!)?.context.record.ha?.config.peerSerial, b);
  // The fleet's 9.1.14 devices (5) and those already on 11.1.0 (10) have no path; the dry run said the same.
  t.deepEqual(summary.skippedDevices, dry.skippedDevices);
  const reasons = countBy(summary.skippedDevices, (s) => s.reason);
  t.deepEqual(Object.fromEntries(reasons), { 'no upgrade path configured for 9.1.14 and no target version given': 5, 'already runs 11.1.0, the end of the upgrade path configured for 10.0.2 (give a target version to go further)': 10 });
  const seed = summary.queuedDevices.find((d) => d.device === '001234567890');
  t.deepEqual(seed?.versions, ['10.1.0', '10.5.1', '11.1.0']);

  // A few of them finish: their images are in the software manager, and download status says so.
  const sample = summary.queuedDevices.filter((d) => byJob.get(d.jobId!)?.length === 1).slice(0, 5);
  for (const d of sample) {
    const job = await jobEnded(stack, d.jobId!);
    t.is(job.upgrade_status, 'download_complete', `${d.device}: ${job.upgrade_message}`);
    const downloaded = stack.sim.device(d.device)?.context.record.downloaded ?? [];
    for (const v of d.versions) t.true(downloaded.includes(v), `${d.device} has ${v}`);
  }
  const status = await command<DownloadStatus>(stack, 'download.status');
  t.is(status.total, 215);
  t.true((status.counts.download_complete ?? 0) >= sample.length);
});

test('download queue-all: when one download fails once it is retried to success, and a device whose downloads always fail ends failed while the queue goes on', async (t) => {
  const scenario = loadScenarioFile(shippedScenario('basic'), { timeScale: 0.02, env: {} });
  const broken = '001234567891'; // fw-dc1-02: its update server connection always fails
  const flaky = '001234567890'; // fw-dc1-01: fails its first download only
  const error = 'Failed to download 10.5.1: connection to the update server timed out';
  scenario.failures = [{ device: broken, operation: 'download', failureRate: 1, error }];
  // One job at a time: the devices after the broken one only run if the queue goes on past it.
  const stack = await startStack(t, nats, { scenario, config: (c) => ({ ...c, concurrency: 1, retries: { maxAttempts: 3, backoffSeconds: 0.1 } }) });
  const events = new JobEvents(t, stack);
  await discover(stack);
  await control(stack, flaky, 'faults', { faults: { download: { rate: 1, error: 'Failed to download 10.1.0: checksum mismatch' } } });

  const summary = await command<QueueSummary>(stack, 'download.queue-all', {});
  t.like(summary, { queued: 4, skipped: 1 });
  const jobOf = (serial: string): string => summary.queuedDevices.find((d) => d.device === serial)!.jobId!;
  // The simulator decides a download's fate when it accepts it: clearing the fault now dooms only the first attempt.
  await events.next(jobOf(flaky), 'job.download.enqueued');
  await control(stack, flaky, 'faults', { faults: { download: { rate: 0, error: '' } } });

  const ended = new Map<string, JobStatusRecord>();
  for (const d of summary.queuedDevices) ended.set(d.device, await jobEnded(stack, d.jobId!));

  t.like(ended.get(flaky), { upgrade_status: 'download_complete', downloaded_versions: ['10.1.0', '10.5.1', '11.1.0'] }, ended.get(flaky)?.upgrade_message);
  await events.ended(jobOf(flaky));
  const flakyFacts = events.of(jobOf(flaky));
  const failed = flakyFacts.filter((e) => e.type === 'job.step.failed').map((e) => e.data as { retryable: boolean; attempt: number; reason: string; version: string });
  t.is(failed.length, 1);
  t.like(failed[0], { retryable: true, attempt: 1, version: '10.1.0' });
  t.regex(failed[0]!.reason, /checksum mismatch/);
  t.true(flakyFacts.some((e) => e.type === 'job.retry.scheduled'));

  const gaveUp = ended.get(broken)!;
  t.is(gaveUp.upgrade_status, 'failed');
  t.like(gaveUp.error, { step: 'download' });
  t.true(gaveUp.upgrade_message.startsWith(`Download of 10.5.1 failed on ${broken}: `), gaveUp.upgrade_message);
  t.true(gaveUp.upgrade_message.includes(error), gaveUp.upgrade_message);
  t.deepEqual(gaveUp.skipped_versions, ['10.1.0']);

  // Everything queued after the broken device still ran to the end.
  t.like(ended.get('001234567892'), { upgrade_status: 'download_complete' });
  t.like(ended.get('001234567893'), { upgrade_status: 'download_complete', downloaded_versions: ['10.5.1', '11.1.0'] });

  const downloads = countBy(
    servedCalls(stack).filter((c) => c.kind === 'request.system.software.download'),
    (c) => `${c.serial} ${c.version}`,
  );
  t.is(downloads.get(`${flaky} 10.1.0`), 2);
  t.is(downloads.get(`${flaky} 10.5.1`), 1);
  t.is(downloads.get(`${broken} 10.5.1`), 3);
  t.is(downloads.get(`${broken} 11.1.0`), undefined);
  const status = await command<DownloadStatus>(stack, 'download.status');
  t.deepEqual(status.counts, { download_complete: 3, failed: 1 });
});

test('upgrade queue: when devices are given then each with a path gets an upgrade job, an HA member brings its peer, and the rest are skipped with the reason', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  t.is(await discover(stack), 3);
  const dry = await command<QueueSummary>(stack, 'upgrade.queue', { all: true, dryRun: true });
  t.like(dry, { dryRun: true, queued: 3, skipped: 0 });
  const summary = await command<QueueSummary>(stack, 'upgrade.queue', { devices: ['001234567890', '001234567892'] });
  t.like(summary, { dryRun: false, queued: 3, skipped: 0 });
  const pairJob = summary.queuedDevices.find((d) => d.device === '001234567890')!.jobId;
  t.is(summary.queuedDevices.find((d) => d.device === '001234567891')!.jobId, pairJob, 'both peers share one pair job');
  const again = await command<QueueSummary>(stack, 'upgrade.queue', { devices: ['001234567892'] });
  t.like(again, { queued: 0, skipped: 1 });
  t.regex(again.skippedDevices[0]!.reason, /^already has an active upgrade job /);
  const ended = await jobEnded(stack, pairJob!, 120_000);
  t.is(ended.upgrade_status, 'complete');
});

test('discovery: a device Panorama no longer lists as connected is marked not connected (it kept connected: yes), said in the reply, and upgrade queue skips it', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  t.is(await discover(stack), 5);
  const GONE = '001234567893';
  await control(stack, GONE, 'faults', { faults: { api: { notConnected: true } } });
  const again = await command<{ discovered: number; disconnected?: Array<{ serial: string; hostname: string }> }>(stack, 'device.discover');
  t.is(again.discovered, 4);
  t.deepEqual(again.disconnected?.map((d) => d.serial), [GONE]);
  const device = await command<{ device: { connected: boolean } }>(stack, 'device.get', { serial: GONE });
  t.false(device.device.connected);
  const dry = await command<QueueSummary>(stack, 'upgrade.queue', { devices: [GONE], dryRun: true });
  t.deepEqual(dry.skippedDevices.map((d) => [d.device, d.reason]), [[GONE, 'not connected to Panorama at the last discovery']]);
  // A third discovery does not repeat it: it was already marked.
  const third = await command<{ disconnected?: unknown[] }>(stack, 'device.discover');
  t.is(third.disconnected, undefined);
});
