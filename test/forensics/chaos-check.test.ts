import test from 'ava';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { chaosPlan, checkInvariants, estimateUpgradeMs, logGaps, observedFaults, type ChaosEvidence } from '../../forensics/chaos-check.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { shippedScenario } from '../../cli/paths.ts';
import type { Scenario } from '../../scenarios/types.ts';

const T0 = Date.parse('2026-05-04T02:00:00Z');
const scenario = (seed = 7): Scenario => ({ ...loadScenarioFile(shippedScenario('chaos'), { timeScale: 0.02, env: {} }), seed });

/** A log of envelopes: each entry is `[stream, type, data, ms after T0]`, numbered in order. */
function log(entries: Array<[string, string, unknown, number]>): EventEnvelope[] {
  const seqs = new Map<string, number>();
  return entries.map(([stream, type, data, ms], i) => {
    const seq = (seqs.get(stream) ?? 0) + 1;
    seqs.set(stream, seq);
    return { gseq: i + 1, stream, seq, type, at: new Date(T0 + ms).toISOString(), data };
  });
}

function served(target: string, command: string, response: string): Record<string, unknown> {
  return { via: 'panorama', address: '127.0.0.1', target, command, outcome: 'answered', httpStatus: 200, response };
}

const INSTALL = (v: string) => `<request><system><software><install><version>${v}</version></install></software></system></request>`;
const RESTART = '<request><restart><system/></restart></request>';
const ENQUEUED = (id: number) => `<response status="success" code="19"><result><msg><line>Software install job enqueued with jobid ${id}.</line></msg><job>${id}</job></result></response>`;
const RESTARTED = '<response status="success"><result>Command succeeded with no output</result></response>';

function evidence(simEvents: EventEnvelope[], s = scenario()): ChaosEvidence {
  return {
    scenario: s,
    plan: chaosPlan(s, 10_000),
    startedAt: T0,
    daemonEvents: [],
    simEvents,
    submitted: [],
    verify: [{ runId: 'r1', report: { runId: 'r1', ok: true, gseq: { ok: true, last: 0, events: 0 }, streams: [], mismatches: 0 } }],
  };
}

test('chaos plan: when the same seed is planned twice then disruptions and live faults are the same, and another seed moves them', (t) => {
  const s = scenario(11);
  const est = estimateUpgradeMs(s, 10);
  t.true(est > 0);
  const a = chaosPlan(s, est);
  t.deepEqual(chaosPlan(scenario(11), est), a);
  t.deepEqual(a.disruptions.map((d) => d.what).sort(), ['daemon-kill', 'nats-restart', 'simulator-restart']);
  t.true(a.disruptions.every((d) => d.atMs > 0 && d.atMs < est));
  const declared = new Set(s.failures.map((f) => f.device));
  t.true(a.injections.length > 0 && a.injections.every((i) => !declared.has(i.device) && i.untilMs > i.atMs));
  const b = chaosPlan(scenario(12), est);
  t.notDeepEqual(b.disruptions, a.disruptions);
});

test('chaos invariants: when a device gets a second install and a second restart for one step then both are named', (t) => {
  const fw = '009900000005';
  const events = log([
    [`sim:${fw}`, 'sim.install.started', { jobId: 4, version: '11.0.0', kind: 'software' }, 10],
    ['api', 'api.call.served', served(fw, INSTALL('11.0.0'), ENQUEUED(4)), 11],
    [`sim:${fw}`, 'sim.install.completed', { jobId: 4, version: '11.0.0', kind: 'software' }, 20],
    [`sim:${fw}`, 'sim.install.started', { jobId: 5, version: '11.0.0', kind: 'software' }, 21],
    ['api', 'api.call.served', served(fw, INSTALL('11.0.0'), ENQUEUED(5)), 22],
    [`sim:${fw}`, 'sim.install.completed', { jobId: 5, version: '11.0.0', kind: 'software' }, 30],
    [`sim:${fw}`, 'sim.reboot.started', { fromVersion: '10.2.4', intoVersion: '11.0.0' }, 31],
    ['api', 'api.call.served', served(fw, RESTART, RESTARTED), 32],
    ['api', 'api.call.served', served(fw, RESTART, RESTARTED), 33],
  ]);
  const result = checkInvariants(evidence(events)).find((i) => i.name.startsWith('no device was sent'))!;
  t.false(result.ok);
  t.deepEqual(result.violations, [
    `${fw} was sent a second install of 11.0.0 (PAN-OS jobs 4 and 5)`,
    `${fw} was sent a second restart for the install of 11.0.0`,
  ]);
});

test('chaos invariants: when both HA peers are down together then a restart is a violation and an injected crash only a note', (t) => {
  const [a, b] = ['009900000003', '009900000004'];
  const down = (serial: string, from: number, to: number, unplanned: boolean): Array<[string, string, unknown, number]> => [
    [`sim:${serial}`, 'sim.reboot.started', { fromVersion: '10.2.4', intoVersion: '11.0.0', ...(unplanned ? { unplanned: true } : {}) }, from - 1],
    [`sim:${serial}`, 'sim.reboot.down', { neverReturns: false }, from],
    [`sim:${serial}`, 'sim.reboot.ready', { autoCommitJobId: 9 }, to],
  ];
  const restarted = checkInvariants(evidence(log([...down(a, 100, 400, true), ...down(b, 200, 500, false)].sort((x, y) => x[3] - y[3])))).find((i) => i.name.startsWith('the two peers'))!;
  t.false(restarted.ok);
  t.deepEqual(restarted.violations, [`${a} and ${b} were down together for 200 ms from +200 ms: ${b} was restarted while its peer was down`]);

  const crashed = checkInvariants(evidence(log([...down(b, 100, 400, false), ...down(a, 200, 500, true)].sort((x, y) => x[3] - y[3])))).find((i) => i.name.startsWith('the two peers'))!;
  t.true(crashed.ok);
  t.deepEqual(crashed.notes, [`${a} and ${b} were down together for 200 ms from +200 ms: ${a} crashed (injected) while its peer was down`]);

  const suspended = checkInvariants(evidence(log([[`sim:${a}`, 'sim.ha-state.changed', { from: 'active', to: 'suspended', reason: 'User requested' }, 10]]))).find((i) =>
    i.name.startsWith('the two peers'),
  )!;
  t.deepEqual(suspended.violations, [`${a} is left suspended`]);
});

test('chaos invariants: when a log has a gap or an untouched device is not upgraded then the report says which', (t) => {
  const events = log([
    ['sim:-', 'sim.session.started', {}, 0],
    ['sim:009900000005', 'sim.version.changed', { from: '10.2.4', to: '11.0.0' }, 5],
  ]);
  t.deepEqual(logGaps([events[0]!, { ...events[1]!, gseq: 3, seq: 2 }], 'sim'), ['sim: global position 2 is missing (next is 3)', 'sim: sim:009900000005 seq 1 is missing (next is 2)']);
  const upgraded = checkInvariants(evidence(events)).find((i) => i.name.startsWith('every device the faults did not touch'))!;
  t.false(upgraded.ok);
  t.true(upgraded.violations.includes('009900000005 runs 11.0.0, not 11.1.0'));
  t.false(upgraded.violations.some((v) => v.startsWith('009900000012')), 'a device with a declared fault is not required');
});

test('observed faults: when the simulator records busy refusals, a full disk and a crash then each is listed with its device and time', (t) => {
  const events = log([
    ['sim:009900000010', 'sim.busy.refused', { operation: 'download', version: '10.2.0' }, 100],
    ['sim:009900000010', 'sim.busy.refused', { operation: 'download', version: '10.2.0' }, 300],
    ['sim:009900000012', 'sim.download.failed', { jobId: 3, version: '10.2.0', kind: 'software', reason: 'No space left on device' }, 400],
    ['sim:009900000012', 'sim.disk.full', { jobId: 3, version: '10.2.0', totalMb: 4096 }, 400],
    ['sim:009900000003', 'sim.crash.started', { reason: 'Kernel panic: unplanned reboot', downMs: null }, 500],
  ]);
  t.deepEqual(observedFaults(events, scenario(), T0), [
    { device: '009900000010', fault: 'software manager busy (download refused)', count: 2, firstMs: 100, lastMs: 300 },
    { device: '009900000012', fault: 'download failed: No space left on device', count: 1, firstMs: 400, lastMs: 400 },
    { device: '009900000012', fault: 'disk full mid-download', count: 1, firstMs: 400, lastMs: 400 },
    { device: '009900000003', fault: 'crash (unplanned reboot): Kernel panic: unplanned reboot', count: 1, firstMs: 500, lastMs: 500 },
  ]);
});

test('chaos plan: when a run asks for four kills then they come as a running kill, a kill during the next start-up, one while it resumes, and another running kill, the rest of the plan as with one', (t) => {
  const s = scenario(11);
  const est = estimateUpgradeMs(s, 10);
  const one = chaosPlan(s, est);
  const four = chaosPlan(s, est, { kills: 4 });
  t.deepEqual(chaosPlan(s, est, { kills: 4 }), four, 'one seed, one plan');
  const kills = four.disruptions.filter((d) => d.what === 'daemon-kill');
  t.deepEqual(kills.map((k) => k.kill), ['running', 'start-up', 'resume', 'running']);
  // The follow-ups come right after their running kill, with a delay drawn from the seed.
  const i = four.disruptions.findIndex((d) => d.kill === 'start-up');
  t.like(four.disruptions[i - 1], { what: 'daemon-kill', kill: 'running' });
  t.like(four.disruptions[i + 1], { what: 'daemon-kill', kill: 'resume' });
  t.true(kills[1]!.afterMs! >= 100 && kills[1]!.afterMs! <= 1500);
  t.true(kills[2]!.afterMs! >= 0 && kills[2]!.afterMs! <= 400);
  t.deepEqual(four.injections, one.injections);
  t.deepEqual(
    four.disruptions.filter((d) => d.what !== 'daemon-kill'),
    one.disruptions.filter((d) => d.what !== 'daemon-kill'),
  );
  t.deepEqual(kills[0], one.disruptions.find((d) => d.what === 'daemon-kill'));
  // Every live fault can move to another device whose job is running: its candidates start with it.
  t.true(four.injections.every((inj) => inj.candidates[0] === inj.device && new Set(inj.candidates).size === inj.candidates.length));
});

// Issue 11: a run with a live 20 % not-connected fault reported "Faults that showed: none".
test('observed faults: when Panorama answers not connected outside a reboot, and calls are slow while a latency fault is on, then both show; not connected during a reboot does not', (t) => {
  const fw = '009900000005';
  const notConnected = `<response status="error"><msg><line>Device ${fw} is not connected to Panorama</line></msg></response>`;
  const info = '<response status="success"><result><system><sw-version>10.2.4</sw-version></system></result></response>';
  const call = (response: string, durationMs: number) => ({ ...served(fw, '<show><system><info></info></system></show>', response), durationMs });
  const events = log([
    ['chaos', 'chaos.fault.injected', { device: fw, planned: fw, fault: 'api: not connected 20%, latency 40 ms', faults: { api: { notConnectedRate: 0.2, latencyMs: 40 } }, atMs: 100 }, 100],
    ['api', 'api.call.served', call(notConnected, 45), 150],
    ['api', 'api.call.served', call(info, 42), 200],
    ['api', 'api.call.served', call(info, 3), 210],
    ['chaos', 'chaos.fault.cleared', { device: fw, fault: 'api', atMs: 300 }, 300],
    ['api', 'api.call.served', call(info, 45), 2_000],
    [`sim:${fw}`, 'sim.reboot.started', { fromVersion: '10.2.4', intoVersion: '11.0.0' }, 3_000],
    ['api', 'api.call.served', call(notConnected, 2), 3_100],
    [`sim:${fw}`, 'sim.reboot.ready', { autoCommitJobId: 9 }, 4_000],
  ]);
  t.deepEqual(observedFaults(events, scenario(), T0), [
    { device: fw, fault: 'not connected through Panorama', count: 1, firstMs: 150, lastMs: 150 },
    { device: fw, fault: 'latency 40 ms', count: 2, firstMs: 150, lastMs: 200 },
  ]);
});

test('chaos invariants: when replay check finds a duplicate in the daemon log then the no-second-command invariant fails and names it', (t) => {
  const ev = evidence([]);
  ev.check = {
    runId: null,
    ok: false,
    mutating: 3,
    unattributed: [],
    duplicates: [{ serial: '009900000005', command: 'request.restart.system', jobId: 'j1', step: 'reboot', hop: 0, attempt: 1, sent: [{ gseq: 4, at: 'a', runId: 'r1' }, { gseq: 9, at: 'b', runId: 'r2' }] }],
  };
  const result = checkInvariants(ev).find((i) => i.name.startsWith('no device was sent'))!;
  t.false(result.ok);
  t.is(result.violations.length, 1);
  t.regex(result.violations[0]!, /^daemon log: DUPLICATE 009900000005: request\.restart\.system sent 2× for job j1 \(reboot of hop 0, attempt 1\)/);
  t.regex(result.detail, /replay check: 3 mutating command\(s\) in the daemon's log, 1 duplicate\(s\)/);
});
