import type { PanosClient } from '../panos/client.ts';
import { waitForReboot } from '../panos/reboot-wait.ts';
import type { ArpTable, PanosAnswer, ContentEntry, DiskRow, HaState, ParsedJob, SessionInfo, SoftwareInfo, SystemInfo } from '../panos/parsers.ts';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface WaitJobOptions extends CallOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Each answer, with how long the look that brought it took. */
  onProgress?: (job: ParsedJob, look: { ms: number }) => void;
  /** Poll near when the job should be done (see PanosClient.waitForJob). */
  adaptive?: boolean;
  expectedMs?: number;
  /** How long ago the job began (a wait resumed after a restart): its timeout counts from then. */
  elapsedMs?: number;
}

export interface RebootWaitOptions extends CallOptions {
  previousUptimeSeconds: number;
  /** The version before the restart: another one proves the reboot happened. */
  previousVersion?: string;
  expectedVersion: string;
  budgetMs: number;
  pollMs: number;
  startGraceMs: number;
  /** How long ago the restart was requested (a resumed wait): budget and grace count from then. */
  elapsedMs?: number;
  /** How long the device is expected to take, from now, until it is back (see waitForReboot). */
  expectedMs?: number;
  /** While the device is down: how long after the start of the wait it is expected back, as known by then (see waitForReboot). */
  expectedBackMs?: () => number | undefined;
  onPhase?: (phase: string) => void;
}

export interface RebootWaitResult {
  version: string;
  uptimeSeconds: number;
  /** A look found the reboot not over yet (see RebootResult.seenUnfinished); absent: not known. */
  seenUnfinished?: boolean;
  /** The look that found the reboot over, and what followed it (see RebootResult.lookMs); absent: 0. */
  lookMs?: number;
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
  /**
   * A read-only op command, its success answer (readiness checks and snapshots parse it): raw XML, or the
   * envelope the client already parsed, which the parsers of panos/ take as it is.
   */
  readOp(cmd: string, o?: CallOptions): Promise<PanosAnswer>;
  /** `type=config action=get` of one xpath, raw XML or the parsed envelope. */
  configGet(xpath: string, o?: CallOptions): Promise<PanosAnswer>;
  /** Panorama's own `show system info` when the device is reached through Panorama; undefined when reached directly. */
  panoramaInfo(o?: CallOptions): Promise<SystemInfo | undefined>;
}

/**
 * A DeviceApi over the PAN-OS XML client: through Panorama when `target` is given, else the device itself.
 * With `precedence`, its calls go before others when the client's connections are all busy (CallLanes).
 */
export function clientDeviceApi(client: PanosClient, target?: string, precedence = false): DeviceApi {
  const t = { ...(target ? { target } : {}), ...(precedence ? { precedence } : {}) };
  return {
    systemInfo: (o = {}) => client.systemInfo({ ...t, ...o }),
    chassisReady: (o = {}) => client.chassisReady({ ...t, ...o }),
    haState: (o = {}) => client.haState({ ...t, ...o }),
    haSuspend: async (o = {}) => (await client.haSuspend({ ...t, ...o })).text,
    haFunctional: async (o = {}) => (await client.haFunctional({ ...t, ...o })).text,
    jobsAll: (o = {}) => client.jobsAll({ ...t, ...o }),
    softwareInfo: (o = {}) => client.softwareInfo({ ...t, ...o }),
    contentInfo: (o = {}) => client.contentInfo({ ...t, ...o }),
    diskSpace: (o = {}) => client.diskSpace({ ...t, ...o }),
    sessionInfo: (o = {}) => client.sessionInfo({ ...t, ...o }),
    // The summary's total instead of the whole table: a data-centre firewall's table runs to megabytes.
    routes: async (o = {}) => {
      const summary = await client.routingSummary({ ...t, ...o });
      return summary.total > 0 ? { count: summary.total } : { count: (await client.routes({ ...t, ...o })).count };
    },
    arp: (o = {}) => client.arp({ ...t, ...o }),
    download: (version, o) => client.download(version, { ...t, ...o }),
    install: (version, o = {}) => client.install(version, { ...t, ...o }),
    restart: (o = {}) => client.restart({ ...t, ...o }),
    contentDownloadLatest: (o = {}) => client.contentDownloadLatest({ ...t, ...o }),
    contentInstall: (version, o = {}) => client.contentInstall(version, { ...t, ...o }),
    waitForJob: (id, o) => client.waitForJob(id, { ...t, ...o }),
    readOp: (cmd, o = {}) => client.opAnswer(cmd, { ...t, ...o, mutating: false }),
    configGet: (xpath, o = {}) => client.configGetAnswer(xpath, { ...t, ...o }),
    panoramaInfo: async (o = {}) => (target ? client.systemInfo(o) : undefined),
    waitForReboot: async (o) => {
      const r = await waitForReboot(client, { ...t, ...o });
      return { version: r.version, uptimeSeconds: r.uptimeSeconds ?? 0, seenUnfinished: r.seenUnfinished, lookMs: r.lookMs };
    },
  };
}
