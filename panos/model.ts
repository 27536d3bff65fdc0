/**
 * The data of a PAN-OS device as both sides of the XML API see it: the simulator keeps it in each
 * firewall actor's context and renders responses from it; the client parses responses back into the
 * same shapes. Plain JSON only (no Date), so it can go into the event log and over NATS as is.
 */

/** One entry of `request system software check|info`. */
export interface SoftwareImage {
  version: string;
  /** Image size in MB, as PAN-OS reports `<size>`. */
  sizeMb: number;
  /** `YYYY/MM/DD HH:MM:SS` */
  releasedOn: string;
  /** Oldest app/threat content version this release accepts, e.g. `8799-8509`. */
  minContentVersion?: string;
}

/** One entry of `request content upgrade check|info`. */
export interface ContentPackage {
  /** `8799-8509` */
  version: string;
  sizeMb: number;
  releasedOn: string;
}

export type PanosJobType = 'Downld' | 'SWInstall' | 'Content' | 'AutoCom';
export type PanosJobStatus = 'ACT' | 'FIN' | 'PEND';
export type PanosJobResult = 'OK' | 'FAIL' | 'PEND';

/** A PAN-OS job as `show jobs id N` reports it; times are ms since the epoch. */
export interface PanosJob {
  id: number;
  type: PanosJobType;
  /** `admin` for jobs an API user started, empty for system jobs (AutoCom). */
  user: string;
  enqueuedAt: number;
  startedAt: number;
  /** When the job is planned to finish; progress is derived from it. */
  endsAt: number;
  finishedAt?: number;
  status: PanosJobStatus;
  result: PanosJobResult;
  details: string[];
  warnings: string[];
  description: string;
  /** Software or content version the job is about. */
  version?: string;
  /** A stalled job's progress stops moving (fault injection). */
  stalledAt?: number;
}

export type HaLocalState = 'active' | 'passive' | 'suspended' | 'non-functional' | 'initial' | 'tentative';
export type RunningSync = 'synchronized' | 'not synchronized' | 'synchronization in progress';

export interface HaConfig {
  peerSerial: string;
  /** Lower is preferred, as in PAN-OS device priority. */
  priority: number;
  preemptive: boolean;
  mode: 'Active-Passive';
  groupId: number;
}

export interface HaRecord {
  config: HaConfig;
  state: HaLocalState;
  /** ms since the epoch when `state` was entered. */
  stateSince: number;
  runningSync: RunningSync;
  stateSync: 'Complete' | 'Incomplete';
  lastErrorReason?: string;
  lastErrorState?: HaLocalState;
}

export interface DeviceMetrics {
  tcpSessions: number;
  udpSessions: number;
  routes: number;
  arpEntries: number;
}

export interface DiskRecord {
  /** Size of /opt/panrepo, where images are downloaded. */
  panrepoTotalMb: number;
  panrepoUsedMb: number;
}

/** Everything a firewall answers about itself. */
export interface FirewallRecord {
  serial: string;
  hostname: string;
  model: string;
  family: string;
  mgmtIp: string;
  netmask: string;
  defaultGateway: string;
  macAddress: string;
  swVersion: string;
  /** Installed but not yet running: takes effect at the next reboot. */
  pendingVersion?: string;
  /** ms since the epoch of the last boot; uptime is derived. */
  bootedAt: number;
  multiVsys: boolean;
  /** The software list the update server offers this platform. */
  images: readonly SoftwareImage[];
  /** Versions present in the software manager. */
  downloaded: string[];
  content: {
    installed: string;
    available: readonly ContentPackage[];
    downloaded: string[];
  };
  avVersion: string;
  metrics: DeviceMetrics;
  disk: DiskRecord;
  /** Newest last; capped so that the record stays small. */
  jobs: PanosJob[];
  nextJobId: number;
  ha?: HaRecord;
}

/** Panorama's own identity. */
export interface PanoramaRecord {
  serial: string;
  hostname: string;
  model: string;
  mgmtIp: string;
  swVersion: string;
  bootedAt: number;
}

/** What Panorama says of one managed firewall in `show devices connected|all`. */
export interface ManagedDeviceView {
  record: FirewallRecord;
  connected: boolean;
  /** HA state and peer as Panorama shows them, when the firewall is in a pair. */
  haState?: HaLocalState;
}

/** Keep the newest `MAX_JOBS` jobs; PAN-OS's own list is truncated around 30. */
export const MAX_JOBS = 30;

/** `N days, H:MM:SS`, as `show system info` prints uptime. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${days} days, ${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/** Parse `N days, H:MM:SS` back to seconds; undefined when it does not match. */
export function parseUptime(text: string): number | undefined {
  const m = /^\s*(\d+)\s+days?,\s+(\d+):(\d{2}):(\d{2})\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 86_400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** Job progress in percent at `now`, as PAN-OS reports it while running (never 100 until finished). */
export function jobProgress(job: PanosJob, now: number): number {
  if (job.status === 'FIN') return 100;
  const until = job.stalledAt !== undefined ? Math.min(job.stalledAt, now) : now;
  const span = Math.max(1, job.endsAt - job.startedAt);
  return Math.max(0, Math.min(99, Math.floor((100 * (until - job.startedAt)) / span)));
}

/** Compare content versions `8799-8509`: by app version number, then threat number. */
export function compareContentVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('-').map(Number);
  const [b1 = 0, b2 = 0] = b.split('-').map(Number);
  return a1 - b1 || a2 - b2;
}
