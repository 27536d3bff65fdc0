import test, { type ExecutionContext } from 'ava';
import {
  busCopyOfJobFact,
  countsOnly,
  DEFAULT_POLICY,
  downloadSummary,
  effectDone,
  evolveJob,
  foldJob,
  initialJobState,
  isTerminal,
  toStatusRecord,
  type JobFact,
  type JobKind,
  type JobState,
} from '../../machines/index.ts';
import type { PlannedHop } from '../../panos/upgrade-path.ts';

const AT = '2025-11-23T12:00:00.000Z';
const LATER = '2025-11-23T12:05:00.000Z';

const install = (version: string): PlannedHop => ({ version, action: 'install', reason: 'test' });
const base = (version: string): PlannedHop => ({ version, action: 'download', reason: 'base image' });
const SEED_PLAN = [install('10.1.0'), install('10.5.1'), install('11.1.0')];

function submitted(kind: JobKind = 'upgrade', plan: PlannedHop[] = SEED_PLAN): JobFact & { at: string } {
  return {
    type: 'job.submitted',
    at: AT,
    data: {
      jobId: 'job-1',
      kind,
      dryRun: false,
      device: { serial: '001234567890', hostname: 'fw-dc1-01', mgmtIp: '10.1.1.10', model: 'PA-3220', swVersion: '10.0.2', haState: null, haPeer: null },
      targetVersion: kind === 'upgrade' ? '11.1.0' : null,
      plan,
      planSource: 'static',
      policy: DEFAULT_POLICY,
    },
  };
}

type Stamped = JobFact & { at?: string };

/**
 * Emmett-style given/when/then for the fold: `given` facts already in the stream, `when` one more
 * arrives, `then` the state is like the expected part (and the fold of all of them is the same).
 */
function given(...history: Stamped[]) {
  return {
    when(fact: Stamped) {
      return {
        then(t: ExecutionContext, expected: Partial<JobState>): JobState {
          const before = foldJob(history);
          const after = evolveJob(before, fact);
          t.like(after, expected);
          t.deepEqual(after, foldJob([...history, fact]));
          return after;
        },
      };
    },
  };
}

test('downloadSummary: when some versions were downloaded and one was present then it is the seed complete message', (t) => {
  t.is(downloadSummary(['10.5.1', '11.1.0'], ['10.1.0']), 'Downloaded 2 version(s): 10.5.1, 11.1.0. Skipped 1 (already present): 10.1.0');
});

test('downloadSummary: when every version was present then it is the seed all-present message', (t) => {
  t.is(downloadSummary([], ['10.1.0', '10.5.1', '11.1.0']), 'All 3 version(s) already downloaded: 10.1.0, 10.5.1, 11.1.0');
});

test('downloadSummary: when nothing was skipped then the message has no skipped part', (t) => {
  t.is(downloadSummary(['10.1.0', '10.5.1', '11.1.0'], []), 'Downloaded 3 version(s): 10.1.0, 10.5.1, 11.1.0');
  t.is(downloadSummary(['11.1.0'], []), 'Downloaded 1 version(s): 11.1.0');
});

test('job fold: when a job is submitted then it is pending with the plan, device and queued message', (t) => {
  const s = given().when(submitted()).then(t, {
    jobId: 'job-1',
    status: 'pending',
    message: 'Queued for upgrade to 11.1.0',
    progress: 0,
    runningVersion: '10.0.2',
    submittedAt: AT,
    updatedAt: AT,
  });
  t.false(isTerminal(s));
  given().when(submitted('download-only')).then(t, { status: 'pending', message: 'Queued for download of 3 version(s)' });
});

test('job fold: when the plan is refined then the new plan replaces the old one and the reason is kept as a note', (t) => {
  const refined = [install('10.1.0'), base('10.5.0'), install('10.5.1'), install('11.1.0')];
  const reason = "planned from 10.0.2 with the device's software list (static path)";
  const s = given(submitted(), { type: 'job.started', data: {} })
    .when({ type: 'job.plan.refined', data: { plan: refined, reason } })
    .then(t, { plan: refined, notes: [reason], status: 'validating' });
  t.deepEqual(toStatusRecord(s).path, ['10.1.0', '10.5.0 (download only)', '10.5.1', '11.1.0']);
  // Ordinals of an upgrade count the installs only; a download-only job counts every version.
  const downloading = evolveJob(s, { type: 'job.download.requested', data: { version: '10.5.1', hop: 2, baselineJobId: 0, direct: true } });
  t.is(downloading.message, 'Downloading version 10.5.1 (2/3)');
  const dl = foldJob([submitted('download-only'), { type: 'job.plan.refined', data: { plan: refined, reason } }]);
  t.is(evolveJob(dl, { type: 'job.download.requested', data: { version: '10.5.0', hop: 1, baselineJobId: 0, direct: true } }).message, 'Downloading version 10.5.0 (2/4)');
});

test('job fold: when a download-only job skips a present version then it is listed once with the seed message and progress', (t) => {
  const history: Stamped[] = [
    submitted('download-only'),
    { type: 'job.started', data: {} },
    { type: 'job.validated', data: { swVersion: '10.0.2', freeDiskMb: 9000, neededMb: 3000, contentUpdate: false, notes: [] } },
    { type: 'job.step.started', data: { step: 'download', hop: 0, version: '10.1.0', attempt: 1 } },
  ];
  // issue 12: no "Downloading version 10.1.0" before it turns out to be present.
  t.like(foldJob(history), { status: 'downloading', message: 'Validating device', progress: 30 });
  const s = given(...history)
    .when({ type: 'job.download.skipped', data: { version: '10.1.0', hop: 0 } })
    .then(t, { status: 'downloading', message: 'Version 10.1.0 already downloaded, skipping (1/3)', progress: 40, skippedVersions: ['10.1.0'] });
  t.deepEqual(evolveJob(s, { type: 'job.download.skipped', data: { version: '10.1.0', hop: 0 } }).skippedVersions, ['10.1.0']);
});

test('job fold: when a download is requested, enqueued and completed then the in-flight record comes and goes and the PAN-OS job is kept', (t) => {
  const start: Stamped[] = [submitted(), { type: 'job.step.started', data: { step: 'download', hop: 0, version: '10.1.0', attempt: 1 } }];
  const requested = given(...start)
    .when({ type: 'job.download.requested', data: { version: '10.1.0', hop: 0, baselineJobId: 41, direct: true } })
    .then(t, { download: { version: '10.1.0', hop: 0, baselineJobId: 41, panosJobId: null, direct: true, requestedAt: null } });
  const enqueued = evolveJob(requested, { type: 'job.download.enqueued', data: { version: '10.1.0', hop: 0, panosJobId: 42 } });
  t.deepEqual(enqueued.download, { version: '10.1.0', hop: 0, baselineJobId: 41, panosJobId: 42, direct: true, requestedAt: null });
  t.deepEqual(enqueued.panosJobs, [{ version: '10.1.0', kind: 'download', id: 42 }]);
  const progressed = evolveJob(enqueued, { type: 'job.download.progressed', data: { version: '10.1.0', hop: 0, percent: 50 } });
  t.is(progressed.progress, 14);
  const done = evolveJob(progressed, { type: 'job.download.completed', data: { version: '10.1.0', hop: 0 } });
  t.is(done.download, null);
  t.deepEqual(done.downloadedVersions, ['10.1.0']);
  t.deepEqual(evolveJob(done, { type: 'job.download.completed', data: { version: '10.1.0', hop: 0 } }).downloadedVersions, ['10.1.0']);
});

test('job fold: when a reboot is requested, acknowledged, changes phase and completes then the in-flight record follows it', (t) => {
  const start: Stamped[] = [submitted(), { type: 'job.step.started', data: { step: 'reboot', hop: 0, version: '10.1.0', attempt: 1 } }];
  t.like(foldJob(start), { status: 'rebooting', message: 'Rebooting into 10.1.0 (1/3)' });
  const requested = given(...start)
    .when({ type: 'job.reboot.requested', at: AT, data: { version: '10.1.0', hop: 0, uptimeBefore: 3_196_800 } })
    .then(t, { reboot: { version: '10.1.0', hop: 0, uptimeBefore: 3_196_800, acknowledged: false, phase: null, requestedAt: AT } });
  const acknowledged = given(...start, { type: 'job.reboot.requested', at: AT, data: { version: '10.1.0', hop: 0, uptimeBefore: 3_196_800 } })
    .when({ type: 'job.reboot.acknowledged', data: { version: '10.1.0', hop: 0 } })
    .then(t, { reboot: { ...requested.reboot!, acknowledged: true } });
  const phased = evolveJob(acknowledged, { type: 'job.reboot.phase-changed', data: { version: '10.1.0', hop: 0, phase: 'waiting-for-auto-commit' } });
  t.deepEqual(phased.reboot, { version: '10.1.0', hop: 0, uptimeBefore: 3_196_800, acknowledged: true, phase: 'waiting-for-auto-commit', requestedAt: AT });
  t.is(phased.message, 'Rebooting into 10.1.0 (1/3): waiting for auto commit');
  // Waiting for a shutdown after a restart the device never acknowledged: the message says it may be sent again.
  const unacknowledged = evolveJob(requested, { type: 'job.reboot.phase-changed', data: { version: '10.1.0', hop: 0, phase: 'waiting-for-shutdown' } });
  t.is(unacknowledged.message, 'Rebooting into 10.1.0 (1/3): waiting for shutdown (the restart was not acknowledged: it is sent again if the device does not go down within the start grace)');
  t.is(evolveJob(acknowledged, { type: 'job.reboot.phase-changed', data: { version: '10.1.0', hop: 0, phase: 'waiting-for-shutdown' } }).message, 'Rebooting into 10.1.0 (1/3): waiting for shutdown');
  const completed = evolveJob(phased, { type: 'job.reboot.completed', data: { version: '10.1.0', hop: 0, uptime: 95 } });
  t.is(completed.reboot, null);
  t.is(completed.runningVersion, '10.1.0');
  t.is(completed.message, 'Running 10.1.0 (1/3)');
});

// Issue 11: a crash between an effect's completion and its step's must not make the step send it again.
test('job fold: when an effect completes then the log says it is done for that hop, and only that hop', (t) => {
  const start: Stamped[] = [submitted(), { type: 'job.step.started', data: { step: 'install', hop: 1, version: '10.5.1', attempt: 1 } }];
  const installed = given(...start).when({ type: 'job.install.completed', data: { version: '10.5.1', hop: 1 } }).then(t, { done: ['install@1'] });
  t.true(effectDone(installed, 'install', 1));
  t.false(effectDone(installed, 'install', 0));
  t.false(effectDone(installed, 'reboot', 1));
  const rebooted = evolveJob(installed, { type: 'job.reboot.completed', data: { version: '10.5.1', hop: 1, uptime: 3 } });
  t.true(effectDone(rebooted, 'reboot', 1));
  const skipped = evolveJob(rebooted, { type: 'job.download.skipped', data: { version: '11.1.0', hop: 2 } });
  t.true(effectDone(skipped, 'download', 2));
  const failed = evolveJob(skipped, { type: 'job.step.failed', data: { step: 'install', hop: 2, version: '11.1.0', reason: 'x', retryable: true, attempt: 1 } });
  t.deepEqual(failed.done, ['install@1', 'reboot@1', 'download@2']);
});

test('job fold: when content is downloaded and installed then each has its in-flight record and its done mark', (t) => {
  const start: Stamped[] = [submitted(), { type: 'job.step.started', data: { step: 'content', hop: 0, version: '10.1.0', attempt: 1 } }];
  const requested = given(...start)
    .when({ type: 'job.content.download.requested', data: { version: 'latest', hop: 0, baselineJobId: 7 } })
    .then(t, { contentDownload: { version: 'latest', hop: 0, baselineJobId: 7, panosJobId: null, requestedAt: null } });
  const enqueued = evolveJob(requested, { type: 'job.content.download.enqueued', data: { version: 'latest', hop: 0, panosJobId: 8 } });
  t.deepEqual(enqueued.contentDownload, { version: 'latest', hop: 0, baselineJobId: 7, panosJobId: 8, requestedAt: null });
  const downloaded = evolveJob(enqueued, { type: 'job.content.download.completed', data: { version: 'latest', hop: 0 } });
  t.is(downloaded.contentDownload, null);
  t.true(effectDone(downloaded, 'content-download', 0));
  t.false(effectDone(downloaded, 'content-install', 0));
  const installing = evolveJob(downloaded, { type: 'job.content.install.requested', data: { version: 'latest', hop: 0, baselineJobId: 8 } });
  t.like(installing.contentInstall, { baselineJobId: 8, panosJobId: null });
  const updated = evolveJob(installing, { type: 'job.content.updated', data: { version: '8799-8509' } });
  t.is(updated.contentInstall, null);
  t.true(effectDone(updated, 'content-install', 0));
});

test('job fold: when a reboot acknowledgement arrives without a request then nothing about the reboot changes', (t) => {
  given(submitted()).when({ type: 'job.reboot.acknowledged', data: { version: '10.1.0', hop: 0 } }).then(t, { reboot: null });
});

test('job fold: when a step fails and a retry is scheduled then the message says so, and the next attempt clears retryAt', (t) => {
  const history: Stamped[] = [submitted(), { type: 'job.step.started', data: { step: 'download', hop: 0, version: '10.1.0', attempt: 1 } }];
  const failed = given(...history)
    .when({ type: 'job.step.failed', data: { step: 'download', hop: 0, version: '10.1.0', reason: 'Connection timeout', retryable: true, attempt: 1 } })
    .then(t, { message: 'Download failed (attempt 1): Connection timeout', status: 'downloading' });
  const scheduled = evolveJob(failed, { type: 'job.retry.scheduled', data: { step: 'download', attempt: 2, at: 1_000 } });
  t.like(scheduled, { retryAt: 1_000, message: 'Download failed (attempt 1): Connection timeout; retrying' });
  const again = evolveJob(scheduled, { type: 'job.step.started', data: { step: 'download', hop: 0, version: '10.1.0', attempt: 2 } });
  t.like(again, { retryAt: null, attempt: 2 });
});

test('job fold: when a cancel is requested then the flag is set and the message says it stops after this step', (t) => {
  given(submitted(), { type: 'job.step.started', data: { step: 'install', hop: 0, version: '10.1.0', attempt: 1 } })
    .when({ type: 'job.cancel.requested', data: { by: 'operator' } })
    .then(t, { cancelRequested: true, message: 'Installing version 10.1.0 (1/3) (cancel requested: stopping after this step)' });
});

test('job fold: when a job ends then completed, failed and cancelled are terminal with their finish time', (t) => {
  const upgrade = given(submitted()).when({ type: 'job.completed', at: LATER, data: { message: 'done' } }).then(t, { status: 'complete', progress: 100, readyForInstall: false, finishedAt: LATER });
  t.true(isTerminal(upgrade));
  const dl = given(submitted('download-only')).when({ type: 'job.completed', at: LATER, data: { message: 'done' } }).then(t, { status: 'download_complete', readyForInstall: true });
  t.true(isTerminal(dl));
  const failed = given(submitted()).when({ type: 'job.failed', at: LATER, data: { step: 'install', reason: 'boom' } }).then(t, { status: 'failed', message: 'boom', error: { step: 'install', reason: 'boom' } });
  t.true(isTerminal(failed));
  const cancelled = given(submitted()).when({ type: 'job.cancelled', at: LATER, data: { reason: 'Cancelled before it started' } }).then(t, { status: 'cancelled', finishedAt: LATER });
  t.true(isTerminal(cancelled));
  t.false(isTerminal(initialJobState()));
});

test('job fold: when a status record is made then it carries the seed fields in snake_case', (t) => {
  const s = foldJob([submitted('download-only'), { type: 'job.download.skipped', data: { version: '10.1.0', hop: 0 } }]);
  t.like(toStatusRecord(s), {
    job_id: 'job-1',
    device_serial: '001234567890',
    hostname: 'fw-dc1-01',
    download_only: true,
    upgrade_status: 'downloading',
    skipped_versions: ['10.1.0'],
    downloaded_versions: [],
    ready_for_install: false,
    target_version: '11.1.0',
    path: ['10.1.0', '10.5.1', '11.1.0'],
  });
});

test('job fold: when a step fails after its PAN-OS job was enqueued then the in-flight record is dropped, and without a job id it stays to be reconciled', (t) => {
  const failed = (step: 'download' | 'install'): Stamped => ({ type: 'job.step.failed', data: { step, hop: 0, version: '10.1.0', reason: 'job failed', retryable: true, attempt: 1 } });
  // The next attempt must send a new download, not poll the failed PAN-OS job again.
  given(
    submitted(),
    { type: 'job.step.started', data: { step: 'download', hop: 0, version: '10.1.0', attempt: 1 } },
    { type: 'job.download.requested', data: { version: '10.1.0', hop: 0, baselineJobId: 41, direct: true } },
    { type: 'job.download.enqueued', data: { version: '10.1.0', hop: 0, panosJobId: 42 } },
  )
    .when(failed('download'))
    .then(t, { download: null, panosJobs: [{ version: '10.1.0', kind: 'download', id: 42 }] });
  // An install whose answer was lost may be running: the next attempt looks for it with show jobs all.
  given(
    submitted(),
    { type: 'job.step.started', data: { step: 'install', hop: 0, version: '10.1.0', attempt: 1 } },
    { type: 'job.install.requested', data: { version: '10.1.0', hop: 0, baselineJobId: 41 } },
  )
    .when(failed('install'))
    .then(t, { install: { version: '10.1.0', hop: 0, baselineJobId: 41, panosJobId: null } });
});

// issue 12: the skipping state lasted milliseconds, so no status poll ever saw it.
test('job fold: when a version was skipped then its message stays until the next download runs on the device, and each hop has its outcome', (t) => {
  const skipped = foldJob([
    submitted('download-only'),
    { type: 'job.started', data: {} },
    { type: 'job.step.started', data: { step: 'download', hop: 0, version: '10.1.0', attempt: 1 } },
    { type: 'job.download.skipped', data: { version: '10.1.0', hop: 0 } },
    { type: 'job.hop.completed', data: { hop: 0, version: '10.1.0' } },
  ] as Stamped[]);
  const seedAfterSkip = { status: 'downloading', message: 'Version 10.1.0 already downloaded, skipping (1/3)', progress: 40, skippedVersions: ['10.1.0'], downloadedVersions: [] };
  t.like(skipped, seedAfterSkip);
  const started = evolveJob(skipped, { type: 'job.step.started', data: { step: 'download', hop: 1, version: '10.5.1', attempt: 1 } });
  const requested = evolveJob(started, { type: 'job.download.requested', data: { version: '10.5.1', hop: 1, baselineJobId: 7, direct: true } });
  const enqueued = evolveJob(requested, { type: 'job.download.enqueued', data: { version: '10.5.1', hop: 1, panosJobId: 8 } });
  for (const s of [started, requested, enqueued]) t.is(s.message, seedAfterSkip.message);
  t.deepEqual(
    toStatusRecord(enqueued).hops,
    [
      { version: '10.1.0', outcome: 'already-present' },
      { version: '10.5.1', outcome: 'downloading' },
      { version: '11.1.0', outcome: 'pending' },
    ],
  );
  const running = evolveJob(enqueued, { type: 'job.download.progressed', data: { version: '10.5.1', hop: 1, percent: 10 } });
  t.is(running.message, 'Downloading version 10.5.1 (2/3)');
  // A download over before any progress was seen ends the skipping message too.
  const quick = evolveJob(enqueued, { type: 'job.download.completed', data: { version: '10.5.1', hop: 1 } });
  t.is(quick.message, 'Downloaded version 10.5.1 (2/3)');
  const next = foldJob([
    { type: 'job.hop.completed', data: { hop: 1, version: '10.5.1' } },
    { type: 'job.step.started', data: { step: 'download', hop: 2, version: '11.1.0', attempt: 1 } },
    { type: 'job.download.requested', data: { version: '11.1.0', hop: 2, baselineJobId: 8, direct: true } },
  ] as Stamped[], quick);
  t.is(next.message, 'Downloading version 11.1.0 (3/3)');
  t.deepEqual(toStatusRecord(next).hops.map((h) => h.outcome), ['already-present', 'downloaded', 'downloading']);
});

test('fold: a finished job keeps its snapshots counts, not their entries (those stay in the log)', (t) => {
  const routes = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`default 10.${i >> 8}.${i & 255}.0/24 via 10.0.0.1`, { interface: 'ethernet1/1' }]));
  const pre = { areas: { routes: { count: 500, entries: routes }, fib: { count: 90_000, entries: {}, truncated: true } }, unavailable: { bgp_peers: 'BGP is not configured' } };
  const post = { areas: { routes: { count: 500, entries: routes } }, unavailable: {} };
  const running = foldJob([
    submitted(),
    { type: 'job.snapshot.taken', at: AT, data: { phase: 'pre', snapshot: pre } },
    { type: 'job.snapshot.taken', at: AT, data: { phase: 'post', snapshot: post } },
  ]);
  // While the job runs, the compare step reads every entry.
  t.is(Object.keys(running.pre!.areas.routes!.entries).length, 500);
  for (const end of [
    { type: 'job.completed', at: LATER, data: { message: 'done' } },
    { type: 'job.failed', at: LATER, data: { step: 'compare', reason: 'routes lost' } },
    { type: 'job.cancelled', at: LATER, data: { reason: 'by operator' } },
  ] as Array<JobFact & { at: string }>) {
    const finished = evolveJob(running, end);
    t.deepEqual(finished.pre, { areas: { routes: { count: 500, entries: {} }, fib: { count: 90_000, entries: {}, truncated: true } }, unavailable: { bgp_peers: 'BGP is not configured' } }, end.type);
    t.deepEqual(finished.post, { areas: { routes: { count: 500, entries: {} } }, unavailable: {} }, end.type);
  }
  // A job that finished before any snapshot has none.
  t.is(evolveJob(foldJob([submitted()]), { type: 'job.cancelled', at: LATER, data: { reason: 'x' } }).pre, null);
});

test('busCopyOfJobFact: a snapshot fact goes on the bus with each area\'s count; folded, it gives the counts the log\'s fact gives, and other facts pass as they are', (t) => {
  const snapshot = {
    areas: { routes: { count: 2, entries: { 'default 0.0.0.0/0 via 198.18.0.254': { interface: 'ethernet1/1' }, 'default 10.1.0.0/24 via 0.0.0.0': { interface: 'ethernet1/2' } } }, fib: { count: 900, entries: {}, truncated: true } },
    unavailable: { sessions: 'show session info: timed out' },
  };
  const fact = { type: 'job.snapshot.taken', at: LATER, data: { phase: 'pre', snapshot } } as const;
  const copy = busCopyOfJobFact(fact);
  t.deepEqual(copy.data, { phase: 'pre', snapshot: { areas: { routes: { count: 2, entries: {} }, fib: { count: 900, entries: {}, truncated: true } }, unavailable: { sessions: 'show session info: timed out' } } });
  t.is(fact.data.snapshot, snapshot, 'the log\'s fact is left as it was');
  t.deepEqual(Object.keys(snapshot.areas.routes.entries).length, 2);
  const fromLog = evolveJob(foldJob([submitted()]), fact as unknown as JobFact & { at: string });
  const fromBus = evolveJob(foldJob([submitted()]), copy as unknown as JobFact & { at: string });
  t.deepEqual(fromBus.pre, countsOnly(fromLog.pre!));

  const other = { type: 'job.step.completed', at: LATER, data: { step: 'pre-snapshot', hop: 0, version: '10.2.0' } };
  t.is(busCopyOfJobFact(other), other);
  // Jobs recorded before snapshots existed carry `metrics` instead: nothing to count.
  const old = { type: 'job.snapshot.taken', at: LATER, data: { phase: 'pre', metrics: { routes: 3 } } };
  t.is(busCopyOfJobFact(old), old);
});
