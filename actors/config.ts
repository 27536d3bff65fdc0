import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PanosUpgradeError, ValidationError } from '../panos/errors.ts';
import { jsonErrorPlace } from '../panos/json-error.ts';
import { hostProblem } from '../panos/host.ts';
import { upgradePathsProblem } from '../panos/upgrade-path.ts';
import { listenProblem } from './listen-address.ts';
import { maskNatsUrl, NATS_CREDENTIAL_FILES, natsUrlProblem } from '../bus/nats-url.ts';
import { DEFAULT_THRESHOLDS } from '../machines/upgrade-job.events.ts';
import { DEFAULT_PARTITIONS, MAX_PARTITIONS } from '../cluster/partitions.ts';
import { ConfigError } from './config-error.ts';

// One schema for config.json: `config set` checks a typed value against it, loading the file parses with it,
// and the daemon parses with it at start, so a value is refused in the same words wherever it is read.
// Rules are worded as the end of "<key> …" ("must be at least 1"); the key and the value are added around them.

const int = (min: number, max?: number) => {
  const s = z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(min, { error: `must be at least ${min}` });
  return max === undefined ? s : s.max(max, { error: `must be at most ${max}` });
};
const num = (min: number) => z.number({ error: 'must be a number' }).min(min, { error: `must be at least ${min}` });
const bool = () => z.boolean({ error: 'must be true or false' });
const str = () => z.string({ error: 'must be a string' });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });

const host = str().refine((h) => h === '' || hostProblem(h) === undefined, { error: (iss) => hostProblem(String(iss.input)) ?? 'must be host or host:port' });
const fingerprint = str().refine((f) => f === '' || /^[0-9a-fA-F]{64}$/.test(normalizeFingerprintText(f)), {
  error: 'must be a SHA-256 fingerprint: 64 hex digits, colons allowed (AB:CD:…)',
});
const modelMap = z.record(str(), int(1), { error: 'must be a JSON object of model → seconds, e.g. {"PA-7050": 3600}' });
/** Upgrade paths, by the one rule of panos/upgrade-path.ts (each hop a version newer than the one before). */
export const upgradePathsSchema = z.custom<Record<string, string[]>>().superRefine((map, ctx) => {
  const found = upgradePathsProblem(map);
  if (found) ctx.addIssue({ code: 'custom', path: found.path, message: found.problem, params: { between: found.at === 'key' }, input: map });
});

const listenAddress = str().refine((l) => l === '' || listenProblem(l) === undefined, { error: (iss) => listenProblem(String(iss.input)) ?? 'must be a loopback host:port' });

/** config.json, as stored (camelCase). Unknown keys are refused; every key has its default. */
export const configSchema = z
  .strictObject({
    panorama: z
      .strictObject({ host: host.default(''), apiKey: str().default(''), username: str().default(''), password: str().default('') })
      .prefault({}),
    /** Credentials for direct firewall connections; empty = the Panorama's. */
    firewall: z
      .strictObject({
        apiKey: str().default(''),
        username: str().default(''),
        password: str().default(''),
        port: int(1, 65535).nullable().default(null),
        /** Trust for direct firewall connections; Panorama's tls.* never applies to them. */
        tls: z.strictObject({ caFile: str().default(''), trustOnFirstUse: bool().default(false), insecure: bool().default(false) }).prefault({}),
      })
      .prefault({}),
    protocol: oneOf(['https', 'http'] as const).default('https'),
    tls: z.strictObject({ caFile: str().default(''), fingerprint: fingerprint.default(''), insecure: bool().default(false) }).prefault({}),
    /** Devices (or HA pairs) upgraded at the same time. */
    concurrency: int(1).default(10),
    /** Requests per second to Panorama. */
    rateLimit: num(0.1).default(20),
    upgrade: z
      .strictObject({
        pathsFile: str().default(''),
        paths: upgradePathsSchema.default(() => ({})),
        maxSkippedReleases: int(0).default(0),
        updateContent: bool().default(true),
      })
      .prefault({}),
    downloads: z.strictObject({ direct: bool().default(true) }).prefault({}),
    install: z.strictObject({ via: oneOf(['panorama', 'direct'] as const).default('panorama') }).prefault({}),
    retries: z.strictObject({ maxAttempts: int(1).default(3), backoffSeconds: num(0).default(30) }).prefault({}),
    thresholds: z
      .strictObject({
        sessionsPct: num(0).default(DEFAULT_THRESHOLDS.sessionsPct),
        routesDelta: int(0).default(DEFAULT_THRESHOLDS.routesDelta),
        arpPct: num(0).default(DEFAULT_THRESHOLDS.arpPct),
        arpDelta: int(0).default(DEFAULT_THRESHOLDS.arpDelta),
      })
      .prefault({}),
    timeouts: z
      .strictObject({
        apiSeconds: num(0.1).default(30),
        jobSeconds: num(1).default(3600),
        rebootSeconds: num(1).default(1800),
        /** Per model, e.g. { "PA-7050": 3600 }; replaced as a whole, so `{}` clears it. */
        rebootSecondsByModel: modelMap.default(() => ({ 'PA-7050': 3600, 'PA-7080': 3600, 'PA-5450': 2700 })),
        rebootStartGraceSeconds: num(1).default(300),
      })
      .prefault({}),
    poll: z.strictObject({ jobSeconds: num(0.01).default(5), rebootSeconds: num(0.01).default(10) }).prefault({}),
    ha: z
      .strictObject({ strategy: oneOf(['passive-first', 'active-first'] as const).default('passive-first'), pauseBetweenPeers: bool().default(false) })
      .prefault({}),
    /** The live fleet view and /metrics (web/): a loopback host:port; '' = off. */
    ui: z.strictObject({ listen: listenAddress.default('') }).prefault({}),
    /** Per-device series (a serial label) in /metrics: off, one series per firewall is a lot on a big fleet. */
    metrics: z.strictObject({ deviceLabels: bool().default(false) }).prefault({}),
    /** The daemon's NATS (docs/nats-security.md): a server and the daemon user's credentials, as files; empty = a private server. */
    nats: z
      .strictObject({
        // The credentials go in files: a URL with them would be repeated wherever it is shown.
        url: str()
          .refine((u) => natsUrlProblem(u) === undefined, { error: (iss) => `must not carry credentials (got ${maskNatsUrl(String(iss.input))}): give them as files, ${NATS_CREDENTIAL_FILES}`, params: { masked: true } })
          .default(''),
        credsFile: str().default(''),
        nkeyFile: str().default(''),
        user: str().default(''),
        passwordFile: str().default(''),
        tokenFile: str().default(''),
        tls: z.strictObject({ caFile: str().default(''), certFile: str().default(''), keyFile: str().default('') }).prefault({}),
      })
      .prefault({}),
    /** Several daemons on a NATS JetStream cluster (docs/cluster.md); off = one daemon, as in the quick start. */
    cluster: z
      .strictObject({
        enabled: bool().default(false),
        /** This daemon's name among the others; '' = the host name and a random suffix, new at every start. */
        nodeId: str()
          .refine((n) => n === '' || /^[A-Za-z0-9_-]{1,64}$/.test(n), { error: 'must be letters, digits, - or _ (at most 64)' })
          .default(''),
        /** Replicas of the log stream and the KV buckets: 3 on a 3-node cluster, 1 on a single server. */
        replicas: int(1, 5).default(3),
        /** A lease (partition, campaigns) or a membership entry not renewed for this long has expired. */
        leaseSeconds: num(1).default(15),
        /** How often leases and membership are renewed; must be well under lease_seconds. */
        heartbeatSeconds: num(0.1).default(5),
        /** Slices of the fleet, each owned by one daemon through its lease; the same on every daemon. */
        partitions: int(1, MAX_PARTITIONS).default(DEFAULT_PARTITIONS),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.cluster.heartbeatSeconds * 2 > c.cluster.leaseSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster', 'heartbeatSeconds'],
        params: { between: true },
        message: `must be at most half of cluster.lease_seconds (${c.cluster.leaseSeconds}), so a lease is renewed at least twice before it expires`,
      });
    }
    // The TLS client's own rules (panos/client.ts), checked before anything connects.
    const tlsSet = c.tls.caFile !== '' || c.tls.fingerprint !== '' || c.tls.insecure;
    if (c.protocol === 'http' && tlsSet) {
      ctx.addIssue({ code: 'custom', path: ['protocol'], params: { between: true }, message: 'must be https while a tls.* option is set (tls.ca_file, tls.fingerprint or tls.insecure)' });
    }
    const fw = c.firewall.tls;
    if (c.protocol === 'http' && (fw.caFile !== '' || fw.trustOnFirstUse || fw.insecure)) {
      ctx.addIssue({
        code: 'custom',
        path: ['protocol'],
        params: { between: true },
        message: 'must be https while a firewall.tls.* option is set (firewall.tls.ca_file, firewall.tls.trust_on_first_use or firewall.tls.insecure)',
      });
    }
    const fwModes = [fw.caFile !== '' && 'firewall.tls.ca_file', fw.trustOnFirstUse && 'firewall.tls.trust_on_first_use', fw.insecure && 'firewall.tls.insecure'].filter(
      (m): m is string => typeof m === 'string',
    );
    if (fwModes.length > 1) {
      const [a, b] = fwModes as [string, string];
      ctx.addIssue({
        code: 'custom',
        path: b === 'firewall.tls.ca_file' ? ['firewall', 'tls', 'caFile'] : b === 'firewall.tls.insecure' ? ['firewall', 'tls', 'insecure'] : ['firewall', 'tls', 'trustOnFirstUse'],
        params: { between: true },
        message: `cannot be set while ${a} is: firewalls are trusted one way (a CA, trust on first use, or no check). Turn one off: panos-upgrade config set ${a} ${a === 'firewall.tls.ca_file' ? '""' : 'false'}`,
      });
    }
    if (c.tls.insecure && (c.tls.fingerprint !== '' || c.tls.caFile !== '')) {
      const other = c.tls.fingerprint !== '' ? 'tls.fingerprint' : 'tls.ca_file';
      ctx.addIssue({
        code: 'custom',
        path: ['tls', 'insecure'],
        params: { between: true },
        message: `cannot be true while ${other} is set: a checked certificate and no check exclude each other. Turn one off: panos-upgrade config set tls.insecure false, or panos-upgrade config set ${other} ""`,
      });
    }
  });

/** Everything the daemon needs to drive a fleet. Stored as `config.json` (mode 0600) in the data dir. */
export type DaemonConfig = z.output<typeof configSchema>;

export const DEFAULT_CONFIG: DaemonConfig = configSchema.parse({});

/**
 * How a daemon reaches a simulated fleet, as a lab's `config set` would write it: HTTPS, Panorama (the
 * gateway) pinned by its certificate's fingerprint, each firewall's own certificate checked against the
 * simulator's CA (`caFile`, empty when the gateway has none). For the demo, chaos runs and benchmarks.
 */
export function simulatedFleetAccess(o: { port: number; fingerprint: string | undefined; apiKey: string; caFile: string }): Pick<DaemonConfig, 'panorama' | 'protocol' | 'tls' | 'firewall'> {
  return {
    panorama: { host: `127.0.0.1:${o.port}`, apiKey: o.apiKey, username: '', password: '' },
    protocol: 'https',
    tls: { caFile: '', fingerprint: o.fingerprint ?? '', insecure: false },
    firewall: { ...DEFAULT_CONFIG.firewall, tls: { caFile: o.caFile, trustOnFirstUse: false, insecure: false } },
  };
}

/** How a value typed on the command line is read before the schema checks it. */
type Kind = 'string' | 'secret' | 'number' | 'boolean' | 'json' | 'port';

interface KeySpec {
  path: string[];
  kind: Kind;
  help: string;
  /** The daemon cannot start without it: `config set KEY ""` is refused. */
  required?: boolean;
}

/** The keys `config set|get|list` know, in the order `config list` shows them; each names a place in {@link configSchema}. */
export const CONFIG_KEYS: Record<string, KeySpec> = {
  'panorama.host': { path: ['panorama', 'host'], kind: 'string', required: true, help: 'Panorama address, host or host:port' },
  'panorama.api_key': { path: ['panorama', 'apiKey'], kind: 'secret', help: 'API key for Panorama (or use username/password)' },
  'panorama.username': { path: ['panorama', 'username'], kind: 'string', help: 'admin user for keygen' },
  'panorama.password': { path: ['panorama', 'password'], kind: 'secret', help: 'password for keygen' },
  'firewall.api_key': { path: ['firewall', 'apiKey'], kind: 'secret', help: 'API key for direct firewall connections (default: Panorama’s)' },
  'firewall.username': { path: ['firewall', 'username'], kind: 'string', help: 'admin user on the firewalls (default: Panorama’s)' },
  'firewall.password': { path: ['firewall', 'password'], kind: 'secret', help: 'password on the firewalls' },
  'firewall.port': { path: ['firewall', 'port'], kind: 'port', help: 'management port of the firewalls ("" = Panorama’s port)' },
  'firewall.tls.ca_file': { path: ['firewall', 'tls', 'caFile'], kind: 'string', help: 'PEM file of the CA that signed the firewalls’ certificates (direct connections)' },
  'firewall.tls.trust_on_first_use': {
    path: ['firewall', 'tls', 'trustOnFirstUse'],
    kind: 'boolean',
    help: 'trust each firewall’s certificate as discovery first saw it; a later change stops work on that device',
  },
  'firewall.tls.insecure': { path: ['firewall', 'tls', 'insecure'], kind: 'boolean', help: 'skip certificate checks on direct firewall connections (labs only)' },
  protocol: { path: ['protocol'], kind: 'string', help: 'https (default) or http' },
  'tls.ca_file': { path: ['tls', 'caFile'], kind: 'string', help: 'PEM file of the CA that signed the management certificates' },
  'tls.fingerprint': { path: ['tls', 'fingerprint'], kind: 'string', help: 'pin the server certificate by its SHA-256 fingerprint' },
  'tls.insecure': { path: ['tls', 'insecure'], kind: 'boolean', help: 'skip certificate verification (self-signed labs only)' },
  concurrency: { path: ['concurrency'], kind: 'number', help: 'devices (or HA pairs) upgraded at the same time' },
  rate_limit: { path: ['rateLimit'], kind: 'number', help: 'API requests per second to Panorama' },
  'upgrade.paths_file': { path: ['upgrade', 'pathsFile'], kind: 'string', help: 'YAML/JSON file mapping current version → versions to install' },
  'upgrade.max_skipped_releases': { path: ['upgrade', 'maxSkippedReleases'], kind: 'number', help: 'feature releases one hop may skip (PAN-OS 10.1+; 0 = none)' },
  'upgrade.update_content': { path: ['upgrade', 'updateContent'], kind: 'boolean', help: 'install the latest content before upgrading' },
  'downloads.direct': { path: ['downloads', 'direct'], kind: 'boolean', help: 'download straight from each firewall’s management address' },
  'install.via': { path: ['install', 'via'], kind: 'string', help: 'send install and reboot through Panorama or directly' },
  'retries.max_attempts': { path: ['retries', 'maxAttempts'], kind: 'number', help: 'attempts per step for retryable failures' },
  'retries.backoff_seconds': { path: ['retries', 'backoffSeconds'], kind: 'number', help: 'first retry delay, doubled each attempt' },
  'thresholds.sessions_pct': { path: ['thresholds', 'sessionsPct'], kind: 'number', help: 'allowed change of TCP sessions after upgrade, %' },
  'thresholds.routes_delta': { path: ['thresholds', 'routesDelta'], kind: 'number', help: 'allowed change of the route count (0 = exact)' },
  'thresholds.arp_pct': { path: ['thresholds', 'arpPct'], kind: 'number', help: 'allowed change of ARP entries, %' },
  'thresholds.arp_delta': { path: ['thresholds', 'arpDelta'], kind: 'number', help: 'allowed change of ARP entries, count' },
  'timeouts.api_seconds': { path: ['timeouts', 'apiSeconds'], kind: 'number', help: 'per API call' },
  'timeouts.job_seconds': { path: ['timeouts', 'jobSeconds'], kind: 'number', help: 'per PAN-OS download/install job' },
  'timeouts.reboot_seconds': { path: ['timeouts', 'rebootSeconds'], kind: 'number', help: 'reboot budget (default for models not listed)' },
  'timeouts.reboot_seconds_by_model': {
    path: ['timeouts', 'rebootSecondsByModel'],
    kind: 'json',
    help: 'reboot budget per model, JSON: {"PA-7050": 3600}; {} clears it',
  },
  'timeouts.reboot_start_grace_seconds': { path: ['timeouts', 'rebootStartGraceSeconds'], kind: 'number', help: 'how long a device may keep answering after a restart' },
  'poll.job_seconds': { path: ['poll', 'jobSeconds'], kind: 'number', help: 'interval between show jobs polls' },
  'poll.reboot_seconds': { path: ['poll', 'rebootSeconds'], kind: 'number', help: 'interval between polls while a device reboots' },
  'ha.strategy': { path: ['ha', 'strategy'], kind: 'string', help: 'which HA peer to upgrade first' },
  'ha.pause_between_peers': { path: ['ha', 'pauseBetweenPeers'], kind: 'boolean', help: 'wait for an operator’s go between the two peers' },
  'ui.listen': { path: ['ui', 'listen'], kind: 'string', help: 'serve the live fleet view and /metrics on this loopback host:port, e.g. 127.0.0.1:8470 ("" = off)' },
  'metrics.device_labels': { path: ['metrics', 'deviceLabels'], kind: 'boolean', help: 'per-device series (serial label) in /metrics; off for big fleets' },
  'nats.url': { path: ['nats', 'url'], kind: 'string', help: 'NATS server of the daemon (NATS_URL and --nats-url win; empty: a private one)' },
  'nats.creds_file': { path: ['nats', 'credsFile'], kind: 'string', help: 'the daemon user’s .creds file (JWT + NKey seed)' },
  'nats.nkey_file': { path: ['nats', 'nkeyFile'], kind: 'string', help: 'the daemon user’s NKey seed file' },
  'nats.user': { path: ['nats', 'user'], kind: 'string', help: 'the daemon’s NATS user name (with nats.password_file)' },
  'nats.password_file': { path: ['nats', 'passwordFile'], kind: 'string', help: 'file holding the NATS user’s password' },
  'nats.token_file': { path: ['nats', 'tokenFile'], kind: 'string', help: 'file holding a NATS token' },
  'nats.tls.ca_file': { path: ['nats', 'tls', 'caFile'], kind: 'string', help: 'PEM CA of the NATS server’s certificate (TLS to NATS)' },
  'nats.tls.cert_file': { path: ['nats', 'tls', 'certFile'], kind: 'string', help: 'client certificate for NATS, when the server asks for one' },
  'nats.tls.key_file': { path: ['nats', 'tls', 'keyFile'], kind: 'string', help: 'private key of nats.tls.cert_file' },
  'cluster.enabled': { path: ['cluster', 'enabled'], kind: 'boolean', help: 'one of several daemons on a NATS JetStream cluster (docs/cluster.md)' },
  'cluster.node_id': { path: ['cluster', 'nodeId'], kind: 'string', help: 'this daemon’s name in the cluster ("" = host name and a random suffix)' },
  'cluster.replicas': { path: ['cluster', 'replicas'], kind: 'number', help: 'replicas of the log stream and KV buckets (3 on a 3-node cluster)' },
  'cluster.lease_seconds': { path: ['cluster', 'leaseSeconds'], kind: 'number', help: 'a lease or membership not renewed for this long expires' },
  'cluster.heartbeat_seconds': { path: ['cluster', 'heartbeatSeconds'], kind: 'number', help: 'how often leases and membership are renewed' },
  'cluster.partitions': { path: ['cluster', 'partitions'], kind: 'number', help: 'slices of the fleet, one lease each; the same on every daemon' },
};

export { ConfigError } from './config-error.ts';

export function configPath(dataDir: string): string {
  return join(dataDir, 'config.json');
}

function normalizeFingerprintText(f: string): string {
  return f.trim().replace(/^sha256[:/=]?/i, '').replace(/[:\s]/g, '');
}

function getAt(obj: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), obj);
}

function setAt<T>(obj: T, path: string[], value: unknown): T {
  const [head, ...rest] = path;
  if (!head) return value as T;
  const o = (obj ?? {}) as Record<string, unknown>;
  return { ...o, [head]: setAt(o[head], rest, value) } as T;
}

function unknownKey(key: string): ValidationError {
  return new ValidationError(`unknown config key "${key}"; run "panos-upgrade config list" to see the keys`, key);
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The `config set` name of a place in config.json: `timeouts.reboot_seconds_by_model["PA-7050"]`. */
function keyName(path: ReadonlyArray<PropertyKey>): string {
  let best: [string, number] | undefined;
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    if (spec.path.length <= path.length && spec.path.every((p, i) => p === path[i]) && (!best || spec.path.length > best[1])) best = [key, spec.path.length];
  }
  const [head, used] = best ?? [path.filter((p) => typeof p === 'string').slice(0, 2).map(String).map(snake).join('.'), Math.min(2, path.length)];
  return head + path.slice(used).map((p) => `[${JSON.stringify(typeof p === 'number' ? p : String(p))}]`).join('');
}

/** Every problem the schema finds, one sentence each, e.g. `concurrency must be at least 1 (got 0)`. */
function problems(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => {
        const where = [...issue.path, k].map(String).join('.');
        const hint = closestKey([...issue.path.map(String), k]);
        return `unknown key "${where}"${hint ? ` (did you mean "${hint}"?)` : ''}: remove it; "panos-upgrade config list" shows the keys`;
      });
    }
    // A record key's problem, or a rule between keys, has no single value to show.
    // A record key's problem, a rule between keys, or one whose message shows the value masked: no value shown.
    const showValue = issue.code !== 'invalid_key' && !(issue.code === 'custom' && (issue.params?.['between'] === true || issue.params?.['masked'] === true));
    const got = getAt(input, issue.path);
    // A secret's value is never shown, even a wrong one: only what kind of value it was.
    const shown = isSecretPath(issue.path) ? `a ${got === null ? 'null' : Array.isArray(got) ? 'list' : typeof got}` : (JSON.stringify(got) ?? 'nothing');
    return [`${keyName(issue.path)} ${issue.message}${showValue ? ` (got ${shown})` : ''}`];
  });
}

/** Whether a path in config.json (`panorama.password`) is a secret's. */
function isSecretPath(path: readonly PropertyKey[]): boolean {
  const p = path.map(String).join('.');
  return Object.values(CONFIG_KEYS).some((spec) => spec.kind === 'secret' && spec.path.join('.') === p);
}

/** The stored name that an unknown key in config.json most likely meant (`panorama.api_key` → `panorama.apiKey`). */
function closestKey(path: string[]): string | undefined {
  const flat = (p: string): string => p.toLowerCase().replace(/[_-]/g, '');
  const want = path.map(flat).join('.');
  for (const spec of Object.values(CONFIG_KEYS)) if (spec.path.map(flat).join('.') === want) return spec.path.join('.');
  return undefined;
}

/** Read a value typed on the command line into JSON for the schema; what cannot be read is passed on as text, for the schema to name. */
function fromText(spec: KeySpec, raw: string): unknown {
  switch (spec.kind) {
    case 'string':
    case 'secret':
      return raw;
    case 'boolean':
      if (/^(true|yes|on|1)$/i.test(raw)) return true;
      if (/^(false|no|off|0)$/i.test(raw)) return false;
      return raw;
    case 'port':
      if (raw.trim() === '') return null;
      return Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
  }
}

/**
 * Parse a config.json object with the schema; the error lists every problem, each naming the key as
 * `config set` spells it. `where` (the file) prefixes each sentence.
 */
export function parseConfig(input: unknown, where?: string): DaemonConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ConfigError(`${where ?? 'the configuration'} must hold a JSON object`);
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    problems(result.error.issues, input)
      .map((p) => (where ? `${where}: ${p}` : p))
      .join('\n'),
  );
}

/** Parse and check a value given on the command line for `key`, against the whole configuration it goes into. */
export function setConfigValue(config: DaemonConfig, key: string, raw: string): DaemonConfig {
  const spec = CONFIG_KEYS[key];
  if (!spec) throw unknownKey(key);
  if (spec.required && raw.trim() === '') throw new ValidationError(`${key} must not be empty: the daemon cannot start without it`, key);
  const value = fromText(spec, raw);
  const next = setAt(config, spec.path, value);
  const result = configSchema.safeParse(next);
  if (result.success) return result.data;
  // A rule about this key comes first; a rule it breaks elsewhere (tls.insecure against a pin) after it.
  const issues = [...result.error.issues].sort((a, b) => Number(!startsWith(b.path, spec.path)) - Number(!startsWith(a.path, spec.path)));
  const first = issues[0]!;
  throw new ValidationError(problems([first], next)[0]!, key);
}

function startsWith(path: ReadonlyArray<PropertyKey>, prefix: string[]): boolean {
  return prefix.every((p, i) => path[i] === p);
}

/** The value `config set` would store for `raw`, checked alone (no other key involved). */
export function parseConfigValue(key: string, raw: string): unknown {
  return getConfigValue(setConfigValue(DEFAULT_CONFIG, key, raw), key);
}

export function getConfigValue(config: DaemonConfig, key: string): unknown {
  const spec = CONFIG_KEYS[key];
  if (!spec) throw unknownKey(key);
  return getAt(config, spec.path);
}

/** A value as `config get|list` shows it: secrets masked. */
export function displayValue(key: string, value: unknown): string {
  const spec = CONFIG_KEYS[key];
  if (spec?.kind === 'secret') return typeof value === 'string' && value.length > 0 ? maskSecret(value) : '';
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** `****` and, of a long secret (an API key), its last four characters to tell it by; nothing of a short one (a password). */
export function maskSecret(value: string): string {
  return value.length < 16 ? '****' : `****${value.slice(-4)}`;
}

/** Read the config file (defaults for what it lacks); a malformed file, an unknown key or a bad value is a ConfigError naming the file. */
/** The keys whose value names a file the daemon reads at start: a CA (a PEM certificate), or a file that must exist. */
export const CONFIG_FILE_KEYS: Readonly<Record<string, 'certificate' | 'file'>> = {
  'tls.ca_file': 'certificate',
  'firewall.tls.ca_file': 'certificate',
  'nats.tls.ca_file': 'certificate',
  'nats.tls.cert_file': 'certificate',
  'nats.tls.key_file': 'file',
  'nats.creds_file': 'file',
  'nats.nkey_file': 'file',
  'nats.password_file': 'file',
  'nats.token_file': 'file',
};

/** What is wrong with the file a config key names (none: undefined): the same rule for config set and for the daemon's start. */
export function configFileProblem(key: string, file: string): string | undefined {
  const kind = CONFIG_FILE_KEYS[key];
  if (!kind || file === '') return undefined;
  if (!existsSync(file)) return `${key}: no such file: ${file}`;
  if (kind === 'certificate') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return `${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    if (!text.includes('BEGIN CERTIFICATE')) return `${key}: ${file} is not a PEM certificate`;
  }
  return undefined;
}

/** Every file the configuration names, checked before the daemon starts: a CA file gone since config set is named, not met at the first connection. */
export function checkConfigFiles(config: DaemonConfig, file: string): void {
  for (const key of Object.keys(CONFIG_FILE_KEYS)) {
    const spec = CONFIG_KEYS[key];
    if (!spec) continue;
    const value = spec.path.reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], config);
    const problem = typeof value === 'string' ? configFileProblem(key, value) : undefined;
    if (problem) throw new ConfigError(`${file}: ${problem}; set it again with: panos-upgrade config set ${key} FILE (or "" to unset it)`);
  }
}

export function loadConfig(dataDir: string): DaemonConfig {
  const file = configPath(dataDir);
  if (!existsSync(file)) return structuredClone(DEFAULT_CONFIG);
  let raw: unknown;
  const text = readFileSync(file, 'utf8');
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${jsonErrorPlace(text, err)}; keys and strings take double quotes, no comma after the last entry); fix it or remove it and set the values again`);
  }
  return parseConfig(raw, file);
}

/**
 * What the daemon checks at start beyond the schema: a Panorama and a way to log in to it.
 * Throws the ConfigError the daemon stops with.
 */
export function checkRunnable(config: DaemonConfig): void {
  if (!config.panorama.host) throw new ConfigError('no Panorama configured: run "panos-upgrade config set panorama.host HOST" (and panorama.api_key, or panorama.username and panorama.password)');
  if (!config.panorama.apiKey && !(config.panorama.username && config.panorama.password)) {
    throw new ConfigError('no Panorama credentials: set panorama.api_key, or panorama.username and panorama.password');
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
