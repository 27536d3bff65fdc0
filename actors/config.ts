import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PanosUpgradeError, ValidationError } from '../panos/errors.ts';
import { isVersion } from '../panos/version.ts';
import { DEFAULT_THRESHOLDS, type CheckThresholds } from '../machines/upgrade-job.events.ts';

/** Everything the daemon needs to drive a fleet. Stored as `config.json` (mode 0600) in the data dir. */
export interface DaemonConfig {
  panorama: { host: string; apiKey: string; username: string; password: string };
  /** Credentials for direct firewall connections; empty = the Panorama's. */
  firewall: { apiKey: string; username: string; password: string; port: number | null };
  protocol: 'https' | 'http';
  tls: { caFile: string; fingerprint: string; insecure: boolean };
  /** Devices (or HA pairs) upgraded at the same time. */
  concurrency: number;
  /** Requests per second to Panorama. */
  rateLimit: number;
  upgrade: { pathsFile: string; paths: Record<string, string[]>; maxSkippedReleases: number; updateContent: boolean };
  downloads: { direct: boolean };
  install: { via: 'panorama' | 'direct' };
  retries: { maxAttempts: number; backoffSeconds: number };
  thresholds: CheckThresholds;
  timeouts: {
    apiSeconds: number;
    jobSeconds: number;
    rebootSeconds: number;
    /** Per model, e.g. { "PA-7050": 3600 }. */
    rebootSecondsByModel: Record<string, number>;
    rebootStartGraceSeconds: number;
  };
  poll: { jobSeconds: number; rebootSeconds: number };
  ha: { strategy: 'passive-first' | 'active-first'; pauseBetweenPeers: boolean };
}

export const DEFAULT_CONFIG: DaemonConfig = {
  panorama: { host: '', apiKey: '', username: '', password: '' },
  firewall: { apiKey: '', username: '', password: '', port: null },
  protocol: 'https',
  tls: { caFile: '', fingerprint: '', insecure: false },
  concurrency: 10,
  rateLimit: 20,
  upgrade: { pathsFile: '', paths: {}, maxSkippedReleases: 0, updateContent: true },
  downloads: { direct: true },
  install: { via: 'panorama' },
  retries: { maxAttempts: 3, backoffSeconds: 30 },
  thresholds: DEFAULT_THRESHOLDS,
  timeouts: { apiSeconds: 30, jobSeconds: 3600, rebootSeconds: 1800, rebootSecondsByModel: { 'PA-7050': 3600, 'PA-7080': 3600, 'PA-5450': 2700 }, rebootStartGraceSeconds: 300 },
  poll: { jobSeconds: 5, rebootSeconds: 10 },
  ha: { strategy: 'passive-first', pauseBetweenPeers: false },
};

type Kind = 'string' | 'secret' | 'number' | 'int' | 'boolean' | 'enum' | 'version-map' | 'json';

interface KeySpec {
  path: string[];
  kind: Kind;
  values?: readonly string[];
  min?: number;
  help: string;
}

/** The keys `config set|get|list` know, in the order `config list` shows them. */
export const CONFIG_KEYS: Record<string, KeySpec> = {
  'panorama.host': { path: ['panorama', 'host'], kind: 'string', help: 'Panorama address, host or host:port' },
  'panorama.api_key': { path: ['panorama', 'apiKey'], kind: 'secret', help: 'API key for Panorama (or use username/password)' },
  'panorama.username': { path: ['panorama', 'username'], kind: 'string', help: 'admin user for keygen' },
  'panorama.password': { path: ['panorama', 'password'], kind: 'secret', help: 'password for keygen' },
  'firewall.api_key': { path: ['firewall', 'apiKey'], kind: 'secret', help: 'API key for direct firewall connections (default: Panorama’s)' },
  'firewall.username': { path: ['firewall', 'username'], kind: 'string', help: 'admin user on the firewalls (default: Panorama’s)' },
  'firewall.password': { path: ['firewall', 'password'], kind: 'secret', help: 'password on the firewalls' },
  'firewall.port': { path: ['firewall', 'port'], kind: 'int', min: 1, help: 'management port of the firewalls (default: Panorama’s port)' },
  protocol: { path: ['protocol'], kind: 'enum', values: ['https', 'http'], help: 'https (default) or http' },
  'tls.ca_file': { path: ['tls', 'caFile'], kind: 'string', help: 'PEM file of the CA that signed the management certificates' },
  'tls.fingerprint': { path: ['tls', 'fingerprint'], kind: 'string', help: 'pin the server certificate by its SHA-256 fingerprint' },
  'tls.insecure': { path: ['tls', 'insecure'], kind: 'boolean', help: 'skip certificate verification (self-signed labs only)' },
  concurrency: { path: ['concurrency'], kind: 'int', min: 1, help: 'devices (or HA pairs) upgraded at the same time' },
  rate_limit: { path: ['rateLimit'], kind: 'number', min: 0.1, help: 'API requests per second to Panorama' },
  'upgrade.paths_file': { path: ['upgrade', 'pathsFile'], kind: 'string', help: 'YAML/JSON file mapping current version → versions to install' },
  'upgrade.max_skipped_releases': { path: ['upgrade', 'maxSkippedReleases'], kind: 'int', min: 0, help: 'feature releases one hop may skip (PAN-OS 10.1+; 0 = none)' },
  'upgrade.update_content': { path: ['upgrade', 'updateContent'], kind: 'boolean', help: 'install the latest content before upgrading' },
  'downloads.direct': { path: ['downloads', 'direct'], kind: 'boolean', help: 'download straight from each firewall’s management address' },
  'install.via': { path: ['install', 'via'], kind: 'enum', values: ['panorama', 'direct'], help: 'send install and reboot through Panorama or directly' },
  'retries.max_attempts': { path: ['retries', 'maxAttempts'], kind: 'int', min: 1, help: 'attempts per step for retryable failures' },
  'retries.backoff_seconds': { path: ['retries', 'backoffSeconds'], kind: 'number', min: 0, help: 'first retry delay, doubled each attempt' },
  'thresholds.sessions_pct': { path: ['thresholds', 'sessionsPct'], kind: 'number', min: 0, help: 'allowed change of TCP sessions after upgrade, %' },
  'thresholds.routes_delta': { path: ['thresholds', 'routesDelta'], kind: 'int', min: 0, help: 'allowed change of the route count (0 = exact)' },
  'thresholds.arp_pct': { path: ['thresholds', 'arpPct'], kind: 'number', min: 0, help: 'allowed change of ARP entries, %' },
  'thresholds.arp_delta': { path: ['thresholds', 'arpDelta'], kind: 'int', min: 0, help: 'allowed change of ARP entries, count' },
  'timeouts.api_seconds': { path: ['timeouts', 'apiSeconds'], kind: 'number', min: 0.1, help: 'per API call' },
  'timeouts.job_seconds': { path: ['timeouts', 'jobSeconds'], kind: 'number', min: 1, help: 'per PAN-OS download/install job' },
  'timeouts.reboot_seconds': { path: ['timeouts', 'rebootSeconds'], kind: 'number', min: 1, help: 'reboot budget (default for models not listed)' },
  'timeouts.reboot_seconds_by_model': { path: ['timeouts', 'rebootSecondsByModel'], kind: 'json', help: 'reboot budget per model, JSON: {"PA-7050": 3600}' },
  'timeouts.reboot_start_grace_seconds': { path: ['timeouts', 'rebootStartGraceSeconds'], kind: 'number', min: 1, help: 'how long a device may keep answering after a restart' },
  'poll.job_seconds': { path: ['poll', 'jobSeconds'], kind: 'number', min: 0.01, help: 'interval between show jobs polls' },
  'poll.reboot_seconds': { path: ['poll', 'rebootSeconds'], kind: 'number', min: 0.01, help: 'interval between polls while a device reboots' },
  'ha.strategy': { path: ['ha', 'strategy'], kind: 'enum', values: ['passive-first', 'active-first'], help: 'which HA peer to upgrade first' },
  'ha.pause_between_peers': { path: ['ha', 'pauseBetweenPeers'], kind: 'boolean', help: 'wait for an operator’s go between the two peers' },
};

export class ConfigError extends PanosUpgradeError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

export function configPath(dataDir: string): string {
  return join(dataDir, 'config.json');
}

function getAt(obj: unknown, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function setAt<T>(obj: T, path: string[], value: unknown): T {
  const [head, ...rest] = path;
  if (!head) return value as T;
  const o = (obj ?? {}) as Record<string, unknown>;
  return { ...o, [head]: setAt(o[head], rest, value) } as T;
}

/** Parse and check a value given on the command line for `key`. */
export function parseConfigValue(key: string, raw: string): unknown {
  const spec = CONFIG_KEYS[key];
  if (!spec) throw new ValidationError(`unknown config key "${key}"; run "panos-upgrade config list" to see the keys`, key);
  switch (spec.kind) {
    case 'string':
    case 'secret':
      return raw;
    case 'boolean':
      if (/^(true|yes|on|1)$/i.test(raw)) return true;
      if (/^(false|no|off|0)$/i.test(raw)) return false;
      throw new ValidationError(`${key} must be true or false, got "${raw}"`, key);
    case 'number':
    case 'int': {
      const n = Number(raw);
      if (!Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n))) throw new ValidationError(`${key} must be ${spec.kind === 'int' ? 'a whole number' : 'a number'}, got "${raw}"`, key);
      if (spec.min !== undefined && n < spec.min) throw new ValidationError(`${key} must be at least ${spec.min}, got ${n}`, key);
      return n;
    }
    case 'enum':
      if (!spec.values!.includes(raw)) throw new ValidationError(`${key} must be one of ${spec.values!.join(', ')}, got "${raw}"`, key);
      return raw;
    case 'json': {
      try {
        const v = JSON.parse(raw) as unknown;
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        return v;
      } catch {
        throw new ValidationError(`${key} must be a JSON object, got ${JSON.stringify(raw)}`, key);
      }
    }
    case 'version-map':
      return raw;
  }
}

export function getConfigValue(config: DaemonConfig, key: string): unknown {
  const spec = CONFIG_KEYS[key];
  if (!spec) throw new ValidationError(`unknown config key "${key}"; run "panos-upgrade config list" to see the keys`, key);
  return getAt(config, spec.path);
}

export function setConfigValue(config: DaemonConfig, key: string, raw: string): DaemonConfig {
  const spec = CONFIG_KEYS[key]!;
  return setAt(config, spec ? spec.path : [key], parseConfigValue(key, raw));
}

/** A value as `config get|list` shows it: secrets masked. */
export function displayValue(key: string, value: unknown): string {
  const spec = CONFIG_KEYS[key];
  if (spec?.kind === 'secret') return typeof value === 'string' && value.length > 0 ? maskSecret(value) : '';
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function maskSecret(value: string): string {
  return value.length <= 4 ? '****' : `****${value.slice(-4)}`;
}

function merge<T>(base: T, over: unknown): T {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return (over === undefined ? base : over) as T;
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
  return out as T;
}

/** Read the config file (defaults for what it lacks); a malformed file is a ConfigError naming it. */
export function loadConfig(dataDir: string): DaemonConfig {
  const file = configPath(dataDir);
  if (!existsSync(file)) return structuredClone(DEFAULT_CONFIG);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${(err as Error).message}); fix it or remove it and set the values again`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file} must hold a JSON object`);
  const config = merge(structuredClone(DEFAULT_CONFIG), raw);
  checkConfig(config, file);
  return config;
}

function checkConfig(config: DaemonConfig, file: string): void {
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    const v = getAt(config, spec.path);
    const bad = (what: string): never => {
      throw new ConfigError(`${file}: ${key} ${what} (got ${JSON.stringify(v)})`);
    };
    if (spec.kind === 'string' || spec.kind === 'secret') {
      if (typeof v !== 'string') bad('must be a string');
    } else if (spec.kind === 'boolean') {
      if (typeof v !== 'boolean') bad('must be true or false');
    } else if (spec.kind === 'number' || spec.kind === 'int') {
      if (v === null && key === 'firewall.port') continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) bad('must be a number');
      if (spec.kind === 'int' && !Number.isInteger(v)) bad('must be a whole number');
      if (spec.min !== undefined && (v as number) < spec.min) bad(`must be at least ${spec.min}`);
    } else if (spec.kind === 'enum') {
      if (!spec.values!.includes(v as string)) bad(`must be one of ${spec.values!.join(', ')}`);
    } else if (spec.kind === 'json') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('must be a JSON object');
    }
  }
  const paths: unknown = config.upgrade.paths;
  if (paths === null || typeof paths !== 'object' || Array.isArray(paths)) {
    throw new ConfigError(`${file}: upgrade.paths must map versions to lists of versions (got ${JSON.stringify(paths)})`);
  }
  for (const [from, hops] of Object.entries(config.upgrade.paths)) {
    if (!isVersion(from) || !Array.isArray(hops) || !hops.every(isVersion)) {
      throw new ConfigError(`${file}: upgrade.paths["${from}"] must map a version to a list of versions`);
    }
  }
}

/** Write the config atomically with mode 0600: it holds secrets. */
export function saveConfig(dataDir: string, config: DaemonConfig): void {
  const file = configPath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
