/**
 * What a device answers to readiness tooling (licenses, NTP, BGP, tunnels, FIB, locks, …): the scenario's
 * fields for it, the faults that make each readiness area fail, and the plain data the response builders
 * of responses-readiness.ts render. The simulator derives the data on each request from the device's
 * record, these fields and faults (simulator/readiness-state.ts); nothing of it is stored per device.
 */

/** A dynamic-update schedule as the scenario writes it: `daily 03:15`, `weekly sunday 04:10`, `hourly 20`, `every-30-mins`, `none`. */
export type UpdateScheduleText = string;

/** A session that must exist (pan-os-upgrade-assurance `session_exist`: source, destination, port). */
export interface CriticalSession {
  source: string;
  destination: string;
  port: number;
  /** 6 (TCP, default) or 17 (UDP). */
  protocol?: number;
}

/** Per-device readiness fields of a scenario (`readiness:` on a device or under `defaults:`); every one has a default. */
export interface ReadinessSpec {
  ntpServers?: string[];
  /** Data interfaces ethernet1/1…N (default 4 on PA-VM, 8 on hardware). */
  interfaces?: number;
  /** Virtual routers: `default`, then `vr-2`, `vr-3`, … (default 2). */
  virtualRouters?: number;
  bgpPeers?: number;
  ipsecTunnels?: number;
  /** `YYYY-MM-DD`; default a date about a year after the simulated time. */
  licenseExpires?: string;
  supportExpires?: string;
  supportLevel?: string;
  jumboFrame?: boolean;
  advancedRouting?: boolean;
  /** Whether the device has a Panorama configured (default true: it is managed by the scenario's Panorama). */
  panorama?: boolean;
  deviceGroup?: string;
  templateStack?: string;
  criticalSessions?: CriticalSession[];
  /** The User-ID redistribution service runs (`show user user-id-service status` says up). */
  userIdService?: boolean;
  redistributionClients?: number;
  /** Baseline data-plane and management-plane CPU load, percent. */
  dpCpuPct?: number;
  mpCpuPct?: number;
  /** Management-plane memory in use, percent. */
  mpMemoryPct?: number;
  updateSchedules?: { threats?: UpdateScheduleText; antivirus?: UpdateScheduleText; wildfire?: UpdateScheduleText };
}

/** Faults that make one readiness area fail; switched live with `panos.sim.ctl.<serial>.faults` `{faults:{readiness:{…}}}`. */
export interface ReadinessFaults {
  /** `true` expires Threat Prevention; a string names the feature. */
  licenseExpired?: boolean | string;
  supportExpired?: boolean;
  ntpUnsynced?: boolean;
  pendingChanges?: boolean;
  fullCommitRequired?: boolean;
  /** `true` locks as `admin`; a string names the administrator. */
  configLock?: boolean | string;
  commitLock?: boolean | string;
  /** /opt/panrepo shows this little free space (MB); `true` means 1200 MB. */
  lowDisk?: boolean | number;
  haNotSynced?: boolean;
  /** `true` takes the first BGP peer down; a string names the peer. Its routes leave the route table and FIB. */
  bgpPeerDown?: boolean | string;
  /** `true` takes the first IPsec tunnel down; a string names it. */
  tunnelDown?: boolean | string;
  /** Data-plane CPU load, percent (`true` means 95). */
  highDpCpu?: boolean | number;
  highMpCpu?: boolean | number;
  highMemory?: boolean | number;
  /** `true` raises a power-supply alarm; a string names the component (thermal, fantray, fan, power, power-supply). */
  environmentalAlarm?: boolean | string;
  /** The data-plane clock runs this many seconds off the management clock. */
  clockSkewSeconds?: number;
  /** A certificate with a 1024-bit RSA key signed with SHA-1 appears in the running config. */
  weakCertificate?: boolean;
}

/** The free space on /opt/panrepo a device shows and downloads into, after the low-disk fault. */
export function panrepoFreeAfterFaults(freeMb: number, faults: ReadinessFaults | undefined): number {
  const v = faults?.lowDisk;
  if (v === undefined || v === false) return freeMb;
  return Math.min(freeMb, v === true ? LOW_DISK_DEFAULT_MB : v);
}

export const LOW_DISK_DEFAULT_MB = 1200;

export const READINESS_FAULT_KEYS = [
  'licenseExpired',
  'supportExpired',
  'ntpUnsynced',
  'pendingChanges',
  'fullCommitRequired',
  'configLock',
  'commitLock',
  'lowDisk',
  'haNotSynced',
  'bgpPeerDown',
  'tunnelDown',
  'highDpCpu',
  'highMpCpu',
  'highMemory',
  'environmentalAlarm',
  'clockSkewSeconds',
  'weakCertificate',
] as const satisfies readonly (keyof ReadinessFaults)[];

/** The scenario's names for the faults (`failures: - operation: readiness, mode: license_expired`). */
export const READINESS_FAULT_MODES: Readonly<Record<string, keyof ReadinessFaults>> = {
  license_expired: 'licenseExpired',
  support_expired: 'supportExpired',
  ntp_unsynced: 'ntpUnsynced',
  pending_changes: 'pendingChanges',
  full_commit_required: 'fullCommitRequired',
  config_lock: 'configLock',
  commit_lock: 'commitLock',
  low_disk: 'lowDisk',
  ha_not_synced: 'haNotSynced',
  bgp_peer_down: 'bgpPeerDown',
  tunnel_down: 'tunnelDown',
  high_dp_cpu: 'highDpCpu',
  high_mp_cpu: 'highMpCpu',
  high_memory: 'highMemory',
  environmental_alarm: 'environmentalAlarm',
  clock_skew: 'clockSkewSeconds',
  weak_certificate: 'weakCertificate',
};

/** `daily 03:15` → recurring `daily` with at/action; `weekly sunday 04:10`; `hourly 20`; `every-30-mins`; `none`. */
export function parseSchedule(text: string): { recurring: string; fields: [string, string][] } {
  const parts = text.trim().split(/\s+/);
  const [kind = 'none', a, b] = parts;
  switch (kind) {
    case 'daily':
      return { recurring: 'daily', fields: [['at', a ?? '01:00'], ['action', 'download-and-install']] };
    case 'weekly':
      return { recurring: 'weekly', fields: [['day-of-week', a ?? 'sunday'], ['at', b ?? '01:00'], ['action', 'download-and-install']] };
    case 'hourly':
      return { recurring: 'hourly', fields: [['at', a ?? '0'], ['action', 'download-and-install']] };
    case 'none':
      return { recurring: 'none', fields: [] };
    default:
      return { recurring: kind, fields: [['at', a ?? '0'], ['action', 'download-and-install']] };
  }
}

/** Whether a schedule text is one `parseSchedule` understands. */
export function isScheduleText(text: string): boolean {
  return /^(none|daily \d{2}:\d{2}|weekly (monday|tuesday|wednesday|thursday|friday|saturday|sunday) \d{2}:\d{2}|hourly \d{1,2}|every-(1|5|15|30)-mins|every-min|every-hour|real-time)$/.test(text.trim());
}

// ---- the data the builders render ----

export interface SimInterface {
  name: string;
  id: number;
  /** `a.b.c.d/len`, or undefined (tunnel without an address). */
  cidr?: string;
  zone: string;
  virtualRouter: string;
  mac: string;
  mtu: number;
  up: boolean;
  kind: 'ethernet' | 'loopback' | 'tunnel';
}

export interface SimRoute {
  virtualRouter: string;
  destination: string;
  nexthop: string;
  metric: number;
  /** Legacy flags column: `A S`, `A C`, `A B`, … (PAN-OS pads with a trailing space). */
  flags: string;
  interface: string;
  protocol: 'static' | 'connect' | 'bgp' | 'host';
}

export interface SimArpEntry {
  interface: string;
  ip: string;
  mac: string;
  ttl: number;
}

export interface SimBgpPeer {
  name: string;
  group: string;
  virtualRouter: string;
  peerIp: string;
  localIp: string;
  remoteAs: number;
  interface: string;
  established: boolean;
  /** Seconds in the current state. */
  stateSeconds: number;
  prefixes: number;
  flaps: number;
}

export interface SimTunnel {
  name: string;
  id: number;
  gwid: number;
  innerIf: string;
  outerIf: string;
  localIp: string;
  peerIp: string;
  active: boolean;
}

export interface SimLicense {
  feature: string;
  description: string;
  issued: string;
  expires: string;
  expired: boolean;
  authcode?: string;
  baseLicenseName?: string;
}

export interface SimSession {
  idx: number;
  source: string;
  destination: string;
  xsource: string;
  sport: number;
  dport: number;
  xsport: number;
  protocol: number;
  application: string;
  from: string;
  to: string;
  ingress: string;
  egress: string;
  startTime: number;
  bytes: number;
  rule: string;
}

export interface SimLock {
  admin: string;
  created: number;
  comment: string;
}

export interface SimEnvEntry {
  component: 'thermal' | 'fantray' | 'fan' | 'power' | 'power-supply';
  slot: number;
  description: string;
  alarm: boolean;
  /** Reading fields after `alarm`, in PAN-OS order (DegreesC/min/max, RPMs/min, Volts/min/max, Inserted/min). */
  fields: [string, string][];
}
