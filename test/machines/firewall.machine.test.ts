import test from 'ava';
import type { Snapshot } from 'xstate';
import {
  COMMIT_IN_PROGRESS,
  reachabilityOf,
  type Fact,
  type FirewallContext,
  type Reachability,
  type RebootPlan,
  type SimReply,
} from '../../machines/index.ts';
import type { FirewallRecord, HaRecord } from '../../panos/model.ts';
import { faultsFor } from '../../simulator/device-factory.ts';
import { GB, TIMING, bootFirewall, seedRecord as harnessRecord, type BootOptions } from './firewall-harness.ts';

const T0 = Date.parse('2025-11-23T12:00:00Z');
const BUSY = 'The software manager is currently in use. Please try again later.';

/** The seed's fw-dc1-01 on 10.0.2, offered its static path 10.1.0 → 10.5.1 → 11.1.0 (2 GB images). */
function seedRecord(over: Partial<FirewallRecord> = {}): FirewallRecord {
  return harnessRecord(T0, over);
}

function boot(opts: Omit<BootOptions, 'record' | 't0'> & { record?: FirewallRecord } = {}) {
  return bootFirewall({ ...opts, record: opts.record ?? seedRecord(), t0: T0 });
}

function jobId(reply: SimReply | undefined): number {
  if (reply?.kind !== 'job') throw new Error(`expected a job reply, got ${JSON.stringify(reply)}`);
  return reply.jobId;
}

function rebootPlan(ctx: FirewallContext): RebootPlan {
  if (!ctx.reboot) throw new Error('no reboot planned');
  return ctx.reboot;
}

const haRecord = (state: HaRecord['state']): HaRecord => ({
  config: { peerSerial: '001234567899', priority: 100, preemptive: false, mode: 'Active-Passive', groupId: 1 },
  state,
  stateSince: T0 - 86_400_000,
  runningSync: 'synchronized',
  stateSync: 'Complete',
});

test('firewall: when a download reaches its deadline then the image is downloaded, disk is used and the job says the three PAN-OS lines', (t) => {
  const fw = boot();
  const reply = fw.send({ type: 'download.start', version: '10.1.0' });
  const id = jobId(reply);
  t.deepEqual(reply, { kind: 'job', jobId: id, jobType: 'Downld' });
  t.is(fw.value, 'downloading');
  t.like(fw.job(id), { type: 'Downld', status: 'ACT', result: 'PEND', version: '10.1.0', endsAt: T0 + TIMING.downloadMs });
  t.deepEqual(fw.facts, [{ type: 'sim.download.started', data: { jobId: id, version: '10.1.0', kind: 'software', endsAt: T0 + TIMING.downloadMs } }]);

  fw.advanceTo(T0 + TIMING.downloadMs - 1);
  t.is(fw.value, 'downloading');
  t.false(fw.ctx.record.downloaded.includes('10.1.0'));

  fw.advanceTo(T0 + TIMING.downloadMs);
  t.is(fw.value, 'online');
  t.deepEqual(fw.ctx.record.downloaded, ['10.0.2', '10.1.0']);
  t.is(fw.ctx.record.disk.panrepoUsedMb, 2 * GB);
  t.like(fw.job(id), {
    status: 'FIN',
    result: 'OK',
    finishedAt: T0 + TIMING.downloadMs,
    details: ['Successfully downloaded', 'Preloading into software manager', 'Successfully loaded into software manager'],
  });
  t.is(fw.ctx.plan, null);
  t.deepEqual(fw.facts.at(-1), { type: 'sim.download.completed', data: { jobId: id, version: '10.1.0', kind: 'software' } });
});

test('firewall: when the disk has too little room for the image then the download is a FAIL job and nothing is used', (t) => {
  const fw = boot({ record: seedRecord({ disk: { panrepoTotalMb: 3000, panrepoUsedMb: 2000 } }) });
  const id = jobId(fw.send({ type: 'download.start', version: '10.1.0' }));
  t.is(fw.value, 'online');
  const job = fw.job(id);
  t.like(job, { type: 'Downld', status: 'FIN', result: 'FAIL' });
  t.is(job.details.length, 1);
  t.regex(job.details[0] ?? '', /^Failed to download 10\.1\.0: not enough free disk space on \/opt\/panrepo \(2048 MB needed, 1000 MB available\)$/);
  t.is(fw.ctx.record.disk.panrepoUsedMb, 2000);
  t.deepEqual(fw.ctx.record.downloaded, ['10.0.2']);
  t.deepEqual(fw.factTypes(), ['sim.download.failed']);
});

test('firewall: when a download runs and a second one is requested then the answer is "Another download is in progress"', (t) => {
  const fw = boot();
  const first = jobId(fw.send({ type: 'download.start', version: '10.1.0' }));
  const reply = fw.send({ type: 'download.start', version: '10.5.1' });
  t.deepEqual(reply, { kind: 'error', lines: ['Another download is in progress'] });
  t.is(fw.ctx.record.jobs.length, 1);
  t.is(fw.ctx.plan?.jobId, first);
  fw.advanceTo(T0 + TIMING.downloadMs);
  t.deepEqual(fw.ctx.record.downloaded, ['10.0.2', '10.1.0']);
});

test('firewall: when an install is requested while a download runs then it is a SWInstall FAIL job with the software-manager-busy lines', (t) => {
  const fw = boot({ record: seedRecord({ downloaded: ['10.0.2', '10.1.0'] }) });
  const download = jobId(fw.send({ type: 'download.start', version: '10.5.1' }));
  const reply = fw.send({ type: 'install.start', version: '10.1.0' });
  const id = jobId(reply);
  t.deepEqual(reply, { kind: 'job', jobId: id, jobType: 'SWInstall' });
  t.like(fw.job(id), {
    type: 'SWInstall',
    status: 'FIN',
    result: 'FAIL',
    details: ['Failed to install 10.1.0 with the following errors.', 'SW version is 10.1.0', BUSY, 'Failed to install   version  10.1.0  type  panos'],
  });
  t.deepEqual(fw.facts.at(-1), { type: 'sim.install.failed', data: { jobId: id, version: '10.1.0', kind: 'software', reason: BUSY } });
  t.is(fw.value, 'downloading');
  t.is(fw.ctx.plan?.jobId, download);
  t.is(fw.ctx.record.pendingVersion, undefined);
});

test('firewall: when the image to install has not been downloaded then the answer is an error and no job is made', (t) => {
  const fw = boot();
  const reply = fw.send({ type: 'install.start', version: '10.1.0' });
  t.is(reply?.kind, 'error');
  t.regex(reply?.kind === 'error' ? (reply.lines[0] ?? '') : '', /Image 10\.1\.0 has not been downloaded/);
  t.deepEqual(fw.ctx.record.jobs, []);
  t.is(fw.value, 'online');
});

test('firewall: when the install needs a listed base image that is not downloaded then it is a FAIL job naming the base image', (t) => {
  const fw = boot({ record: seedRecord({ downloaded: ['10.0.2', '10.1.3'] }) });
  const id = jobId(fw.send({ type: 'install.start', version: '10.1.3' }));
  const job = fw.job(id);
  t.like(job, { type: 'SWInstall', status: 'FIN', result: 'FAIL' });
  t.true(job.details.includes('Base image 10.1.0 has not been downloaded. Download 10.1.0 before installing 10.1.3.'));
  t.is(fw.value, 'online');
  t.is(fw.ctx.record.pendingVersion, undefined);
});

test('firewall: when the base image is not on the software list then the install goes ahead without it', (t) => {
  const record = seedRecord({ downloaded: ['10.0.2', '10.1.3'] });
  const fw = boot({ record: { ...record, images: record.images.filter((i) => i.version !== '10.1.0') } });
  const id = jobId(fw.send({ type: 'install.start', version: '10.1.3' }));
  t.like(fw.job(id), { type: 'SWInstall', status: 'ACT' });
  t.is(fw.value, 'installing');
  fw.advanceTo(T0 + TIMING.installMs);
  t.like(fw.job(id), { status: 'FIN', result: 'OK' });
  t.is(fw.ctx.record.pendingVersion, '10.1.3');
});

test('firewall: when the 12.1 train is installed then its base image is 12.1.2, not 12.1.0', (t) => {
  const image = (version: string) => ({ version, sizeMb: GB, releasedOn: '2025/01/01 00:00:00' });
  const fw = boot({ record: seedRecord({ swVersion: '11.2.4', images: ['11.2.4', '12.1.0', '12.1.2', '12.1.4'].map(image), downloaded: ['11.2.4', '12.1.0', '12.1.4'] }) });
  const id = jobId(fw.send({ type: 'install.start', version: '12.1.4' }));
  t.true(fw.job(id).details.includes('Base image 12.1.2 has not been downloaded. Download 12.1.2 before installing 12.1.4.'));
});

test('firewall: when an install finishes then only pendingVersion is set; the running version changes at the reboot', (t) => {
  const fw = boot({ record: seedRecord({ downloaded: ['10.0.2', '10.1.0'] }) });
  const id = jobId(fw.send({ type: 'install.start', version: '10.1.0' }));
  t.is(fw.value, 'installing');
  fw.advanceTo(T0 + TIMING.installMs);
  t.is(fw.value, 'online');
  t.like(fw.job(id), {
    status: 'FIN',
    result: 'OK',
    details: ['Software installation of 10.1.0 successfully completed. Please reboot to switch to the new version.'],
  });
  t.is(fw.ctx.record.pendingVersion, '10.1.0');
  t.is(fw.ctx.record.swVersion, '10.0.2');
  t.deepEqual(fw.facts.at(-1), { type: 'sim.install.completed', data: { jobId: id, version: '10.1.0', kind: 'software' } });

  fw.send({ type: 'restart' });
  fw.advanceTo(rebootPlan(fw.ctx).autoCommitEndsAt);
  t.is(fw.value, 'online');
  t.is(fw.ctx.record.swVersion, '10.1.0');
  t.is(fw.ctx.record.pendingVersion, undefined);
});

test('firewall: when it reboots then it goes stopping, down, starting, notReady and autoCommit (with an AutoCom job) before it is online on the new version', (t) => {
  const fw = boot({ record: seedRecord({ downloaded: ['10.0.2', '10.1.0'], pendingVersion: '10.1.0' }) });
  const before = fw.ctx.record.metrics;
  const reply = fw.send({ type: 'restart' });
  t.deepEqual(reply, { kind: 'text', text: 'Command succeeded with no output' });
  const plan = rebootPlan(fw.ctx);
  t.true(plan.downAt < plan.startingAt && plan.startingAt < plan.notReadyAt && plan.notReadyAt < plan.readyAt && plan.readyAt < plan.autoCommitEndsAt);
  t.like(plan, { fromVersion: '10.0.2', intoVersion: '10.1.0', neverReturns: false, autoCommitFails: false });
  t.is(reachabilityOf(fw.value), 'stopping');
  // While stopping it still answers: a second restart is acknowledged, nothing else changes.
  t.deepEqual(fw.send({ type: 'restart' }), { kind: 'text', text: 'Command succeeded with no output' });
  t.deepEqual(rebootPlan(fw.ctx), plan);

  fw.advanceTo(plan.downAt);
  t.is(reachabilityOf(fw.value), 'down');
  t.deepEqual(fw.send({ type: 'install.start', version: '10.1.0' }), { kind: 'error', lines: ['Operation not possible: the device is restarting'] });
  t.is(fw.ctx.record.swVersion, '10.0.2');

  fw.advanceTo(plan.startingAt);
  t.is(reachabilityOf(fw.value), 'starting');
  t.is(fw.ctx.record.swVersion, '10.1.0');
  t.is(fw.ctx.record.pendingVersion, undefined);
  t.is(fw.ctx.record.bootedAt, plan.startingAt);

  fw.advanceTo(plan.notReadyAt);
  t.is(reachabilityOf(fw.value), 'notReady');

  fw.advanceTo(plan.readyAt);
  t.is(reachabilityOf(fw.value), 'autoCommit');
  const autoCom = fw.ctx.record.jobs.at(-1);
  t.like(autoCom, { type: 'AutoCom', user: '', status: 'ACT', endsAt: plan.autoCommitEndsAt });
  t.deepEqual(fw.send({ type: 'install.start', version: '10.1.0' }), { kind: 'error', lines: [COMMIT_IN_PROGRESS] });
  t.deepEqual(fw.send({ type: 'download.start', version: '10.5.1' }), { kind: 'error', lines: [COMMIT_IN_PROGRESS] });

  fw.advanceTo(plan.autoCommitEndsAt);
  t.is(fw.value, 'online');
  t.is(fw.ctx.reboot, null);
  t.like(fw.job(autoCom!.id), { status: 'FIN', result: 'OK', details: ['Configuration committed successfully'] });

  t.deepEqual(fw.states, [
    '"online"',
    '{"rebooting":"stopping"}',
    '{"rebooting":"down"}',
    '{"rebooting":"starting"}',
    '{"rebooting":"notReady"}',
    '{"rebooting":"autoCommit"}',
    '"online"',
  ]);
  t.deepEqual(fw.factTypes(), [
    'sim.reboot.started',
    'sim.reboot.down',
    'sim.reboot.booting',
    'sim.version.changed',
    'sim.metrics.changed',
    'sim.reboot.ready',
    'sim.reboot.completed',
  ]);
  t.deepEqual(fw.facts.find((f) => f.type === 'sim.version.changed')?.data, { from: '10.0.2', to: '10.1.0' });
  t.deepEqual(fw.facts.at(-1)?.data, { version: '10.1.0', autoCommitOk: true });

  const after = fw.ctx.record.metrics;
  const within = (a: number, b: number, pct: number) => Math.abs(a - b) <= Math.ceil((b * pct) / 100);
  t.true(within(after.tcpSessions, before.tcpSessions, 3), `tcp ${before.tcpSessions} → ${after.tcpSessions}`);
  t.true(within(after.udpSessions, before.udpSessions, 5), `udp ${before.udpSessions} → ${after.udpSessions}`);
  t.true(within(after.arpEntries, before.arpEntries, 1), `arp ${before.arpEntries} → ${after.arpEntries}`);
  t.is(after.routes, before.routes);
  t.notDeepEqual(after, before);
});

test('firewall: when it restarts during a download then the download is aborted as a FAIL job and the image is not there', (t) => {
  const fw = boot();
  const id = jobId(fw.send({ type: 'download.start', version: '10.1.0' }));
  fw.advanceTo(T0 + 4_000);
  fw.send({ type: 'restart' });
  t.like(fw.job(id), { status: 'FIN', result: 'FAIL', finishedAt: T0 + 4_000, details: ['Job aborted: the device is restarting'] });
  t.is(fw.ctx.plan, null);
  t.deepEqual(fw.facts[1], { type: 'sim.download.failed', data: { jobId: id, version: '10.1.0', kind: 'software', reason: 'aborted by restart' } });
  t.is(fw.facts[2]?.type, 'sim.reboot.started');
  fw.advanceTo(T0 + TIMING.downloadMs);
  t.like(fw.job(id), { result: 'FAIL' });
  fw.advanceTo(rebootPlan(fw.ctx).autoCommitEndsAt);
  t.is(fw.value, 'online');
  t.deepEqual(fw.ctx.record.downloaded, ['10.0.2']);
  t.is(fw.ctx.record.disk.panrepoUsedMb, GB);
  t.false(fw.factTypes().includes('sim.download.completed'));
});

test('firewall: when a scenario fails every download then the job fails midway with the scenario error text', (t) => {
  const faults = faultsFor([{ device: '*', operation: 'download', failureRate: 1, error: 'Connection timeout' }], '001234567890');
  const fw = boot({ faults });
  const id = jobId(fw.send({ type: 'download.start', version: '10.1.0' }));
  const at = fw.ctx.plan?.at ?? 0;
  t.true(at >= T0 + 0.2 * TIMING.downloadMs && at <= T0 + 0.9 * TIMING.downloadMs, `fails at ${at - T0} ms`);
  fw.advanceTo(at - 1);
  t.is(fw.value, 'downloading');
  fw.advanceTo(at);
  t.is(fw.value, 'online');
  t.like(fw.job(id), { status: 'FIN', result: 'FAIL', finishedAt: at, details: ['Connection timeout'] });
  t.deepEqual(fw.facts.at(-1), { type: 'sim.download.failed', data: { jobId: id, version: '10.1.0', kind: 'software', reason: 'Connection timeout' } });
  t.deepEqual(fw.ctx.record.downloaded, ['10.0.2']);
  t.is(fw.ctx.record.disk.panrepoUsedMb, GB);
});

test('firewall: when a reboot never returns then the device stays down forever', (t) => {
  const fw = boot({
    record: seedRecord({ downloaded: ['10.0.2', '10.1.0'], pendingVersion: '10.1.0' }),
    faults: { reboot: { rate: 1, error: 'Device does not come back', mode: 'never_returns' } },
  });
  fw.send({ type: 'restart' });
  t.true(rebootPlan(fw.ctx).neverReturns);
  fw.advanceTo(rebootPlan(fw.ctx).downAt);
  t.is(reachabilityOf(fw.value), 'down');
  t.deepEqual(fw.facts.at(-1), { type: 'sim.reboot.down', data: { neverReturns: true } });
  fw.advanceTo(fw.clock.now() + 365 * 86_400_000);
  t.is(reachabilityOf(fw.value), 'down');
  t.is(fw.ctx.record.swVersion, '10.0.2');
  t.deepEqual(fw.factTypes(), ['sim.reboot.started', 'sim.reboot.down']);
});

test('firewall: when a reboot comes back on the wrong version then it runs the version it left and the pending one is gone', (t) => {
  const fw = boot({
    record: seedRecord({ downloaded: ['10.0.2', '10.1.0'], pendingVersion: '10.1.0' }),
    faults: { reboot: { rate: 1, error: 'Boot into the old partition', mode: 'wrong_version' } },
  });
  fw.send({ type: 'restart' });
  const plan = rebootPlan(fw.ctx);
  t.like(plan, { fromVersion: '10.0.2', intoVersion: '10.0.2', neverReturns: false });
  fw.advanceTo(plan.startingAt);
  fw.advanceTo(plan.autoCommitEndsAt);
  t.is(fw.value, 'online');
  t.is(fw.ctx.record.swVersion, '10.0.2');
  t.is(fw.ctx.record.pendingVersion, undefined);
  t.is(fw.ctx.record.bootedAt, plan.startingAt);
  t.false(fw.factTypes().includes('sim.version.changed'));
  t.deepEqual(fw.facts.at(-1), { type: 'sim.reboot.completed', data: { version: '10.0.2', autoCommitOk: true } });
});

test('firewall: when the auto-commit fails then the AutoCom job is FAIL with the error and the device still comes online', (t) => {
  const fw = boot({ faults: { autocommit: { rate: 1, error: 'Commit failed: validation error' } } });
  fw.send({ type: 'restart' });
  const plan = rebootPlan(fw.ctx);
  t.true(plan.autoCommitFails);
  fw.advanceTo(plan.autoCommitEndsAt);
  t.is(fw.value, 'online');
  const autoCom = fw.ctx.record.jobs.find((j) => j.type === 'AutoCom');
  t.like(autoCom, { status: 'FIN', result: 'FAIL', details: ['Commit failed: validation error'] });
  t.deepEqual(fw.facts.slice(-2), [
    { type: 'sim.autocommit.failed', data: { reason: 'Commit failed: validation error' } },
    { type: 'sim.reboot.completed', data: { version: '10.0.2', autoCommitOk: false } },
  ]);
});

test('firewall: when a download stalls then it never finishes until download.unstall, and then after the time it had left', (t) => {
  const fw = boot({ faults: { downloadStalls: 1 } });
  const id = jobId(fw.send({ type: 'download.start', version: '10.1.0' }));
  t.is(fw.job(id).stalledAt, T0 + TIMING.downloadMs / 2);
  t.is(fw.ctx.faults.downloadStalls, 0);
  fw.advanceTo(fw.clock.now() + 30 * 86_400_000);
  t.is(fw.value, 'downloading');
  t.like(fw.job(id), { status: 'ACT' });

  const resumedAt = fw.clock.now();
  fw.send({ type: 'download.unstall' });
  t.is(fw.facts.at(-1)?.type, 'sim.download.resumed');
  t.is(fw.job(id).stalledAt, undefined);
  const left = TIMING.downloadMs / 2;
  fw.advanceTo(resumedAt + left - 1);
  t.is(fw.value, 'downloading');
  fw.advanceTo(resumedAt + left);
  t.is(fw.value, 'online');
  t.like(fw.job(id), { status: 'FIN', result: 'OK', finishedAt: resumedAt + left });
  t.true(fw.ctx.record.downloaded.includes('10.1.0'));

  // The stall budget is spent: the next download finishes by itself.
  const next = jobId(fw.send({ type: 'download.start', version: '10.5.1' }));
  fw.advanceTo(fw.clock.now() + TIMING.downloadMs);
  t.like(fw.job(next), { status: 'FIN', result: 'OK' });
});

/** Download (sometimes failing), install, reboot with drift: everything the seeded generator decides. */
function seededRun(rng: number): Fact[] {
  const fw = boot({ rng, faults: { download: { rate: 0.5, error: 'Connection timeout' } } });
  for (let i = 0; i < 4; i++) {
    fw.send({ type: 'download.start', version: '10.1.0' });
    fw.advanceTo(fw.clock.now() + TIMING.downloadMs);
  }
  fw.send({ type: 'restart' });
  fw.advanceTo(rebootPlan(fw.ctx).autoCommitEndsAt);
  return fw.facts;
}

test('firewall: when the same seed runs the same commands twice then the facts are the same', (t) => {
  const a = seededRun(7);
  const b = seededRun(7);
  t.deepEqual(a, b);
  t.true(a.some((f) => f.type === 'sim.metrics.changed'));
  t.notDeepEqual(seededRun(8), a);
});

test('firewall: when a snapshot taken mid-download is restored on the same clock then the download finishes at its original deadline', (t) => {
  // statelyai/xstate#5331: after-timers are not restored, which is why the deadline lives in context.
  const first = boot();
  const id = jobId(first.send({ type: 'download.start', version: '10.1.0' }));
  first.advanceTo(T0 + 3_000);
  const snapshot = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as Snapshot<unknown>;
  first.actor.stop();

  const restored = boot({ clock: first.clock, snapshot });
  t.is(restored.value, 'downloading');
  restored.advanceTo(T0 + TIMING.downloadMs - 1);
  t.is(restored.value, 'downloading');
  restored.advanceTo(T0 + TIMING.downloadMs);
  t.is(restored.value, 'online');
  t.like(restored.job(id), { status: 'FIN', result: 'OK', finishedAt: T0 + TIMING.downloadMs });
  t.deepEqual(restored.facts, [{ type: 'sim.download.completed', data: { jobId: id, version: '10.1.0', kind: 'software' } }]);
  t.deepEqual(first.facts.map((f) => f.type), ['sim.download.started']);
});

test('firewall: when a snapshot taken mid-reboot is restored on the same clock then every later phase happens at its original deadline', (t) => {
  const first = boot({ record: seedRecord({ downloaded: ['10.0.2', '10.1.0'], pendingVersion: '10.1.0' }) });
  first.send({ type: 'restart' });
  const plan = rebootPlan(first.ctx);
  first.advanceTo(plan.downAt + 1_000);
  t.is(reachabilityOf(first.value), 'down');
  const snapshot = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as Snapshot<unknown>;
  first.actor.stop();

  const restored = boot({ clock: first.clock, snapshot });
  t.is(reachabilityOf(restored.value), 'down');
  const phases: Array<[number, Reachability]> = [
    [plan.startingAt, 'starting'],
    [plan.notReadyAt, 'notReady'],
    [plan.readyAt, 'autoCommit'],
  ];
  for (const [at, phase] of phases) {
    restored.advanceTo(at - 1);
    t.not(reachabilityOf(restored.value), phase);
    restored.advanceTo(at);
    t.is(reachabilityOf(restored.value), phase);
  }
  t.is(restored.ctx.record.bootedAt, plan.startingAt);
  restored.advanceTo(plan.autoCommitEndsAt - 1);
  t.is(reachabilityOf(restored.value), 'autoCommit');
  restored.advanceTo(plan.autoCommitEndsAt);
  t.is(restored.value, 'online');
  t.is(restored.ctx.record.swVersion, '10.1.0');
  t.deepEqual(restored.factTypes(), ['sim.reboot.booting', 'sim.version.changed', 'sim.metrics.changed', 'sim.reboot.ready', 'sim.reboot.completed']);
});

test('firewall: when an HA member is suspended and made functional then it answers and its state changes to suspended, then passive', (t) => {
  const fw = boot({ record: seedRecord({ ha: haRecord('active') }) });
  fw.advanceTo(T0 + 60_000);
  const suspendedAt = fw.clock.now();
  t.deepEqual(fw.send({ type: 'ha.suspend' }), { kind: 'text', text: 'Successfully changed HA state to suspended' });
  t.like(fw.ctx.record.ha, { state: 'suspended', stateSince: suspendedAt, lastErrorReason: 'User requested', lastErrorState: 'suspended' });
  t.deepEqual(fw.facts.at(-1), { type: 'sim.ha-state.changed', data: { from: 'active', to: 'suspended', reason: 'User requested' } });

  t.deepEqual(fw.send({ type: 'ha.functional' }), { kind: 'text', text: 'Successfully changed HA state to functional' });
  t.is(fw.ctx.record.ha?.state, 'passive');
  t.deepEqual(fw.facts.at(-1), { type: 'sim.ha-state.changed', data: { from: 'suspended', to: 'passive', reason: 'User requested' } });

  const count = fw.facts.length;
  t.deepEqual(fw.send({ type: 'ha.functional' }), { kind: 'text', text: 'Successfully changed HA state to functional' });
  t.is(fw.ctx.record.ha?.state, 'passive');
  t.is(fw.facts.length, count);
});

test('firewall: when HA is not configured and suspend is requested then the answer is an error', (t) => {
  const fw = boot();
  t.deepEqual(fw.send({ type: 'ha.suspend' }), { kind: 'error', lines: ['HA is not enabled on this device'] });
  t.is(fw.ctx.record.ha, undefined);
  t.deepEqual(fw.facts, []);
});
