import test from 'ava';
import { DEFAULT_CONFIG, setConfigValue, type DaemonConfig } from '../../actors/config.ts';
import { simConfigValues, simRestartCommand } from '../../cli/commands/config-from-sim.ts';
import type { SimConnection } from '../../simulator/connection-file.ts';

const FP = 'AB:'.repeat(31) + 'AB';
const conn: SimConnection = {
  version: 1,
  url: 'https://127.0.0.1:8443',
  host: '127.0.0.1:8443',
  protocol: 'https',
  apiKey: 'sim-key-1234',
  fingerprint: FP,
  caFile: '/sim/tls/ca.pem',
  direct: true,
  scenario: '/repo/scenarios/basic.yaml',
  scenarioName: 'basic',
  natsUrl: 'nats://127.0.0.1:4333',
  subjectPrefix: 'panos',
  pid: 1,
  startedAt: '2026-12-04T12:00:00.000Z',
};

const apply = (base: DaemonConfig, c: SimConnection): DaemonConfig => simConfigValues(c).reduce((cfg, [k, v]) => setConfigValue(cfg, k, v), base);

test('config from-sim: when the configuration was set for a lab (tls.insecure, firewall.tls.insecure) then the pin replaces it without tripping the rule between them', (t) => {
  const lab = setConfigValue(setConfigValue(DEFAULT_CONFIG, 'tls.insecure', 'true'), 'firewall.tls.insecure', 'true');
  const next = apply(lab, conn);
  t.is(next.tls.fingerprint, FP);
  t.false(next.tls.insecure);
  t.is(next.tls.caFile, '');
  t.is(next.firewall.tls.caFile, '/sim/tls/ca.pem');
  t.is(next.panorama.host, '127.0.0.1:8443');
  t.is(next.panorama.apiKey, 'sim-key-1234');
});

test('config from-sim: when the simulator serves plain HTTP then every tls option is cleared before the protocol is set', (t) => {
  const pinned = apply(DEFAULT_CONFIG, conn);
  const { fingerprint: _fp, caFile: _ca, ...rest } = conn;
  const next = apply(pinned, { ...rest, protocol: 'http', url: 'http://127.0.0.1:8443' });
  t.is(next.protocol, 'http');
  t.is(next.tls.fingerprint, '');
  t.is(next.firewall.tls.caFile, '');
});

test('config from-sim: the command it prints to start the simulator again keeps its port, protocol and direct addresses', (t) => {
  const { fingerprint: _fp, caFile: _ca, ...plain } = conn;
  t.is(simRestartCommand('/sim', conn), 'panos-upgrade --data-dir /sim sim --scenario /repo/scenarios/basic.yaml');
  t.is(
    simRestartCommand('/sim', { ...plain, protocol: 'http', url: 'http://127.0.0.1:48913', host: '127.0.0.1:48913' }),
    'panos-upgrade --data-dir /sim sim --scenario /repo/scenarios/basic.yaml --port 48913 --http',
  );
  t.is(simRestartCommand("/my sims/lab's", { ...conn, direct: false, host: '127.0.0.1:9443' }), `panos-upgrade --data-dir '/my sims/lab'\\''s' sim --scenario /repo/scenarios/basic.yaml --port 9443 --no-direct`);
  t.is(simRestartCommand('/sim'), 'panos-upgrade --data-dir /sim sim');
  // The time scale it was started with (its durations) comes back too.
  t.is(simRestartCommand('/sim', { ...conn, timeScale: 0.1 }), 'panos-upgrade --data-dir /sim sim --scenario /repo/scenarios/basic.yaml --time-scale 0.1');
});
