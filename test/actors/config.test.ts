import test from 'ava';
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import {
  CONFIG_KEYS,
  ConfigError,
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
import { tempDir } from '../helpers/index.ts';

/** A valid command-line value for each kind of key, and what it parses to. */
const VALID: Record<string, [raw: string, parsed: unknown]> = {
  string: ['panorama.example.net:8443', 'panorama.example.net:8443'],
  secret: ['LUFRPT14MW5xOEo1R09KVlBZNnpnemh0VHRBOWl6TGM9bXcwM3JHUGVhRlNiY0dCR0srNERUQT09', 'LUFRPT14MW5xOEo1R09KVlBZNnpnemh0VHRBOWl6TGM9bXcwM3JHUGVhRlNiY0dCR0srNERUQT09'],
  boolean: ['yes', true],
  int: ['7', 7],
  number: ['2.5', 2.5],
  json: ['{"PA-7050": 5400}', { 'PA-7050': 5400 }],
};

function validFor(key: string): [string, unknown] {
  const spec = CONFIG_KEYS[key]!;
  if (spec.kind === 'enum') return [spec.values!.at(-1)!, spec.values!.at(-1)!];
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

test('config: when a boolean is given then true/yes/on/1 and false/no/off/0 are accepted and anything else refused', (t) => {
  for (const raw of ['true', 'YES', 'on', '1']) t.true(parseConfigValue('tls.insecure', raw));
  for (const raw of ['false', 'No', 'off', '0']) t.false(parseConfigValue('tls.insecure', raw));
  const err = t.throws(() => parseConfigValue('tls.insecure', 'maybe'), { instanceOf: ValidationError });
  t.is(err?.message, 'tls.insecure must be true or false, got "maybe"');
  t.is((err as ValidationError | undefined)?.field, 'tls.insecure');
});

test('config: when a number or whole number is out of kind or below its minimum then it is refused with the rule', (t) => {
  t.is(t.throws(() => parseConfigValue('concurrency', '2.5'), { instanceOf: ValidationError })?.message, 'concurrency must be a whole number, got "2.5"');
  t.is(t.throws(() => parseConfigValue('concurrency', '0'), { instanceOf: ValidationError })?.message, 'concurrency must be at least 1, got 0');
  t.is(t.throws(() => parseConfigValue('rate_limit', 'fast'), { instanceOf: ValidationError })?.message, 'rate_limit must be a number, got "fast"');
  t.is(t.throws(() => parseConfigValue('rate_limit', 'Infinity'), { instanceOf: ValidationError })?.message, 'rate_limit must be a number, got "Infinity"');
  t.is(t.throws(() => parseConfigValue('retries.backoff_seconds', '-1'), { instanceOf: ValidationError })?.message, 'retries.backoff_seconds must be at least 0, got -1');
  t.is(parseConfigValue('retries.backoff_seconds', '0'), 0);
});

test('config: when an enum value is not one of its values then it is refused listing them', (t) => {
  t.is(parseConfigValue('protocol', 'http'), 'http');
  t.is(t.throws(() => parseConfigValue('protocol', 'ftp'), { instanceOf: ValidationError })?.message, 'protocol must be one of https, http, got "ftp"');
  t.is(
    t.throws(() => parseConfigValue('ha.strategy', 'both'), { instanceOf: ValidationError })?.message,
    'ha.strategy must be one of passive-first, active-first, got "both"',
  );
});

test('config: when a JSON key is not given a JSON object then it is refused', (t) => {
  for (const raw of ['[1,2]', 'null', '3600', '{"PA-7050":']) {
    t.is(
      t.throws(() => parseConfigValue('timeouts.reboot_seconds_by_model', raw), { instanceOf: ValidationError })?.message,
      `timeouts.reboot_seconds_by_model must be a JSON object, got ${JSON.stringify(raw)}`,
    );
  }
});

test('config: when a key is unknown then get, set and parse refuse it pointing at config list', (t) => {
  const message = 'unknown config key "panorama.hostname"; run "panos-upgrade config list" to see the keys';
  t.is(t.throws(() => parseConfigValue('panorama.hostname', 'x'), { instanceOf: ValidationError })?.message, message);
  t.is(t.throws(() => getConfigValue(DEFAULT_CONFIG, 'panorama.hostname'), { instanceOf: ValidationError })?.message, message);
  t.is(t.throws(() => setConfigValue(DEFAULT_CONFIG, 'panorama.hostname', 'x'), { instanceOf: ValidationError })?.message, message);
});

test('config: when secrets are shown then only their last four characters are', (t) => {
  t.is(maskSecret('LUFRPT14MW5xOEo1R09KVlBZ'), '****VlBZ');
  t.is(maskSecret('abcd'), '****');
  t.is(displayValue('panorama.api_key', 'LUFRPT14MW5xOEo1'), '****OEo1');
  t.is(displayValue('panorama.password', 'hunter2!'), '****er2!');
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

test('config: when a file sets some keys then the rest come from the defaults', (t) => {
  const dir = tempDir(t);
  writeFileSync(configPath(dir), JSON.stringify({ panorama: { host: 'pano' }, timeouts: { rebootSecondsByModel: { 'PA-440': 900 } } }));
  const config = loadConfig(dir);
  t.is(config.panorama.host, 'pano');
  t.is(config.panorama.apiKey, '');
  t.is(config.timeouts.rebootSeconds, DEFAULT_CONFIG.timeouts.rebootSeconds);
  t.deepEqual(config.timeouts.rebootSecondsByModel, { ...DEFAULT_CONFIG.timeouts.rebootSecondsByModel, 'PA-440': 900 });
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
    [{ concurrency: 'ten' }, `${file}: concurrency must be a number (got "ten")`],
    [{ concurrency: 0 }, `${file}: concurrency must be at least 1 (got 0)`],
    [{ concurrency: 2.5 }, `${file}: concurrency must be a whole number (got 2.5)`],
    [{ tls: { insecure: 'yes' } }, `${file}: tls.insecure must be true or false (got "yes")`],
    [{ protocol: 'ftp' }, `${file}: protocol must be one of https, http (got "ftp")`],
    [{ panorama: { apiKey: 42 } }, `${file}: panorama.api_key must be a string (got 42)`],
    [{ timeouts: { rebootSecondsByModel: 'PA-7050=3600' } }, `${file}: timeouts.reboot_seconds_by_model must be a JSON object (got "PA-7050=3600")`],
    [{ upgrade: { paths: { '10.0.2': ['10.1.0', 'latest'] } } }, `${file}: upgrade.paths["10.0.2"] must map a version to a list of versions`],
    [{ upgrade: { paths: null } }, `${file}: upgrade.paths must map versions to lists of versions (got null)`],
  ];
  for (const [content, message] of cases) {
    writeFileSync(file, JSON.stringify(content));
    t.is(t.throws(() => loadConfig(dir), { instanceOf: ConfigError })?.message, message);
  }
  writeFileSync(file, JSON.stringify({ firewall: { port: null }, upgrade: { paths: { '10.0.2': ['10.1.0', '10.5.1', '11.1.0'] } } }));
  t.deepEqual(loadConfig(dir).upgrade.paths, { '10.0.2': ['10.1.0', '10.5.1', '11.1.0'] });
});
