import { DEFAULT_API_KEY, DEFAULT_CONTENT_VERSION } from './scenario-defaults.ts';
import type { TimingMode } from './types.ts';

export interface FleetOptions {
  /** Number of firewalls; default 230 (the seed's fleet). */
  devices?: number;
  /** Seed of the generator and of the scenario; default 42. */
  seed?: number;
  /** Active/passive pairs in the data centres; default 5 per 230 devices. */
  haPairs?: number;
  /** Firewalls on a version without an upgrade path; default 15 per 230 (the seed's "skipped 15"). */
  noPath?: number;
  /** Default `fleet-<devices>`. */
  name?: string;
  timingMode?: TimingMode;
}

/** One firewall in the scenario's YAML shape (snake_case). */
export interface FleetDeviceEntry {
  serial: string;
  hostname: string;
  model: string;
  current_version: string;
  downloaded_versions?: string[];
  metrics?: { tcp_sessions: number; route_count: number; arp_count: number; disk_space_gb: number };
}

/** A fleet scenario as the YAML's object, ready for `scenarioFromObject` or `fleetScenarioYaml`. */
export interface FleetScenarioDocument {
  name: string;
  description: string;
  seed: number;
  api_key: string;
  timing: { mode: TimingMode };
  panorama: { serial: string; hostname: string; model: string; version: string; mgmt_ip: string };
  defaults: { available_versions: string[]; content_version: string; readiness: { ntp_servers: string[] } };
  devices: FleetDeviceEntry[];
  ha_pairs: { active: string; passive: string; preemptive: boolean; group_id: number }[];
  upgrade_paths: Record<string, string[]>;
}

/** Every version the update server offers the fleet, oldest first. */
export const FLEET_AVAILABLE_VERSIONS: readonly string[] = [
  '9.1.14',
  '10.0.2',
  '10.0.8',
  '10.1.0',
  '10.1.6',
  '10.1.9-h1',
  '10.2.0',
  '10.2.4',
  '10.2.9',
  // The base image of the seed's 10.5.1 hop (a maintenance release needs its X.Y.0 in the software manager).
  '10.5.0',
  '10.5.1',
  '11.0.0',
  '11.0.2',
  '11.0.3',
  '11.1.0',
  '11.1.2',
];

/** Static upgrade paths to 11.1.0; 10.0.2's is the seed's own. */
export const FLEET_UPGRADE_PATHS: Readonly<Record<string, readonly string[]>> = {
  '10.0.2': ['10.1.0', '10.5.1', '11.1.0'],
  '10.0.8': ['10.1.0', '10.2.0', '11.1.0'],
  '10.1.6': ['10.2.0', '11.1.0'],
  '10.1.9-h1': ['10.2.0', '11.1.0'],
  '10.2.4': ['11.0.0', '11.1.0'],
  '10.2.9': ['11.1.0'],
  '11.0.2': ['11.1.0'],
  '11.0.3': ['11.1.0'],
};

/** Share of each path version among branch firewalls, in percent. */
const PATH_VERSION_WEIGHTS: readonly [string, number][] = [
  ['10.0.2', 18],
  ['10.0.8', 12],
  ['10.1.6', 20],
  ['10.1.9-h1', 10],
  ['10.2.4', 16],
  ['10.2.9', 12],
  ['11.0.2', 7],
  ['11.0.3', 5],
];

/** Already on the target (nothing to do) and too old for any path (needs a manual plan). */
const ON_TARGET = '11.1.0';
const TOO_OLD = '9.1.14';

const BRANCH_MODELS: readonly [string, number][] = [
  ['PA-440', 30],
  ['PA-460', 15],
  ['PA-850', 20],
  ['PA-VM', 20],
  ['PA-3220', 10],
  ['PA-3410', 5],
];
const DC_MODELS = ['PA-5220', 'PA-3220'] as const;
const HA_VERSIONS = ['10.1.6', '10.2.4', '10.0.8', '10.2.9', '11.0.2'] as const;

/** Serial prefixes loosely after real platforms, so serials look like their model's. */
const SERIAL_PREFIX: Record<string, string> = {
  'PA-440': '0210',
  'PA-460': '0211',
  'PA-850': '0130',
  'PA-VM': '0079',
  'PA-3220': '0132',
  'PA-3410': '0233',
  'PA-5220': '0131',
};

const CITIES = [
  'nyc', 'chi', 'dal', 'den', 'lax', 'sea', 'atl', 'bos', 'mia', 'phx', 'sfo', 'aus', 'det', 'msp',
  'pdx', 'slc', 'stl', 'tpa', 'clt', 'bna', 'ind', 'cmh', 'pit', 'phl', 'bwi', 'rdu', 'mci', 'okc',
  'abq', 'san', 'sjc', 'smf', 'las', 'hou', 'msy', 'mem', 'jax', 'orl', 'cle', 'cvg', 'mke', 'oma',
  'tul', 'elp', 'boi', 'anc', 'hnl', 'ric', 'buf', 'alb', 'lon', 'fra', 'ams', 'par', 'mad', 'sin',
  'syd', 'tyo', 'hkg', 'yyz',
];

/** The seed's example firewall: fw-dc1-01, first in every generated fleet. */
export const SEED_DEVICE: Readonly<FleetDeviceEntry> = Object.freeze({
  serial: '001234567890',
  hostname: 'fw-dc1-01',
  model: 'PA-3220',
  current_version: '10.0.2',
  metrics: Object.freeze({ tcp_sessions: 45000, route_count: 1200, arp_count: 500, disk_space_gb: 15.0 }),
});

/** mulberry32: small, fast and the same on every platform. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

function weighted<T>(choices: readonly [T, number][], u: number): T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  let x = u * total;
  for (const [value, w] of choices) {
    if ((x -= w) < 0) return value;
  }
  return choices[choices.length - 1]![0];
}

/** Split `n` by weights with the largest-remainder method, so counts are exact. */
function apportion(n: number, weights: readonly [string, number][]): [string, number][] {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const rows = weights.map(([k, w]) => ({ k, exact: (n * w) / total, count: Math.floor((n * w) / total) }));
  let left = n - rows.reduce((s, r) => s + r.count, 0);
  for (const r of [...rows].sort((a, b) => b.exact - b.count - (a.exact - a.count))) {
    if (left-- <= 0) break;
    r.count++;
  }
  return rows.map((r) => [r.k, r.count]);
}

function serialFor(model: string, index: number): string {
  return `${SERIAL_PREFIX[model] ?? '0099'}${String(index).padStart(8, '0')}`;
}

/**
 * A deterministic fleet: the seed's fw-dc1-01, active/passive pairs in data centres (fw-dc<N>-NN),
 * and branch firewalls (fw-<site>-NN) on a spread of 10.x/11.x versions; some have images
 * pre-downloaded and some are on a version without an upgrade path.
 */
export function generateFleetScenario(options: FleetOptions = {}): FleetScenarioDocument {
  const count = options.devices ?? 230;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a fleet needs a whole number of devices ≥ 1, got ${count}`);
  const seed = options.seed ?? 42;
  const haPairs = Math.min(options.haPairs ?? Math.round((count * 5) / 230), Math.floor((count - 1) / 2));
  const noPath = Math.min(options.noPath ?? Math.round((count * 15) / 230), count - 1 - 2 * haPairs);
  const random = prng(seed);
  const devices: FleetDeviceEntry[] = [{ ...SEED_DEVICE, metrics: { ...SEED_DEVICE.metrics! } }];
  const pairs: FleetScenarioDocument['ha_pairs'] = [];
  let serialIndex = 1;

  const downloadsFor = (version: string): string[] | undefined => {
    const hops = FLEET_UPGRADE_PATHS[version];
    if (!hops) return undefined;
    const u = random();
    // About one in seven has the first hop staged already, one in twenty every hop.
    if (u < 0.15) return [hops[0]!];
    if (u < 0.2) return [...hops];
    return undefined;
  };

  // Data centres: two pairs per site, after fw-dc1-01.
  const dcNext = new Map<number, number>([[1, 2]]);
  for (let k = 0; k < haPairs; k++) {
    const site = 1 + Math.floor(k / 2);
    const model = DC_MODELS[k % DC_MODELS.length]!;
    const version = HA_VERSIONS[k % HA_VERSIONS.length]!;
    const downloaded = downloadsFor(version);
    const members = [0, 1].map(() => {
      const n = dcNext.get(site) ?? 1;
      dcNext.set(site, n + 1);
      const entry: FleetDeviceEntry = {
        serial: serialFor(model, serialIndex++),
        hostname: `fw-dc${site}-${String(n).padStart(2, '0')}`,
        model,
        current_version: version,
      };
      // HA peers sync images to each other (sync-to-peer), so both hold the same ones.
      if (downloaded) entry.downloaded_versions = [...downloaded];
      devices.push(entry);
      return entry;
    });
    pairs.push({ active: members[0]!.serial, passive: members[1]!.serial, preemptive: false, group_id: 1 + (k % 63) });
  }

  // Branches: versions in exact proportions, shuffled over the sites.
  const branchCount = count - devices.length;
  const onTarget = Math.round((noPath * 2) / 3);
  const versions: string[] = [
    ...Array<string>(onTarget).fill(ON_TARGET),
    ...Array<string>(noPath - onTarget).fill(TOO_OLD),
  ];
  for (const [version, n] of apportion(branchCount - noPath, PATH_VERSION_WEIGHTS)) {
    for (let i = 0; i < n; i++) versions.push(version);
  }
  for (let i = versions.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [versions[i], versions[j]] = [versions[j]!, versions[i]!];
  }
  let siteNumber = 0;
  let placed = 0;
  while (placed < branchCount) {
    const city = CITIES[siteNumber % CITIES.length]!;
    const round = Math.floor(siteNumber / CITIES.length);
    const site = round === 0 ? city : `${city}${round + 1}`;
    siteNumber++;
    const size = Math.min(branchCount - placed, weighted<number>([[1, 40], [2, 40], [3, 15], [4, 5]], random()));
    for (let n = 1; n <= size; n++) {
      const version = versions[placed++]!;
      const model = weighted(BRANCH_MODELS, random());
      const entry: FleetDeviceEntry = {
        serial: serialFor(model, serialIndex++),
        hostname: `fw-${site}-${String(n).padStart(2, '0')}`,
        model,
        current_version: version,
      };
      const downloaded = downloadsFor(version);
      if (downloaded) entry.downloaded_versions = downloaded;
      devices.push(entry);
    }
  }

  const upgradePaths: Record<string, string[]> = {};
  for (const [from, hops] of Object.entries(FLEET_UPGRADE_PATHS)) upgradePaths[from] = [...hops];
  return {
    name: options.name ?? `fleet-${count}`,
    description:
      `${count} firewalls managed by one Panorama: ${haPairs} active/passive pairs in the data centres, ` +
      `branches on 9.1 to 11.1, ${noPath} of them on a version without an upgrade path.`,
    seed,
    api_key: DEFAULT_API_KEY,
    timing: { mode: options.timingMode ?? 'fast' },
    // Panorama must run a release at least as new as the firewalls' target (11.1.0).
    panorama: { serial: '000702100001', hostname: 'panorama-01', model: 'Panorama', version: '11.1.2', mgmt_ip: '127.0.0.1' },
    // Readiness state (BGP peers, tunnels, device groups by site, licenses, …) is derived per device from its
    // platform, hostname and serial; the fleet shares one pair of NTP servers.
    defaults: { available_versions: [...FLEET_AVAILABLE_VERSIONS], content_version: DEFAULT_CONTENT_VERSION, readiness: { ntp_servers: ['ntp1.corp.example', 'ntp2.corp.example'] } },
    devices,
    ha_pairs: pairs,
    upgrade_paths: upgradePaths,
  };
}

/** A scalar as YAML: plain when unambiguous, double-quoted (JSON) otherwise; serials and versions are always quoted. */
function scalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  const plain = /^[A-Za-z][A-Za-z0-9._-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

function flow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${flow(v)}`)
      .join(', ')} }`;
  }
  return scalar(value as string | number | boolean);
}

function metricsFlow(m: NonNullable<FleetDeviceEntry['metrics']>): string {
  // Keep the seed's `disk_space_gb: 15.0` spelling.
  const gb = Number.isInteger(m.disk_space_gb) ? m.disk_space_gb.toFixed(1) : String(m.disk_space_gb);
  return `{ tcp_sessions: ${m.tcp_sessions}, route_count: ${m.route_count}, arp_count: ${m.arp_count}, disk_space_gb: ${gb} }`;
}

/** The fleet as compact YAML text, one line per firewall. */
export function fleetScenarioYaml(options: FleetOptions = {}): string {
  const doc = generateFleetScenario(options);
  const count = doc.devices.length;
  const byVersion = new Map<string, number>();
  for (const d of doc.devices) byVersion.set(d.current_version, (byVersion.get(d.current_version) ?? 0) + 1);
  const noPath = doc.devices.filter((d) => !doc.upgrade_paths[d.current_version]).length;
  const staged = doc.devices.filter((d) => d.downloaded_versions?.length).length;
  const versionLine = [...byVersion]
    .sort(([a], [b]) => FLEET_AVAILABLE_VERSIONS.indexOf(a) - FLEET_AVAILABLE_VERSIONS.indexOf(b))
    .map(([v, n]) => `${v}: ${n}`)
    .join(', ');
  const lines = [
    `# Generated by: node --import tsx scenarios/generate-fleet.ts ${count}${options.seed !== undefined ? ` --seed ${doc.seed}` : ''}`,
    '# Edit scenarios/fleet-generator.ts and regenerate rather than editing this file.',
    `# ${count} firewalls, ${doc.ha_pairs.length} HA pairs, ${noPath} without an upgrade path, ${staged} with images already downloaded.`,
    `# By version: ${versionLine}.`,
    `name: ${scalar(doc.name)}`,
    `description: ${JSON.stringify(doc.description)}`,
    `seed: ${doc.seed}`,
    `api_key: ${JSON.stringify(doc.api_key)}`,
    'timing:',
    `  mode: ${doc.timing.mode}`,
    'panorama:',
    ...Object.entries(doc.panorama).map(([k, v]) => `  ${k}: ${k === 'serial' || k === 'version' ? JSON.stringify(v) : scalar(v)}`),
    'defaults:',
    `  available_versions: ${flow(doc.defaults.available_versions)}`,
    `  content_version: ${JSON.stringify(doc.defaults.content_version)}`,
    `  readiness: ${flow(doc.defaults.readiness)}`,
    'devices:',
    ...doc.devices.map((d) => {
      const fields = [
        `serial: ${JSON.stringify(d.serial)}`,
        `hostname: ${scalar(d.hostname)}`,
        `model: ${scalar(d.model)}`,
        `current_version: ${JSON.stringify(d.current_version)}`,
      ];
      if (d.downloaded_versions) fields.push(`downloaded_versions: ${flow(d.downloaded_versions)}`);
      if (d.metrics) fields.push(`metrics: ${metricsFlow(d.metrics)}`);
      return `  - { ${fields.join(', ')} }`;
    }),
  ];
  if (doc.ha_pairs.length) {
    lines.push('ha_pairs:', ...doc.ha_pairs.map((p) => `  - ${flow(p)}`));
  }
  lines.push(
    '# Devices on 11.1.0 (already there) and 9.1.14 (no supported path) have no entry, so queue-all skips them.',
    'upgrade_paths:',
    ...Object.entries(doc.upgrade_paths).map(([from, hops]) => `  ${JSON.stringify(from)}: ${flow(hops)}`),
  );
  return `${lines.join('\n')}\n`;
}
