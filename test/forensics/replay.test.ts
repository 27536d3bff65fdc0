import test from 'ava';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { commandOf, describeAnswer, describeCommand, replayJobStream } from '../../forensics/replay.ts';
import { haPairMachine, submittedPairState } from '../../machines/ha-pair.machine.ts';
import type { PairFact } from '../../machines/ha-pair.fold.ts';
import { DEVICE, T0, at, fact, jobRun, quiet, record } from './job-log.ts';

test('replay: when a job retried a failed download, then was cancelled between steps, then replaying its log gives the same facts, fold and snapshot', (t) => {
  const { log, snapshot } = jobRun([
    { type: 'start', now: T0 + 10 },
    fact('job.validated', { swVersion: '10.0.2', freeDiskMb: 9000, neededMb: 2048, contentUpdate: false, notes: [] }, 20),
    { type: 'step.done', now: T0 + 30 },
    fact('job.snapshot.taken', { phase: 'pre', snapshot: { areas: { routes: { count: 2, entries: { 'default 0.0.0.0/0 via 10.0.0.1': { interface: 'ethernet1/1' } } } }, unavailable: {} } }, 40),
    { type: 'step.done', now: T0 + 50 },
    { type: 'step.failed', reason: 'x.example is unreachable: reset', retryable: true, now: T0 + 60 },
    { type: 'deadline.reached', now: T0 + 30_070 },
    { type: 'cancel', by: 'operator', now: T0 + 30_080 },
    fact('job.download.requested', { version: '10.1.0', hop: 0, baselineJobId: 0, direct: true }, 30_090),
    { type: 'step.done', now: T0 + 30_100 },
  ]);
  t.deepEqual(log.slice(-4).map((e) => e.type), ['job.cancel.requested', 'job.download.requested', 'job.step.completed', 'job.cancelled']);
  t.true(log.some((e) => e.type === 'job.retry.scheduled'));
  t.deepEqual(replayJobStream(log, snapshot), { ok: true, kind: 'job', state: (snapshot.state as { context: unknown }).context });
});

test('replay: a job with readiness verdicts and a post-upgrade regression replays to the same facts, fold and snapshot', (t) => {
  const snapshot = (peers: Record<string, string>) => ({
    areas: { bgp_peers: { count: Object.keys(peers).length, entries: Object.fromEntries(Object.entries(peers).map(([k, status]) => [k, { status }])) } },
    unavailable: {},
  });
  const report = { serial: DEVICE.serial, hostname: DEVICE.hostname, at: at(20), ok: true, counts: { pass: 1, fail: 0, warn: 0, skipped: 0, unavailable: 0 }, verdicts: [{ check: 'no_locks', title: 'No config or commit locks', severity: 'block', status: 'pass', blocking: false, message: 'no locks' }] };
  const run = jobRun([
    { type: 'start', now: T0 + 10 },
    fact('job.readiness.evaluated', { report }, 20),
    fact('job.validated', { swVersion: '10.0.2', freeDiskMb: 9000, neededMb: 0, contentUpdate: false, notes: [] }, 21),
    { type: 'step.done', now: T0 + 30 },
    fact('job.snapshot.taken', { phase: 'pre', snapshot: snapshot({ default_g_isp1: 'Established', default_g_isp2: 'Established' }) }, 40),
    { type: 'step.done', now: T0 + 50 },
    { type: 'step.done', now: T0 + 60 },
    { type: 'step.done', now: T0 + 70 },
    { type: 'step.done', now: T0 + 80 },
    fact('job.snapshot.taken', { phase: 'post', snapshot: snapshot({ default_g_isp1: 'Established', default_g_isp2: 'Active' }) }, 90),
    { type: 'step.done', now: T0 + 100 },
  ]);
  t.deepEqual(run.log.slice(-2).map((e) => e.type), ['job.checks.evaluated', 'job.failed']);
  t.regex(String((run.log.at(-1)?.data as { reason: string }).reason), /bgp peers: 1 state change: default_g_isp2 status Established → Active/);
  t.deepEqual(replayJobStream(run.log, run.snapshot), { ok: true, kind: 'job', state: (run.snapshot.state as { context: unknown }).context });
});

test('replay: a finished job whose whole context an earlier daemon stored, snapshot entries included, still verifies', (t) => {
  const peers = { areas: { bgp_peers: { count: 1, entries: { default_g_isp1: { status: 'Established' } } } }, unavailable: {} };
  const run = jobRun([
    { type: 'start', now: T0 + 10 },
    fact('job.validated', { swVersion: '10.0.2', freeDiskMb: 9000, neededMb: 0, contentUpdate: false, notes: [] }, 20),
    { type: 'step.done', now: T0 + 30 },
    fact('job.snapshot.taken', { phase: 'pre', snapshot: peers }, 40),
    { type: 'step.done', now: T0 + 50 },
    { type: 'step.done', now: T0 + 60 },
    { type: 'step.done', now: T0 + 70 },
    { type: 'step.done', now: T0 + 80 },
    fact('job.snapshot.taken', { phase: 'post', snapshot: peers }, 90),
    { type: 'step.done', now: T0 + 100 },
  ]);
  t.is(run.log.at(-1)?.type, 'job.completed');
  const state = run.snapshot.state as { context: { pre: unknown; post: unknown; message: string } };
  // Today's fold keeps the counts of a finished job's snapshots.
  t.deepEqual(state.context.pre, { areas: { bgp_peers: { count: 1, entries: {} } }, unavailable: {} });
  // What a daemon stored before it did so: the whole context, entries included.
  const older = { ...run.snapshot, state: { ...state, context: { ...state.context, pre: peers, post: peers } } };
  t.true(replayJobStream(run.log, older).ok);
  // Anything else that differs is still found (the wording of its message aside).
  const wrong = { ...run.snapshot, state: { ...state, context: { ...state.context, pre: peers, post: peers, progress: 42 } } };
  const r = replayJobStream(run.log, wrong);
  t.false(r.ok);
  t.regex(r.difference ?? '', /^the stored snapshot's context differs from the fold: progress/);
  // A daemon before stepStartedAt stored none: compared on the fields it has.
  const { stepStartedAt: _added, ...beforeTheField } = state.context as typeof state.context & { stepStartedAt?: string };
  t.true(replayJobStream(run.log, { ...run.snapshot, state: { ...state, context: { ...beforeTheField, pre: peers, post: peers } } }).ok);
});

test('replay: when a job is cancelled before it starts, or fails for good, then its log replays exactly', (t) => {
  const pending = jobRun([{ type: 'cancel', by: 'operator', now: T0 + 5 }]);
  t.deepEqual(pending.log.map((e) => e.type), ['job.submitted', 'job.cancelled']);
  t.true(replayJobStream(pending.log, pending.snapshot).ok);

  const failed = jobRun([{ type: 'start', now: T0 + 10 }, { type: 'step.failed', reason: 'not enough free disk', retryable: false, now: T0 + 20 }]);
  t.is(failed.log.at(-1)?.type, 'job.failed');
  t.true(replayJobStream(failed.log, failed.snapshot).ok);

  // A retry that was cancelled while it waited.
  const waiting = jobRun([{ type: 'start', now: T0 + 10 }, { type: 'step.failed', reason: 'busy', retryable: true, now: T0 + 20 }, { type: 'cancel', by: 'ops', now: T0 + 30 }]);
  t.deepEqual(waiting.log.slice(-2).map((e) => e.type), ['job.cancel.requested', 'job.cancelled']);
  t.true(replayJobStream(waiting.log, waiting.snapshot).ok);
});

test('replay: when a recorded fact was changed then the first difference names the seq and the field', (t) => {
  const { log, snapshot } = jobRun([{ type: 'start', now: T0 + 10 }, { type: 'step.failed', reason: 'not enough free disk', retryable: false, now: T0 + 20 }]);
  const tampered = log.map((e) => (e.type === 'job.step.failed' ? { ...e, data: { ...(e.data as object), attempt: 7 } } : e));
  const r = replayJobStream(tampered, snapshot);
  t.false(r.ok);
  const seq = log.find((e) => e.type === 'job.step.failed')!.seq;
  t.regex(r.difference ?? '', new RegExp(`^seq ${seq} \\(job\\.step\\.failed at .*\\): recorded job\\.step\\.failed, the machine emits job\\.step\\.failed — data\\.attempt: 7 vs 1$`));
});

test('replay: a log whose messages an earlier version worded otherwise (a cancel reason, a failure) still verifies: the wording is not behaviour; a changed value beside it still fails', (t) => {
  const { log, snapshot } = jobRun([{ type: 'start', now: T0 + 10 }, { type: 'step.done', now: T0 + 20 }, { type: 'cancel', by: 'operator', now: T0 + 25 }, { type: 'step.done', now: T0 + 30 }]);
  t.is(log.at(-1)?.type, 'job.cancelled');
  const older = log.map((e) => (e.type === 'job.cancelled' ? { ...e, data: { reason: 'Cancelled after validation; the device was left as it was' } } : e));
  // The stored snapshot was written by that version too: its message is the older wording.
  const stored = { ...snapshot, state: { ...(snapshot.state as object), context: { ...(snapshot.state as { context: object }).context, message: 'Cancelled after validation; the device was left as it was' } } };
  t.like(replayJobStream(older, stored), { ok: true });
  const tampered = log.map((e) => (e.type === 'job.step.completed' ? { ...e, data: { ...(e.data as object), hop: 3 } } : e));
  t.false(replayJobStream(tampered, snapshot).ok);
});

const pairMachine = haPairMachine.provide({
  actors: { checkPair: quiet(), runChild: quiet(), preparePeer: quiet(), restorePeer: quiet(), verifyPair: quiet(), recover: quiet() },
});

function pairRun(events: Array<{ type: string; [k: string]: unknown }>) {
  const submitted: Extract<PairFact, { type: 'job.ha.submitted' }> = {
    type: 'job.ha.submitted',
    data: { jobId: 'p1', kind: 'upgrade', strategy: 'passive-first', pauseBetweenPeers: true, targetVersion: null, peers: [DEVICE, { ...DEVICE, serial: '001234567891', hostname: 'fw-b' }], versions: ['10.1.0'] },
  };
  const first: EventEnvelope = { gseq: 1, stream: 'job:p1', seq: 1, type: submitted.type, at: at(0), data: submitted.data };
  return record(pairMachine, first, { state: submittedPairState(submitted, at(0)) }, events);
}

test('replay: when an HA pair paused between peers, resumed, and failed after suspending a peer then its log replays through the pair machine', (t) => {
  const done = (ms: number) => ({ type: 'step.done', now: T0 + ms });
  const { log, snapshot } = pairRun([
    { type: 'start', now: T0 + 1 },
    fact('job.ha.checked', { first: '001234567891', second: '001234567890', active: '001234567890', passive: '001234567891', preemptive: false, runningSync: 'synchronized', version: '10.0.2' }, 2),
    done(3),
    done(4),
    done(5),
    done(6),
    done(7),
    done(8),
    { type: 'resume', by: 'ops', now: T0 + 9 },
    fact('job.ha.peer.suspended', { serial: '001234567890' }, 10),
    done(11),
    { type: 'step.failed', reason: 'child job failed', now: T0 + 12 },
    fact('job.ha.peer.functional', { serial: '001234567890', state: 'passive' }, 13),
    done(14),
  ]);
  const types = log.map((e) => e.type);
  t.true(types.includes('job.ha.paused') && types.includes('job.ha.resumed'));
  t.is(types.at(-1), 'job.ha.failed');
  t.deepEqual(replayJobStream(log, snapshot), { ok: true, kind: 'pair', state: (snapshot.state as { context: unknown }).context });

  const cancelled = pairRun([{ type: 'cancel', by: 'ops', now: T0 + 1 }]);
  t.deepEqual(cancelled.log.map((e) => e.type), ['job.ha.submitted', 'job.ha.cancel.requested', 'job.ha.cancelled']);
  t.true(replayJobStream(cancelled.log, cancelled.snapshot).ok);
});

test('describe: when a command and its answer are shown in short then they read as a person would say them', (t) => {
  t.is(describeCommand('<request><system><software><install><version>10.5.1</version></install></software></system></request>'), 'request system software install 10.5.1');
  t.is(describeCommand('<show><jobs><id>12</id></jobs></show>'), 'show jobs id 12');
  const job = '<response status="success"><result><job><tenq>x</tenq><id>12</id><type>SWInstall</type><status>FIN</status><result>FAIL</result><progress>100</progress><details><line>Image file is corrupt</line></details></job></result></response>';
  t.is(describeAnswer('<show><jobs><id>12</id></jobs></show>', job), 'job 12 SWInstall FIN FAIL: Image file is corrupt');
  t.is(describeAnswer('<show><chassis-ready/></show>', '<response status="error" code="13"><msg><line>Device 0079 is not connected</line></msg></response>'), 'error 13: Device 0079 is not connected');
});

test('commandOf: each command text gives its kind, version and job id, the same frozen answer every time it is read; keygen, nothing and an unknown command give nulls', (t) => {
  const install = '<request><system><software><install><version>10.1.0</version></install></software></system></request>';
  const first = commandOf(install);
  t.deepEqual(first, { kind: 'request.system.software.install', version: '10.1.0', jobId: null });
  t.is(commandOf(install), first);
  t.true(Object.isFrozen(first));
  t.deepEqual(commandOf('<show><jobs><id>42</id></jobs></show>'), { kind: 'show.jobs.id', version: null, jobId: 42 });
  t.deepEqual(commandOf('<show><jobs><id>43</id></jobs></show>'), { kind: 'show.jobs.id', version: null, jobId: 43 });
  for (const none of ['keygen admin', null, undefined, '', '<show><nothing/></show>', 'not xml']) t.deepEqual(commandOf(none), { kind: null, version: null, jobId: null }, String(none));
});

test('replay: when the recorded times step back mid-job (the host clock set back, an NTP step) then the job still replays exactly, without an error', (t) => {
  const back = -90_000;
  const { log, snapshot } = jobRun([
    { type: 'start', now: T0 + 10 },
    fact('job.validated', { swVersion: '10.0.2', freeDiskMb: 9000, neededMb: 2048, contentUpdate: false, notes: [] }, 20),
    // The clock steps back 90 s here, and runs on from there.
    { type: 'step.done', now: T0 + back + 30 },
    fact('job.snapshot.taken', { phase: 'pre', snapshot: { areas: {}, unavailable: {} } }, back + 40),
    { type: 'step.failed', reason: 'x.example is unreachable: reset', retryable: true, now: T0 + back + 60 },
    { type: 'cancel', by: 'operator', now: T0 + back + 70 },
  ]);
  t.true(Date.parse(log.at(-1)!.at) < Date.parse(log[2]!.at), 'the log goes back in time');
  t.deepEqual(replayJobStream(log, snapshot), { ok: true, kind: 'job', state: (snapshot.state as { context: unknown }).context });
});

/** A job of two install hops (10.1.0, then 10.5.1) through its first reboot and into the second hop's install. */
function twoHops() {
  const plan = [
    { version: '10.1.0', action: 'install' as const, reason: 'static path' },
    { version: '10.5.1', action: 'install' as const, reason: 'static path' },
  ];
  let ms = 10;
  const next = () => (ms += 10);
  const done = () => ({ type: 'step.done', now: T0 + next() });
  const hop = (h: number, version: string) => [
    fact('job.download.requested', { version, hop: h, baselineJobId: 0, direct: true }, next()),
    fact('job.download.enqueued', { version, hop: h, panosJobId: 10 + h }, next()),
    fact('job.download.completed', { version, hop: h }, next()),
    done(),
    fact('job.install.requested', { version, hop: h, baselineJobId: 10 + h }, next()),
    fact('job.install.enqueued', { version, hop: h, panosJobId: 20 + h }, next()),
  ];
  return jobRun(
    [
      { type: 'start', now: T0 + next() },
      fact('job.validated', { swVersion: '10.0.2', freeDiskMb: 9000, neededMb: 2048, contentUpdate: false, notes: [] }, next()),
      done(),
      fact('job.snapshot.taken', { phase: 'pre', snapshot: { areas: {}, unavailable: {} } }, next()),
      done(),
      ...hop(0, '10.1.0'),
      fact('job.install.completed', { version: '10.1.0', hop: 0 }, next()),
      done(),
      fact('job.reboot.requested', { version: '10.1.0', hop: 0, uptimeBefore: 1000 }, next()),
      fact('job.reboot.acknowledged', { version: '10.1.0', hop: 0 }, next()),
      fact('job.reboot.completed', { version: '10.1.0', hop: 0, uptime: 5 }, next()),
      done(),
      ...hop(1, '10.5.1'),
    ],
    undefined,
    plan,
  );
}

test('replay: when an effect fact names a hop or a version the job is not on then verify reports it, at that fact', (t) => {
  const { log, snapshot } = twoHops();
  t.deepEqual(replayJobStream(log, snapshot), { ok: true, kind: 'job', state: (snapshot.state as { context: unknown }).context });
  const change = (type: string, hop: number, data: object) => {
    const target = log.find((e) => e.type === type && (e.data as { hop: number }).hop === hop)!;
    return { seq: target.seq, log: log.map((e) => (e === target ? { ...e, data: { ...(e.data as object), ...data } } : e)) };
  };
  const cases: Array<[string, number, object, string]> = [
    ['job.reboot.completed', 0, { version: '9.1.0' }, 'job.reboot.completed names version "9.1.0", the job is on hop 0 (install of 10.1.0)'],
    ['job.reboot.completed', 0, { hop: 2 }, 'job.reboot.completed names hop 2, the job is on hop 0 (install of 10.1.0)'],
    ['job.install.enqueued', 1, { version: '10.1.0' }, 'job.install.enqueued names version "10.1.0", the job is on hop 1 (install of 10.5.1)'],
    ['job.download.completed', 1, { hop: 0 }, 'job.download.completed names hop 0, the job is on hop 1 (install of 10.5.1)'],
  ];
  for (const [type, hop, data, why] of cases) {
    const tampered = change(type, hop, data);
    const r = replayJobStream(tampered.log, snapshot);
    t.false(r.ok, `${type} ${JSON.stringify(data)}`);
    t.is(r.difference?.replace(/ at [^)]*\)/, ')'), `seq ${tampered.seq} (${type}): ${why}`);
  }
});
