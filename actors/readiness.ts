import { defaultReadinessPolicy, readingsNeeded, readinessReport, runChecks, SNAPSHOT_AREAS, snapshotReadings, takeSnapshot, type CheckContext, type DeviceSnapshot, type ReadinessPolicy, type ReadinessReport, type ReadingName, type Readings, type ReadingValues, type SnapshotArea } from '../checks/index.ts';
import { BadResponseError, PanosApiError } from '../panos/errors.ts';
import { type PanosAnswer, parseArp, parseClock, parseDiskSpace, parseHaState, parseJobsAll, parseRoutes, parseSessionInfo, parseSoftwareInfo, parseSystemInfo } from '../panos/parsers.ts';
import {
  parseBgpPeers,
  parseCertificates,
  parseDataplaneClocks,
  parseDataplaneCpu,
  parseEnvironmentals,
  parseFib,
  parseInterfaceMtus,
  parseInterfacesHardware,
  parseLicenses,
  parseLocks,
  parseManagementCpu,
  parseManagementMemory,
  parseNtp,
  parsePanoramaStatus,
  parseSessionsAll,
  parseSupportInfo,
  parseTunnels,
  parseUpdateSchedules,
  parseYesNoResult,
} from '../panos/parsers-readiness.ts';
import type { CallOptions, DeviceApi } from './device-api.ts';

export const UPDATE_SCHEDULE_XPATH = "/config/devices/entry[@name='localhost.localdomain']/deviceconfig/system/update-schedule";

interface ReadOptions extends CallOptions {
  /** Minutes of data-plane CPU history (`show running resource-monitor minute last N`). */
  dpCpuMinutes?: number;
}

type Reader<K extends ReadingName> = (api: DeviceApi, o: ReadOptions) => Promise<ReadingValues[K]>;

const op =
  <T>(cmd: string, parse: (xml: PanosAnswer) => T) =>
  async (api: DeviceApi, o: ReadOptions): Promise<T> =>
    parse(await api.readOp(cmd, o));

/** How each reading is read: every call is read-only (op `show`/`check`/info requests, config get). */
const READERS: { [K in ReadingName]: Reader<K> } = {
  systemInfo: op('<show><system><info></info></system></show>', parseSystemInfo),
  panoramaStatus: op('<show><panorama-status></panorama-status></show>', parsePanoramaStatus),
  ha: op('<show><high-availability><state></state></high-availability></show>', parseHaState),
  ntp: op('<show><ntp></ntp></show>', parseNtp),
  pendingChanges: op('<check><pending-changes></pending-changes></check>', (x) => parseYesNoResult(x, 'check pending-changes')),
  fullCommitRequired: op('<check><full-commit-required></full-commit-required></check>', (x) => parseYesNoResult(x, 'check full-commit-required')),
  licenses: op('<request><license><info></info></license></request>', parseLicenses),
  support: op('<request><support><check></check></support></request>', parseSupportInfo),
  disk: op('<show><system><disk-space></disk-space></system></show>', parseDiskSpace),
  software: op('<request><system><software><info></info></software></system></request>', parseSoftwareInfo),
  jobs: op('<show><jobs><all></all></jobs></show>', parseJobsAll),
  sessions: op('<show><session><all></all></session></show>', parseSessionsAll),
  arp: op("<show><arp><entry name='all'/></arp></show>", parseArp),
  tunnels: op('<show><running><tunnel><flow><all></all></flow></tunnel></running></show>', parseTunnels),
  bgpPeers: op('<show><routing><protocol><bgp><peer></peer></bgp></protocol></routing></show>', parseBgpPeers),
  mpClock: op('<show><clock></clock></show>', (x) => {
    const c = parseClock(x);
    if (c.epochMs === undefined) throw new BadResponseError('device', `show clock: cannot read ${JSON.stringify(c.text.slice(0, 40))}`);
    return c.epochMs;
  }),
  dpClocks: op('<show><clock><more></more></clock></show>', parseDataplaneClocks),
  certificates: op('<show><config><running></running></config></show>', parseCertificates),
  updateSchedules: async (api, o) => parseUpdateSchedules(await api.configGet(UPDATE_SCHEDULE_XPATH, o)),
  jumboFrames: op('<show><system><setting><jumbo-frame></jumbo-frame></setting></system></show>', (x) => parseYesNoResult(x, 'show system setting jumbo-frame')),
  environmentals: op('<show><system><environmentals></environmentals></system></show>', parseEnvironmentals),
  dpCpu: (api, o) => op(`<show><running><resource-monitor><minute><last>${o.dpCpuMinutes ?? 5}</last></minute></resource-monitor></running></show>`, parseDataplaneCpu)(api, o),
  mpCpu: op('<show><system><state><filter>sys.monitor.*.mp.exports</filter></state></system></show>', parseManagementCpu),
  mpMemory: op('<show><system><resources></resources></system></show>', parseManagementMemory),
  configLocks: op('<show><config-locks><vsys>all</vsys></config-locks></show>', parseLocks),
  commitLocks: op('<show><commit-locks><vsys>all</vsys></commit-locks></show>', parseLocks),
  panoramaInfo: async (api, o) => {
    const info = await api.panoramaInfo(o);
    if (!info) throw new NotApplicable('the device is reached directly, not through Panorama');
    return info;
  },
  fib: op('<show><routing><fib></fib></routing></show>', parseFib),
  interfaces: op('<show><interface>hardware</interface></show>', parseInterfacesHardware),
  interfaceMtus: op('<show><system><state><filter>sw.dev.interface.config</filter></state></system></show>', parseInterfaceMtus),
  routes: op('<show><routing><route></route></routing></show>', (x) => parseRoutes(x).entries),
  sessionInfo: op('<show><session><info></info></session></show>', parseSessionInfo),
};

class NotApplicable extends Error {}

/** The device refused or answered something unreadable: the check cannot run. Transport trouble is not this. */
function unavailableReason(err: unknown): string | undefined {
  if (err instanceof NotApplicable) return err.message;
  if (err instanceof PanosApiError) return err.message;
  if (err instanceof BadResponseError) return err.message;
  return undefined;
}

/**
 * Read what the named readings need from one device, a few calls at a time. A command the device refuses
 * (unsupported on its version) or answers unreadably becomes `{ ok: false, reason }`; an unreachable
 * device throws, so that a job retries its step and `check` reports the device.
 */
export async function readDevice(api: DeviceApi, names: readonly ReadingName[], o: ReadOptions = {}, known: Readings = {}): Promise<Readings> {
  const out: Readings = {};
  // What the caller read already (a step's own reads) is not asked for again.
  for (const name of names) if (known[name]) (out as Record<string, unknown>)[name] = known[name];
  const queue = [...new Set(names)].filter((name) => !known[name]);
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const reader = READERS[name] as Reader<ReadingName>;
      try {
        (out as Record<string, unknown>)[name] = { ok: true, value: await reader(api, o) };
      } catch (err) {
        const reason = unavailableReason(err);
        if (reason === undefined) throw err;
        (out as Record<string, unknown>)[name] = { ok: false, reason };
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

export interface ReadinessRun {
  report: ReadinessReport;
  readings: Readings;
}

/** Read the device and run the policy's checks on it. Read-only. */
export async function runReadiness(
  api: DeviceApi,
  device: { serial: string; hostname: string },
  policy: ReadinessPolicy,
  ctx: CheckContext,
  needed: readonly ReadingName[],
  o: CallOptions = {},
  known: Readings = {},
): Promise<ReadinessRun> {
  const dpCpuMinutes = Number(policy.checks.dataplane_cpu?.params.minutes ?? 5);
  const readings = await readDevice(api, needed, { ...o, dpCpuMinutes }, known);
  const verdicts = runChecks(policy, readings, ctx);
  return { report: readinessReport(device.serial, device.hostname, new Date(ctx.now).toISOString(), verdicts), readings };
}

/** Read the device and snapshot the areas the policy compares; what is `known` already is not read again. Read-only. */
export async function snapshotDevice(api: DeviceApi, areas: readonly SnapshotArea[], needed: readonly ReadingName[], o: CallOptions = {}, known: Readings = {}): Promise<DeviceSnapshot> {
  return takeSnapshot(await readDevice(api, needed, o, known), areas);
}

/** A device `check` looks at, with what the plan says it still needs. */
export interface CheckTarget {
  device: { serial: string; hostname: string; model: string };
  api: DeviceApi;
  targetVersion: string | null;
  planVersions: string[];
  installHops: number;
  rebootBudgetMs: number | null;
  /** Why the device could not be planned, when it could not (checks needing a plan then skip). */
  planError?: string;
}

export interface FleetCheckRow {
  serial: string;
  hostname: string;
  report?: ReadinessReport;
  /** The device could not be read at all (unreachable, not connected to Panorama…). */
  error?: string;
  planError?: string;
}

export interface FleetCheckResult {
  /** No device with a blocking failure or an error. */
  ok: boolean;
  policy: string;
  devices: FleetCheckRow[];
}

/** Readiness of many devices, a few at a time. Read-only: every call is a `show`, a check/info request or a config get. */
export async function checkFleet(targets: readonly CheckTarget[], policy: ReadinessPolicy, now: () => number, concurrency = 4, needed?: readonly ReadingName[]): Promise<FleetCheckResult> {
  const reads = needed ?? readingsNeeded(policy);
  const rows: FleetCheckRow[] = new Array(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < targets.length; i = next++) {
      const t = targets[i]!;
      const row: FleetCheckRow = { serial: t.device.serial, hostname: t.device.hostname, ...(t.planError ? { planError: t.planError } : {}) };
      try {
        const ctx: CheckContext = { now: now(), targetVersion: t.targetVersion, planVersions: t.planVersions, installHops: t.installHops, model: t.device.model, rebootBudgetMs: t.rebootBudgetMs };
        row.report = (await runReadiness(t.api, t.device, policy, ctx, reads)).report;
      } catch (err) {
        row.error = err instanceof Error ? err.message : String(err);
      }
      rows[i] = row;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, targets.length)) }, worker));
  return { ok: rows.every((r) => !r.error && r.report?.ok), policy: policy.name ?? 'custom', devices: rows };
}

/** The pre-flight of an upgrade job: the readiness checks on its device, with what its plan still needs. */
export async function preflight(...args: Parameters<typeof preflightRun>): Promise<ReadinessReport | undefined> {
  return (await preflightRun(...args))?.report;
}

type PreflightJob = { device: { serial: string; hostname: string; model: string } | null; plan: Array<{ version: string; action: string }>; hop: number; targetVersion: string | null; parentId: string | null; policy: { readiness?: ReadinessPolicy } };

/** As `preflight`, with the readings the checks were run on. */
export async function preflightRun(
  api: DeviceApi,
  job: PreflightJob,
  rebootBudgetMs: (model: string) => number,
  now: number,
  o: CallOptions = {},
  known: Readings = {},
): Promise<ReadinessRun | undefined> {
  const own = job.policy.readiness;
  if (!own || !job.device) return undefined;
  // A peer of an HA pair job is suspended on purpose by the pair, which checks the pair's HA state itself.
  const policy: ReadinessPolicy = job.parentId && own.checks.ha ? { ...own, checks: { ...own.checks, ha: { ...own.checks.ha, enabled: false } } } : own;
  const rest = job.plan.slice(job.hop);
  const ctx: CheckContext = {
    now,
    targetVersion: job.targetVersion ?? job.plan.at(-1)?.version ?? null,
    planVersions: rest.map((h) => h.version),
    installHops: rest.filter((h) => h.action === 'install').length,
    model: job.device.model,
    rebootBudgetMs: rebootBudgetMs(job.device.model),
  };
  return runReadiness(api, job.device, policy, ctx, readingsNeeded(policy), o, known);
}

/** The snapshot a job takes before and after its upgrade: the areas its policy compares (all, by default). */
export async function jobSnapshot(api: DeviceApi, policy: ReadinessPolicy | undefined, o: CallOptions = {}, known: Readings = {}): Promise<DeviceSnapshot> {
  const rules = (policy ?? defaultReadinessPolicy()).snapshots;
  const areas = SNAPSHOT_AREAS.filter((a) => rules[a]?.enabled);
  return snapshotDevice(api, areas, snapshotReadings(areas), o, known);
}
