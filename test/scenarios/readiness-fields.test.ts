import test, { type ExecutionContext } from 'ava';
import { fileURLToPath } from 'node:url';
import { ScenarioError } from '../../panos/errors.ts';
import { loadScenarioFile, parseScenario } from '../../scenarios/index.ts';
import { faultsFor } from '../../simulator/device-factory.ts';

const dir = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const y = (...lines: string[]): string => `${lines.join('\n')}\n`;

const BASE = [
  'api_key: "k"', // 1
  'defaults:', // 2
  '  current_version: "10.1.0"', // 3
  '  readiness: { ntp_servers: [ntp1.example.com], bgp_peers: 3 }', // 4
  'devices:', // 5
  '  - serial: "1"', // 6
  '    hostname: a', // 7
  '  - serial: "2"', // 8
  '    hostname: b', // 9
  '    readiness:', // 10
  '      ipsec_tunnels: 0', // 11
  '      critical_sessions: [{ source: 10.0.0.5, destination: 8.8.8.8, port: 53, protocol: udp }]', // 12
];

function fails(t: ExecutionContext, text: string, line: number, path: string, problem: RegExp): void {
  const err = t.throws(() => parseScenario(text, 'bad.yaml', { env: {} }), { instanceOf: ScenarioError });
  t.is(err?.line, line);
  t.is(err?.path, path);
  t.regex(err?.problem ?? '', problem);
}

test('readiness fields: when a device has its own readiness block then it goes over the defaults field by field', (t) => {
  const s = parseScenario(y(...BASE), 'ok.yaml', { env: {} });
  const [a, b] = s.devices;
  t.deepEqual(a?.readiness, { ntpServers: ['ntp1.example.com'], bgpPeers: 3 });
  t.deepEqual(b?.readiness, { ntpServers: ['ntp1.example.com'], bgpPeers: 3, ipsecTunnels: 0, criticalSessions: [{ source: '10.0.0.5', destination: '8.8.8.8', port: 53, protocol: 17 }] });
});

test('readiness fields: when devices take readiness from defaults only then they share one frozen object', (t) => {
  const s = parseScenario(y(...BASE.slice(0, 9)), 'ok.yaml', { env: {} });
  t.is(s.devices[0]?.readiness, s.devices[1]?.readiness);
  t.true(Object.isFrozen(s.devices[0]?.readiness));
});

test('readiness fields: when a field is wrong then the error names the file, line and field', (t) => {
  fails(t, y(...BASE.slice(0, 3), '  readiness: { bgp_peer: 3 }', ...BASE.slice(4)), 4, 'defaults.readiness.bgp_peer', /unknown field "bgp_peer" \(did you mean bgp_peers\?\)/);
  fails(t, y(...BASE.slice(0, 10), '      ipsec_tunnels: many'), 11, 'devices[1].readiness.ipsec_tunnels', /must be a whole number/);
  fails(t, y(...BASE.slice(0, 10), '      license_expires: 2027-13-01'), 11, 'devices[1].readiness.license_expires', /"YYYY-MM-DD"/);
  fails(t, y(...BASE.slice(0, 10), '      update_schedules: { threats: "at noon" }'), 11, 'devices[1].readiness.update_schedules.threats', /must be a schedule like "daily 03:15"/);
  fails(t, y(...BASE.slice(0, 10), '      critical_sessions: [{ source: 10.0.0.5, port: 53 }]'), 11, 'devices[1].readiness.critical_sessions[0]', /missing required field "destination"/);
});

test('readiness failures: when a readiness failure has no or an unknown mode then the error lists the modes', (t) => {
  fails(t, y(...BASE, 'failures:', '  - { device: "1", operation: readiness }'), 14, 'failures[0]', /a readiness failure needs a mode: license_expired, .*weak_certificate/);
  fails(t, y(...BASE, 'failures:', '  - { device: "1", operation: readiness, mode: bgp_down }'), 14, 'failures[0].mode', /unknown readiness failure mode "bgp_down"/);
  fails(t, y(...BASE, 'failures:', '  - { device: "1", operation: readiness, mode: ntp_unsynced }', '  - { device: "1", operation: readiness, mode: ntp_unsynced }'), 15, 'failures[1]', /already has a readiness ntp_unsynced failure/);
});

test('readiness failures: when failure_rate is a share then about that share of the fleet gets the fault, the same on every load', (t) => {
  const devices = Array.from({ length: 400 }, (_, i) => `  - { serial: "${1000 + i}", hostname: fw-${i} }`);
  const text = y('api_key: "k"', 'defaults: { current_version: "10.1.0" }', 'devices:', ...devices, 'failures:', '  - { device: "*", operation: readiness, mode: license_expired, failure_rate: 0.25 }');
  const s = parseScenario(text, 'fleet.yaml', { env: {} });
  const hit = s.devices.filter((d) => faultsFor(s.failures, d.serial, s.seed).readiness?.licenseExpired === true).length;
  t.true(hit > 60 && hit < 140, `${hit} of 400`);
  const again = s.devices.filter((d) => faultsFor(s.failures, d.serial, s.seed).readiness?.licenseExpired === true).length;
  t.is(again, hit);
});

test('readiness.yaml: when loaded then every readiness failure mode but the CPU and memory ones is on a chosen device, and fw-ok-01 has none', (t) => {
  const s = loadScenarioFile(`${dir}readiness.yaml`, { env: {} });
  const ok = s.devices.find((d) => d.hostname === 'fw-ok-01')!;
  t.deepEqual(faultsFor(s.failures, ok.serial, s.seed).readiness, undefined);
  const modes = new Set(s.failures.map((f) => f.mode));
  for (const m of ['license_expired', 'support_expired', 'ntp_unsynced', 'clock_skew', 'config_lock', 'commit_lock', 'pending_changes', 'bgp_peer_down', 'tunnel_down', 'high_dp_cpu', 'environmental_alarm', 'low_disk', 'ha_not_synced']) {
    t.true(modes.has(m), m);
  }
  t.is(faultsFor(s.failures, '007054000103', s.seed).readiness?.clockSkewSeconds, 30);
});
