import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ScenarioError } from '../../panos/errors.ts';
import {
  DEFAULT_PANORAMA,
  fleetScenarioYaml,
  loadScenarioFile,
  modelFamily,
  parseScenario,
  scenarioFromObject,
} from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/index.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const load = (name: string): Scenario => loadScenarioFile(`${dir}${name}`, { env: {} });
const y = (...lines: string[]): string => `${lines.join('\n')}\n`;
const parse = (text: string, options: Parameters<typeof parseScenario>[2] = {}): Scenario =>
  parseScenario(text, 'test.yaml', { env: {}, ...options });

/** Asserts the ScenarioError's file, line, path and problem, and the message built from them. */
function fails(t: ExecutionContext, text: string, line: number | undefined, path: string, problem: string | RegExp): void {
  const err = t.throws(() => parseScenario(text, 'bad.yaml', { env: {} }), { instanceOf: ScenarioError });
  if (!err) return;
  t.is(err.file, 'bad.yaml');
  t.is(err.line, line);
  t.is(err.path, path);
  if (typeof problem === 'string') {
    t.is(err.problem, problem);
    t.is(err.message, `bad.yaml${line !== undefined ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${problem}`);
  } else {
    t.regex(err.problem, problem);
  }
}

/** Two firewalls on lines 3-9; tests append or replace lines. */
const TWO = [
  'api_key: "k"', // 1
  'devices:', // 2
  '  - serial: "001234567890"', // 3
  '    hostname: fw-a', // 4
  '    current_version: "10.0.2"', // 5
  '    available_versions: ["10.0.2", "10.1.0"]', // 6
  '  - serial: "001234567891"', // 7
  '    hostname: fw-b', // 8
  '    current_version: "10.0.2"', // 9
];

test('seed format: when the seed design YAML is loaded unchanged then its devices, timing and failure come through', (t) => {
  const text = [
    'api_key: "test-api-key"',
    '',
    'timing:',
    '  download_duration: 10',
    '  install_duration: 5',
    '  reboot_duration: 15',
    '',
    'devices:',
    '  - serial: "001234567890"',
    '    hostname: "fw-dc1-01"',
    '    current_version: "10.0.2"',
    '    metrics:',
    '      tcp_sessions: 45000',
    '      route_count: 1200',
    '      arp_count: 500',
    '      disk_space_gb: 15.0',
    '    available_versions: ["10.0.2", "10.1.0", "10.5.1", "11.1.0"]',
    '',
    'failures:',
    '  - device: "001234567890"',
    '    operation: "download"',
    '    failure_rate: 0.3  # 30% chance',
    '    error: "Connection timeout"',
    '',
  ].join('\n');
  const s = parseScenario(text, 'scenarios/seed.yaml', { env: {} });
  t.is(s.name, 'seed');
  t.deepEqual([s.timing.downloadMs, s.timing.installMs, s.timing.rebootMs], [[10_000, 10_000], [5_000, 5_000], [15_000, 15_000]]);
  t.like(s.devices[0], { serial: '001234567890', hostname: 'fw-dc1-01', swVersion: '10.0.2', model: 'PA-VM' });
  t.like(s.devices[0]?.metrics, { tcpSessions: 45000, routes: 1200, arpEntries: 500 });
  t.deepEqual(s.failures, [{ device: '001234567890', operation: 'download', failureRate: 0.3, error: 'Connection timeout', line: 20 }]);
});

test('basic.yaml: when loaded then the seed device fw-dc1-01 is there field for field', (t) => {
  const s = load('basic.yaml');
  t.is(s.name, 'basic');
  t.is(s.apiKey, 'test-api-key');
  t.deepEqual([s.timing.downloadMs, s.timing.installMs, s.timing.rebootMs], [[10_000, 10_000], [5_000, 5_000], [15_000, 15_000]]);
  t.true(s.devices.length >= 3 && s.devices.length <= 5);
  const d = s.devices.find((x) => x.serial === '001234567890');
  t.truthy(d);
  t.like(d, { hostname: 'fw-dc1-01', model: 'PA-3220', family: '3200', swVersion: '10.0.2', connected: true });
  t.deepEqual(d?.images.map((i) => i.version), ['10.0.2', '10.1.0', '10.5.1', '11.1.0']);
  t.like(d?.metrics, { tcpSessions: 45000, routes: 1200, arpEntries: 500 });
  t.deepEqual(d?.disk, { panrepoTotalMb: 15 * 1024, panrepoUsedMb: 0 });
  t.deepEqual(s.upgradePaths['10.0.2'], ['10.1.0', '10.5.1', '11.1.0']);
});

test('basic.yaml: when loaded then it mixes a staged 10.1.0, a device on a version without a path and distinct addresses', (t) => {
  const s = load('basic.yaml');
  const staged = s.devices.filter((d) => d.downloaded.includes('10.1.0'));
  t.true(staged.length >= 1);
  t.true(staged.every((d) => d.disk.panrepoUsedMb >= 2048));
  t.true(s.devices.some((d) => s.upgradePaths[d.swVersion] === undefined));
  t.is(new Set(s.devices.map((d) => d.mgmtIp)).size, s.devices.length);
  t.false(s.devices.some((d) => d.mgmtIp === s.panorama.mgmtIp));
});

test('ha-pair.yaml: when loaded then the pair points at each other, one active and one passive, preemption off', (t) => {
  const s = load('ha-pair.yaml');
  const paired = s.devices.filter((d) => d.ha);
  t.is(paired.length, 2);
  t.is(s.devices.filter((d) => !d.ha).length, 1);
  const [a, b] = paired;
  t.is(a?.ha?.peerSerial, b?.serial);
  t.is(b?.ha?.peerSerial, a?.serial);
  t.deepEqual(paired.map((d) => d.ha?.initialState).sort(), ['active', 'passive']);
  t.true(paired.every((d) => d.ha?.preemptive === false && d.ha.groupId === 1));
  t.truthy(s.upgradePaths['10.0.2']);
});

test('fleet-230.yaml: when loaded then it has 230 devices with unique serials and loopback addresses', (t) => {
  const s = load('fleet-230.yaml');
  t.is(s.devices.length, 230);
  t.is(new Set(s.devices.map((d) => d.serial)).size, 230);
  t.is(new Set(s.devices.map((d) => d.mgmtIp)).size, 230);
  t.true(s.devices.every((d) => d.mgmtIp.startsWith('127.') && d.mgmtIp !== '127.0.0.1'));
  t.true(s.devices.every((d) => /^fw-[a-z0-9]+-\d{2}$/.test(d.hostname)));
  t.like(s.devices[0], { serial: '001234567890', hostname: 'fw-dc1-01', swVersion: '10.0.2' });
  const versions = new Set(s.devices.map((d) => d.swVersion.split('.').slice(0, 2).join('.')));
  for (const train of ['10.0', '10.1', '10.2', '11.0', '11.1']) t.true(versions.has(train), train);
  t.true(new Set(s.devices.map((d) => d.model)).size >= 4);
});

test('fleet-230.yaml: when loaded then its 5 HA pairs point at each other and share model and version', (t) => {
  const s = load('fleet-230.yaml');
  const bySerial = new Map(s.devices.map((d) => [d.serial, d]));
  const paired = s.devices.filter((d) => d.ha);
  t.is(paired.length, 10);
  for (const d of paired) {
    const peer = bySerial.get(d.ha!.peerSerial);
    t.is(peer?.ha?.peerSerial, d.serial);
    t.is(peer?.model, d.model);
    t.is(peer?.swVersion, d.swVersion);
    t.not(peer?.ha?.initialState, d.ha!.initialState);
  }
  t.is(paired.filter((d) => d.ha!.initialState === 'active').length, 5);
});

test('fleet-230.yaml: when loaded then 15 devices have no upgrade path and 215 would be queued', (t) => {
  const s = load('fleet-230.yaml');
  const noPath = s.devices.filter((d) => s.upgradePaths[d.swVersion] === undefined);
  t.is(noPath.length, 15);
  t.is(s.devices.length - noPath.length, 215);
  for (const [from, hops] of Object.entries(s.upgradePaths)) {
    t.true(s.devices.some((d) => d.swVersion === from), `path ${from} is used`);
    for (const d of s.devices.filter((x) => x.swVersion === from)) {
      const offered = new Set(d.images.map((i) => i.version));
      t.true(hops.every((h) => offered.has(h)), `${d.hostname} is offered every hop`);
    }
  }
});

test('fleet-230.yaml: when loaded then some devices already hold images and their disk usage counts them', (t) => {
  const s = load('fleet-230.yaml');
  const staged = s.devices.filter((d) => d.downloaded.length > 0);
  t.true(staged.length >= 10 && staged.length <= 60);
  for (const d of staged) t.is(d.disk.panrepoUsedMb, d.downloaded.length * 2048);
  t.true(s.devices.every((d) => d.disk.panrepoTotalMb - d.disk.panrepoUsedMb === 15 * 1024));
});

test('fleet-230.yaml: when regenerated with the generator then the committed file is identical', (t) => {
  t.is(readFileSync(`${dir}fleet-230.yaml`, 'utf8'), fleetScenarioYaml({ devices: 230 }));
});

test('chaos.yaml: when loaded then it has 30 devices, 2 HA pairs and each of the seed faults with its line', (t) => {
  const s = load('chaos.yaml');
  t.is(s.devices.length, 30);
  t.is(s.devices.filter((d) => d.ha).length, 4);
  const serials = new Set(s.devices.map((d) => d.serial));
  t.true(s.failures.every((f) => f.device === '*' || serials.has(f.device)));
  t.true(s.failures.every((f) => typeof f.line === 'number' && f.line > 0));
  const downloads = s.failures.filter((f) => f.operation === 'download' && f.mode === undefined);
  t.true(downloads.length >= 2 && downloads.every((f) => f.failureRate === 0.3));
  t.is(s.failures.filter((f) => f.operation === 'install').length, 1);
  t.is(s.failures.filter((f) => f.operation === 'reboot' && f.mode === 'never_returns').length, 1);
  t.is(s.failures.filter((f) => f.operation === 'reboot' && f.mode === 'slow').length, 1);
  t.is(s.failures.filter((f) => f.operation === 'autocommit').length, 1);
  const text = readFileSync(`${dir}chaos.yaml`, 'utf8').split('\n');
  for (const f of s.failures) t.regex(text[f.line! - 1] ?? '', /device:/);
});

const timed = (...timing: string[]): string => y('timing:', ...timing.map((l) => `  ${l}`), ...TWO.slice(1, 6));

test('timing: when mode is fast or left out then downloads take 10 s, installs 5 s, reboots 15 s', (t) => {
  for (const text of [timed('mode: fast'), y(...TWO.slice(0, 6))]) {
    const { timing } = parse(text);
    t.deepEqual(timing, {
      mode: 'fast',
      timeScale: 1,
      downloadMs: [10_000, 10_000],
      installMs: [5_000, 5_000],
      rebootMs: [15_000, 15_000],
      contentDownloadMs: [3_000, 3_000],
      contentInstallMs: [3_000, 3_000],
      autoCommitMs: [2_000, 2_000],
    });
  }
});

test('timing: when mode is realistic then durations are the seed ranges (download 60-120 s, install 30-60 s, reboot 90-180 s)', (t) => {
  const { timing } = parse(timed('mode: realistic'));
  t.deepEqual(timing.downloadMs, [60_000, 120_000]);
  t.deepEqual(timing.installMs, [30_000, 60_000]);
  t.deepEqual(timing.rebootMs, [90_000, 180_000]);
  t.deepEqual(timing.contentDownloadMs, [20_000, 40_000]);
  t.deepEqual(timing.autoCommitMs, [20_000, 60_000]);
});

test('timing: when mode is production then download takes 10 min, install 5 min, reboot 10 min', (t) => {
  const { timing } = parse(timed('mode: production'));
  t.deepEqual([timing.downloadMs, timing.installMs, timing.rebootMs], [[600_000, 600_000], [300_000, 300_000], [600_000, 600_000]]);
  t.deepEqual(timing.contentInstallMs, [120_000, 120_000]);
});

test('timing: when durations are given as a number or [min, max] then they override the mode', (t) => {
  const { timing } = parse(timed('mode: realistic', 'download_duration: 7', 'reboot_duration: [20, 30]', 'autocommit_duration: 0'));
  t.deepEqual(timing.downloadMs, [7_000, 7_000]);
  t.deepEqual(timing.rebootMs, [20_000, 30_000]);
  t.deepEqual(timing.autoCommitMs, [0, 0]);
  t.deepEqual(timing.installMs, [30_000, 60_000]);
});

test('timing: when DOWNLOAD_DURATION, INSTALL_DURATION and REBOOT_DURATION are set then they override the YAML', (t) => {
  const env = { DOWNLOAD_DURATION: '2', INSTALL_DURATION: '1.5', REBOOT_DURATION: '4', UNRELATED: 'x' };
  const { timing } = parse(timed('mode: realistic', 'download_duration: 99'), { env });
  t.deepEqual([timing.downloadMs, timing.installMs, timing.rebootMs], [[2_000, 2_000], [1_500, 1_500], [4_000, 4_000]]);
  t.deepEqual(timing.contentDownloadMs, [20_000, 40_000]);
  t.deepEqual(parse(timed('download_duration: 9'), { env: { DOWNLOAD_DURATION: '' } }).timing.downloadMs, [9_000, 9_000]);
});

test('timing: when no env option is given then process.env is read', (t) => {
  const saved = process.env.REBOOT_DURATION;
  process.env.REBOOT_DURATION = '3';
  try {
    t.deepEqual(parseScenario(timed('mode: fast'), 'test.yaml').timing.rebootMs, [3_000, 3_000]);
  } finally {
    if (saved === undefined) delete process.env.REBOOT_DURATION;
    else process.env.REBOOT_DURATION = saved;
  }
});

test('timing: when time_scale is set then every duration is multiplied by it, and the timeScale option wins', (t) => {
  const text = timed('mode: fast', 'time_scale: 0.1');
  const scaled = parse(text).timing;
  t.is(scaled.timeScale, 0.1);
  t.deepEqual([scaled.downloadMs, scaled.installMs, scaled.rebootMs], [[1_000, 1_000], [500, 500], [1_500, 1_500]]);
  const fast = parse(text, { timeScale: 0.01, env: { DOWNLOAD_DURATION: '20' } }).timing;
  t.is(fast.timeScale, 0.01);
  t.deepEqual([fast.downloadMs, fast.installMs, fast.rebootMs, fast.autoCommitMs], [[200, 200], [50, 50], [150, 150], [20, 20]]);
});

test('timing: when an environment override is not a number of seconds then the error names the variable', (t) => {
  const err = t.throws(() => parseScenario(timed('mode: fast'), 'env.yaml', { env: { INSTALL_DURATION: 'five' } }), {
    instanceOf: ScenarioError,
  });
  t.is(err?.path, 'INSTALL_DURATION');
  t.is(err?.line, undefined);
  t.is(err?.message, 'env.yaml: INSTALL_DURATION: environment variable INSTALL_DURATION must be a number of seconds ≥ 0, got "five"');
  t.throws(() => parse(timed('mode: fast'), { timeScale: 0 }), { instanceOf: ScenarioError, message: /time scale option must be a number > 0/ });
});

test('timing: when a duration is negative then the error names the line and field', (t) => {
  fails(t, timed('mode: fast', 'install_duration: -5'), 3, 'timing.install_duration', 'install_duration must be ≥ 0 seconds, got -5');
});

test('timing: when a range is upside down or malformed then the error says so', (t) => {
  fails(t, timed('reboot_duration: [180, 90]'), 2, 'timing.reboot_duration', 'reboot_duration: the minimum (180 s) is larger than the maximum (90 s)');
  fails(t, timed('reboot_duration: [1, 2, 3]'), 2, 'timing.reboot_duration', /must be a number of seconds or \[min, max\] \(a list of exactly two numbers\), got a list/);
  fails(t, timed('download_duration: [10, -1]'), 2, 'timing.download_duration[1]', 'download_duration must be ≥ 0 seconds, got -1');
});

test('timing: when the mode is unknown then the error names it and suggests the closest mode', (t) => {
  fails(t, timed('mode: realstic'), 2, 'timing.mode', 'unknown timing mode "realstic" (did you mean realistic?)');
  fails(t, timed('mode: slow'), 2, 'timing.mode', 'unknown timing mode "slow" (expected fast, realistic or production)');
});

test('timing: when time_scale is zero then the error asks for a positive number', (t) => {
  fails(t, timed('time_scale: 0'), 2, 'timing.time_scale', 'time_scale must be > 0 (e.g. 0.01 to run 100× faster), got 0');
});

test('unknown field: when a key is misspelt then the error points at the key and suggests the right one', (t) => {
  const text = y(...TWO.slice(0, 4), '    current_versoin: "10.0.2"', ...TWO.slice(5));
  fails(t, text, 5, 'devices[0].current_versoin', 'unknown field "current_versoin" (did you mean current_version?)');
  fails(t, y(...TWO, '    currentVersion: "10.0.2"'), 10, 'devices[1].currentVersion', 'unknown field "currentVersion" (did you mean current_version?)');
  fails(t, y('colour: blue', ...TWO.slice(1)), 1, 'colour', /^unknown field "colour" \(expected one of: name, description, seed, api_key,/);
});

test('unknown field: when a YAML merge key is used then the error says to use defaults', (t) => {
  const text = y('api_key: "k"', 'devices:', '  - <<: { model: PA-440 }', '    serial: "1"', '    hostname: a', '    current_version: "10.0.2"');
  fails(t, text, 3, 'devices[0]["<<"]', 'unknown field "<<" (YAML merge keys are not supported; put shared fields under defaults:)');
});

test('serial: when it is not quoted then YAML reads it as a number and the error shows how to quote it', (t) => {
  const text = y(...TWO.slice(0, 6), '  - serial: 0011', ...TWO.slice(7));
  fails(t, text, 7, 'devices[1].serial', 'serial must be a quoted string of digits (YAML reads 0011 as the number 11); write serial: "0011"');
});

test('serial: when it holds something other than digits then the error says what a serial looks like', (t) => {
  const text = y(...TWO.slice(0, 2), '  - serial: "PA-0012"', ...TWO.slice(3));
  fails(t, text, 3, 'devices[0].serial', 'serial must be 1 to 20 digits (PAN-OS serials are 12 to 15 digits), got "PA-0012"');
});

test('serial: when two devices share one then the error names the first owner and its line', (t) => {
  const text = y(...TWO.slice(0, 6), '  - serial: "001234567890"', ...TWO.slice(7));
  fails(t, text, 7, 'devices[1].serial', 'duplicate serial "001234567890": already used by devices[0] (fw-a) at line 3');
});

test('mgmt_ip: when two devices share an address then the error names the first owner', (t) => {
  const text = y(...TWO.slice(0, 6), '    mgmt_ip: 10.1.1.10', ...TWO.slice(6), '    mgmt_ip: 10.1.1.10');
  fails(t, text, 11, 'devices[1].mgmt_ip', 'duplicate mgmt_ip 10.1.1.10: already used by devices[0] (fw-a) at line 3');
  fails(t, y(...TWO, '    mgmt_ip: 127.0.0.1'), 10, 'devices[1].mgmt_ip', "mgmt_ip 127.0.0.1 is the Panorama's address");
  fails(t, y(...TWO, '    mgmt_ip: 10.1.1'), 10, 'devices[1].mgmt_ip', 'mgmt_ip must be an IPv4 or IPv6 address like 127.0.1.10, got "10.1.1"');
});

test('mgmt_ip: when left out then each device gets its own loopback address, stepping over given ones and never 127.0.0.1', (t) => {
  const text = y(...TWO.slice(0, 6), '    mgmt_ip: 127.0.1.1', ...TWO.slice(6), '  - serial: "3"', '    hostname: fw-c', '    current_version: "10.0.2"');
  const s = parse(text);
  t.deepEqual(s.devices.map((d) => d.mgmtIp), ['127.0.1.1', '127.0.1.2', '127.0.1.3']);
  const many = scenarioFromObject({
    devices: Array.from({ length: 300 }, (_, i) => ({ serial: String(i + 1), hostname: `fw-${i}`, current_version: '10.0.2' })),
  }, 'many', { env: {} });
  t.is(many.devices[253]?.mgmtIp, '127.0.1.254');
  t.is(many.devices[254]?.mgmtIp, '127.0.2.1');
  t.is(new Set(many.devices.map((d) => d.mgmtIp)).size, 300);
});

test('version: when it is not a PAN-OS version then the error shows the expected form', (t) => {
  const text = y(...TWO.slice(0, 4), '    current_version: 10.1', ...TWO.slice(5));
  fails(t, text, 5, 'devices[0].current_version', 'current_version must be a PAN-OS version like 10.1.0 or 10.1.9-h1, got the number 10.1; quote versions, e.g. "10.1.0"');
  const list = y(...TWO.slice(0, 5), '    available_versions: ["10.0.2", "10.1.x"]', ...TWO.slice(6));
  fails(t, list, 6, 'devices[0].available_versions[1]', 'available_versions[1] must be a PAN-OS version like 10.1.0 or 10.1.9-h1, got "10.1.x"');
  const quoted = y(...TWO.slice(0, 4), '    current_version: 11.0', ...TWO.slice(5));
  fails(t, quoted, 5, 'devices[0].current_version', /got the number 11 \(YAML reads 11\.0 as a number\)/);
});

test('downloaded_versions: when a version is not among the available ones then the error lists what is offered', (t) => {
  const text = y(...TWO.slice(0, 6), '    downloaded_versions: ["10.1.0", "11.1.0"]', ...TWO.slice(6));
  fails(t, text, 7, 'devices[0].downloaded_versions[1]', '11.1.0 is listed as downloaded but is not among the available versions (10.0.2, 10.1.0); add it to available_versions or remove it here');
});

test('downloaded_versions: when it comes from defaults and does not fit a device then the error names the device', (t) => {
  const text = y('defaults:', '  downloaded_versions: ["10.1.0"]', ...TWO.slice(1));
  fails(t, text, 2, 'defaults.downloaded_versions[0]', '10.1.0 is listed as downloaded but is not among the available versions of device 001234567891 (fw-b) (10.0.2); add it to available_versions or remove it here');
});

test('ha: when the peer does not exist then the error points at the peer field', (t) => {
  const text = y(...TWO, '    ha: { peer: "001234567899" }');
  fails(t, text, 10, 'devices[1].ha.peer', 'HA peer: no device with serial "001234567899" in this scenario');
  fails(t, y(...TWO, '    ha: { peer: fw-a }'), 10, 'devices[1].ha.peer', /^peer must be a quoted string of digits|peer must be 1 to 20 digits/);
});

test('ha: when the peer does not point back then the error says how to fix it', (t) => {
  const text = y(...TWO.slice(0, 6), '    ha: { peer: "001234567891" }', ...TWO.slice(6));
  fails(t, text, 7, 'devices[0].ha.peer', 'HA peer 001234567891 (fw-b) does not point back: give it ha: { peer: "001234567890" }');
  const three = y(
    ...TWO.slice(0, 6), '    ha: { peer: "001234567891" }', ...TWO.slice(6), '    ha: { peer: "3" }',
    '  - serial: "3"', '    hostname: fw-c', '    current_version: "10.0.2"', '    ha: { peer: "001234567891" }',
  );
  fails(t, three, 7, 'devices[0].ha.peer', 'HA peer 001234567891 (fw-b) does not point back: its ha.peer is "3", not "001234567890"');
});

test('ha: when both peers claim to be active then the error asks for one passive', (t) => {
  const text = y(...TWO.slice(0, 6), '    ha: { peer: "001234567891", state: active }', ...TWO.slice(6), '    ha: { peer: "001234567890", state: active }');
  fails(t, text, 11, 'devices[1].ha.state', 'both HA peers cannot start active (fw-a is already active); make one passive');
});

test('ha: when states are left out then the lower priority starts active and the peer passive', (t) => {
  const text = y(...TWO.slice(0, 6), '    ha: { peer: "001234567891", priority: 120 }', ...TWO.slice(6), '    ha: { peer: "001234567890", priority: 90, preemptive: true, group_id: 4 }');
  const [a, b] = parse(text).devices;
  t.deepEqual(a?.ha, { peerSerial: '001234567891', priority: 120, preemptive: false, groupId: 4, initialState: 'passive' });
  t.deepEqual(b?.ha, { peerSerial: '001234567890', priority: 90, preemptive: true, groupId: 4, initialState: 'active' });
});

test('ha_pairs: when a pair is declared then both devices get ha pointing at each other', (t) => {
  const s = parse(y(...TWO, 'ha_pairs:', '  - { active: "001234567891", passive: "001234567890", group_id: 3 }'));
  t.deepEqual(s.devices[1]?.ha, { peerSerial: '001234567890', priority: 100, preemptive: false, groupId: 3, initialState: 'active' });
  t.deepEqual(s.devices[0]?.ha, { peerSerial: '001234567891', priority: 110, preemptive: false, groupId: 3, initialState: 'passive' });
});

test('ha_pairs: when a pair names a hostname, repeats a device or clashes with ha then the error explains', (t) => {
  fails(t, y(...TWO, 'ha_pairs:', '  - { active: "001234567890", passive: "001234567892" }'), 11, 'ha_pairs[0].passive', 'no device with serial "001234567892" in this scenario');
  fails(t, y(...TWO, 'ha_pairs:', '  - { active: "001234567890", passive: "001234567890" }'), 11, 'ha_pairs[0].passive', 'active and passive must be two different firewalls');
  const withHa = y(...TWO.slice(0, 6), '    ha: { peer: "001234567891" }', ...TWO.slice(6), '    ha: { peer: "001234567890" }', 'ha_pairs:', '  - { active: "001234567890", passive: "001234567891" }');
  fails(t, withHa, 13, 'ha_pairs[0].active', '001234567890 (fw-a) already has an ha: section (devices[0], line 7); declare a pair either in ha_pairs or with ha: on both devices');
  const models = y(...TWO.slice(0, 6), '    model: PA-440', ...TWO.slice(6), 'ha_pairs:', '  - { active: "001234567890", passive: "001234567891" }');
  fails(t, models, 12, 'ha_pairs[0]', 'HA peers must be the same model: fw-a is PA-440, fw-b is PA-VM');
});

test('failures: when failure_rate is outside [0, 1] then the error explains it is a probability', (t) => {
  const text = y(...TWO, 'failures:', '  - device: "001234567890"', '    operation: download', '    failure_rate: 1.5');
  fails(t, text, 13, 'failures[0].failure_rate', 'failure_rate must be between 0 and 1 (a probability: 0.3 fails 30% of attempts), got 1.5');
});

test('failures: when the operation, mode or device is unknown then the error names it', (t) => {
  fails(t, y(...TWO, 'failures:', '  - { device: "*", operation: downlod }'), 11, 'failures[0].operation', 'unknown operation "downlod" (did you mean download?)');
  fails(t, y(...TWO, 'failures:', '  - { device: "*", operation: download, mode: never_returns }'), 11, 'failures[0].mode', 'unknown download failure mode "never_returns" (expected fail, stall, slow or disk_full)');
  fails(t, y(...TWO, 'failures:', '  - { device: "fw-a", operation: install }'), 11, 'failures[0].device', /got "fw-a"/);
  fails(t, y(...TWO, 'failures:', '  - { device: "42", operation: install }'), 11, 'failures[0].device', 'no device with serial "42" in this scenario');
  fails(t, y(...TWO, 'failures:', '  - { device: "*", operation: reboot }', '  - { device: "*", operation: reboot, mode: slow }'), 12, 'failures[1]', 'device * already has a reboot failure at failures[0]; merge the two entries');
});

test('failures: when an entry leaves out rate and error then it always fails with the PAN-OS text, and keeps its line', (t) => {
  const s = parse(y(...TWO, 'failures:', '  - { device: "001234567891", operation: reboot, mode: never_returns }', '  - device: "*"', '    operation: download', '    failure_rate: 0.25', '    error: "Connection timeout"'));
  t.deepEqual(s.failures, [
    { device: '001234567891', operation: 'reboot', failureRate: 1, error: 'Device did not come back after reboot', mode: 'never_returns', line: 11 },
    { device: '*', operation: 'download', failureRate: 0.25, error: 'Connection timeout', line: 12 },
  ]);
});

test('duplicate key: when a field appears twice in one device then the error has the line of the second', (t) => {
  const text = y(...TWO.slice(0, 5), '    hostname: fw-z', ...TWO.slice(5));
  fails(t, text, 6, 'devices[0].hostname', 'duplicate field "hostname" (already given at line 4); each field may appear only once per entry');
  const afterEmpty = y('api_key: "k"', 'devices:', '  - serial: "1"', '    hostname:', '    current_version: "10.0.2"', '    hostname: x');
  fails(t, afterEmpty, 6, 'devices[0].hostname', 'duplicate field "hostname" (already given at line 4); each field may appear only once per entry');
});

test('YAML syntax: when the text is not valid YAML then the error has its line', (t) => {
  fails(t, y('api_key: "k"', 'devices: [', '  { serial: "1" ', 'timing: x'), 4, 'timing', /^invalid YAML: Flow map in block collection must be sufficiently indented and end with a \}$/);
  fails(t, y('devices:', '  - serial: "1"', '     hostname: x'), 3, 'devices[0]', 'invalid YAML: All mapping items must start at the same column');
  fails(t, y('devices:', '\t- serial: "1"'), 2, 'devices', 'invalid YAML: Tabs are not allowed as indentation');
  fails(t, y(...TWO, '---', 'name: second'), 10, '', 'a scenario is a single YAML document; remove the extra "---" separator');
  fails(t, y('api_key: !secret k', ...TWO.slice(1)), 1, 'api_key', /^unsupported YAML tag \(Unresolved tag: !secret\)/);
});

test('required fields: when hostname or current_version is missing then the error points at the device', (t) => {
  fails(t, y(...TWO.slice(0, 3), ...TWO.slice(4)), 3, 'devices[0]', 'missing required field "hostname" in devices[0]');
  fails(t, y(...TWO.slice(0, 8)), 7, 'devices[1]', 'missing required field "current_version" (give it here or under defaults:)');
  fails(t, y('api_key: "k"'), 1, '', 'missing required field "devices"');
  fails(t, '# nothing yet\n', undefined, '', 'the scenario is empty; it needs at least a devices: list');
  fails(t, y(...TWO.slice(0, 3), '    hostname:', ...TWO.slice(4)), 4, 'devices[0].hostname', 'hostname must be a string, got nothing (the field is empty)');
});

test('model: when it is not a firewall model then the error gives examples', (t) => {
  fails(t, y(...TWO, '    model: PA3220'), 10, 'devices[1].model', 'unknown firewall model "PA3220" (expected a model name like PA-3220, PA-440, PA-5260 or PA-VM)');
});

test('upgrade_paths: when a path goes down or its key is not a version then the error points at it', (t) => {
  fails(t, y(...TWO, 'upgrade_paths:', '  "10.0.2": ["10.1.0", "10.0.9"]'), 11, 'upgrade_paths["10.0.2"][1]', 'this version must be newer than 10.1.0: an upgrade path only goes up, got "10.0.9"');
  fails(t, y(...TWO, 'upgrade_paths:', '  "10.0.2": ["10.1.0"]', '  10.1: ["11.1.0"]'), 12, 'upgrade_paths["10.1"]', 'this upgrade path has the key "10.1", not a PAN-OS version; write the full version in quotes, like "10.0.2"');
  fails(t, y(...TWO, 'upgrade_paths:', '  "10.0.2": [10.10]'), 11, 'upgrade_paths["10.0.2"][0]', 'this version must be a PAN-OS version like 10.1.0 or 10.1.9-h1 in quotes, got the number 10.1 (YAML reads 10.10 as a number)');
  fails(t, y(...TWO, 'upgrade_paths: ["10.1.0"]'), 10, 'upgrade_paths', 'upgrade_paths must be a map of current version → list of versions, e.g. "10.0.2": ["10.1.0", "11.1.0"], got a list');
  t.deepEqual(parse(y(...TWO, 'upgrade_paths:', '  "10.0.2": ["10.1.0", "11.1.0"]', '  "11.1.0": []')).upgradePaths, { '10.0.2': ['10.1.0', '11.1.0'], '11.1.0': [] });
});

test('images: when the catalogue repeats a version or has a bad date then the error points at it', (t) => {
  fails(t, y('images:', '  - { version: "10.1.0" }', '  - { version: "10.1.0", size_mb: 900 }', ...TWO.slice(1)), 3, 'images[1].version', 'version 10.1.0 is already in the images catalogue');
  fails(t, y('images:', '  - { version: "10.1.0", released_on: "2021-05-20" }', ...TWO.slice(1)), 2, 'images[0].released_on', 'released_on must be a date as PAN-OS prints it, "YYYY/MM/DD HH:MM:SS", got "2021-05-20"');
});

test('load: when the file does not exist then the error names it', (t) => {
  const err = t.throws(() => loadScenarioFile('/nonexistent/nope.yaml'), { instanceOf: ScenarioError });
  t.is(err?.message, '/nonexistent/nope.yaml: cannot read the scenario file: no such file');
});

test('scenarioFromObject: when a field is invalid then the error has the path but no line', (t) => {
  const err = t.throws(() => scenarioFromObject({ devices: [{ serial: 11, hostname: 'a', current_version: '10.0.2' }] }), { instanceOf: ScenarioError });
  t.is(err?.file, '<inline>');
  t.is(err?.line, undefined);
  t.is(err?.path, 'devices[0].serial');
  t.is(err?.problem, 'serial must be a quoted string of digits (YAML reads 11 as the number 11); write serial: "11"');
});

test('defaults: when a scenario gives only devices then name, seed, key, admins, Panorama and timing take their defaults', (t) => {
  const s = parseScenario(y(...TWO.slice(1, 6)), 'scenarios/tiny.yml', { env: {} });
  t.is(s.file, 'scenarios/tiny.yml');
  t.is(s.name, 'tiny');
  t.is(s.description, '');
  t.is(s.seed, 1);
  t.is(s.apiKey, 'test-api-key');
  t.deepEqual(s.admins, [{ username: 'admin', password: 'admin' }]);
  t.deepEqual(s.panorama, { ...DEFAULT_PANORAMA });
  t.deepEqual(s.failures, []);
  t.deepEqual(s.upgradePaths, {});
  const d = s.devices[0];
  t.like(d, { model: 'PA-VM', family: 'vm', connected: true, downloaded: [] });
  t.is(d?.content.installed, '8700-7000');
  t.deepEqual(d?.content.available.map((c) => c.version), ['8700-7000', '8750-7100', '8800-7200', '8850-7300']);
});

test('defaults: when defaults are given then every device takes them and its own fields win, metrics field by field', (t) => {
  const text = y(
    'defaults:',
    '  model: PA-3220',
    '  available_versions: ["10.1.0", "11.1.0"]',
    '  content_version: "8750-7100"',
    '  connected: false',
    '  metrics: { tcp_sessions: 1000, route_count: 50, disk_space_gb: 10 }',
    'devices:',
    '  - { serial: "1", hostname: a, current_version: "10.0.2" }',
    '  - { serial: "2", hostname: b, current_version: "10.1.0", model: PA-440, connected: true, metrics: { tcp_sessions: 7 } }',
  );
  const [a, b] = parse(text).devices;
  t.like(a, { model: 'PA-3220', family: '3200', connected: false });
  t.deepEqual(a?.images.map((i) => i.version), ['10.0.2', '10.1.0', '11.1.0']);
  t.like(a?.metrics, { tcpSessions: 1000, routes: 50 });
  t.like(b, { model: 'PA-440', family: '400', connected: true });
  t.like(b?.metrics, { tcpSessions: 7, routes: 50 });
  t.deepEqual(b?.disk, { panrepoTotalMb: 10 * 1024, panrepoUsedMb: 0 });
  t.is(b?.content.installed, '8750-7100');
  fails(t, y('defaults:', '  serial: "1"', ...TWO.slice(1)), 2, 'defaults.serial', /^unknown field "serial" \(expected one of: model, current_version,/);
});

test('metrics: when a device gives none then they follow its model, the same for every load of one seed', (t) => {
  const text = (seed: number): string => y(`seed: ${seed}`, 'devices:', '  - { serial: "1", hostname: a, current_version: "10.0.2", model: PA-5260 }', '  - { serial: "2", hostname: b, current_version: "10.0.2", model: PA-440 }');
  const [big, small] = parse(text(5)).devices;
  t.deepEqual(parse(text(5)).devices[0]?.metrics, big?.metrics);
  t.notDeepEqual(parse(text(6)).devices[0]?.metrics, big?.metrics);
  t.true((big?.metrics.tcpSessions ?? 0) > (small?.metrics.tcpSessions ?? 0) * 10);
  t.true(Object.values(big!.metrics).every((v) => Number.isInteger(v) && v > 0));
});

test('disk: when images are downloaded then used space is their size and total is used plus the free disk_space_gb', (t) => {
  const text = y(
    'images:',
    '  - { version: "10.1.0", size_mb: 1024, released_on: "2021/05/20 10:00:00", min_content: "8390-6607" }',
    'devices:',
    '  - serial: "1"',
    '    hostname: a',
    '    current_version: "10.0.2"',
    '    available_versions: ["10.1.0", "11.1.0"]',
    '    downloaded_versions: ["10.1.0", "11.1.0"]',
    '    metrics: { disk_space_gb: 4.5 }',
    '  - { serial: "2", hostname: b, current_version: "10.0.2", metrics: { disk_space_gb: 4, disk_total_gb: 10 } }',
    '  - { serial: "3", hostname: c, current_version: "10.0.2", metrics: { disk_space_gb: 8, disk_total_gb: 7 } }',
  );
  fails(t, text, 11, 'devices[2].metrics.disk_total_gb', 'disk_total_gb (7 GB) is smaller than the free space (8 GB) plus the downloaded images (0 MB)');
  const [a, b] = parse(y(...text.trimEnd().split('\n').slice(0, -1))).devices;
  t.deepEqual(a?.disk, { panrepoUsedMb: 1024 + 2048, panrepoTotalMb: 1024 + 2048 + 4608 });
  t.deepEqual(b?.disk, { panrepoUsedMb: 6 * 1024, panrepoTotalMb: 10 * 1024 });
  t.deepEqual(a?.images.find((i) => i.version === '10.1.0'), { version: '10.1.0', sizeMb: 1024, releasedOn: '2021/05/20 10:00:00', minContentVersion: '8390-6607' });
  const other = a?.images.find((i) => i.version === '11.1.0');
  t.is(other?.sizeMb, 2048);
  t.regex(other?.releasedOn ?? '', /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/);
  t.false(other !== undefined && 'minContentVersion' in other);
});

test('images: when a device lists versions out of order without its current one then images are sorted and include it', (t) => {
  const s = parse(y('devices:', '  - { serial: "1", hostname: a, current_version: "10.1.9-h1", available_versions: ["11.1.0", "10.1.9", "10.2.0"] }'));
  t.deepEqual(s.devices[0]?.images.map((i) => i.version), ['10.1.9', '10.1.9-h1', '10.2.0', '11.1.0']);
  fails(t, y('devices:', '  - { serial: "1", hostname: a, current_version: "10.0.2", available_versions: ["10.1.0", "10.1.0"] }'), 2, 'devices[0].available_versions[1]', '10.1.0 is listed twice in available_versions');
});

test('memory: when devices have the same version and content lists then they share one frozen array of shared images', (t) => {
  const text = y(
    'defaults:',
    '  available_versions: ["10.0.2", "10.1.0", "11.1.0"]',
    'devices:',
    '  - { serial: "1", hostname: a, current_version: "10.0.2" }',
    '  - { serial: "2", hostname: b, current_version: "10.0.2" }',
    '  - { serial: "3", hostname: c, current_version: "10.1.0", available_versions: ["11.1.0", "10.0.2", "10.1.0"] }',
    '  - { serial: "4", hostname: d, current_version: "10.2.0" }',
  );
  const [a, b, c, d] = parse(text).devices;
  t.is(a?.images, b?.images);
  t.is(a?.images, c?.images);
  t.not(a?.images, d?.images);
  t.is(a?.images[0], d?.images[0]);
  t.is(a?.content.available, d?.content.available);
  t.not(a?.downloaded, b?.downloaded);
  t.true(Object.isFrozen(a?.images) && Object.isFrozen(a?.images[0]) && Object.isFrozen(a?.content.available));
  t.throws(() => (a!.images as unknown as string[]).push('x'), { instanceOf: TypeError });
});

test('modelFamily: when given PAN-OS model names then it derives the platform family', (t) => {
  const cases: [string, string | undefined][] = [
    ['PA-VM', 'vm'],
    ['PA-VM-300', 'vm'],
    ['PA-3220', '3200'],
    ['PA-440', '400'],
    ['PA-5260', '5200'],
    ['PA-7050', '7000'],
    ['PA-850', '800'],
    ['PA-220', '200'],
    ['PA-1410', '1400'],
    ['Panorama', undefined],
    ['PA3220', undefined],
  ];
  for (const [model, family] of cases) t.is(modelFamily(model), family, model);
});

test('admins: when given then they replace the default admin, and a repeated user is an error', (t) => {
  t.deepEqual(parse(y('admins:', '  - { username: admin, password: "paloalto" }', ...TWO.slice(1))).admins, [{ username: 'admin', password: 'paloalto' }]);
  fails(t, y('admins:', '  - { username: admin, password: "a" }', '  - { username: admin, password: "b" }', ...TWO.slice(1)), 3, 'admins[1].username', 'user "admin" is already listed as admins[0]');
  // A password's value is never repeated in an error, only its kind.
  fails(t, y('admins:', '  - { username: admin, password: 12345678 }', ...TWO.slice(1)), 2, 'admins[0].password', 'password must be a quoted string, got a number');
  fails(t, y('api_key: 987654321', ...TWO.slice(1)), 1, 'api_key', 'api_key must be a quoted string, got a number');
});

test('YAML anchors: when a list is shared with an alias then it loads like the written-out list', (t) => {
  const s = parse(y('devices:', '  - { serial: "1", hostname: a, current_version: "10.0.2", available_versions: &v ["10.1.0"] }', '  - { serial: "2", hostname: b, current_version: "10.0.2", available_versions: *v }', '  - { serial: "3", hostname: c, current_version: "10.0.2", downloaded_versions: *v, available_versions: ["10.1.0", "11.1.0"] }'));
  t.is(s.devices[0]?.images, s.devices[1]?.images);
  t.deepEqual(s.devices[2]?.downloaded, ['10.1.0']);
  fails(t, y('devices:', '  - { serial: "1", hostname: a, current_version: "10.0.2", available_versions: &v ["10.1.0"] }', '  - { serial: "2", hostname: b, current_version: "10.0.2", downloaded_versions: *v }'), 3, 'devices[1].downloaded_versions[0]', /10\.1\.0 is listed as downloaded but is not among the available versions \(10\.0\.2\)/);
});
