import test from 'ava';
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import {
  CONFIG_KEYS,
  ConfigError,
  parseConfig,
  DEFAULT_CONFIG,
  configPath,
  displayValue,
  getConfigValue,
  loadConfig,
  maskSecret,
  parseConfigValue,
  saveConfig,
  setConfigValue,
} from '../../actors/config.ts';
import { ValidationError } from '../../panos/errors.ts';
import { parseHost } from '../../panos/host.ts';
import { tempDir } from '../helpers/index.ts';

/** A valid command-line value for each kind of key, and what it parses to. */
const VALID: Record<string, [raw: string, parsed: unknown]> = {
  string: ['panorama.example.net:8443', 'panorama.example.net:8443'],
  secret: ['LUFRPT14MW5xOEo1R09KVlBZNnpnemh0VHRBOWl6TGM9bXcwM3JHUGVhRlNiY0dCR0srNERUQT09', 'LUFRPT14MW5xOEo1R09KVlBZNnpnemh0VHRBOWl6TGM9bXcwM3JHUGVhRlNiY0dCR0srNERUQT09'],
  boolean: ['yes', true],
  number: ['7', 7],
  port: ['8443', 8443],
  json: ['{"PA-7050": 5400}', { 'PA-7050': 5400 }],
};

const ENUMS: Record<string, string> = { protocol: 'http', 'install.via': 'direct', 'ha.strategy': 'active-first', 'panorama.host': 'pano.example.net:8443' };

function validFor(key: string): [string, unknown] {
  const spec = CONFIG_KEYS[key]!;
  const e = ENUMS[key];
  if (e) return [e, e];
  if (key === 'tls.fingerprint') return ['AB'.repeat(32), 'AB'.repeat(32)];
  if (key === 'ui.listen') return ['127.0.0.1:8470', '127.0.0.1:8470'];
  if (key === 'cluster.node_id') return ['daemon-a', 'daemon-a'];
  if (key === 'cluster.replicas') return ['3', 3];
  if (key === 'cluster.lease_seconds') return ['30', 30];
  if (key === 'cluster.heartbeat_seconds') return ['2.5', 2.5];
  const v = VALID[spec.kind];
  if (!v) throw new Error(`no sample for ${spec.kind}`);
  return v;
}

test('config: when every key is set to a valid value then it parses and reads back through its path', (t) => {
  for (const key of Object.keys(CONFIG_KEYS)) {
    const [raw, parsed] = validFor(key);
    t.deepEqual(parseConfigValue(key, raw), parsed, key);
    const config = setConfigValue(DEFAULT_CONFIG, key, raw);
    t.deepEqual(getConfigValue(config, key), parsed, key);
  }
  t.is(DEFAULT_CONFIG.concurrency, 10, 'setting a value never changes the defaults');
});

test('config: cluster.heartbeat_seconds over half of cluster.lease_seconds, or a node id with a dot, is refused with the rule', (t) => {
  t.is(
    t.throws(() => parseConfigValue('cluster.heartbeat_seconds', '8'), { instanceOf: ValidationError })?.message,
    'cluster.heartbeat_seconds must be at most half of cluster.lease_seconds (15), so a lease is renewed at least twice before it expires',
  );
  t.is(parseConfigValue('cluster.heartbeat_seconds', '7.5'), 7.5);
  t.is(t.throws(() => parseConfigValue('cluster.node_id', 'a.b'), { instanceOf: ValidationError })?.message, 'cluster.node_id must be letters, digits, - or _ (at most 64) (got "a.b")');
  t.is(t.throws(() => parseConfigValue('cluster.partitions', '0'), { instanceOf: ValidationError })?.message, 'cluster.partitions must be at least 1 (got 0)');
});

test('config: when a boolean is given then true/yes/on/1 and false/no/off/0 are accepted and anything else refused', (t) => {
  for (const raw of ['true', 'YES', 'on', '1']) t.true(parseConfigValue('tls.insecure', raw));
  for (const raw of ['false', 'No', 'off', '0']) t.false(parseConfigValue('tls.insecure', raw));
  const err = t.throws(() => parseConfigValue('tls.insecure', 'maybe'), { instanceOf: ValidationError });
  t.is(err?.message, 'tls.insecure must be true or false (got "maybe")');
  t.is((err as ValidationError | undefined)?.field, 'tls.insecure');
});

test('config: when a number or whole number is out of kind or below its minimum then it is refused with the rule', (t) => {
  t.is(t.throws(() => parseConfigValue('concurrency', '2.5'), { instanceOf: ValidationError })?.message, 'concurrency must be a whole number (got 2.5)');
  t.is(t.throws(() => parseConfigValue('concurrency', '0'), { instanceOf: ValidationError })?.message, 'concurrency must be at least 1 (got 0)');
  t.is(t.throws(() => parseConfigValue('rate_limit', 'fast'), { instanceOf: ValidationError })?.message, 'rate_limit must be a number (got "fast")');
  t.is(t.throws(() => parseConfigValue('rate_limit', 'Infinity'), { instanceOf: ValidationError })?.message, 'rate_limit must be a number (got "Infinity")');
  t.is(t.throws(() => parseConfigValue('retries.backoff_seconds', '-1'), { instanceOf: ValidationError })?.message, 'retries.backoff_seconds must be at least 0 (got -1)');
  t.is(parseConfigValue('retries.backoff_seconds', '0'), 0);
});

test('config: when an enum value is not one of its values then it is refused listing them', (t) => {
  t.is(parseConfigValue('protocol', 'http'), 'http');
  t.is(t.throws(() => parseConfigValue('protocol', 'ftp'), { instanceOf: ValidationError })?.message, 'protocol must be one of https, http (got "ftp")');
  t.is(
    t.throws(() => parseConfigValue('ha.strategy', 'both'), { instanceOf: ValidationError })?.message,
    'ha.strategy must be one of passive-first, active-first (got "both")',
  );
});

test('config: when a JSON key is not given a JSON object then it is refused', (t) => {
  const cases: Array<[string, string]> = [['[1,2]', '[1,2]'], ['null', 'null'], ['3600', '3600'], ['{"PA-7050":', '"{\\"PA-7050\\":"']];
  for (const [raw, got] of cases) {
    t.is(
      t.throws(() => parseConfigValue('timeouts.reboot_seconds_by_model', raw), { instanceOf: ValidationError })?.message,
      `timeouts.reboot_seconds_by_model must be a JSON object of model → seconds, e.g. {"PA-7050": 3600} (got ${got})`,
    );
  }
  t.is(
    t.throws(() => parseConfigValue('timeouts.reboot_seconds_by_model', '{"PA-7050": "an hour"}'), { instanceOf: ValidationError })?.message,
    'timeouts.reboot_seconds_by_model["PA-7050"] must be a whole number (got "an hour")',
  );
});

// issue 12: these were accepted by `config set`, and the daemon then refused to start.
test('config: when panorama.host is a URL, a bad port, has a space or is empty then config set refuses it in the words the client uses', (t) => {
  const cases: Array<[string, string]> = [
    ['https://x/', 'panorama.host must be host or host:port, not a URL (got "https://x/")'],
    ['host:99999', 'panorama.host must have a port from 1 to 65535 after the colon (got "host:99999")'],
    ['a b', 'panorama.host must be host or host:port, without spaces (got "a b")'],
    ['', 'panorama.host must not be empty: the daemon cannot start without it'],
  ];
  for (const [raw, message] of cases) {
    t.is(t.throws(() => setConfigValue(DEFAULT_CONFIG, 'panorama.host', raw), { instanceOf: ValidationError })?.message, message, raw);
  }
  for (const ok of ['pano.example.net', 'pano.example.net:8443', '10.0.0.1:443', '[fd00::1]:8443']) t.is(parseConfigValue('panorama.host', ok), ok);
  // The client that the daemon builds at start says the same after "host".
  for (const raw of ['https://x/', 'host:99999', 'a b']) {
    const daemonWords = t.throws(() => parseHost(raw, 443), { instanceOf: ValidationError })?.message.replace(/^host /, 'panorama.host ');
    const setWords = t.throws(() => setConfigValue(DEFAULT_CONFIG, 'panorama.host', raw))?.message;
    t.is(daemonWords, setWords, raw);
  }
});

test('config: when a file holds a value the daemon would refuse then loading names the file and says what config set says', (t) => {
  const dir = tempDir(t);
  writeFileSync(configPath(dir), JSON.stringify({ panorama: { host: 'host:99999' } }));
  const setWords = t.throws(() => setConfigValue(DEFAULT_CONFIG, 'panorama.host', 'host:99999'))?.message;
  t.is(t.throws(() => loadConfig(dir), { instanceOf: ConfigError })?.message, `${configPath(dir)}: ${setWords}`);
});

test('config: when a map is set to {} then it is cleared, and stays cleared after a save and a load', (t) => {
  const dir = tempDir(t);
  t.notDeepEqual(DEFAULT_CONFIG.timeouts.rebootSecondsByModel, {});
  const cleared = setConfigValue(DEFAULT_CONFIG, 'timeouts.reboot_seconds_by_model', '{}');
  t.deepEqual(cleared.timeouts.rebootSecondsByModel, {});
  saveConfig(dir, cleared);
  t.deepEqual(loadConfig(dir).timeouts.rebootSecondsByModel, {});
});

test('config: when config.json has unknown keys then loading reports each, with the likely meant key', (t) => {
  const dir = tempDir(t);
  const file = configPath(dir);
  writeFileSync(file, JSON.stringify({ panorama: { host: 'pano', api_key: 'k' }, concurency: 4 }));
  t.is(
    t.throws(() => loadConfig(dir), { instanceOf: ConfigError })?.message,
    `${file}: unknown key "panorama.api_key" (did you mean "panorama.apiKey"?): remove it; "panos-upgrade config list" shows the keys\n` +
      `${file}: unknown key "concurency": remove it; "panos-upgrade config list" shows the keys`,
  );
});

test('config: when TLS settings exclude each other then both orders of config set refuse, and the file too', (t) => {
  const pinned = setConfigValue(DEFAULT_CONFIG, 'tls.fingerprint', 'ab:'.repeat(31) + 'ab');
  const message =
    'tls.insecure cannot be true while tls.fingerprint is set: a checked certificate and no check exclude each other. ' +
    'Turn one off: panos-upgrade config set tls.insecure false, or panos-upgrade config set tls.fingerprint ""';
  t.is(t.throws(() => setConfigValue(pinned, 'tls.insecure', 'true'), { instanceOf: ValidationError })?.message, message);
  const insecure = setConfigValue(DEFAULT_CONFIG, 'tls.insecure', 'true');
  t.is(t.throws(() => setConfigValue(insecure, 'tls.fingerprint', 'AB'.repeat(32)), { instanceOf: ValidationError })?.message, message);
  t.regex(t.throws(() => setConfigValue(insecure, 'protocol', 'http'))?.message ?? '', /^protocol must be https while a tls\.\* option is set/);
  t.is(t.throws(() => parseConfig({ tls: { insecure: true, caFile: '/ca.pem' } }, 'F'))?.message.split(': ')[1], 'tls.insecure cannot be true while tls.ca_file is set');
});

test('config: when the port of the firewalls is set to "" then it goes back to Panorama\'s (null)', (t) => {
  const set = setConfigValue(DEFAULT_CONFIG, 'firewall.port', '8443');
  t.is(set.firewall.port, 8443);
  t.is(setConfigValue(set, 'firewall.port', '').firewall.port, null);
  t.is(t.throws(() => setConfigValue(set, 'firewall.port', '70000'))?.message, 'firewall.port must be at most 65535 (got 70000)');
});

test('config: every key of config set names a place in the schema, and every setting in the schema has a key', (t) => {
  const leaves: string[] = [];
  const walk = (o: unknown, path: string[]): void => {
    if (o !== null && typeof o === 'object' && !Array.isArray(o) && !['rebootSecondsByModel', 'paths'].includes(path.at(-1) ?? '')) {
      for (const [k, v] of Object.entries(o)) walk(v, [...path, k]);
    } else leaves.push(path.join('.'));
  };
  walk(DEFAULT_CONFIG, []);
  const keyed = Object.values(CONFIG_KEYS).map((s) => s.path.join('.'));
  t.deepEqual(leaves.filter((l) => !keyed.includes(l)), ['upgrade.paths'], 'only the inline paths map is file-only');
  t.deepEqual(keyed.filter((k) => !leaves.includes(k)), []);
});

test('config: when a key is unknown then get, set and parse refuse it pointing at config list', (t) => {
  const message = 'unknown config key "panorama.hostname"; run "panos-upgrade config list" to see the keys';
  t.is(t.throws(() => parseConfigValue('panorama.hostname', 'x'), { instanceOf: ValidationError })?.message, message);
  t.is(t.throws(() => getConfigValue(DEFAULT_CONFIG, 'panorama.hostname'), { instanceOf: ValidationError })?.message, message);
  t.is(t.throws(() => setConfigValue(DEFAULT_CONFIG, 'panorama.hostname', 'x'), { instanceOf: ValidationError })?.message, message);
});

test('config: when secrets are shown then only the last four characters of a long one are, and nothing of a short one', (t) => {
  t.is(maskSecret('LUFRPT14MW5xOEo1R09KVlBZ'), '****VlBZ');
  t.is(maskSecret('abcd'), '****');
  t.is(displayValue('panorama.api_key', 'LUFRPT14MW5xOEo1'), '****OEo1');
  // Four of a password's eight characters would be half of it.
  t.is(displayValue('panorama.password', 'hunter2!'), '****');
  t.is(maskSecret('hunter2hunter2x'), '****');
  t.is(displayValue('firewall.password', ''), '');
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    if (spec.kind === 'secret') t.false(displayValue(key, 'SuperSecretValue').includes('SuperSecret'), key);
  }
  t.is(displayValue('panorama.host', 'pano.example.net'), 'pano.example.net');
  t.is(displayValue('concurrency', 10), '10');
  t.is(displayValue('firewall.port', null), '');
  t.is(displayValue('timeouts.reboot_seconds_by_model', { 'PA-7050': 3600 }), '{"PA-7050":3600}');
});

test('config: when it is saved then the file has mode 0600 and loads back equal', (t) => {
  const dir = tempDir(t);
  const config = setConfigValue(setConfigValue(DEFAULT_CONFIG, 'panorama.api_key', 'LUFRPTsecret=='), 'concurrency', '4');
  saveConfig(dir, config);
  t.is(statSync(configPath(dir)).mode & 0o777, 0o600);
  t.deepEqual(loadConfig(dir), config);
  t.deepEqual(readdirSync(dir), ['config.json'], 'no temporary file is left behind');
});

test('config: when an existing world-readable file is saved over then it becomes 0600', (t) => {
  const dir = tempDir(t);
  writeFileSync(configPath(dir), '{}\n');
  chmodSync(configPath(dir), 0o644);
  saveConfig(dir, DEFAULT_CONFIG);
  t.is(statSync(configPath(dir)).mode & 0o777, 0o600);
});

test('config: when no file exists then the defaults load, as a copy', (t) => {
  const dir = tempDir(t);
  const config = loadConfig(dir);
  t.deepEqual(config, DEFAULT_CONFIG);
  config.thresholds.sessionsPct = 50;
  t.is(DEFAULT_CONFIG.thresholds.sessionsPct, 10);
});

test('config: when a file sets some keys then the rest come from the defaults, and a map it sets replaces the default map', (t) => {
  const dir = tempDir(t);
  writeFileSync(configPath(dir), JSON.stringify({ panorama: { host: 'pano' }, timeouts: { rebootSecondsByModel: { 'PA-440': 900 } } }));
  const config = loadConfig(dir);
  t.is(config.panorama.host, 'pano');
  t.is(config.panorama.apiKey, '');
  t.is(config.timeouts.rebootSeconds, DEFAULT_CONFIG.timeouts.rebootSeconds);
  t.deepEqual(config.timeouts.rebootSecondsByModel, { 'PA-440': 900 });
});

test('config: when the file is malformed then loading is a ConfigError naming the file', (t) => {
  const dir = tempDir(t);
  const file = configPath(dir);
  writeFileSync(file, '{"panorama": {"host": "pano",}');
  const err = t.throws(() => loadConfig(dir), { instanceOf: ConfigError });
  t.true(err?.message.startsWith(`${file} is not valid JSON (`), err?.message);
  t.is((err as ConfigError | undefined)?.code, 'CONFIG');

  writeFileSync(file, '[1, 2]');
  t.is(t.throws(() => loadConfig(dir), { instanceOf: ConfigError })?.message, `${file} must hold a JSON object`);
});

test('config: when a value in the file has the wrong kind then loading is a ConfigError naming the file and the key', (t) => {
  const dir = tempDir(t);
  const file = configPath(dir);
  const cases: Array<[unknown, string]> = [
    [{ concurrency: 'ten' }, `${file}: concurrency must be a whole number (got "ten")`],
    [{ concurrency: 0 }, `${file}: concurrency must be at least 1 (got 0)`],
    [{ concurrency: 2.5 }, `${file}: concurrency must be a whole number (got 2.5)`],
    [{ tls: { insecure: 'yes' } }, `${file}: tls.insecure must be true or false (got "yes")`],
    [{ protocol: 'ftp' }, `${file}: protocol must be one of https, http (got "ftp")`],
    [{ panorama: { apiKey: 42 } }, `${file}: panorama.api_key must be a string (got a number)`],
    [{ timeouts: { rebootSecondsByModel: 'PA-7050=3600' } }, `${file}: timeouts.reboot_seconds_by_model must be a JSON object of model → seconds, e.g. {"PA-7050": 3600} (got "PA-7050=3600")`],
    [{ upgrade: { paths: { '10.0.2': ['10.1.0', 'latest'] } } }, `${file}: upgrade.paths["10.0.2"][1] must be a PAN-OS version like 10.1.0 or 10.1.9-h1 (got "latest")`],
    [{ upgrade: { paths: { '10.0.2': ['10.1.0', '10.0.9'] } } }, `${file}: upgrade.paths["10.0.2"][1] must be newer than 10.1.0: an upgrade path only goes up (got "10.0.9")`],
    [{ upgrade: { paths: { '10.1': ['11.1.0'] } } }, `${file}: upgrade.paths["10.1"] has the key "10.1", not a PAN-OS version; write the full version in quotes, like "10.0.2"`],
    [{ upgrade: { paths: { '10.0.2': '10.1.0' } } }, `${file}: upgrade.paths["10.0.2"] must be a list of versions, e.g. ["10.1.0", "11.1.0"] (got "10.1.0")`],
    [{ upgrade: { paths: null } }, `${file}: upgrade.paths must be a map of current version → list of versions, e.g. "10.0.2": ["10.1.0", "11.1.0"] (got null)`],
  ];
  for (const [content, message] of cases) {
    writeFileSync(file, JSON.stringify(content));
    t.is(t.throws(() => loadConfig(dir), { instanceOf: ConfigError })?.message, message);
  }
  writeFileSync(file, JSON.stringify({ firewall: { port: null }, upgrade: { paths: { '10.0.2': ['10.1.0', '10.5.1', '11.1.0'] } } }));
  t.deepEqual(loadConfig(dir).upgrade.paths, { '10.0.2': ['10.1.0', '10.5.1', '11.1.0'] });
});

test('config: when a secret in config.json is of the wrong kind, or the file is not JSON, then the error names the key or the place and not the secret', (t) => {
  const wrongKind = t.throws(() => parseConfig({ panorama: { host: 'p', password: 12345678 } }, 'config.json'), { instanceOf: ConfigError });
  t.regex(wrongKind!.message, /^config\.json: panorama\.password must be a string/);
  t.false(wrongKind!.message.includes('12345678'), wrongKind!.message);
  const dir = tempDir(t);
  writeFileSync(configPath(dir), `{\n  "panorama": {\n    'password': 'Sup3rS3cret!'\n  }\n}\n`, { mode: 0o600 });
  const notJson = t.throws(() => loadConfig(dir), { instanceOf: ConfigError });
  t.regex(notJson!.message, /is not valid JSON/);
  for (let n = 4; n <= 'Sup3rS3cret!'.length; n++) t.false(notJson!.message.includes('Sup3rS3cret!'.slice(0, n)), notJson!.message);
  writeFileSync(configPath(dir), `{\n  "panorama": {\n    "password": "Sup3rS3cret!",\n  }\n}\n`, { mode: 0o600 });
  const trailing = t.throws(() => loadConfig(dir), { instanceOf: ConfigError });
  t.regex(trailing!.message, /line 4, column 3/);
  t.false(trailing!.message.includes('Sup3r'), trailing!.message);
});

test('config: a file the configuration names that is gone (or not a certificate) stops the daemon at start naming the key, as config set would have refused it', async (t) => {
  const { loadDaemonConfig } = await import('../../actors/paths-file.ts');
  const { saveConfig: save, DEFAULT_CONFIG: defaults, configPath: pathOf } = await import('../../actors/config.ts');
  const dir = tempDir(t);
  const ca = `${dir}/ca.pem`;
  save(dir, { ...defaults, tls: { ...defaults.tls, caFile: ca } });
  t.is(t.throws(() => loadDaemonConfig(dir))!.message, `${pathOf(dir)}: tls.ca_file: no such file: ${ca}; set it again with: panos-upgrade config set tls.ca_file FILE (or "" to unset it)`);
  writeFileSync(ca, 'not a certificate\n');
  t.regex(t.throws(() => loadDaemonConfig(dir))!.message, /tls\.ca_file: .*ca\.pem is not a PEM certificate/);
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  t.is(loadDaemonConfig(dir).tls.caFile, ca);
  save(dir, { ...defaults, nats: { ...defaults.nats, credsFile: `${dir}/gone.creds` } });
  t.regex(t.throws(() => loadDaemonConfig(dir))!.message, /nats\.creds_file: no such file: .*gone\.creds/);
});
