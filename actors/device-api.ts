import type { ArpTable, ContentEntry, DiskRow, HaState, ParsedJob, SessionInfo, SoftwareInfo, SystemInfo } from '../panos/parsers.ts';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface WaitJobOptions extends CallOptions {
  intervalMs: number;
  timeoutMs: number;
  onProgress?: (job: ParsedJob) => void;
}

export interface RebootWaitOptions extends CallOptions {
  previousUptimeSeconds: number;
  expectedVersion: string;
  budgetMs: number;
  pollMs: number;
  startGraceMs: number;
  onPhase?: (phase: string) => void;
}

export interface RebootWaitResult {
  version: string;
  uptimeSeconds: number;
}

/**
 * One device as the orchestrator drives it: through Panorama with `target=<serial>`, or at its own
 * management address. The step effects see only this, so they do not care which.
 */
export interface DeviceApi {
  systemInfo(o?: CallOptions): Promise<SystemInfo>;
  chassisReady(o?: CallOptions): Promise<boolean>;
  haState(o?: CallOptions): Promise<HaState>;
  haSuspend(o?: CallOptions): Promise<string>;
  haFunctional(o?: CallOptions): Promise<string>;
  jobsAll(o?: CallOptions): Promise<ParsedJob[]>;
  softwareInfo(o?: CallOptions): Promise<SoftwareInfo>;
  contentInfo(o?: CallOptions): Promise<{ current?: string; entries: ContentEntry[] }>;
  diskSpace(o?: CallOptions): Promise<DiskRow[]>;
  sessionInfo(o?: CallOptions): Promise<SessionInfo>;
  routes(o?: CallOptions): Promise<{ count: number }>;
  arp(o?: CallOptions): Promise<ArpTable>;
  download(version: string, o: CallOptions & { syncToPeer: boolean }): Promise<number>;
  install(version: string, o?: CallOptions): Promise<number>;
  restart(o?: CallOptions): Promise<{ acknowledged: boolean }>;
  contentDownloadLatest(o?: CallOptions): Promise<number>;
  contentInstall(version: string, o?: CallOptions): Promise<number>;
  waitForJob(id: number, o: WaitJobOptions): Promise<ParsedJob>;
  waitForReboot(o: RebootWaitOptions): Promise<RebootWaitResult>;
}
