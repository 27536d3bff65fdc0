import type { ContentPackage, DeviceMetrics } from '../panos/model.ts';
import { parseVersion } from '../panos/version.ts';
import type { AdminUser, FailureOperation, PanoramaSpec, TimingMode } from './types.ts';
import { READINESS_FAULT_MODES } from '../panos/readiness-model.ts';

/** The seed's API key; used when a scenario does not set `api_key`. */
export const DEFAULT_API_KEY = 'test-api-key';
export const DEFAULT_SEED = 1;
/** The seed's "2 GB per image". */
export const DEFAULT_IMAGE_SIZE_MB = 2048;
export const DEFAULT_CONTENT_VERSION = '8700-7000';
/** The seed's `disk_space_gb: 15.0`: free space on /opt/panrepo. */
export const DEFAULT_DISK_FREE_GB = 15;
export const DEFAULT_MODEL = 'PA-VM';

export const DEFAULT_ADMINS: readonly AdminUser[] = Object.freeze([Object.freeze({ username: 'admin', password: 'admin' })]);

export const DEFAULT_PANORAMA: Readonly<PanoramaSpec> = Object.freeze({
  serial: '000702100001',
  hostname: 'panorama',
  model: 'Panorama',
  swVersion: '10.2.4',
  mgmtIp: '127.0.0.1',
});

export const TIMING_MODES = ['fast', 'realistic', 'production'] as const satisfies readonly TimingMode[];

/** Duration ranges in seconds, before `time_scale`. */
export interface TimingSeconds {
  download: [number, number];
  install: [number, number];
  reboot: [number, number];
  contentDownload: [number, number];
  contentInstall: [number, number];
  autoCommit: [number, number];
}

/** The seed's three modes, plus content and auto-commit jobs. */
export const TIMING_MODE_SECONDS: Readonly<Record<TimingMode, Readonly<TimingSeconds>>> = {
  fast: {
    download: [10, 10],
    install: [5, 5],
    reboot: [15, 15],
    contentDownload: [3, 3],
    contentInstall: [3, 3],
    autoCommit: [2, 2],
  },
  realistic: {
    download: [60, 120],
    install: [30, 60],
    reboot: [90, 180],
    contentDownload: [20, 40],
    contentInstall: [20, 40],
    autoCommit: [20, 60],
  },
  production: {
    download: [600, 600],
    install: [300, 300],
    reboot: [600, 600],
    contentDownload: [120, 120],
    contentInstall: [120, 120],
    autoCommit: [120, 120],
  },
};

/** Environment variables of the seed that override the scenario's durations (seconds). */
export const TIMING_ENV = {
  DOWNLOAD_DURATION: 'download',
  INSTALL_DURATION: 'install',
  REBOOT_DURATION: 'reboot',
} as const satisfies Record<string, keyof TimingSeconds>;

export const FAILURE_OPERATIONS = [
  'download',
  'install',
  'reboot',
  'content_download',
  'content_install',
  'autocommit',
  'api',
  'busy',
  'crash',
  'readiness',
] as const satisfies readonly FailureOperation[];

/**
 * How a failure may show, per operation; the first is the default. `fail` ends the job with result
 * FAIL; `stall` freezes its progress; `slow` stretches it (`factor`); a download can run out of disk
 * partway (`disk_full`). A reboot can also never come back, or come back on the wrong version.
 * `api` has no default: name the transport fault. A `crash` fires when the HA peer starts a software
 * install (`peer_install`: the peer goes down mid-window and the pair fails over).
 */
export const FAILURE_MODES: Readonly<Record<FailureOperation, readonly string[]>> = {
  download: ['fail', 'stall', 'slow', 'disk_full'],
  install: ['fail', 'stall', 'slow'],
  reboot: ['fail', 'never_returns', 'wrong_version', 'slow'],
  content_download: ['fail', 'stall', 'slow'],
  content_install: ['fail', 'stall', 'slow'],
  autocommit: ['fail', 'stall', 'slow'],
  api: ['latency', 'hang', 'http_5xx', 'drop', 'not_connected'],
  busy: ['fail'],
  crash: ['peer_install'],
  // A readiness area that fails on the device (`failure_rate`: the share of the matching devices that get it).
  readiness: Object.keys(READINESS_FAULT_MODES),
};

/** What PAN-OS reports when a failure has no `error` text of its own. */
export const DEFAULT_FAILURE_ERRORS: Readonly<Record<FailureOperation, string>> = {
  download: 'Connection timeout',
  install: 'Failed to install: image validation failed',
  reboot: 'Device did not come back after reboot',
  content_download: 'Failed to download content: Connection timeout',
  content_install: 'Failed to install content',
  autocommit: 'Auto-commit failed',
  api: 'Transport fault',
  busy: 'The software manager is currently in use. Please try again later.',
  crash: 'Unplanned reboot (kernel panic)',
  readiness: 'Readiness check fails',
};

/** The errors of download modes that have their own PAN-OS text. */
export const DEFAULT_DISK_FULL_ERROR = 'Failed to download: not enough disk space on /opt/panrepo';

/**
 * Platform family as PAN-OS names it in `show system info` (`family`): PA-VM → vm, PA-3220 → 3200,
 * PA-440 → 400, PA-7050 → 7000. Undefined for names that are not firewall models.
 */
export function modelFamily(model: string): string | undefined {
  if (/^PA-VM(-[A-Za-z0-9]+)*$/i.test(model)) return 'vm';
  const m = /^PA-(\d{3,4})[A-Za-z]?$/i.exec(model);
  if (!m?.[1]) return undefined;
  const digits = m[1];
  // Four-digit models keep the thousands and hundreds (PA-3220 → 3200); three-digit ones the hundreds.
  return digits.length === 4 ? `${digits.slice(0, 2)}00` : `${digits.slice(0, 1)}00`;
}

/** 32-bit FNV-1a; the deterministic base of every derived default. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A number in [0, 1) derived from `text`. */
export function unitHash(text: string): number {
  return hash32(text) / 0x1_0000_0000;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYY/MM/DD HH:MM:SS`, as PAN-OS prints `released-on`. */
export function formatPanosDate(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`
  );
}

const DAY_MS = 86_400_000;

/** First release (X.Y.0) of each feature train, as [year, month]. */
const TRAIN_RELEASES: Record<string, [number, number]> = {
  '8.1': [2018, 2],
  '9.0': [2019, 3],
  '9.1': [2019, 11],
  '10.0': [2020, 7],
  '10.1': [2021, 5],
  '10.2': [2022, 2],
  '11.0': [2022, 11],
  '11.1': [2023, 5],
  '11.2': [2024, 5],
  '12.1': [2025, 8],
};

/**
 * A plausible release date for a version, the same on every run: the train's first release (or an
 * estimate for unknown trains), then about five weeks per maintenance release and ten days per hotfix.
 */
export function defaultReleasedOn(version: string): string {
  const v = parseVersion(version);
  if (!v) return '2020/07/16 10:00:00';
  const [year, month] = TRAIN_RELEASES[`${v.major}.${v.minor}`] ?? [2020 + (v.major - 10) * 2 + Math.floor(v.minor / 2), 1 + (v.minor % 2) * 6];
  const suffixDays = v.suffixKind === 'h' ? v.suffixNumber * 10 : v.suffixKind === '' ? 0 : v.suffixNumber - 30;
  const days = 14 + v.patch * 36 + suffixDays;
  const at = Date.UTC(year, month - 1, 1, 8 + (v.patch % 9), (v.minor * 7 + v.patch * 13) % 60, (v.suffixNumber * 17) % 60);
  return formatPanosDate(at + days * DAY_MS);
}

/** Content versions `8700-7000` with app/threat numbers, for arithmetic. */
function splitContent(version: string): [number, number] {
  const [app = 0, threat = 0] = version.split('-').map(Number);
  return [app, threat];
}

/** A content package with a derived size and date (content comes out every few days). */
export function defaultContentPackage(version: string): ContentPackage {
  const [app, threat] = splitContent(version);
  return {
    version,
    sizeMb: 45 + ((app + threat) % 40),
    releasedOn: formatPanosDate(Date.UTC(2020, 0, 6, 14, app % 60, threat % 60) + (app - 8200) * 3 * DAY_MS),
  };
}

/** `count` content versions newer than `installed`: 8700-7000 → 8750-7100, 8800-7200, … */
export function newerContentVersions(installed: string, count = 3): string[] {
  const [app, threat] = splitContent(installed);
  const out: string[] = [];
  for (let i = 1; i <= count; i++) out.push(`${app + 50 * i}-${threat + 100 * i}`);
  return out;
}

/**
 * The default management address of the device at `index`: 127.0.1.1, 127.0.1.2, … 127.0.1.254,
 * 127.0.2.1, … so that every simulated firewall has its own loopback address and none is 127.0.0.1
 * (the Panorama's). Host parts .0 and .255 are skipped.
 */
export function defaultMgmtIp(index: number): string {
  const block = 1 + Math.floor(index / 254);
  const host = (index % 254) + 1;
  if (block > 0xffff) throw new RangeError(`no loopback address left for device index ${index}`);
  return `127.${block >> 8}.${block & 255}.${host}`;
}

/** Typical load per platform family: [tcp sessions, udp sessions, routes, arp entries]. */
const FAMILY_LOAD: Record<string, [number, number, number, number]> = {
  '200': [2_000, 300, 40, 30],
  '400': [8_000, 800, 120, 150],
  '800': [20_000, 1_500, 300, 250],
  '1400': [60_000, 4_000, 800, 400],
  '3200': [45_000, 1_200, 1_200, 500],
  '3400': [80_000, 5_000, 1_500, 600],
  '5200': [250_000, 20_000, 5_000, 1_500],
  '5400': [400_000, 30_000, 6_000, 2_000],
  '7000': [800_000, 60_000, 20_000, 4_000],
  vm: [15_000, 1_200, 200, 100],
};

/** Metrics for a device that does not give its own: the family's typical load ±20 %, fixed per seed and serial. */
export function defaultMetrics(family: string, seed: number, serial: string): DeviceMetrics {
  const [tcp, udp, routes, arp] = FAMILY_LOAD[family] ?? [10_000, 1_000, 200, 100];
  const jitter = (base: number, field: string): number =>
    Math.round(base * (0.8 + 0.4 * unitHash(`${seed}:${serial}:${field}`)));
  return {
    tcpSessions: jitter(tcp, 'tcp'),
    udpSessions: jitter(udp, 'udp'),
    routes: jitter(routes, 'routes'),
    arpEntries: jitter(arp, 'arp'),
  };
}
