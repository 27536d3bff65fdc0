import type { EventEnvelope } from '../eventstore/index.ts';
import { SOFTWARE_MANAGER_BUSY, type DeviceFaults } from '../machines/firewall.logic.ts';
import { drawBetween, seedFor } from '../machines/random.ts';
import { foldJob, isTerminal, type JobState } from '../machines/upgrade-job.fold.ts';
import { foldPair, type PairState } from '../machines/ha-pair.fold.ts';
import type { JobFact } from '../machines/upgrade-job.events.ts';
import type { PairFact } from '../machines/ha-pair.fold.ts';
import type { Scenario } from '../scenarios/types.ts';
import { oneEventPerCall } from '../eventstore/index.ts';
import { isServedCalls } from '../eventstore/call-batches.ts';
import { commandOf, type VerifyReport } from './replay.ts';
import { formatCheck, type CheckReport } from './duplicate-check.ts';

/**
 * Chaos runs, the pure part: the plan one seed gives (disruptions and live fault injections, each at a
 * moment drawn from the seed), what the logs say was injected, and the invariants a fleet upgrade
 * must keep whatever happens. The runner (chaos/run.ts) does the I/O.
 */

/** `machine-lost`, `nats-node-stop` and `leader-pause` are the cluster run's (`chaos --cluster`). */
export type DisruptionKind = 'daemon-kill' | 'simulator-restart' | 'nats-restart' | 'machine-lost' | 'nats-node-stop' | 'leader-pause';

/**
 * When a daemon SIGKILL hits: a daemon that has been up a while (`running`), the daemon started after
 * the kill before it (`start-up`: `afterMs` after it was spawned, while it opens its log and resumes), or
 * that daemon just after it answered (`resume`: `afterMs` after that, while its resumed jobs reconcile).
 */
export type KillPhase = 'running' | 'start-up' | 'resume';

export interface PlannedDisruption {
  what: DisruptionKind;
  /** After the jobs were submitted; a start-up or resume kill follows the kill before it, whatever its own. */
  atMs: number;
  /** Daemon kills only. */
  kill?: KillPhase;
  afterMs?: number;
  /** `nats-node-stop`: which node of the cluster (0-based). */
  node?: number;
}

/** A fault switched on live over `panos.sim.ctl.<serial>.faults` for a while. */
export interface PlannedInjection {
  /** The device it is meant for; when its job is not running at that moment, the first of `candidates` whose job is. */
  device: string;
  candidates: string[];
  fault: string;
  faults: DeviceFaults;
  atMs: number;
  untilMs: number;
}

export interface ChaosPlan {
  seed: number;
  /** How long the upgrade should take without faults; the moments are drawn within it. */
  estimateMs: number;
  disruptions: PlannedDisruption[];
  injections: PlannedInjection[];
  /** The scenario's own `failures`, per device (`*` for all). */
  declared: Array<{ device: string; fault: string }>;
}

function mean([a, b]: readonly [number, number]): number {
  return (a + b) / 2;
}

/** Rough duration of the fleet upgrade: the longest unit (an HA pair counts twice) times the waves of `concurrency`. */
export function estimateUpgradeMs(scenario: Scenario, concurrency: number): number {
  const t = scenario.timing;
  const hop = mean(t.downloadMs) + mean(t.installMs) + mean(t.rebootMs) + mean(t.autoCommitMs);
  const content = mean(t.contentDownloadMs) + mean(t.contentInstallMs);
  let units = 0;
  let longest = 0;
  for (const d of scenario.devices) {
    const hops = scenario.upgradePaths[d.swVersion]?.length ?? 0;
    if (hops === 0) continue;
    if (d.ha && d.ha.peerSerial < d.serial) continue;
    units++;
    longest = Math.max(longest, (content + hops * hop) * (d.ha ? 2.5 : 1));
  }
  return Math.round(Math.max(1, Math.ceil(units / Math.max(1, concurrency))) * longest);
}

function describeFaults(f: DeviceFaults): string {
  const parts: string[] = [];
  if (f.busy) parts.push(`software manager busy ${Math.round(f.busy.rate * 100)}%`);
  const a = f.api;
  if (a?.http5xxRate) parts.push(`HTTP 5xx ${Math.round(a.http5xxRate * 100)}%`);
  if (a?.dropRate) parts.push(`dropped connections ${Math.round(a.dropRate * 100)}%`);
  if (a?.hangRate) parts.push(`hangs ${Math.round(a.hangRate * 100)}%`);
  if (a?.notConnectedRate) parts.push(`not connected through Panorama ${Math.round(a.notConnectedRate * 100)}%`);
  if (a?.latencyMs) parts.push(`latency ${a.latencyMs} ms`);
  return parts.join(', ');
}

/**
 * The plan of one seed: when the daemon is killed, the simulator and the NATS server restarted, and
 * which untouched standalone devices get transport or busy faults for a while. Pure: one seed, one plan.
 */
export function chaosPlan(scenario: Scenario, estimateMs: number, options: { kills?: number } = {}): ChaosPlan {
  let rng = seedFor(scenario.seed, 'chaos');
  const draw = (min: number, max: number): number => {
    const [v, next] = drawBetween(rng, min, max);
    rng = next;
    return v;
  };
  const at = (from: number, to: number): number => Math.round(estimateMs * draw(from, to));
  const firstKill: PlannedDisruption = { what: 'daemon-kill', atMs: at(0.15, 0.45), kill: 'running' };
  const others: PlannedDisruption[] = [
    { what: 'simulator-restart', atMs: at(0.25, 0.6) },
    { what: 'nats-restart', atMs: at(0.35, 0.75) },
  ];
  const declaredSerials = new Set(scenario.failures.map((f) => f.device));
  const declared = scenario.failures.map((f) => {
    const rate = `${Math.round(f.failureRate * 100)}%`;
    const extra = f.operation === 'api' ? (f.durationMs !== undefined ? `, ${f.durationMs} ms` : '') : `: ${f.error}`;
    return { device: f.device, fault: `${f.operation}${f.mode ? ` ${f.mode}` : ''} (${rate}${extra})` };
  });
  const candidates = declaredSerials.has('*')
    ? []
    : scenario.devices.filter((d) => !d.ha && !declaredSerials.has(d.serial) && (scenario.upgradePaths[d.swVersion]?.length ?? 0) > 0).map((d) => d.serial);
  // A seeded shuffle (Fisher–Yates) picks the victims.
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(draw(0, 1) * (i + 1)) % (i + 1);
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  const latencyMs = Math.max(5, Math.round(mean(scenario.timing.installMs) * 0.2));
  const kinds: Array<{ fault: string; faults: DeviceFaults }> = [
    { fault: 'api', faults: { api: { http5xxRate: 0.15, dropRate: 0.1 } } },
    { fault: 'busy', faults: { busy: { rate: 0.5, error: SOFTWARE_MANAGER_BUSY } } },
    { fault: 'api', faults: { api: { notConnectedRate: 0.2, latencyMs } } },
  ];
  const injections = candidates.slice(0, Math.min(kinds.length, Math.ceil(candidates.length / 6))).map((device, i) => {
    const kind = kinds[i]!;
    const start = at(0, 0.3);
    // The others in the seeded order, from this one on: the runner moves the fault to a device still being worked on.
    const order = [...candidates.slice(i), ...candidates.slice(0, i)];
    return { device, candidates: order, fault: `${kind.fault}: ${describeFaults(kind.faults)}`, faults: kind.faults, atMs: start, untilMs: start + at(0.3, 0.6) };
  });
  // More kills (--kills N), drawn after everything else so that one kill plans as it always did: in
  // groups of three, a running daemon killed, the next one killed during start-up, the one after that
  // while it resumes.
  const kills: PlannedDisruption[][] = [[firstKill]];
  for (let i = 1; i < Math.max(1, options.kills ?? 1); i++) {
    const group = kills.at(-1)!;
    const phase: KillPhase = i % 3 === 1 ? 'start-up' : i % 3 === 2 ? 'resume' : 'running';
    if (phase === 'running') kills.push([{ what: 'daemon-kill', atMs: at(0.2, 0.85), kill: 'running' }]);
    else group.push({ what: 'daemon-kill', atMs: group[0]!.atMs, kill: phase, afterMs: Math.round(phase === 'start-up' ? draw(100, 1500) : draw(0, 400)) });
  }
  // Sorted by moment; a group's follow-up kills stay right after its first.
  const units: PlannedDisruption[][] = [...kills, ...others.map((d) => [d])].sort((a, b) => a[0]!.atMs - b[0]!.atMs);
  const disruptions = units.flat();
  return { seed: scenario.seed, estimateMs, disruptions, injections, declared };
}

// ---- what the logs say ----

/** One fault that showed in the logs: where, what, when (ms after the jobs were submitted). */
export interface ObservedFault {
  device: string;
  fault: string;
  count: number;
  firstMs: number;
  lastMs: number;
}

interface ServedCall {
  gseq: number;
  atMs: number;
  serial: string | null;
  kind: string | null;
  version: string | null;
  outcome: string;
  httpStatus: number | null;
  response: string;
  durationMs: number | null;
  via: string | null;
}

function servedCalls(events: readonly EventEnvelope[], scenario: Scenario): ServedCall[] {
  const byIp = new Map(scenario.devices.map((d) => [d.mgmtIp, d.serial]));
  return oneEventPerCall(events.filter(isServedCalls))
    .map((e) => {
      const d = e.data as { via?: string; address?: string; target?: string | null; command?: string | null; outcome?: string; httpStatus?: number | null; response?: string | null; durationMs?: number };
      const { kind, version } = commandOf(d.command);
      const serial = d.target ? d.target : d.via === 'direct' ? (byIp.get(d.address ?? '') ?? null) : null;
      return {
        gseq: e.gseq,
        atMs: Date.parse(e.at),
        serial,
        kind,
        version,
        outcome: d.outcome ?? '?',
        httpStatus: d.httpStatus ?? null,
        response: d.response ?? '',
        durationMs: typeof d.durationMs === 'number' ? d.durationMs : null,
        via: d.via ?? null,
      };
    });
}

const BUSY_RE = /software manager is currently in use/i;
const NOT_CONNECTED_RE = /is not connected to Panorama/;
/** A call answered just after a window closed was still inside it when it arrived. */
const LATENCY_SLACK_MS = 1_000;
const REBOOT_SLACK_MS = 500;

interface Window {
  from: number;
  to: number;
}

function within(windows: readonly Window[] | undefined, at: number): boolean {
  return (windows ?? []).some((w) => at >= w.from && at <= w.to + REBOOT_SLACK_MS);
}

/** Per device, from a restart or crash until it is ready again (or the end of the log). */
function rebootWindows(events: readonly EventEnvelope[]): Map<string, Window[]> {
  const out = new Map<string, Window[]>();
  const open = new Map<string, number>();
  for (const e of events) {
    if (!e.stream.startsWith('sim:') || e.stream === 'sim:-') continue;
    const serial = e.stream.slice(4);
    const at = Date.parse(e.at);
    if ((e.type === 'sim.reboot.started' || e.type === 'sim.crash.started') && !open.has(serial)) open.set(serial, at);
    if ((e.type === 'sim.reboot.ready' || e.type === 'sim.reboot.completed') && open.has(serial)) {
      out.set(serial, [...(out.get(serial) ?? []), { from: open.get(serial)!, to: at }]);
      open.delete(serial);
    }
  }
  for (const [serial, from] of open) out.set(serial, [...(out.get(serial) ?? []), { from, to: Number.MAX_SAFE_INTEGER }]);
  return out;
}

/**
 * Where latency was in force: live injections from the chaos stream (`chaos.fault.injected` with its
 * faults, until `chaos.fault.cleared`), and the scenario's declared latency (always; only calls at least
 * that slow count).
 */
function latencyWindows(events: readonly EventEnvelope[], scenario: Scenario): Array<Window & { device: string; latencyMs: number }> {
  const out: Array<Window & { device: string; latencyMs: number }> = [];
  for (const f of scenario.failures) {
    if (f.operation !== 'api' || f.mode !== 'latency') continue;
    const latencyMs = f.durationMs ?? 2000;
    const devices = f.device === '*' ? scenario.devices.map((d) => d.serial) : [f.device];
    for (const device of devices) out.push({ device, latencyMs, from: 0, to: Number.MAX_SAFE_INTEGER });
  }
  const open = new Map<string, Window & { device: string; latencyMs: number }>();
  for (const e of events) {
    if (e.stream !== 'chaos') continue;
    const d = (e.data ?? {}) as { device?: string; faults?: DeviceFaults };
    if (!d.device) continue;
    if (e.type === 'chaos.fault.injected' && d.faults?.api?.latencyMs) {
      const w = { device: d.device, latencyMs: d.faults.api.latencyMs, from: Date.parse(e.at), to: Number.MAX_SAFE_INTEGER };
      open.set(d.device, w);
      out.push(w);
    }
    if (e.type === 'chaos.fault.cleared') {
      const w = open.get(d.device);
      if (w) w.to = Date.parse(e.at);
      open.delete(d.device);
    }
  }
  return out;
}

/** The reason of a failed install, without PAN-OS's boilerplate lines around it. */
function installReason(text: string): string {
  return text
    .replace(/Failed to install \S+ with the following errors\.\s*/, '')
    .replace(/SW version is \S+\s*/, '')
    .replace(/\s*Failed to install\s+version\s+\S+\s+type\s+\S+\s*$/, '')
    .trim();
}

/** Every fault the simulator's facts and the gateway's served calls show, per device and kind. */
export function observedFaults(simEvents: readonly EventEnvelope[], scenario: Scenario, startedAt: number): ObservedFault[] {
  const out = new Map<string, ObservedFault>();
  const note = (device: string, fault: string, atMs: number): void => {
    const key = `${device}\u0000${fault}`;
    const ms = Math.max(0, atMs - startedAt);
    const f = out.get(key);
    if (f) {
      f.count++;
      f.lastMs = ms;
    } else {
      out.set(key, { device, fault, count: 1, firstMs: ms, lastMs: ms });
    }
  };
  const pending = new Map<string, boolean>();
  const lastReboot = new Map<string, { from: string }>();
  for (const e of simEvents) {
    if (!e.stream.startsWith('sim:') || e.stream === 'sim:-') continue;
    const serial = e.stream.slice(4);
    const d = (e.data ?? {}) as Record<string, unknown>;
    const at = Date.parse(e.at);
    const reason = String(d.reason ?? '');
    switch (e.type) {
      case 'sim.busy.refused':
        note(serial, `software manager busy (${String(d.operation)} refused)`, at);
        break;
      case 'sim.download.started':
        if (d.stalled === true) note(serial, `download stall (${String(d.version)})`, at);
        break;
      case 'sim.download.failed':
        if (!reason.startsWith('aborted')) note(serial, `download failed: ${reason.slice(0, 80)}`, at);
        break;
      case 'sim.disk.full':
        note(serial, 'disk full mid-download', at);
        break;
      case 'sim.install.completed':
        if (d.kind === 'software') pending.set(serial, true);
        break;
      case 'sim.install.failed':
        if (BUSY_RE.test(reason)) note(serial, 'software manager busy (install refused)', at);
        else if (!reason.startsWith('aborted')) note(serial, `install failed: ${installReason(reason).slice(0, 80)}`, at);
        break;
      case 'sim.reboot.started':
        lastReboot.set(serial, { from: String(d.fromVersion) });
        if (d.readyAt !== undefined && d.downAt !== undefined) {
          const spec = scenario.devices.find((x) => x.serial === serial);
          const normal = spec ? scenario.timing.rebootMs[1] : 0;
          if (normal > 0 && Number(d.readyAt) - Number(d.downAt) > 2 * normal) note(serial, 'slow reboot', at);
        }
        break;
      case 'sim.reboot.down':
        if (d.neverReturns === true) note(serial, 'reboot never returns', at);
        break;
      case 'sim.reboot.booting':
        if (pending.get(serial) && lastReboot.get(serial)?.from === String(d.version)) note(serial, 'reboot into the wrong version', at);
        pending.set(serial, false);
        break;
      case 'sim.autocommit.failed':
        note(serial, `auto-commit failed: ${reason.slice(0, 80)}`, at);
        break;
      case 'sim.crash.started':
        note(serial, `crash (unplanned reboot): ${reason.slice(0, 60)}`, at);
        break;
    }
  }
  const rebooting = rebootWindows(simEvents);
  const latency = latencyWindows(simEvents, scenario);
  for (const c of servedCalls(simEvents, scenario)) {
    if (!c.serial) continue;
    if (c.outcome === 'dropped') note(c.serial, 'dropped connection', c.atMs);
    else if (c.outcome === 'hung') note(c.serial, 'hang', c.atMs);
    else if (c.httpStatus !== null && c.httpStatus >= 500 && c.httpStatus < 600 && /Bad Gateway/.test(c.response)) note(c.serial, 'HTTP 5xx', c.atMs);
    // Panorama says "not connected" while a firewall reboots; at any other moment it is a fault.
    else if (c.via === 'panorama' && NOT_CONNECTED_RE.test(c.response) && !within(rebooting.get(c.serial), c.atMs)) note(c.serial, 'not connected through Panorama', c.atMs);
    const slow = latency.find((w) => w.device === c.serial && c.atMs >= w.from && c.atMs <= w.to + LATENCY_SLACK_MS);
    if (slow && c.durationMs !== null && c.durationMs >= slow.latencyMs) note(c.serial, `latency ${slow.latencyMs} ms`, c.atMs);
  }
  return [...out.values()].sort((a, b) => a.firstMs - b.firstMs || a.device.localeCompare(b.device));
}

// ---- invariants ----

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** One line: what was checked and how it came out. */
  detail: string;
  violations: string[];
  /** Things worth knowing that are not violations (an overlap the injected faults caused). */
  notes?: string[];
}

export interface ChaosEvidence {
  scenario: Scenario;
  plan: ChaosPlan;
  /** When the jobs were submitted (ms since the epoch). */
  startedAt: number;
  /** The daemon's whole log, in global order. */
  daemonEvents: readonly EventEnvelope[];
  /** The simulator's and gateway's whole log, in global order. */
  simEvents: readonly EventEnvelope[];
  /** What was submitted per device: a job id, or why none. */
  submitted: ReadonlyArray<{ device: string; jobId: string | null; reason?: string }>;
  /** `replay verify` of every daemon run. */
  verify: ReadonlyArray<{ runId: string; report: VerifyReport }>;
  /** `replay check` of the daemon's whole log: duplicates seen from its own API-call records. */
  check?: CheckReport;
}

/** Global positions 1…n without a gap, and each stream's seq 1…k without a gap. */
export function logGaps(events: readonly EventEnvelope[], name: string): string[] {
  const problems: string[] = [];
  let last = 0;
  const heads = new Map<string, number>();
  for (const e of events) {
    if (e.gseq !== last + 1) problems.push(`${name}: global position ${last + 1} is missing (next is ${e.gseq})`);
    last = e.gseq;
    const head = heads.get(e.stream) ?? 0;
    if (e.seq !== head + 1) problems.push(`${name}: ${e.stream} seq ${head + 1} is missing (next is ${e.seq})`);
    heads.set(e.stream, e.seq);
  }
  return problems;
}

interface JobView {
  jobId: string;
  pair: boolean;
  status: string;
  message: string;
  reason: string | null;
  serials: string[];
  parentId: string | null;
}

function jobViews(events: readonly EventEnvelope[]): JobView[] {
  const byStream = new Map<string, EventEnvelope[]>();
  for (const e of events) {
    if (!e.stream.startsWith('job:')) continue;
    let list = byStream.get(e.stream);
    if (!list) byStream.set(e.stream, (list = []));
    list.push(e);
  }
  const out: JobView[] = [];
  for (const [stream, es] of byStream) {
    if (es[0]?.type === 'job.ha.submitted') {
      const p: PairState = foldPair(es as unknown as Array<PairFact & { at: string }>);
      out.push({ jobId: stream.slice(4), pair: true, status: p.status, message: p.message, reason: p.error?.reason ?? null, serials: p.peers.map((x) => x.serial), parentId: null });
    } else if (es[0]?.type === 'job.submitted') {
      const j: JobState = foldJob(es as unknown as Array<JobFact & { at: string }>);
      out.push({ jobId: stream.slice(4), pair: false, status: j.status, message: j.message, reason: j.error?.reason ?? null, serials: j.device ? [j.device.serial] : [], parentId: j.parentId });
    }
  }
  return out;
}

const TERMINAL = new Set(['complete', 'download_complete', 'failed', 'cancelled', 'skipped']);

/** Down from `sim.reboot.down` until `sim.reboot.ready` (or for good). */
interface Down {
  from: number;
  to: number;
  unplanned: boolean;
}

function downIntervals(events: readonly EventEnvelope[], serial: string, endAt: number): Down[] {
  const out: Down[] = [];
  let unplanned = false;
  let open: Down | undefined;
  for (const e of events) {
    if (e.stream !== `sim:${serial}`) continue;
    const at = Date.parse(e.at);
    if (e.type === 'sim.reboot.started') unplanned = (e.data as { unplanned?: boolean }).unplanned === true;
    if (e.type === 'sim.reboot.down') open = { from: at, to: endAt, unplanned };
    if (e.type === 'sim.reboot.ready' && open) {
      open.to = at;
      out.push(open);
      open = undefined;
    }
  }
  if (open) out.push(open);
  return out;
}

/** The invariants of a chaos run, each with what broke it. */
/** A run that timed out or whose disruption failed fails its first (terminal) invariant, saying why first. */
export function markRunFailure(invariants: InvariantResult[], run: { timedOut: boolean; timeoutMs: number; disruptionError?: string | undefined }): void {
  if (!run.timedOut && !run.disruptionError) return;
  const terminal = invariants[0]!;
  terminal.ok = false;
  if (run.timedOut) terminal.violations.unshift(`gave up waiting after ${Math.round(run.timeoutMs / 1000)} s`);
  if (run.disruptionError) terminal.violations.unshift(`a disruption failed: ${run.disruptionError}`);
}

/** How the run's jobs and pair jobs ended, counted from the daemon's log. */
/**
 * The jobs of the daemon's log by status, as the terminal-state invariant counts them: every job stream
 * (an HA pair's job, and each peer's job within it), folded; the report's `jobs` line uses the same.
 */
export function jobCounts(daemonEvents: readonly EventEnvelope[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const j of jobViews(daemonEvents)) counts[j.status] = (counts[j.status] ?? 0) + 1;
  return counts;
}

/** `12 job(s): complete 9, failed 3`, or `0 job(s): none`. */
export function describeJobCounts(counts: Readonly<Record<string, number>>): string {
  const total = Object.values(counts).reduce((a, n) => a + n, 0);
  return `${total} job(s): ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`;
}

export function checkInvariants(ev: ChaosEvidence): InvariantResult[] {
  const { scenario, daemonEvents, simEvents } = ev;
  const results: InvariantResult[] = [];
  const endAt = Math.max(Date.parse(simEvents.at(-1)?.at ?? '0'), Date.parse(daemonEvents.at(-1)?.at ?? '0'));
  const jobs = jobViews(daemonEvents);
  const byId = new Map(jobs.map((j) => [j.jobId, j]));

  // 1. Every job ends, with a reason.
  {
    const violations: string[] = [];
    for (const s of ev.submitted) if (s.jobId && !byId.has(s.jobId)) violations.push(`job ${s.jobId} of ${s.device} was accepted but is not in the log`);
    for (const j of jobs) {
      if (!TERMINAL.has(j.status)) violations.push(`${j.pair ? 'HA pair job' : 'job'} ${j.jobId} (${j.serials.join('+')}) is still ${j.status}: ${j.message}`);
      else if (!j.message.trim() || (j.status === 'failed' && !j.reason?.trim())) violations.push(`job ${j.jobId} ended ${j.status} without a reason`);
    }
    results.push({
      name: 'every job ends in a terminal state with a reason',
      ok: violations.length === 0,
      detail: describeJobCounts(jobCounts(daemonEvents)),
      violations,
    });
  }

  // 2. No device got a second install or restart for the same step (the gateway's log of served calls).
  {
    const violations: string[] = [];
    const calls = servedCalls(simEvents, scenario);
    const realInstalls = new Map<string, { version: string; failed: boolean }>();
    for (const e of simEvents) {
      if (!e.stream.startsWith('sim:')) continue;
      const d = e.data as { jobId?: number; version?: string; kind?: string };
      if (e.type === 'sim.install.started' && d.kind === 'software') realInstalls.set(`${e.stream.slice(4)}#${d.jobId}`, { version: String(d.version), failed: false });
      if (e.type === 'sim.install.failed' && d.kind === 'software') {
        const r = realInstalls.get(`${e.stream.slice(4)}#${d.jobId}`);
        if (r) r.failed = true;
      }
    }
    const installs = new Map<string, Array<{ jobId: number; failed: boolean }>>();
    const restarts = new Map<string, number>();
    const stepVersion = new Map<string, string>();
    const merged = [...simEvents].sort((a, b) => a.gseq - b.gseq);
    const callAt = new Map(calls.map((c) => [c.gseq, c]));
    let counted = 0;
    for (const e of merged) {
      if (e.type === 'sim.install.completed' && (e.data as { kind?: string }).kind === 'software') stepVersion.set(e.stream.slice(4), String((e.data as { version: string }).version));
      const c = callAt.get(e.gseq);
      if (!c || !c.serial || c.outcome !== 'answered') continue;
      if (c.kind === 'request.system.software.install' && /status=["']success["']/.test(c.response)) {
        const jobId = Number(/<job>(\d+)<\/job>/.exec(c.response)?.[1]);
        const real = realInstalls.get(`${c.serial}#${jobId}`);
        if (!real) continue; // refused (busy, base image…): the device did not install
        const key = `${c.serial} ${real.version}`;
        const earlier = installs.get(key) ?? [];
        if (earlier.length > 0 && !earlier.at(-1)!.failed) violations.push(`${c.serial} was sent a second install of ${real.version} (PAN-OS jobs ${earlier.map((x) => x.jobId).join(', ')} and ${jobId})`);
        earlier.push({ jobId, failed: real.failed });
        installs.set(key, earlier);
        counted++;
      }
      if (c.kind === 'request.restart.system' && /Command succeeded with no output/.test(c.response)) {
        const key = `${c.serial} ${stepVersion.get(c.serial) ?? '(no install)'}`;
        const n = (restarts.get(key) ?? 0) + 1;
        restarts.set(key, n);
        if (n === 2) violations.push(`${c.serial} was sent a second restart for the install of ${key.split(' ')[1]}`);
        counted++;
      }
    }
    // The same seen from the daemon's own log (`replay check`): every mutating command, HA ones and content too.
    const fromDaemon = ev.check ? formatCheck(ev.check).split('\n').filter((l) => l.includes('DUPLICATE')).map((l) => `daemon log: ${l.trim()}`) : [];
    violations.push(...fromDaemon);
    results.push({
      name: 'no device was sent a second install or restart for the same step',
      ok: violations.length === 0,
      detail: `${counted} install(s) and restart(s) reached devices (gateway log), ${installs.size} install step(s), ${restarts.size} restart step(s)${ev.check ? `; replay check: ${ev.check.mutating} mutating command(s) in the daemon's log, ${ev.check.duplicates.length} duplicate(s)` : ''}`,
      violations,
    });
  }

  // 3. HA: the two peers never down together (unless an injected crash did it), none left suspended.
  {
    const violations: string[] = [];
    const notes: string[] = [];
    const pairs = scenario.devices.filter((d) => d.ha && d.serial < d.ha.peerSerial).map((d) => [d.serial, d.ha!.peerSerial] as const);
    for (const [a, b] of pairs) {
      const da = downIntervals(simEvents, a, endAt);
      const db = downIntervals(simEvents, b, endAt);
      for (const x of da) {
        for (const y of db) {
          const from = Math.max(x.from, y.from);
          const to = Math.min(x.to, y.to);
          if (from >= to) continue;
          const later = x.from >= y.from ? { serial: a, down: x } : { serial: b, down: y };
          const span = `${Math.round(to - from)} ms from +${Math.max(0, Math.round(from - ev.startedAt))} ms`;
          if (later.down.unplanned) notes.push(`${a} and ${b} were down together for ${span}: ${later.serial} crashed (injected) while its peer was down`);
          else violations.push(`${a} and ${b} were down together for ${span}: ${later.serial} was restarted while its peer was down`);
        }
      }
    }
    const suspended = new Map<string, string>();
    for (const d of scenario.devices) if (d.ha) suspended.set(d.serial, d.ha.initialState);
    for (const e of simEvents) if (e.type === 'sim.ha-state.changed') suspended.set(e.stream.slice(4), String((e.data as { to: string }).to));
    for (const [serial, state] of suspended) if (state === 'suspended') violations.push(`${serial} is left suspended`);
    results.push({
      name: 'the two peers of an HA pair were never down together and none is left suspended',
      ok: violations.length === 0,
      detail: `${pairs.length} pair(s) checked`,
      violations,
      ...(notes.length > 0 ? { notes } : {}),
    });
  }

  // 4. No event lost: gapless logs, and every daemon run replays to what was recorded.
  {
    const violations = [...logGaps(daemonEvents, 'daemon log'), ...logGaps(simEvents, 'simulator log')];
    for (const { runId, report } of ev.verify) {
      if (report.ok) continue;
      const first = report.streams.find((s) => !s.ok);
      violations.push(`replay verify ${runId}: ${report.mismatches} mismatch(es)${first ? `, first ${first.stream}: ${first.difference}` : ''}`);
    }
    if (ev.verify.length === 0) violations.push('no daemon run found to verify');
    results.push({
      name: 'no event was lost: logs gapless and replay verify passes for the daemon runs',
      ok: violations.length === 0,
      detail: `${daemonEvents.length} daemon and ${simEvents.length} simulator events; ${ev.verify.length} daemon run(s) verified`,
      violations,
    });
  }

  // 5. Every device the faults did not touch is upgraded.
  {
    const violations: string[] = [];
    const touched = new Set<string>();
    const everyone = scenario.failures.some((f) => f.device === '*');
    for (const f of scenario.failures) touched.add(f.device);
    for (const i of ev.plan.injections) touched.add(i.device);
    for (const d of scenario.devices) if (d.ha && (touched.has(d.ha.peerSerial) || touched.has(d.serial))) touched.add(d.serial).add(d.ha.peerSerial);
    const finalVersion = new Map(scenario.devices.map((d) => [d.serial, d.swVersion]));
    for (const e of simEvents) {
      if (e.type === 'sim.version.changed') finalVersion.set(e.stream.slice(4), String((e.data as { to: string }).to));
    }
    let expected = 0;
    for (const d of scenario.devices) {
      const path = scenario.upgradePaths[d.swVersion];
      if (everyone || touched.has(d.serial) || !path || path.length === 0) continue;
      expected++;
      const target = path.at(-1)!;
      const job = jobs.find((j) => !j.parentId && j.serials.includes(d.serial));
      if (finalVersion.get(d.serial) !== target) violations.push(`${d.serial} runs ${finalVersion.get(d.serial)}, not ${target}${job ? ` (job ${job.jobId} ${job.status}: ${job.message})` : ''}`);
      else if (job && job.status !== 'complete') violations.push(`${d.serial} runs ${target} but its job ${job.jobId} is ${job.status}: ${job.message}`);
    }
    results.push({
      name: 'every device the faults did not touch is upgraded',
      ok: violations.length === 0,
      detail: `${expected} untouched device(s) with an upgrade path; ${touched.size} touched by faults`,
      violations,
    });
  }
  return results;
}
