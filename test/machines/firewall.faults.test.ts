import test from 'ava';
import { SimulatedClock } from 'xstate';
import {
  SOFTWARE_MANAGER_BUSY,
  deadlineEffect,
  firewallMachine,
  nextRandom,
  type DeviceFaults,
  type Fact,
  type SimReply,
} from '../../machines/index.ts';
import type { FirewallRecord, HaRecord } from '../../panos/model.ts';
import { parseScenario } from '../../scenarios/index.ts';
import { ScenarioError } from '../../panos/errors.ts';
import { faultsFor } from '../../simulator/device-factory.ts';
import { reactToPeerFacts } from '../../simulator/ha-pairs.ts';
import { HostedFirewall } from '../../simulator/hosted-firewall.ts';
import { TIMING, bootFirewall, seedRecord } from './firewall-harness.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
function record(over: Partial<FirewallRecord> = {}): FirewallRecord {
  return seedRecord(T0, { hostname: 'fw-a', ...over }, ['10.0.2', '10.1.0', '10.5.1', '11.1.0']);
}

/** A firewall on a simulated clock, with the facts and replies it emits. */
function boot(faults: DeviceFaults, over: Partial<FirewallRecord> = {}, rng = 7) {
  return bootFirewall({ record: record(over), t0: T0, faults, rng });
}

function jobId(reply: SimReply | undefined): number {
  if (reply?.kind !== 'job') throw new Error(`expected a job reply, got ${JSON.stringify(reply)}`);
  return reply.jobId;
}

/** The refusals a busy fault of `rate` makes on consecutive attempts, computed from the generator. */
function expectedRefusals(rng: number, rate: number, attempts: number): boolean[] {
  const out: boolean[] = [];
  let state = rng;
  for (let i = 0; i < attempts; i++) {
    const [r, next] = nextRandom(state);
    state = next;
    out.push(r < rate);
  }
  return out;
}

test('busy fault: when the software manager is busy at a rate then downloads are refused with the busy text exactly on the draws of the seeded generator', (t) => {
  // Seed 7 draws refuse, refuse, accept at rate 0.5.
  const fw = boot({ busy: { rate: 0.5, error: SOFTWARE_MANAGER_BUSY } }, {}, 7);
  t.deepEqual(expectedRefusals(7, 0.5, 3), [true, true, false]);
  const replies = [1, 2, 3].map(() => fw.send({ type: 'download.start', version: '10.1.0' }));
  t.deepEqual(replies.slice(0, 2), [
    { kind: 'error', lines: [SOFTWARE_MANAGER_BUSY] },
    { kind: 'error', lines: [SOFTWARE_MANAGER_BUSY] },
  ]);
  t.like(replies[2], { kind: 'job', jobType: 'Downld' });
  t.deepEqual(
    fw.facts.map((f) => f.type),
    ['sim.busy.refused', 'sim.busy.refused', 'sim.download.started'],
  );
  t.deepEqual(fw.facts[0], { type: 'sim.busy.refused', data: { operation: 'download', version: '10.1.0' } });
});

test('busy fault: when an install meets a busy software manager then it is a SWInstall FAIL job with the busy line, and the same seed refuses the same attempts', (t) => {
  const run = () => {
    const fw = boot({ busy: { rate: 1, error: SOFTWARE_MANAGER_BUSY } }, { downloaded: ['10.0.2', '10.1.0'] });
    const id = jobId(fw.send({ type: 'install.start', version: '10.1.0' }));
    return { fw, id };
  };
  const { fw, id } = run();
  t.like(fw.job(id), { type: 'SWInstall', status: 'FIN', result: 'FAIL' });
  t.true(fw.job(id).details.includes(SOFTWARE_MANAGER_BUSY));
  t.deepEqual(fw.facts.at(-1), { type: 'sim.install.failed', data: { jobId: id, version: '10.1.0', kind: 'software', reason: SOFTWARE_MANAGER_BUSY } });
  t.is(fw.value, 'online');
  t.not(fw.ctx.rng, 7, 'the refusal consumed a draw');
  t.deepEqual(run().fw.facts, fw.facts);
});

test('disk full fault: when a download runs out of disk then it fails partway with a disk-space line and /opt/panrepo is left full', (t) => {
  const fw = boot({ download: { rate: 1, error: 'Failed to download 10.1.0', mode: 'disk_full' } });
  const id = jobId(fw.send({ type: 'download.start', version: '10.1.0' }));
  const plan = fw.ctx.plan!;
  t.true(plan.at > T0 && plan.at < T0 + TIMING.downloadMs, 'it fails partway');
  fw.advanceTo(plan.at);
  const job = fw.job(id);
  t.like(job, { type: 'Downld', status: 'FIN', result: 'FAIL' });
  t.is(job.details[0], 'Failed to download 10.1.0');
  t.regex(job.details[1] ?? '', /^No space left on device: \/opt\/panrepo is full after \d+ MB of 2048 MB of 10\.1\.0 \(not enough disk space\)$/);
  t.is(fw.ctx.record.disk.panrepoUsedMb, fw.ctx.record.disk.panrepoTotalMb);
  t.deepEqual(fw.ctx.record.downloaded, ['10.0.2']);
  t.deepEqual(
    fw.facts.map((f) => f.type),
    ['sim.download.started', 'sim.download.failed', 'sim.disk.full'],
  );
  // The disk stays full: the next download is refused for lack of space.
  const next = jobId(fw.send({ type: 'download.start', version: '10.5.1' }));
  t.regex(fw.job(next).details[0] ?? '', /not enough free disk space on \/opt\/panrepo \(2048 MB needed, 0 MB available\)/);
});

test('slow faults: when downloads and installs are slow then their jobs take the factor times longer', (t) => {
  const fw = boot({ downloadSlowFactor: 3, installSlowFactor: 5 }, { downloaded: ['10.0.2', '10.1.0'] });
  const download = jobId(fw.send({ type: 'download.start', version: '10.5.1' }));
  t.is(fw.job(download).endsAt, T0 + 3 * TIMING.downloadMs);
  fw.advanceTo(T0 + 3 * TIMING.downloadMs);
  const install = jobId(fw.send({ type: 'install.start', version: '10.1.0' }));
  t.is(fw.job(install).endsAt - fw.job(install).startedAt, 5 * TIMING.installMs);
});

test('crash: when a device crashes mid-install then the install is aborted, it is down at once for the given time and boots the version it would boot next', (t) => {
  const fw = boot({}, { downloaded: ['10.0.2', '10.1.0'], pendingVersion: '10.1.0' });
  const id = jobId(fw.send({ type: 'install.start', version: '10.1.0' }));
  fw.send({ type: 'crash', downMs: 40_000, reason: 'kernel panic' });
  t.like(fw.job(id), { status: 'FIN', result: 'FAIL', details: ['Job aborted: kernel panic'] });
  t.deepEqual(fw.value, { rebooting: 'stopping' });
  const plan = fw.ctx.reboot!;
  t.like(plan, { downAt: T0, fromVersion: '10.0.2', intoVersion: '10.1.0', unplanned: true, neverReturns: false });
  t.is(plan.readyAt - T0, 40_000);
  fw.advanceTo(T0);
  t.deepEqual(fw.value, { rebooting: 'down' });
  fw.advanceTo(plan.autoCommitEndsAt);
  t.is(fw.value, 'online');
  t.is(fw.ctx.record.swVersion, '10.1.0');
  t.deepEqual(
    fw.facts.map((f) => f.type).slice(0, 5),
    ['sim.install.started', 'sim.crash.started', 'sim.install.failed', 'sim.reboot.started', 'sim.reboot.down'],
  );
});

test('crash: when the peer-install crash fault is drawn then the device crashes, otherwise the draw is consumed and it stays online', (t) => {
  const always = boot({ crash: { rate: 1, error: 'power loss', on: 'peer_install', downMs: 30_000 } });
  always.send({ type: 'peer.install.started' });
  t.deepEqual(always.value, { rebooting: 'stopping' });
  t.deepEqual(always.facts[0], { type: 'sim.crash.started', data: { reason: 'power loss', downMs: 30_000 } });

  const half = { crash: { rate: 0.5, error: 'power loss', on: 'peer_install' as const } };
  const expected = expectedRefusals(99, 0.5, 1)[0] === true;
  const maybe = boot(half, {}, 99);
  maybe.send({ type: 'peer.install.started' });
  t.is(typeof maybe.value === 'object', expected);
  t.is(maybe.ctx.rng, nextRandom(99)[1], 'one draw either way');

  const none = boot({});
  none.send({ type: 'peer.install.started' });
  t.is(none.value, 'online');
  t.deepEqual(none.facts, []);
});

test('crash: when the active member of an HA pair crashes then the passive one becomes active, and the crashed one comes back passive', (t) => {
  const clock = new SimulatedClock();
  clock.set(T0);
  const machine = firewallMachine.provide({ actors: { deadline: deadlineEffect(clock) } });
  const ha = (peerSerial: string, state: HaRecord['state'], priority: number): HaRecord => ({
    config: { peerSerial, priority, preemptive: false, mode: 'Active-Passive', groupId: 1 },
    state,
    stateSince: T0,
    runningSync: 'synchronized',
    stateSync: 'Complete',
  });
  const devices = new Map<string, HostedFirewall>();
  const sink = (serial: string, facts: Fact[]): void => reactToPeerFacts((s) => devices.get(s), devices.get(serial)!, facts, clock.now());
  const a = new HostedFirewall('1', machine, { record: record({ serial: '1', ha: ha('2', 'active', 100) }), timing: TIMING, faults: {}, rng: 1 }, undefined, sink);
  const b = new HostedFirewall('2', machine, { record: record({ serial: '2', ha: ha('1', 'passive', 110) }), timing: TIMING, faults: {}, rng: 2 }, undefined, sink);
  devices.set('1', a).set('2', b);
  a.start();
  b.start();
  a.notify({ type: 'crash', downMs: 20_000, now: T0 });
  const settle = (at: number): void => {
    for (;;) {
      const before = [a.actor.getSnapshot(), b.actor.getSnapshot()];
      clock.set(at);
      if (a.actor.getSnapshot() === before[0] && b.actor.getSnapshot() === before[1]) return;
    }
  };
  settle(T0);
  t.is(a.reachability, 'down');
  t.is(b.context.record.ha?.state, 'active');
  settle(a.context.reboot!.autoCommitEndsAt);
  t.is(a.reachability, 'up');
  t.is(a.context.record.ha?.state, 'passive');
  t.is(b.context.record.ha?.state, 'active');
});

test('crash: when a member with the peer-install fault sees its peer start an install then it crashes and the installing peer takes over', (t) => {
  const clock = new SimulatedClock();
  clock.set(T0);
  const machine = firewallMachine.provide({ actors: { deadline: deadlineEffect(clock) } });
  const ha = (peerSerial: string, state: HaRecord['state']): HaRecord => ({
    config: { peerSerial, priority: state === 'active' ? 100 : 110, preemptive: false, mode: 'Active-Passive', groupId: 1 },
    state,
    stateSince: T0,
    runningSync: 'synchronized',
    stateSync: 'Complete',
  });
  const devices = new Map<string, HostedFirewall>();
  const sink = (serial: string, facts: Fact[]): void => reactToPeerFacts((s) => devices.get(s), devices.get(serial)!, facts, clock.now());
  const crashing: DeviceFaults = { crash: { rate: 1, error: 'power loss', on: 'peer_install' } };
  const active = new HostedFirewall('1', machine, { record: record({ serial: '1', ha: ha('2', 'active') }), timing: TIMING, faults: crashing, rng: 1 }, undefined, sink);
  const passive = new HostedFirewall('2', machine, { record: record({ serial: '2', ha: ha('1', 'passive'), downloaded: ['10.0.2', '10.1.0'] }), timing: TIMING, faults: {}, rng: 2 }, undefined, sink);
  devices.set('1', active).set('2', passive);
  active.start();
  passive.start();
  const reply = passive.send({ type: 'install.start', version: '10.1.0', now: T0 });
  t.is(reply.kind, 'job');
  clock.set(T0);
  t.is(active.reachability, 'down');
  t.is(passive.context.record.ha?.state, 'active');
  t.is(passive.stateName, 'installing', 'the install goes on while the peer is down');
});

test('faultsFor: when a scenario declares busy, crash, disk-full, slow and transport faults then the device gets them as machine faults', (t) => {
  const yaml = [
    'seed: 5',
    'timing: { mode: fast, time_scale: 0.5 }',
    'devices:',
    '  - { serial: "1", hostname: a, current_version: "10.0.2", available_versions: ["10.1.0"], ha: { peer: "2" } }',
    '  - { serial: "2", hostname: b, current_version: "10.0.2", available_versions: ["10.1.0"], ha: { peer: "1" } }',
    'failures:',
    '  - { device: "1", operation: busy, failure_rate: 0.25 }',
    '  - { device: "1", operation: download, mode: disk_full, failure_rate: 0.5 }',
    '  - { device: "1", operation: install, mode: slow, factor: 6 }',
    '  - { device: "2", operation: crash, failure_rate: 0.75, duration: 40 }',
    '  - { device: "2", operation: api, mode: latency, duration: 2 }',
    '  - { device: "2", operation: api, mode: hang, failure_rate: 0.1 }',
    '  - { device: "2", operation: api, mode: http_5xx, failure_rate: 0.2 }',
    '  - { device: "2", operation: api, mode: drop, failure_rate: 0.3 }',
    '  - { device: "2", operation: api, mode: not_connected, failure_rate: 0.4 }',
  ].join('\n');
  const s = parseScenario(yaml, 'faults.yaml');
  t.deepEqual(faultsFor(s.failures, '1'), {
    busy: { rate: 0.25, error: SOFTWARE_MANAGER_BUSY },
    download: { rate: 0.5, error: 'Failed to download: not enough disk space on /opt/panrepo', mode: 'disk_full' },
    installSlowFactor: 6,
  });
  t.deepEqual(faultsFor(s.failures, '2'), {
    crash: { rate: 0.75, error: 'Unplanned reboot (kernel panic)', on: 'peer_install', downMs: 20_000 },
    api: { latencyMs: 1000, hangRate: 0.1, http5xxRate: 0.2, dropRate: 0.3, notConnectedRate: 0.4 },
  });
});

test('scenario failures: when an api failure has no mode, repeats a mode or a duration is given to an operation without one then the error says so', (t) => {
  const base = ['devices:', '  - { serial: "1", hostname: a, current_version: "10.0.2" }', 'failures:'];
  const fails = (lines: string[], message: RegExp): void => {
    const err = t.throws(() => parseScenario([...base, ...lines].join('\n'), 'f.yaml'), { instanceOf: ScenarioError });
    t.regex(err?.message ?? '', message);
  };
  fails(['  - { device: "1", operation: api }'], /an api failure needs a mode: latency, hang, http_5xx, drop or not_connected/);
  fails(['  - { device: "1", operation: api, mode: hang }', '  - { device: "1", operation: api, mode: hang }'], /already has an api hang failure at failures\[0\]/);
  fails(['  - { device: "1", operation: download, duration: 3 }'], /duration applies to a crash \(seconds down\) or an api latency/);
  fails(['  - { device: "1", operation: reboot, factor: 3 }'], /factor applies to mode: slow only/);
  fails(['  - { device: "1", operation: crash, mode: sometimes }'], /unknown crash failure mode "sometimes" \(expected peer_install\)/);
});
