import type { ArpTable, DiskRow, HaState, ParsedJob, RouteEntry, SessionInfo, SoftwareInfo, SystemInfo } from '../panos/parsers.ts';
import type {
  BgpPeer,
  CertificateInfo,
  DataplaneCpu,
  EnvironmentalEntry,
  FibEntry,
  InterfaceState,
  License,
  LockEntry,
  ManagementMemory,
  NtpStatus,
  PanoramaStatus,
  SessionEntry,
  SupportInfo,
  TunnelEntry,
  UpdateSchedule,
} from '../panos/parsers-readiness.ts';

/** What the device answered, parsed, for each thing a check or a snapshot reads. */
export interface ReadingValues {
  systemInfo: SystemInfo;
  panoramaStatus: PanoramaStatus;
  ha: HaState;
  ntp: NtpStatus;
  pendingChanges: boolean;
  fullCommitRequired: boolean;
  licenses: License[];
  support: SupportInfo;
  disk: DiskRow[];
  software: SoftwareInfo;
  jobs: ParsedJob[];
  sessions: SessionEntry[];
  arp: ArpTable;
  tunnels: TunnelEntry[];
  bgpPeers: BgpPeer[];
  /** Management-plane clock, ms. */
  mpClock: number;
  /** Distinct data-plane clocks, ms. */
  dpClocks: number[];
  certificates: CertificateInfo[];
  updateSchedules: UpdateSchedule[];
  jumboFrames: boolean;
  environmentals: EnvironmentalEntry[];
  dpCpu: DataplaneCpu;
  mpCpu: number;
  mpMemory: ManagementMemory;
  configLocks: LockEntry[];
  commitLocks: LockEntry[];
  /** Panorama's own `show system info` (not the target's). */
  panoramaInfo: SystemInfo;
  fib: FibEntry[];
  interfaces: InterfaceState[];
  interfaceMtus: Record<string, number | undefined>;
  routes: RouteEntry[];
  sessionInfo: SessionInfo;
}

export type ReadingName = keyof ReadingValues;

/** The command each reading sends (what `check` prints as "reads"). */
export const READING_COMMANDS: Record<ReadingName, string> = {
  systemInfo: 'show system info',
  panoramaStatus: 'show panorama-status',
  ha: 'show high-availability state',
  ntp: 'show ntp',
  pendingChanges: 'check pending-changes',
  fullCommitRequired: 'check full-commit-required',
  licenses: 'request license info',
  support: 'request support check',
  disk: 'show system disk-space',
  software: 'request system software info',
  jobs: 'show jobs all',
  sessions: 'show session all',
  arp: "show arp entry name='all'",
  tunnels: 'show running tunnel flow all',
  bgpPeers: 'show routing protocol bgp peer',
  mpClock: 'show clock',
  dpClocks: 'show clock more',
  certificates: 'show config running',
  updateSchedules: 'config get …/deviceconfig/system/update-schedule',
  jumboFrames: 'show system setting jumbo-frame',
  environmentals: 'show system environmentals',
  dpCpu: 'show running resource-monitor minute last N',
  mpCpu: 'show system state filter sys.monitor.*.mp.exports',
  mpMemory: 'show system resources',
  configLocks: 'show config-locks vsys all',
  commitLocks: 'show commit-locks vsys all',
  panoramaInfo: 'show system info (on Panorama)',
  fib: 'show routing fib',
  interfaces: 'show interface hardware',
  interfaceMtus: 'show system state filter sw.dev.interface.config',
  routes: 'show routing route',
  sessionInfo: 'show session info',
};

/** One reading: the parsed answer, or why there is none (command refused on this version, device unreachable…). */
export type Reading<T> = { ok: true; value: T } | { ok: false; reason: string };

export type Readings = { [K in ReadingName]?: Reading<ReadingValues[K]> };
