import test, { type ExecutionContext } from 'ava';
import { requestJson, type CommandName } from '../../bus/index.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import type { DaemonConfig } from '../../actors/config.ts';
import type { PairStatusRecord } from '../../machines/ha-pair.fold.ts';
import { isOpError, parseOpCommand } from '../../panos/commands.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/types.ts';
import { shippedScenario } from '../../cli/paths.ts';
import { servedCallEvents, startTestNats, waitFor } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const nats = startTestNats(test);

/** Generous: these tests run next to others on a loaded 2-core machine. */
const LONG = 60_000;
const TIME_SCALE = 0.02;
/** ha-pair.yaml: fw-dc1-01 is active with the better priority (100), fw-dc1-02 passive (110); both on 10.0.2. */
const ACTIVE = '001234567890';
const PASSIVE = '001234567891';
const HOPS = ['10.1.0', '10.5.1'];
const ONE_HOP = ['10.1.0'];

/** A shipped scenario at the test time scale. */
function scenario(name: string, change: (s: Scenario) => Scenario = (s) => s): Scenario {
  return change(loadScenarioFile(shippedScenario(name), { timeScale: TIME_SCALE, env: {} }));
}

/**
 * Reboots of 1.5 s instead of 0.3 s. A peer's second reboot follows its first within a second, so its uptime
 * (whole seconds) cannot show the reset: the client must see it down, and a loaded machine can miss 0.2 s.
 */
const slowReboots = (s: Scenario): Scenario => ({ ...s, timing: { ...s.timing, rebootMs: [1500, 1500] } });

/** The test configuration with the given path for the pair's version (10.0.2). */
function path(hops: readonly string[], change: (c: DaemonConfig) => DaemonConfig = (c) => c) {
  return (c: DaemonConfig): DaemonConfig => change({ ...c, upgrade: { ...c.upgrade, paths: { ...c.upgrade.paths, '10.0.2': [...hops] } } });
}

function command<T extends object = Record<string, unknown>>(stack: Stack, name: CommandName, payload: object = {}): Promise<T> {
  return requestJson<T>(stack.nc, stack.subjects.cmd(name), payload, 30_000);
}

async function control(stack: Stack, serial: string, action: string, payload: object): Promise<void> {
  const msg = await stack.nc.request(stack.subjects.simCtl(serial, action), JSON.stringify(payload), { timeout: 10_000 });
  const reply = msg.json<{ ok?: boolean; error?: unknown }>();
  if (reply.ok !== true) throw new Error(`sim ctl ${action} on ${serial} refused: ${JSON.stringify(reply.error)}`);
}

async function discover(stack: Stack): Promise<number> {
  return (await command<{ discovered: number }>(stack, 'device.discover')).discovered;
}

async function submitPair(stack: Stack, payload: { device: string; downloadOnly?: boolean }): Promise<PairStatusRecord> {
  return (await command<{ job: PairStatusRecord }>(stack, 'job.submit', payload)).job;
}

async function getPair(stack: Stack, jobId: string): Promise<PairStatusRecord> {
  return (await command<{ job: PairStatusRecord }>(stack, 'job.get', { jobId })).job;
}

const TERMINAL = new Set(['complete', 'download_complete', 'failed', 'cancelled']);

/** Poll `job.get` until `until` holds (by default: the job ended). */
async function pairAt(stack: Stack, jobId: string, until: (j: PairStatusRecord) => boolean = (j) => TERMINAL.has(j.upgrade_status)): Promise<PairStatusRecord> {
  let last: PairStatusRecord | undefined;
  try {
    return await waitFor(
      async () => {
        last = await getPair(stack, jobId);
        return until(last) ? last : undefined;
      },
      LONG,
      50,
    );
  } catch (err) {
    throw new Error(`pair job ${jobId}: not there within ${LONG} ms; last seen ${last?.upgrade_status}: ${last?.upgrade_message}`, { cause: err });
  }
}

interface Served {
  serial: string | null;
  kind: string;
  version: string | null;
  outcome: string;
}

/** The calls the gateway served (the simulator store's `api` stream), with the firewall each was for. */
function served(stack: Stack): Served[] {
  const byAddress = new Map(stack.scenario.devices.map((d) => [d.mgmtIp, d.serial]));
  return servedCallEvents(stack.simStore).map((e) => {
    const d = e.data as { via: 'panorama' | 'direct'; address: string; target: string | null; command: string | null; outcome: string };
    const parsed = d.command ? parseOpCommand(d.command) : undefined;
    const kind = parsed === undefined ? (d.command ?? 'none') : isOpError(parsed) ? 'invalid' : parsed.kind;
    const version = parsed && !isOpError(parsed) && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : null;
    return { serial: d.via === 'direct' ? (byAddress.get(d.address) ?? null) : d.target, kind, version, outcome: d.outcome };
  });
}

const INSTALL = 'request.system.software.install';
const RESTART = 'request.restart.system';
const SUSPEND = 'request.high-availability.state.suspend';
const FUNCTIONAL = 'request.high-availability.state.functional';
const CHANGES_A_PEER = new Set([INSTALL, RESTART, SUSPEND, FUNCTIONAL]);

/** The simulator's facts of these devices, in the global order they happened. */
function simLog(stack: Stack, serials: readonly string[]): EventEnvelope[] {
  return serials.flatMap((s) => stack.simStore.readStream(`sim:${s}`)).sort((a, b) => a.gseq - b.gseq);
}

const serialOf = (e: EventEnvelope): string => e.stream.slice('sim:'.length);
const dataOf = (e: EventEnvelope): Record<string, unknown> => e.data as Record<string, unknown>;
const isHaChange = (e: EventEnvelope, to?: string, from?: string): boolean =>
  e.type === 'sim.ha-state.changed' && (to === undefined || dataOf(e).to === to) && (from === undefined || dataOf(e).from === from);

function haStateOf(stack: Stack, serial: string): string | null {
  return stack.sim.device(serial)?.context.record.ha?.state ?? null;
}

const NOT_SERVING = new Set(['suspended', 'non-functional', 'initial']);

/**
 * The "never both down" invariant, checked after every simulator fact of the two peers: a peer is
 * unavailable while it reboots (from `sim.reboot.down` until `sim.reboot.completed`) and while its HA
 * state is suspended, non-functional or initial. Returns each moment both were unavailable.
 */
function bothUnavailable(stack: Stack, peers: readonly [string, string]): string[] {
  const now = new Map(
    peers.map((s) => [s, { rebooting: false, ha: stack.scenario.devices.find((d) => d.serial === s)?.ha?.initialState ?? 'unknown' }]),
  );
  const available = (s: string): boolean => {
    const p = now.get(s)!;
    return !p.rebooting && !NOT_SERVING.has(p.ha);
  };
  const moments: string[] = [];
  for (const e of simLog(stack, peers)) {
    const p = now.get(serialOf(e))!;
    if (e.type === 'sim.reboot.down') p.rebooting = true;
    if (e.type === 'sim.reboot.completed') p.rebooting = false;
    if (isHaChange(e)) p.ha = String(dataOf(e).to);
    if (!available(peers[0]) && !available(peers[1])) {
      moments.push(`#${e.gseq} ${e.type} on ${serialOf(e)}: ${peers.map((s) => `${s} ${now.get(s)!.rebooting ? 'rebooting' : now.get(s)!.ha}`).join(', ')}`);
    }
  }
  return moments;
}

test('ha pair: when a pair is upgraded over two hops then the passive is upgraded first, the active only after failing over to it, and the pair is never down', async (t) => {
  const stack = await startStack(t, nats, { scenario: scenario('ha-pair', slowReboots), config: path(HOPS) });
  t.is(await discover(stack), 3);
  const submitted = await submitPair(stack, { device: ACTIVE });
  t.like(submitted, { kind: 'ha-upgrade', upgrade_status: 'pending', path: HOPS, devices: [ACTIVE, PASSIVE] });

  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.like(done, { first: PASSIVE, second: ACTIVE, suspended: null, progress: 100, error: null });
  t.deepEqual(
    done.peers.map((p) => `${p.role} ${p.serial} ${p.status}`),
    [`download-first ${PASSIVE} download_complete`, `download-second ${ACTIVE} download_complete`, `upgrade-first ${PASSIVE} complete`, `upgrade-second ${ACTIVE} complete`],
  );
  for (const serial of [ACTIVE, PASSIVE]) t.is(stack.sim.device(serial)?.context.record.swVersion, '10.5.1');
  t.deepEqual([haStateOf(stack, ACTIVE), haStateOf(stack, PASSIVE)].sort(), ['active', 'passive']);

  // The order of operations, from the simulator's own log of both peers.
  const log = simLog(stack, [ACTIVE, PASSIVE]);
  const first = (serial: string, is: (e: EventEnvelope) => boolean): number => log.findIndex((e) => serialOf(e) === serial && is(e));
  const last = (serial: string, is: (e: EventEnvelope) => boolean): number => log.findLastIndex((e) => serialOf(e) === serial && is(e));
  const softwareInstall = (e: EventEnvelope): boolean => e.type === 'sim.install.started' && dataOf(e).kind === 'software';
  const installed = (serial: string): string[] => log.filter((e) => serialOf(e) === serial && softwareInstall(e)).map((e) => String(dataOf(e).version));
  t.deepEqual(installed(PASSIVE), HOPS);
  t.deepEqual(installed(ACTIVE), HOPS);

  const passiveBack = last(PASSIVE, (e) => e.type === 'sim.reboot.completed');
  const activeSuspended = first(ACTIVE, (e) => isHaChange(e, 'suspended'));
  const activeFirstInstall = first(ACTIVE, softwareInstall);
  const activeLastReboot = last(ACTIVE, (e) => e.type === 'sim.reboot.completed');
  const activeFunctional = first(ACTIVE, (e) => isHaChange(e, undefined, 'suspended'));
  t.true(first(PASSIVE, softwareInstall) >= 0 && passiveBack > last(PASSIVE, softwareInstall), 'the passive peer installed and rebooted');
  t.true(activeSuspended > passiveBack, 'the active peer is suspended only after the passive one is back from its last reboot');
  t.true(activeFirstInstall > activeSuspended, 'the active peer is suspended before its first install');
  t.true(activeFunctional > activeLastReboot, 'the active peer is made functional after its last reboot');
  t.is(log.filter((e) => isHaChange(e, 'suspended')).length, 1, 'one suspension in all');
  t.true(first(PASSIVE, (e) => isHaChange(e, 'active', 'passive')) > activeSuspended, 'the passive took over when the active was suspended');

  t.deepEqual(bothUnavailable(stack, [ACTIVE, PASSIVE]), []);
});

test('ha pair: when a pair and a standalone firewall are upgraded at once then every call for the pair goes with precedence, and none for the standalone one', async (t) => {
  const BRANCH = '001234567892';
  const asked = new Map<string, Set<boolean>>();
  const stack = await startStack(t, nats, {
    scenario: scenario('ha-pair'),
    config: path(ONE_HOP, (c) => ({ ...c, upgrade: { ...c.upgrade, paths: { ...c.upgrade.paths, '10.1.0': ['10.5.1'] } } })),
    access: (access) => ({
      ...access,
      viaPanorama: (d, o) => {
        const seen = asked.get(d.serial) ?? new Set<boolean>();
        seen.add(o?.precedence === true);
        asked.set(d.serial, seen);
        return access.viaPanorama(d, o);
      },
    }),
  });
  t.is(await discover(stack), 3);
  const pair = await submitPair(stack, { device: ACTIVE });
  const standalone = (await command<{ job: { job_id: string } }>(stack, 'job.submit', { device: BRANCH })).job;
  const [pairDone, standaloneDone] = await Promise.all([pairAt(stack, pair.job_id), pairAt(stack, standalone.job_id)]);
  t.is(pairDone.upgrade_status, 'complete', pairDone.upgrade_message);
  t.is(standaloneDone.upgrade_status, 'complete', standaloneDone.upgrade_message);
  t.deepEqual([...(asked.get(ACTIVE) ?? [])], [true]);
  t.deepEqual([...(asked.get(PASSIVE) ?? [])], [true]);
  t.deepEqual([...(asked.get(BRANCH) ?? [])], [false]);
});

test('ha pair: when both peers are preemptive then the preferred peer ends active again after it is made functional, and the job completes', async (t) => {
  const preemptive = scenario('ha-pair', (s) => ({ ...s, devices: s.devices.map((d) => (d.ha ? { ...d, ha: { ...d.ha, preemptive: true } } : d)) }));
  const stack = await startStack(t, nats, { scenario: preemptive, config: path(ONE_HOP) });
  await discover(stack);
  const submitted = await submitPair(stack, { device: PASSIVE });

  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.like(done, { first: PASSIVE, second: ACTIVE, suspended: null });
  // fw-dc1-01 (priority 100) took the active role back from its peer by preemption.
  t.is(haStateOf(stack, ACTIVE), 'active');
  t.is(haStateOf(stack, PASSIVE), 'passive');
  const log = simLog(stack, [ACTIVE, PASSIVE]);
  const functional = log.findIndex((e) => serialOf(e) === ACTIVE && isHaChange(e, undefined, 'suspended'));
  const preempted = log.findIndex((e) => serialOf(e) === ACTIVE && isHaChange(e, 'active') && dataOf(e).reason === 'Preemption');
  t.true(functional >= 0 && preempted > functional, 'preemption after the preferred peer is functional');
  // The verified roles are the final ones.
  const verified = stack.daemonStore!.readStream(`job:${submitted.job_id}`).find((e) => e.type === 'job.ha.verified');
  t.like(verified?.data, { active: ACTIVE, passive: PASSIVE });
  t.deepEqual(bothUnavailable(stack, [ACTIVE, PASSIVE]), []);
});

test('ha pair: when the passive peer never returns from its reboot then the job fails with the reason and the active peer was never touched', async (t) => {
  const stack = await startStack(t, nats, {
    scenario: scenario('ha-pair'),
    // A short reboot budget: the reboot takes 0.3 s at this time scale.
    config: path(ONE_HOP, (c) => ({ ...c, timeouts: { ...c.timeouts, rebootSeconds: 4 } })),
  });
  await discover(stack);
  await control(stack, PASSIVE, 'faults', { faults: { reboot: { rate: 1, error: 'kernel panic', mode: 'never_returns' } } });
  const submitted = await submitPair(stack, { device: ACTIVE });

  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'failed');
  t.like(done.error, { step: 'upgrade-first' });
  t.regex(done.upgrade_message, new RegExp(`^HA pair job failed at upgrade-first: upgrade first job \\S+ on fw-dc1-02 \\(${PASSIVE}\\) ended failed: Reboot of 10\\.1\\.0 failed on ${PASSIVE}: .*stuck in phase rebooting`));
  t.is(done.suspended, null);
  t.false(/could not be made functional/.test(done.upgrade_message), done.upgrade_message);

  // The active peer: no install, restart, suspend or functional was ever sent to it.
  t.deepEqual(served(stack).filter((c) => c.serial === ACTIVE && CHANGES_A_PEER.has(c.kind)), []);
  t.false(simLog(stack, [ACTIVE]).some((e) => isHaChange(e, 'suspended')));
  // The pair is serving: the active peer is active and up.
  t.is(haStateOf(stack, ACTIVE), 'active');
  t.is(stack.sim.device(ACTIVE)?.reachability, 'up');
  t.is(stack.sim.device(ACTIVE)?.context.record.swVersion, '10.0.2');
});

test('ha pair: when the active peer fails its install then the job fails and the suspended peer is made functional again', async (t) => {
  const stack = await startStack(t, nats, { scenario: scenario('ha-pair'), config: path(ONE_HOP) });
  await discover(stack);
  await control(stack, ACTIVE, 'faults', { faults: { install: { rate: 1, error: 'Image file is corrupted' } } });
  const submitted = await submitPair(stack, { device: ACTIVE });

  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'failed');
  t.like(done.error, { step: 'upgrade-second' });
  t.regex(done.upgrade_message, /^HA pair job failed at upgrade-second: .*Image file is corrupted/);
  t.is(done.suspended, null);
  t.false(/could not be made functional/.test(done.upgrade_message), done.upgrade_message);

  // No peer left suspended: the simulator's own HA states.
  const states = [haStateOf(stack, ACTIVE), haStateOf(stack, PASSIVE)];
  t.false(states.includes('suspended'), states.join(', '));
  t.deepEqual([...states].sort(), ['active', 'passive']);
  const log = simLog(stack, [ACTIVE]);
  const suspended = log.findIndex((e) => isHaChange(e, 'suspended'));
  const functional = log.findIndex((e) => isHaChange(e, undefined, 'suspended'));
  t.true(suspended >= 0 && functional > suspended, 'suspended, then made functional again');
  const recovery = stack.daemonStore!.readStream(`job:${submitted.job_id}`).map((e) => e.type);
  t.true(recovery.indexOf('job.ha.peer.functional') > recovery.indexOf('job.ha.step.failed'));
  t.is(recovery.at(-1), 'job.ha.failed');
  t.deepEqual(bothUnavailable(stack, [ACTIVE, PASSIVE]), []);
});

const restartDuringReboot = test.macro({
  async exec(t, rebooting: string, atStop: { step: string; suspended: string | null }) {
    const stack = await startStack(t, nats, { scenario: scenario('ha-pair'), config: path(ONE_HOP) });
    await discover(stack);
    const submitted = await submitPair(stack, { device: ACTIVE });

    await waitFor(() => stack.simStore.readStream(`sim:${rebooting}`).some((e) => e.type === 'sim.reboot.started'), LONG, 5);
    const before = stack.daemon!.pairState(submitted.job_id);
    await stack.stopDaemon();
    t.like(before, { ...atStop, status: 'installing' });
    await stack.startDaemon();

    const done = await pairAt(stack, submitted.job_id);
    t.is(done.upgrade_status, 'complete', done.upgrade_message);
    t.is(done.suspended, null);
    t.false([haStateOf(stack, ACTIVE), haStateOf(stack, PASSIVE)].includes('suspended'));
    for (const serial of [ACTIVE, PASSIVE]) t.is(stack.sim.device(serial)?.context.record.swVersion, '10.1.0');
    // The restarted daemon re-attached the pair's children: one child job per role.
    t.deepEqual(
      done.peers.map((p) => `${p.role} ${p.serial} ${p.status}`),
      [`download-first ${PASSIVE} download_complete`, `download-second ${ACTIVE} download_complete`, `upgrade-first ${PASSIVE} complete`, `upgrade-second ${ACTIVE} complete`],
    );

    // One install and one restart on each peer, one suspend and one functional: nothing was sent twice.
    const answered = served(stack).filter((c) => c.outcome === 'answered');
    for (const serial of [ACTIVE, PASSIVE]) {
      const mine = answered.filter((c) => c.serial === serial);
      t.deepEqual(
        mine.filter((c) => c.kind === INSTALL || c.kind === RESTART).map((c) => (c.kind === INSTALL ? `install ${c.version}` : 'restart')),
        ['install 10.1.0', 'restart'],
        serial,
      );
    }
    t.deepEqual(
      answered.filter((c) => c.kind === SUSPEND || c.kind === FUNCTIONAL).map((c) => `${c.kind} ${c.serial}`),
      [`${SUSPEND} ${ACTIVE}`, `${FUNCTIONAL} ${ACTIVE}`],
    );
    t.deepEqual(bothUnavailable(stack, [ACTIVE, PASSIVE]), []);
  },
  title: (_provided, rebooting) =>
    `ha pair: when the daemon stops right after ${rebooting === PASSIVE ? 'the first peer’s' : 'the suspended second peer’s'} reboot starts then the restarted daemon completes the pair without repeating a step`,
});

test(restartDuringReboot, PASSIVE, { step: 'upgrade-first', suspended: null });
test(restartDuringReboot, ACTIVE, { step: 'upgrade-second', suspended: ACTIVE });

test('ha pair: when fleet-230’s five pairs are submitted with concurrency 2 then each pair runs in one slot and its peers are never worked on apart', async (t) => {
  // One hop per pair is enough to see the slots.
  const paths = { '10.0.8': ['10.1.0'], '10.1.6': ['10.2.0'], '10.2.4': ['11.0.0'], '10.2.9': ['11.1.0'], '11.0.2': ['11.1.0'] };
  const stack = await startStack(t, nats, { scenario: scenario('fleet-230'), config: (c) => ({ ...c, concurrency: 2, upgrade: { ...c.upgrade, paths } }) });
  await discover(stack);
  const pairs = stack.scenario.devices
    .filter((d) => d.ha?.initialState === 'active')
    .map((d) => [d.serial, d.ha!.peerSerial] as [string, string]);
  t.is(pairs.length, 5);
  // Smaller route tables: reading a PA-5220's 5,000 routes twice per peer would be most of this test's time.
  for (const serial of pairs.flat()) await control(stack, serial, 'metrics', { metrics: { routes: 500 } });
  const jobs = [];
  for (const [active] of pairs) jobs.push(await submitPair(stack, { device: active }));
  const ended = await Promise.all(jobs.map((j) => pairAt(stack, j.job_id)));
  t.deepEqual(
    ended.map((j) => j.upgrade_status),
    ended.map(() => 'complete'),
    ended.map((j) => j.upgrade_message).join('\n'),
  );

  // Each pair's window in the daemon's log: from its start to its end.
  const windows = jobs.map((j) => {
    const events = stack.daemonStore!.readStream(`job:${j.job_id}`);
    return { start: events.find((e) => e.type === 'job.ha.started')!.at, end: events.find((e) => e.type === 'job.ha.completed')!.at };
  });
  for (const [i, [a, b]] of pairs.entries()) {
    const w = windows[i]!;
    const log = simLog(stack, [a, b]).filter((e) => e.type !== 'sim.metrics.changed');
    const work = log.filter((e) => e.type === 'sim.download.started' || e.type === 'sim.install.started' || e.type === 'sim.reboot.started' || isHaChange(e, 'suspended'));
    t.true(work.length > 0, `pair ${a}/${b} was worked on`);
    const outside = work.filter((e) => e.at < w.start || e.at > w.end);
    t.deepEqual(outside.map((e) => `${e.type} ${serialOf(e)} ${e.at}`), [], `pair ${a}/${b}: nothing outside its window ${w.start}–${w.end}`);
    t.deepEqual(bothUnavailable(stack, [a, b]), [], `pair ${a}/${b}`);
  }
  // Never more pairs at once than the slots.
  const edges = windows.flatMap((w) => [{ at: w.start, d: 1 }, { at: w.end, d: -1 }]).sort((x, y) => x.at.localeCompare(y.at) || x.d - y.d);
  let running = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (running += e.d));
  t.is(most, 2);
  // Only the pairs' members were touched.
  const members = new Set(pairs.flat());
  t.deepEqual(served(stack).filter((c) => CHANGES_A_PEER.has(c.kind) && !members.has(c.serial ?? '')), []);
});

test('ha pair: when pausing between peers is configured then the job pauses after the first peer and a job.resume over NATS continues it', async (t) => {
  const stack = await startStack(t, nats, {
    scenario: scenario('ha-pair'),
    config: path(ONE_HOP, (c) => ({ ...c, ha: { ...c.ha, pauseBetweenPeers: true } })),
  });
  await discover(stack);
  const submitted = await submitPair(stack, { device: ACTIVE });

  const paused = await pairAt(stack, submitted.job_id, (j) => j.paused || TERMINAL.has(j.upgrade_status));
  t.true(paused.paused, paused.upgrade_message);
  t.is(paused.step, 'pause');
  t.true(paused.upgrade_message.includes(`panos-upgrade job resume ${submitted.job_id}`), paused.upgrade_message);
  t.is(stack.sim.device(PASSIVE)?.context.record.swVersion, '10.1.0');
  t.deepEqual(served(stack).filter((c) => c.serial === ACTIVE && CHANGES_A_PEER.has(c.kind)), []);
  t.is(haStateOf(stack, ACTIVE), 'active');
  // Still paused when asked again.
  t.true((await getPair(stack, submitted.job_id)).paused);

  const resumed = await command<{ job: PairStatusRecord }>(stack, 'job.resume', { jobId: submitted.job_id });
  t.false(resumed.job.paused);
  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.is(stack.sim.device(ACTIVE)?.context.record.swVersion, '10.1.0');
  const types = stack.daemonStore!.readStream(`job:${submitted.job_id}`).map((e) => e.type);
  t.true(types.indexOf('job.ha.paused') < types.indexOf('job.ha.resumed'));
  // The inventory follows what the job changed, without another discovery: roles, software and content.
  const { devices } = await command<{ devices: Array<{ serial: string; haState: string | null; swVersion: string; appVersion: string }> }>(stack, 'device.list');
  for (const serial of [ACTIVE, PASSIVE]) {
    const known = devices.find((d) => d.serial === serial)!;
    const live = stack.sim.device(serial)!.context.record;
    t.like(known, { haState: live.ha?.state ?? null, swVersion: live.swVersion, appVersion: live.content.installed }, serial);
  }
  t.not(devices.find((d) => d.serial === ACTIVE)?.haState, 'active', 'the peer that was active at discovery is passive now');
  // An ended job is neither cancelled nor resumed: the reply says it ended (JOB_STATE, the CLI's exit 1), not that it is missing.
  const cancelAgain = await t.throwsAsync(command(stack, 'job.cancel', { jobId: submitted.job_id }));
  t.like(cancelAgain, { code: 'JOB_STATE', message: `job ${submitted.job_id} already ended (complete); nothing to cancel` });
  const resumeAgain = await t.throwsAsync(command(stack, 'job.resume', { jobId: submitted.job_id }));
  t.like(resumeAgain, { code: 'JOB_STATE', message: `job ${submitted.job_id} already ended (complete); there is nothing to resume` });
});

/**
 * A one-hop pair paused between its peers, then resumed with the second peer (the active one) answering
 * slowly, so that its child job is still validating when a test's cancel comes.
 */
async function resumedWithSlowSecondPeer(t: ExecutionContext): Promise<{ stack: Stack; submitted: PairStatusRecord }> {
  const stack = await startStack(t, nats, {
    scenario: scenario('ha-pair'),
    config: path(ONE_HOP, (c) => ({ ...c, ha: { ...c.ha, pauseBetweenPeers: true } })),
  });
  await discover(stack);
  const submitted = await submitPair(stack, { device: ACTIVE });
  await pairAt(stack, submitted.job_id, (j) => j.paused || TERMINAL.has(j.upgrade_status));
  await control(stack, ACTIVE, 'faults', { faults: { api: { latencyMs: 400 } } });
  await command(stack, 'job.resume', { jobId: submitted.job_id });
  return { stack, submitted };
}

test('ha pair: when cancelled once the second peer’s turn began but before its install then that peer is made functional again untouched and the pair ends cancelled', async (t) => {
  const { stack, submitted } = await resumedWithSlowSecondPeer(t);
  await pairAt(stack, submitted.job_id, (j) => j.step === 'upgrade-second' || TERMINAL.has(j.upgrade_status));
  const asked = await command<{ job: PairStatusRecord }>(stack, 'job.cancel', { jobId: submitted.job_id });
  t.is(asked.job.job_id, submitted.job_id);
  await control(stack, ACTIVE, 'faults', { faults: { api: { latencyMs: 0 } } });

  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'cancelled', done.upgrade_message);
  t.regex(done.upgrade_message, new RegExp(`^Cancelled after restore-second; both peers are serving \\(${PASSIVE} is upgraded, its peer is not\\)$`));
  t.deepEqual(served(stack).filter((c) => c.serial === ACTIVE && (c.kind === INSTALL || c.kind === RESTART)), [], 'nothing installed on the second peer');
  t.is(stack.sim.device(ACTIVE)?.context.record.swVersion, '10.0.2');
  t.not(haStateOf(stack, ACTIVE), 'suspended');
  const child = stack.daemonStore!.readStream(`job:${submitted.job_id}`).find((e) => e.type === 'job.ha.child.finished' && dataOf(e).role === 'upgrade-second');
  t.is(child && dataOf(child).status, 'cancelled');
  // The inventory has the roles the pair left its peers in, though the pair never reached its verification.
  const { devices } = await command<{ devices: Array<{ serial: string; haState: string | null }> }>(stack, 'device.list');
  for (const serial of [ACTIVE, PASSIVE]) t.is(devices.find((d) => d.serial === serial)?.haState, haStateOf(stack, serial), serial);
});

test('ha pair: a cancel of a peer\'s own job is a cancel of its HA pair (the pair ended failed, and the peer it had failed over stayed so until recovery)', async (t) => {
  const { stack, submitted } = await resumedWithSlowSecondPeer(t);
  const running = await pairAt(stack, submitted.job_id, (j) => (j.step === 'upgrade-second' && j.peers.some((p) => p.role === 'upgrade-second')) || TERMINAL.has(j.upgrade_status));
  const childId = running.peers.find((p) => p.role === 'upgrade-second')!.job_id;
  const asked = await command<{ job: PairStatusRecord }>(stack, 'job.cancel', { jobId: childId });
  t.is(asked.job.job_id, submitted.job_id, 'the reply is the pair the cancel went to');
  await control(stack, ACTIVE, 'faults', { faults: { api: { latencyMs: 0 } } });
  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'cancelled', done.upgrade_message);
  t.is(stack.sim.device(ACTIVE)?.context.record.swVersion, '10.0.2');
  t.not(haStateOf(stack, ACTIVE), 'suspended');
});

test('ha pair: a half-upgraded pair is finished as one pair job: the peer behind is upgraded to its peer\'s version after failing over to it, the upgraded peer is left alone', async (t) => {
  // The passive peer runs 10.1.0 already (a pair job cancelled between its peers); the active one 10.0.2.
  const halfUpgraded = (s: Scenario): Scenario => ({ ...s, devices: s.devices.map((d) => (d.serial === PASSIVE ? { ...d, swVersion: '10.1.0', downloaded: [...d.downloaded, '10.1.0'] } : d)) });
  const stack = await startStack(t, nats, { scenario: scenario('ha-pair', halfUpgraded), config: path(ONE_HOP) });
  await discover(stack);
  const dry = await command<{ queued: number; queuedDevices: Array<{ device: string; versions: string[] }> }>(stack, 'upgrade.queue', { devices: [PASSIVE], dryRun: true });
  t.deepEqual(dry.queuedDevices.map((d) => [d.device, d.versions]), [[ACTIVE, ['10.1.0']], [PASSIVE, []]], 'one pair: the peer behind gets the path to its peer\'s version');
  const tooFar = await t.throwsAsync(command(stack, 'job.submit', { device: ACTIVE, targetVersion: '10.5.1' }));
  t.regex(tooFar!.message, /the HA pair is half-upgraded \(fw-dc1-02 runs 10\.1\.0, fw-dc1-01 10\.0\.2\): finish it first, to 10\.1\.0/);
  // A target was given: the CLI's hint is not "give a target".
  t.like(tooFar, { code: 'NO_PATH', details: { targetGiven: true } });

  // The dry run shows the same: only the peer behind, and whom it leaves alone.
  const dryJob = await command<{ devices: Array<{ device: string; wouldDownload: string[] }>; finishing?: object }>(stack, 'job.submit', { device: PASSIVE, dryRun: true });
  t.deepEqual(dryJob.finishing, { behind: ACTIVE, upgraded: PASSIVE, version: '10.1.0' });
  t.deepEqual(dryJob.devices.map((d) => d.device), [ACTIVE]);

  const submitted = await submitPair(stack, { device: ACTIVE });
  t.regex(submitted.upgrade_message, /\(finishing it: fw-dc1-02 already runs 10\.1\.0\)$/);
  t.is((submitted as unknown as { upgraded: string }).upgraded, PASSIVE);
  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.regex(done.upgrade_message, /^HA pair finished at 10\.1\.0: fw-dc1-01 \(001234567890\) upgraded \(fw-dc1-02 \(001234567891\) already ran it\)/);
  t.is(stack.sim.device(ACTIVE)?.context.record.swVersion, '10.1.0');
  t.deepEqual(served(stack).filter((c) => c.serial === PASSIVE && CHANGES_A_PEER.has(c.kind)), [], 'nothing sent that changes the upgraded peer');
  const activeChanges = served(stack).filter((c) => c.serial === ACTIVE && CHANGES_A_PEER.has(c.kind)).map((c) => c.kind);
  t.true(activeChanges.indexOf(SUSPEND) >= 0 && activeChanges.indexOf(SUSPEND) < activeChanges.indexOf(INSTALL), 'the active peer is failed over from before its install');
  t.deepEqual(bothUnavailable(stack, [ACTIVE, PASSIVE]), []);
  t.not(haStateOf(stack, ACTIVE), 'suspended');
});

test('ha pair: when a pair gets a download-only job then the first peer downloads with sync to peer, the second finds the images present, and the status has both rows', async (t) => {
  const stack = await startStack(t, nats, { scenario: scenario('ha-pair'), config: path(HOPS) });
  await discover(stack);
  const submitted = await submitPair(stack, { device: ACTIVE, downloadOnly: true });
  t.like(submitted, { kind: 'ha-download-only', download_only: true, ready_for_install: false });

  const done = await pairAt(stack, submitted.job_id);
  t.is(done.upgrade_status, 'download_complete', done.upgrade_message);
  // What a script polling the job id it was given waits for, as for a single device.
  t.true(done.ready_for_install);
  const [firstPeer, secondPeer] = done.peers;
  t.like(firstPeer, { role: 'download-first', serial: PASSIVE, status: 'download_complete', message: `Downloaded 2 version(s): ${HOPS.join(', ')}` });
  t.like(secondPeer, { role: 'download-second', serial: ACTIVE, status: 'download_complete', message: `All 2 version(s) already downloaded: ${HOPS.join(', ')}` });

  // Fetched once, by the first peer, with sync-to-peer; nothing installed.
  const calls = served(stack);
  t.deepEqual(
    calls.filter((c) => c.kind === 'request.system.software.download').map((c) => `${c.serial} ${c.version}`),
    HOPS.map((v) => `${PASSIVE} ${v}`),
  );
  t.deepEqual(calls.filter((c) => CHANGES_A_PEER.has(c.kind)), []);
  for (const serial of [ACTIVE, PASSIVE]) t.deepEqual([...(stack.sim.device(serial)?.context.record.downloaded ?? [])].sort(), HOPS);

  const status = await command<{ counts: Record<string, number>; devices: Array<{ device_serial: string; upgrade_status: string; job_id: string; skipped_versions: string[]; downloaded_versions: string[] }> }>(
    stack,
    'download.status',
  );
  t.deepEqual(status.counts, { download_complete: 2 });
  t.deepEqual(
    status.devices.map((d) => ({ device: d.device_serial, status: d.upgrade_status, jobId: d.job_id, downloaded: d.downloaded_versions, skipped: d.skipped_versions })),
    [
      { device: ACTIVE, status: 'download_complete', jobId: secondPeer!.job_id, downloaded: [], skipped: HOPS },
      { device: PASSIVE, status: 'download_complete', jobId: firstPeer!.job_id, downloaded: HOPS, skipped: [] },
    ],
  );
});

test('ha pair: when downloads are queued for all then both peers of the pair are one pair job and download.status has a row for each', async (t) => {
  const stack = await startStack(t, nats, { scenario: scenario('ha-pair'), config: path(HOPS) });
  await discover(stack);
  const summary = await command<{ queued: number; skipped: number; queuedDevices: Array<{ device: string; jobId: string | null; versions: string[] }> }>(
    stack,
    'download.queue-all',
  );
  t.is(summary.queued, 3);
  const peers = summary.queuedDevices.filter((d) => d.device === ACTIVE || d.device === PASSIVE);
  t.deepEqual(
    peers.map((d) => d.versions),
    [HOPS, HOPS],
  );
  const pairId = peers[0]!.jobId!;
  t.is(peers[1]!.jobId, pairId);
  // Before its children exist the pair's peers already show, one row each.
  const early = await command<{ devices: Array<{ device_serial: string }> }>(stack, 'download.status');
  t.deepEqual(
    early.devices.map((d) => d.device_serial),
    [ACTIVE, PASSIVE, '001234567892'],
  );

  t.like(await pairAt(stack, pairId), { kind: 'ha-download-only', upgrade_status: 'download_complete', devices: [ACTIVE, PASSIVE] });
  const status = await waitFor(
    async () => {
      const s = await command<{ counts: Record<string, number>; devices: Array<{ device_serial: string; upgrade_status: string; job_id: string }> }>(stack, 'download.status');
      return s.counts.download_complete === 3 ? s : undefined;
    },
    LONG,
    100,
  );
  const children = (await getPair(stack, pairId)).peers;
  t.deepEqual(
    status.devices.filter((d) => d.device_serial !== '001234567892').map((d) => `${d.device_serial} ${d.job_id}`),
    [ACTIVE, PASSIVE].map((s) => `${s} ${children.find((c) => c.serial === s)!.job_id}`),
  );
});
