import test from 'ava';
import pino from 'pino';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbEventStore } from '../../eventstore/index.ts';
import { API_KEY_PLACEHOLDER, recordScenario, repairTruncatedXml } from '../../forensics/record-scenario.ts';
import { parseArp, parseHaState, parseRoutes, parseSessionInfo, parseSoftwareInfo, parseSystemInfo, parseDevices } from '../../panos/parsers.ts';
import { renderOpCommand, type OpCommand } from '../../panos/commands.ts';
import { loadScenarioFile, parseScenario } from '../../scenarios/index.ts';
import { fleetScenarioYaml } from '../../scenarios/fleet-generator.ts';
import { shippedScenario } from '../../cli/paths.ts';
import { Simulator, handleControl } from '../../simulator/index.ts';
import { startTestNats, tempDir, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { discover, jobEnded, submit } from '../actors/orchestrator-fixture.ts';

const nats = startTestNats(test);
const ACTIVE = '001234567890';
const PASSIVE = '001234567891';
const BRANCH = '001234567892';
const log = pino({ level: 'silent' });

/** What a device answers, read the way a client reads it: through Panorama with `target=`. */
async function answers(sim: Simulator, serial: string): Promise<Record<string, unknown>> {
  const ask = async (cmd: OpCommand): Promise<string> => {
    const a = await sim.op(sim.panorama.serial, { type: 'op', cmd: renderOpCommand(cmd), target: serial });
    if (!('body' in a)) throw new Error(`no answer from ${serial}`);
    return a.body;
  };
  const info = parseSystemInfo(await ask({ kind: 'show.system.info' }));
  const sw = parseSoftwareInfo(await ask({ kind: 'request.system.software.info' }));
  const sessions = parseSessionInfo(await ask({ kind: 'show.session.info' }));
  const ha = parseHaState(await ask({ kind: 'show.high-availability.state' }));
  return {
    hostname: info.hostname,
    model: info.model,
    version: info.swVersion,
    content: info.appVersion,
    offered: sw.entries.map((e) => e.version),
    downloaded: sw.entries.filter((e) => e.downloaded && !e.current).map((e) => e.version),
    tcp: sessions.numTcp,
    udp: sessions.numUdp,
    routes: parseRoutes(await ask({ kind: 'show.routing.route' })).count,
    arp: parseArp(await ask({ kind: 'show.arp.entry', name: 'all' })).total,
    ha: ha.enabled ? { state: ha.local?.state, priority: ha.local?.priority, preemptive: ha.local?.preemptive, peerState: ha.peer?.state } : null,
  };
}

test('record to scenario: when a run against the simulator is recorded then a new simulator on the scenario gives the same answers, timings and failures', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  const serials = [ACTIVE, PASSIVE, BRANCH];
  const before = await Promise.all(serials.map((s) => answers(stack.sim, s)));
  // The branch firewall's downloads always fail: the recording must carry that failure and its text.
  await handleControl(stack.sim, BRANCH, 'faults', { faults: { download: { rate: 1, error: 'Connection timeout' } } });

  await discover(stack);
  const [pair, branch] = await Promise.all([submit(stack, { device: ACTIVE }), submit(stack, { device: BRANCH })]);
  t.is((await jobEnded(stack, pair.job_id)).upgrade_status, 'complete');
  t.is((await jobEnded(stack, branch.job_id)).upgrade_status, 'failed');

  const recorded = recordScenario(stack.daemonStore!, 'daemon', { name: 'recorded-ha', seed: 7 });
  t.is(recorded.devices, 3);
  t.true(recorded.yaml.includes(`api_key: ${API_KEY_PLACEHOLDER}`));
  t.regex(recorded.yaml, /^# .*\n# The API key is a placeholder: recordings never hold secrets/);
  t.false(recorded.yaml.includes(stack.scenario.apiKey), 'the lab key is not in the file');

  const file = join(tempDir(t, 'panos-recorded-'), 'recorded.yaml');
  writeFileSync(file, recorded.yaml);
  const scenario = loadScenarioFile(file, { env: {} });
  t.deepEqual(scenario.failures.map((f) => ({ device: f.device, operation: f.operation, failureRate: f.failureRate, error: f.error })), [
    { device: BRANCH, operation: 'download', failureRate: 1, error: 'Connection timeout' },
  ]);
  // Observed at time scale 0.02: downloads of 10 s took about 0.2 s, installs of 5 s about 0.1 s, reboots of 15 s about 0.3 s.
  const [dlMin, dlMax] = scenario.timing.downloadMs;
  t.true(dlMin >= 150 && dlMax <= 2_000, `download ${dlMin}-${dlMax} ms`);
  const [inMin, inMax] = scenario.timing.installMs;
  t.true(inMin >= 80 && inMax <= 2_000, `install ${inMin}-${inMax} ms`);
  const [rbMin, rbMax] = scenario.timing.rebootMs;
  t.true(rbMin >= 250 && rbMax <= 3_000, `reboot ${rbMin}-${rbMax} ms`);
  t.deepEqual(scenario.upgradePaths['10.0.2'], ['10.1.0', '10.5.1', '11.1.0']);

  const dir = tempDir(t, 'panos-replayed-sim-');
  const store = LmdbEventStore.open({ path: dir });
  t.teardown(() => store.close());
  const replayed = await Simulator.start({ scenario, store, log });
  t.teardown(() => replayed.stop());
  const after = await Promise.all(serials.map((s) => answers(replayed, s)));
  t.deepEqual(after, before);
  const connected = await replayed.op(replayed.panorama.serial, { type: 'op', cmd: renderOpCommand({ kind: 'show.devices.connected' }) });
  const devices = 'body' in connected ? parseDevices(connected.body) : [];
  t.deepEqual(
    devices.map((d) => [d.serial, d.haState ?? null, d.haPeerSerial ?? null]),
    [
      [ACTIVE, 'active', PASSIVE],
      [PASSIVE, 'passive', ACTIVE],
      [BRANCH, null, null],
    ],
  );
});

test('record to scenario: when a recorded answer was cut at 4000 characters then its complete entries are still read', (t) => {
  const full = `<response status="success"><result><dp>dp0</dp><total>3</total><entries>${[1, 2, 3]
    .map((i) => `<entry><interface>ethernet1/1</interface><ip>10.0.0.${i}</ip><mac>00:1b:17:00:00:0${i}</mac><port>ethernet1/1</port><status> c </status><ttl>1800</ttl></entry>`)
    .join('')}</entries><max>32000</max></result></response>`;
  const cut = full.slice(0, full.indexOf('10.0.0.3'));
  const repaired = repairTruncatedXml(cut);
  t.truthy(repaired);
  const arp = parseArp(repaired!);
  t.is(arp.total, 3);
  t.deepEqual(arp.entries.map((e) => e.ip), ['10.0.0.1', '10.0.0.2']);
  t.is(repairTruncatedXml(full), undefined, 'a whole answer needs no repair');
});

test('record to scenario: when the run ends while a device is rebooting then that reboot is no failure (a note says so), and a reboot whose job failed at the reboot step is recorded as never returning', async (t) => {
  const LOST = '001234567893'; // PA-440: its reboot never returns, and its budget is 2 s
  const REBOOTING = '001234567892'; // PA-5220: every image staged, its reboot takes 30 s
  const base = readFileSync(shippedScenario('basic'), 'utf8').replace(
    /^failures: \[\]$/m,
    [
      'failures:',
      `  - { device: "${LOST}", operation: reboot, mode: never_returns, failure_rate: 1.0 }`,
      `  - { device: "${REBOOTING}", operation: reboot, mode: slow, factor: 100, failure_rate: 1.0 }`,
    ].join('\n'),
  );
  const scenario = parseScenario(base, 'basic-reboots.yaml', { timeScale: 0.02, env: {} });
  const stack = await startStack(t, nats, {
    scenario,
    config: (c) => ({ ...c, timeouts: { ...c.timeouts, rebootSecondsByModel: { 'PA-440': 2 } } }),
  });
  await discover(stack);
  const [lost, rebooting] = await Promise.all([submit(stack, { device: LOST }), submit(stack, { device: REBOOTING })]);
  t.is((await jobEnded(stack, lost.job_id)).upgrade_status, 'failed');
  await waitFor(() => stack.daemonStore!.readStream(`job:${rebooting.job_id}`).some((e) => e.type === 'job.reboot.acknowledged'), 30_000, 50);
  await stack.recordedCalls();
  // The run's records end here, with REBOOTING mid-reboot (as when the daemon is killed).
  const recorded = recordScenario(stack.daemonStore!, 'daemon');
  const failures = (recorded.document.failures ?? []) as Array<Record<string, unknown>>;
  t.deepEqual(
    failures.filter((f) => f.operation === 'reboot').map((f) => [f.device, f.mode, f.failure_rate]),
    [[LOST, 'never_returns', 1]],
  );
  t.true(
    recorded.notes.some((n) => n.startsWith('1 reboot(s) were still under way when the run') && n.includes(`${REBOOTING} restarted at`)),
    recorded.notes.join('\n'),
  );
  t.false(recorded.notes.some((n) => n.includes(`${LOST} restarted at`)));
});

test('record to scenario: when Panorama\'s device list is longer than the 4000 characters the recorder keeps then every discovered device is still recorded, from the daemon\'s device facts', async (t) => {
  const scenario = parseScenario(fleetScenarioYaml({ devices: 14 }), 'fleet-14.yaml', { timeScale: 0.02, env: {} });
  const stack = await startStack(t, nats, { scenario });
  t.is(await discover(stack), 14);
  const listCalls = (await stack.recordedCalls()).filter((c) => String(c.command).includes('<devices><connected/></devices>') && !c.target);
  t.true(listCalls.length > 0 && listCalls.every((c) => String(c.response).length >= 4000 && !String(c.response).includes('</response>')), 'the recorded answer is cut');

  const recorded = recordScenario(stack.daemonStore!, 'daemon');
  t.is(recorded.devices, 14);
  const devices = recorded.document.devices as Array<{ serial: string; hostname: string; current_version: string; mgmt_ip?: string }>;
  t.deepEqual(
    devices.map((d) => [d.serial, d.hostname, d.current_version, d.mgmt_ip]).sort(),
    scenario.devices.map((d) => [d.serial, d.hostname, d.swVersion, d.mgmtIp]).sort(),
  );
  t.true(recorded.notes.some((n) => /^the recorder cut Panorama's device list at 4000 characters after \d+ device\(s\); the 14 device\(s\) discovery found are taken from the daemon's device.discovered facts/.test(n)), recorded.notes.join('\n'));
  // The simulator loads it, with the whole fleet.
  const file = join(tempDir(t, 'panos-recorded-'), 'recorded.yaml');
  writeFileSync(file, recorded.yaml);
  t.is(loadScenarioFile(file, { env: {} }).devices.length, 14);
});
