import { SimulatedClock, createActor, fromCallback, type AnyStateMachine } from 'xstate';
import type { EventEnvelope, StoredSnapshot } from '../eventstore/index.ts';
import { API_CALL_RECORDED, API_CALL_SERVED, oneEventPerCall, streamKind } from '../eventstore/index.ts';
import { JOB_FACT_TYPES, type JobFact } from '../machines/upgrade-job.events.ts';
import { finishedJobContext, foldJob, toStatusRecord, type JobState, type JobStatusRecord } from '../machines/upgrade-job.fold.ts';
import { submittedJobState, upgradeJobMachine, type StepInput, type UpgradeJobEvent } from '../machines/upgrade-job.machine.ts';
import { foldPair, toPairStatusRecord, type PairFact, type PairState, type PairStatusRecord } from '../machines/ha-pair.fold.ts';
import { haPairMachine, submittedPairState, type PairEvent, type PairStepInput } from '../machines/ha-pair.machine.ts';
import { commandOf, isOpError, parseOpCommand } from '../panos/commands.ts';
import { NotFoundError, PanosUpgradeError, ValidationError } from '../panos/errors.ts';
import {
  parseChassisReady,
  parseDevices,
  parseHaState,
  parseJob,
  parseJobEnqueued,
  parseResponse,
  parseSoftwareInfo,
  parseSystemInfo,
} from '../panos/parsers.ts';
import { DEVICE_FACT_TYPES, evolveDevice, type InventoryDevice } from '../machines/device.fold.ts';
import { replayCampaignStream } from './campaign-replay.ts';
import { replayThroughMachine } from './machine-replay.ts';

/**
 * Record and replay: what a run did, read back from the event log. Pure over a read-only view of the
 * log, so every function works on a live store, a copy, or a test's synthetic events.
 */
export interface ReplaySource {
  readAll(options?: { after?: number; to?: number; limit?: number }): Iterable<EventEnvelope>;
  readStream(stream: string, options?: { fromSeq?: number; toSeq?: number }): EventEnvelope[];
  getSnapshot<State = unknown>(stream: string): StoredSnapshot<State> | undefined;
}

// ---- runs ----

export interface RunSummary {
  runId: string;
  /** From `run.started`; `unknown` for a run id seen on events without a `run:<id>` stream (embedded stores). */
  role: string;
  startedAt: string | null;
  /** Null while it runs, or when the process died without recording `run.stopped` (SIGKILL). */
  stoppedAt: string | null;
  /** Events stamped with the run id, and how many per stream kind (`job`, `api`, `sim`…). */
  events: number;
  byKind: Record<string, number>;
  firstGseq: number | null;
  lastGseq: number | null;
  details: Record<string, unknown>;
}

/** Every run of the log, in the order they started: one pass over the log. */
export function listRuns(src: ReplaySource): RunSummary[] {
  const runs = new Map<string, RunSummary>();
  const run = (runId: string): RunSummary => {
    let r = runs.get(runId);
    if (!r) {
      r = { runId, role: 'unknown', startedAt: null, stoppedAt: null, events: 0, byKind: {}, firstGseq: null, lastGseq: null, details: {} };
      runs.set(runId, r);
    }
    return r;
  };
  for (const e of src.readAll()) {
    if (e.stream.startsWith('run:')) {
      const r = run(e.stream.slice(4));
      if (e.type === 'run.started') {
        const { role, ...details } = (e.data ?? {}) as { role?: string } & Record<string, unknown>;
        r.role = role ?? 'unknown';
        r.startedAt = e.at;
        r.details = details;
      } else if (e.type === 'run.stopped') {
        r.stoppedAt = e.at;
      }
    }
    if (e.runId === undefined) continue;
    const r = run(e.runId);
    r.events++;
    const kind = streamKind(e.stream);
    r.byKind[kind] = (r.byKind[kind] ?? 0) + 1;
    r.firstGseq ??= e.gseq;
    r.lastGseq = e.gseq;
    r.startedAt ??= e.at;
  }
  return [...runs.values()].sort((a, b) => (a.firstGseq ?? 0) - (b.firstGseq ?? 0));
}

/** The run's events in global order, as stored. */
function storedRunEvents(src: ReplaySource, runId: string): EventEnvelope[] {
  const out: EventEnvelope[] = [];
  for (const e of src.readAll()) if (e.runId === runId) out.push(e);
  return out;
}

/** The run's events in global order; a batch of call records as one event per call (`api.call.served`, `api.call.recorded`). */
export function runEvents(src: ReplaySource, runId: string): EventEnvelope[] {
  return oneEventPerCall(storedRunEvents(src, runId));
}

export class RunNotFoundError extends PanosUpgradeError {
  constructor(
    readonly runId: string,
    known: readonly string[],
  ) {
    super('RUN_NOT_FOUND', `no run ${runId} in this event log${known.length ? ` (latest: ${known.slice(-5).join(', ')})` : ''}; list them with: panos-upgrade replay list`);
  }
}

/** The run's events (as runEvents, or `asStored`), or RunNotFoundError when it has none. */
export function requireRun(src: ReplaySource, runId: string, options: { asStored?: boolean } = {}): EventEnvelope[] {
  const events = storedRunEvents(src, runId);
  if (events.length === 0) throw new RunNotFoundError(runId, listRuns(src).map((r) => r.runId));
  return options.asStored ? events : oneEventPerCall(events);
}

// ---- API calls in short ----

/** `request system software install 10.1.0`, `show jobs id 12`: a command as a person reads it. */
export function describeCommand(command: string | null | undefined): string {
  if (!command) return '(none)';
  if (command.startsWith('keygen')) return command;
  const parsed = parseOpCommand(command);
  if (isOpError(parsed)) return command.length > 80 ? `${command.slice(0, 77)}...` : command;
  const words = parsed.kind.replace(/\./g, ' ');
  if ('version' in parsed && typeof parsed.version === 'string') return `${words} ${parsed.version}`;
  if (parsed.kind === 'show.jobs.id') return `${words} ${parsed.id}`;
  return words;
}

// What a command is (its kind, version and job id) is PAN-OS knowledge: panos/commands.ts; re-exported for the readers of logs.
export { commandOf } from '../panos/commands.ts';

function clip(text: string, max = 100): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

/** The device's answer in a few words: the version it runs, the job's state, the error line… */
export function describeAnswer(command: string | null | undefined, response: string | null | undefined): string {
  if (!response) return '(no answer)';
  let res;
  try {
    res = parseResponse(response);
  } catch {
    return clip(response.replace(/<[^>]+>/g, ' '), 80);
  }
  if (res.status !== 'success') return `error${res.code ? ` ${res.code}` : ''}: ${clip(res.lines.join(' ') || 'no message', 100)}`;
  const { kind } = commandOf(command);
  try {
    switch (kind) {
      case 'show.system.info': {
        const s = parseSystemInfo(response);
        return `${s.hostname} runs ${s.swVersion}, up ${s.uptime}`;
      }
      case 'show.jobs.id': {
        const j = parseJob(response);
        return `job ${j.id ?? '?'} ${j.type} ${j.status}${j.finished ? ` ${j.result}` : ` ${j.progress ?? 0}%`}${j.finished && !j.ok ? `: ${clip(j.details.join(' '), 80)}` : ''}`;
      }
      case 'request.system.software.download':
      case 'request.system.software.install':
      case 'request.content.upgrade.download':
      case 'request.content.upgrade.install':
        return `job ${parseJobEnqueued(response).jobId} enqueued`;
      case 'show.chassis-ready':
        return `chassis ready: ${parseChassisReady(response) ? 'yes' : 'no'}`;
      case 'show.high-availability.state': {
        const h = parseHaState(response);
        if (!h.enabled) return 'HA not enabled';
        return `HA ${h.local?.state ?? '?'}, peer ${h.peer?.state ?? '?'}, config ${h.runningSync ?? '?'}`;
      }
      case 'request.system.software.info':
      case 'request.system.software.check': {
        const sw = parseSoftwareInfo(response);
        const downloaded = sw.entries.filter((e) => e.downloaded && !e.current).map((e) => e.version);
        return `${sw.entries.length} version(s), running ${sw.current ?? '?'}, downloaded: ${downloaded.join(', ') || 'none'}`;
      }
      case 'show.devices.connected':
      case 'show.devices.all':
        return `${parseDevices(response).length} device(s)`;
      default:
        return clip(res.lines.join(' ') || 'success', 80);
    }
  } catch {
    return 'success (unreadable body)';
  }
}

// ---- timeline ----

export interface TimelineEntry {
  gseq: number;
  at: string;
  stream: string;
  type: string;
  /** One line about the event. */
  summary: string;
  /** For an API call: what was asked and what the device said. */
  api?: { command: string; target: string | null; outcome: string; answer: string; durationMs: number | null };
}

interface ApiCallData {
  command?: string | null;
  target?: string | null;
  host?: string;
  address?: string;
  via?: string;
  outcome?: string;
  response?: string | null;
  error?: string;
  durationMs?: number;
  attempt?: number;
}

function isApiCall(e: EventEnvelope): boolean {
  return e.type === API_CALL_RECORDED || e.type === API_CALL_SERVED;
}

/** The serial an API call was about: `target=` through Panorama, or the firewall whose address was called. */
export function apiCallSerial(data: ApiCallData, serialByIp: ReadonlyMap<string, string>): string | null {
  if (data.target) return data.target;
  const host = data.address ?? data.host ?? '';
  const ip = host.replace(/^\[/, '').replace(/\](:\d+)?$/, '').replace(/:\d+$/, '');
  return serialByIp.get(ip) ?? null;
}

/** One line about an event, as `replay show` prints it. */
export function summarize(e: EventEnvelope): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const pick = (...keys: string[]): string =>
    keys
      .filter((k) => d[k] !== undefined && d[k] !== null && d[k] !== '')
      .map((k) => `${k}=${typeof d[k] === 'object' ? JSON.stringify(d[k]) : String(d[k])}`)
      .join(' ');
  switch (e.type) {
    case 'job.submitted': {
      const s = d as { kind?: string; device?: { serial?: string; swVersion?: string }; plan?: Array<{ version: string }> };
      return `${s.kind} of ${s.device?.serial} from ${s.device?.swVersion} via ${(s.plan ?? []).map((h) => h.version).join(' → ')}`;
    }
    case 'job.ha.submitted': {
      const s = d as { kind?: string; peers?: Array<{ serial: string }>; versions?: string[] };
      return `HA ${s.kind} of ${(s.peers ?? []).map((p) => p.serial).join(' + ')} to ${(s.versions ?? []).join(' → ')}`;
    }
    case 'run.started':
      return `${String(d.role)} started (pid ${String(d.pid)})`;
    case 'job.step.failed':
    case 'job.failed':
    case 'job.ha.step.failed':
    case 'job.ha.failed':
      return clip(`${d.step ? `${String(d.step)}: ` : ''}${String(d.reason ?? '')}`, 160);
    case 'job.completed':
    case 'job.ha.completed':
    case 'job.cancelled':
    case 'job.ha.cancelled':
      return clip(String(d.message ?? d.reason ?? ''), 160);
    default:
      return clip(pick('step', 'hop', 'version', 'attempt', 'phase', 'percent', 'panosJobId', 'jobId', 'role', 'serial', 'from', 'to', 'state', 'reason', 'metrics', 'kind'), 160);
  }
}

export interface TimelineFilter {
  device?: string;
  job?: string;
}

/**
 * The run's events as lines a person reads: time, stream, event, and for API calls the command and the
 * device's answer in short. `device` keeps what concerns one firewall (its jobs, its streams, calls to it);
 * `job` keeps one job (an HA pair's children too) and the calls to its devices while it ran.
 */
export function timeline(src: ReplaySource, runId: string, filter: TimelineFilter = {}): TimelineEntry[] {
  const events = requireRun(src, runId);
  const serialByIp = deviceAddresses(src, events);
  let keep: (e: EventEnvelope) => boolean = () => true;
  if (filter.job) {
    const streams = new Set([`job:${filter.job}`]);
    const serials = new Set<string>();
    const first = src.readStream(`job:${filter.job}`);
    for (const e of first) {
      if (e.type === 'job.submitted') serials.add((e.data as { device: { serial: string } }).device.serial);
      if (e.type === 'job.ha.submitted') for (const p of (e.data as { peers: Array<{ serial: string }> }).peers) serials.add(p.serial);
      if (e.type === 'job.ha.child.created') streams.add(`job:${(e.data as { jobId: string }).jobId}`);
    }
    const from = first[0]?.at ?? '';
    const to = first.at(-1)?.at ?? '';
    keep = (e) => streams.has(e.stream) || (isApiCall(e) && e.at >= from && e.at <= to && serials.has(apiCallSerial(e.data as ApiCallData, serialByIp) ?? ''));
  } else if (filter.device) {
    const serial = filter.device;
    const jobs = new Set<string>();
    for (const e of events) {
      if (e.type === 'job.submitted' && (e.data as { device: { serial: string } }).device.serial === serial) jobs.add(e.stream);
      if (e.type === 'job.ha.submitted' && (e.data as { peers: Array<{ serial: string }> }).peers.some((p) => p.serial === serial)) jobs.add(e.stream);
    }
    keep = (e) =>
      e.stream === `device:${serial}` ||
      e.stream === `sim:${serial}` ||
      jobs.has(e.stream) ||
      (isApiCall(e) && apiCallSerial(e.data as ApiCallData, serialByIp) === serial);
  }
  const out: TimelineEntry[] = [];
  for (const e of events) {
    if (!keep(e)) continue;
    if (isApiCall(e)) {
      const d = e.data as ApiCallData;
      const command = describeCommand(d.command);
      const answer = d.outcome === 'ok' || d.outcome === 'answered' || d.outcome === 'api-error' ? describeAnswer(d.command, d.response) : `${d.outcome ?? '?'}${d.error ? `: ${clip(d.error, 80)}` : ''}`;
      const target = apiCallSerial(d, serialByIp);
      out.push({
        gseq: e.gseq,
        at: e.at,
        stream: e.stream,
        type: e.type,
        summary: `${target ? `${target}: ` : ''}${command} → ${answer}`,
        api: { command, target, outcome: d.outcome ?? '?', answer, durationMs: typeof d.durationMs === 'number' ? d.durationMs : null },
      });
      continue;
    }
    out.push({ gseq: e.gseq, at: e.at, stream: e.stream, type: e.type, summary: summarize(e) });
  }
  if (out.length === 0 && filter.job) {
    throw new NotFoundError('job', filter.job, `nothing in run ${runId} concerns job ${filter.job}: no fact of it and no API call to its devices while it ran; list the run's jobs with: panos-upgrade replay state ${runId}`);
  }
  if (out.length === 0 && filter.device) {
    throw new NotFoundError('device', filter.device, `nothing in run ${runId} concerns device ${filter.device}: no job, device or simulator stream of it and no API call to it; list the run's devices with: panos-upgrade replay state ${runId}`);
  }
  return out;
}

/** Management address → serial, from the inventory in the log and the simulator's device snapshots. */
export function deviceAddresses(src: ReplaySource, events: readonly EventEnvelope[]): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const e of events) {
    if (e.type === 'device.discovered') {
      const d = e.data as { serial: string; mgmtIp: string };
      out.set(d.mgmtIp, d.serial);
    }
    if (e.stream.startsWith('sim:') && e.stream !== 'sim:-' && !seen.has(e.stream)) {
      seen.add(e.stream);
      const snap = src.getSnapshot<{ context?: { record?: { mgmtIp?: string; serial?: string } } }>(e.stream);
      const rec = snap?.state?.context?.record;
      if (rec?.mgmtIp && rec.serial) out.set(rec.mgmtIp, rec.serial);
    }
  }
  return out;
}

// ---- state at a position ----

/** What the simulator's facts say about one simulated firewall (its `sim:<serial>` stream). */
export interface SimDeviceState {
  serial: string;
  /** `up`, `rebooting`, `down`, `booting`, `auto-commit`; `never-returns` once it went down for good. */
  state: string;
  version: string | null;
  downloaded: string[];
  haState: string | null;
  runningSync: string | null;
  diskFull: boolean;
  lastJob: { jobId: number; kind: string; version: string; status: string } | null;
  faults: Record<string, unknown> | null;
  crashes: number;
  updatedAt: string | null;
}

export function initialSimDevice(serial: string): SimDeviceState {
  return { serial, state: 'up', version: null, downloaded: [], haState: null, runningSync: null, diskFull: false, lastJob: null, faults: null, crashes: 0, updatedAt: null };
}

/** Fold of a `sim:<serial>` stream: the changes its facts record (the start state is the scenario's). */
export function evolveSimDevice(s: SimDeviceState, e: EventEnvelope): SimDeviceState {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const next = { ...s, updatedAt: e.at };
  const job = (status: string): SimDeviceState['lastJob'] => ({ jobId: Number(d.jobId), kind: String(d.kind ?? ''), version: String(d.version ?? ''), status });
  switch (e.type) {
    case 'sim.download.started':
      return { ...next, lastJob: job('downloading') };
    case 'sim.download.completed':
      return {
        ...next,
        lastJob: job('downloaded'),
        downloaded: d.kind === 'software' && !s.downloaded.includes(String(d.version)) ? [...s.downloaded, String(d.version)] : s.downloaded,
      };
    case 'sim.download.failed':
      return { ...next, lastJob: job(`download failed: ${String(d.reason ?? '')}`) };
    case 'sim.image.received':
      return { ...next, downloaded: s.downloaded.includes(String(d.version)) ? s.downloaded : [...s.downloaded, String(d.version)] };
    case 'sim.install.started':
      return { ...next, lastJob: job('installing') };
    case 'sim.install.completed':
      return { ...next, lastJob: job('installed') };
    case 'sim.install.failed':
      return { ...next, lastJob: job(`install failed: ${String(d.reason ?? '')}`) };
    case 'sim.reboot.started':
      return { ...next, state: 'rebooting', version: s.version ?? (d.fromVersion as string | undefined) ?? null };
    case 'sim.reboot.down':
      return { ...next, state: d.neverReturns === true ? 'never-returns' : 'down' };
    case 'sim.reboot.booting':
      return { ...next, state: 'booting', version: String(d.version) };
    case 'sim.version.changed':
      return { ...next, version: String(d.to) };
    case 'sim.reboot.ready':
      return { ...next, state: 'auto-commit' };
    case 'sim.reboot.completed':
      return { ...next, state: 'up', version: String(d.version ?? s.version) };
    case 'sim.ha-state.changed':
      return { ...next, haState: String(d.to) };
    case 'sim.ha-sync.changed':
      return { ...next, runningSync: String(d.runningSync) };
    case 'sim.faults.changed':
      return { ...next, faults: (d.faults as Record<string, unknown>) ?? null };
    case 'sim.disk.full':
      return { ...next, diskFull: true };
    case 'sim.crash.started':
      return { ...next, crashes: s.crashes + 1 };
    default:
      return next;
  }
}

export interface StateAt {
  runId: string;
  position: number;
  at: string | null;
  jobs: JobStatusRecord[];
  pairs: PairStatusRecord[];
  /** The daemon's inventory (device streams). */
  devices: InventoryDevice[];
  /** The simulator's devices (sim streams), when the log holds them. */
  simulated: SimDeviceState[];
}

/**
 * Every job's, pair's and device's state as of global position `position` (default: the run's last
 * event): each stream the run touched, folded through all its events up to the position, whichever
 * run wrote them (a job resumed after a restart began in an earlier run).
 */
export function stateAt(src: ReplaySource, runId: string, position?: number): StateAt {
  // One ordered pass over the log: the run's own events, and every job, device and simulator stream.
  const byStream = new Map<string, EventEnvelope[]>();
  const runStreams: Array<{ stream: string; gseq: number }> = [];
  let lastOfRun: EventEnvelope | undefined;
  let atPosition: string | null = null;
  let lastGseq = 0;
  for (const e of src.readAll()) {
    if (e.stream.startsWith('job:') || e.stream.startsWith('device:') || e.stream.startsWith('sim:')) {
      const list = byStream.get(e.stream);
      if (list) list.push(e);
      else byStream.set(e.stream, [e]);
    }
    if (e.runId === runId) {
      runStreams.push({ stream: e.stream, gseq: e.gseq });
      lastOfRun = e;
    }
    if (e.gseq === position) atPosition = e.at;
    lastGseq = e.gseq;
  }
  if (!lastOfRun) throw new RunNotFoundError(runId, listRuns(src).map((r) => r.runId));
  if (position !== undefined) {
    const span = `runs from position ${runStreams[0]!.gseq} to ${lastOfRun.gseq}`;
    if (position > lastGseq) throw new ValidationError(`position ${position} is past the end of the log, whose last position is ${lastGseq} (run ${runId} ${span})`, 'at');
    if (position < runStreams[0]!.gseq) throw new ValidationError(`position ${position} is before run ${runId}: it ${span}`, 'at');
  }
  const to = position ?? lastOfRun.gseq;
  const streams = new Set(runStreams.filter((r) => r.gseq <= to).map((r) => r.stream));
  const serials = new Set<string>();
  const out: StateAt = { runId, position: to, at: position === undefined ? lastOfRun.at : atPosition, jobs: [], pairs: [], devices: [], simulated: [] };
  const upTo = (stream: string): EventEnvelope[] => {
    const list = byStream.get(stream) ?? [];
    return list.at(-1) !== undefined && list.at(-1)!.gseq <= to ? list : list.filter((e) => e.gseq <= to);
  };
  for (const stream of [...streams].sort()) {
    if (!stream.startsWith('job:')) continue;
    const es = upTo(stream);
    if (es[0]?.type === 'job.ha.submitted') {
      const pair = foldPair(es as unknown as Array<PairFact & { at: string }>);
      for (const p of pair.peers) serials.add(p.serial);
      out.pairs.push(toPairStatusRecord(pair));
    } else if (es[0]?.type === 'job.submitted') {
      const job = foldJob(es as unknown as Array<JobFact & { at: string }>);
      if (job.device) serials.add(job.device.serial);
      out.jobs.push(toStatusRecord(job));
    }
  }
  for (const stream of streams) if (stream.startsWith('device:') || stream.startsWith('sim:')) serials.add(stream.slice(stream.indexOf(':') + 1));
  serials.delete('-');
  for (const serial of [...serials].sort()) {
    let inv: InventoryDevice | null = null;
    for (const e of upTo(`device:${serial}`)) inv = evolveDevice(inv, e);
    if (inv) out.devices.push(inv);
    const sim = upTo(`sim:${serial}`);
    if (sim.length > 0) out.simulated.push(sim.reduce(evolveSimDevice, initialSimDevice(serial)));
  }
  return out;
}

// ---- verify ----

/** The two job machines with inert effects: a replay drives them with the recorded facts only. */
function inert<Input>() {
  return fromCallback<{ type: string }, Input>(() => undefined);
}
const step = inert<StepInput>();
const pairStep = inert<PairStepInput>();
const replayJobMachine = upgradeJobMachine.provide({
  actors: { validate: step, snapshot: step, updateContent: step, download: step, install: step, reboot: step, deadline: inert<{ at: number }>() },
});
const replayPairMachine = haPairMachine.provide({
  actors: { checkPair: pairStep, runChild: pairStep, preparePeer: pairStep, restorePeer: pairStep, verifyPair: pairStep, recover: pairStep },
});

/** Facts the upgrade-job machine makes itself; every other job fact is reported to it by a step effect. */
const JOB_MACHINE_FACTS = new Set([
  'job.submitted',
  'job.started',
  'job.step.started',
  'job.step.completed',
  'job.step.failed',
  'job.hop.completed',
  'job.retry.scheduled',
  'job.checks.evaluated',
  'job.cancel.requested',
  'job.completed',
  'job.failed',
  'job.cancelled',
]);
const JOB_EFFECT_FACTS = new Set<string>(JOB_FACT_TYPES.filter((t) => !JOB_MACHINE_FACTS.has(t)));

const PAIR_EFFECT_FACTS = new Set([
  'job.ha.checked',
  'job.ha.child.created',
  'job.ha.child.finished',
  'job.ha.peer.suspended',
  'job.ha.failover.confirmed',
  'job.ha.peer.functional.requested',
  'job.ha.peer.functional',
  'job.ha.peer.back',
  'job.ha.verified',
]);

type AnySnapshot = { matches(value: string): boolean; value: unknown; context: unknown; status: string };

/**
 * The event a recorded fact implies, when the machine did not already emit it: an effect's report is
 * sent back as `fact`; a machine-made fact is the trace of the event that caused it (`start` before
 * `job.started`, `step.done` where a step completed, `step.failed` with the recorded reason, the retry's
 * `deadline.reached`, `cancel`, `resume`), each at the recorded time.
 */
export function jobInputFor(f: EventEnvelope, snap: AnySnapshot): UpgradeJobEvent | undefined {
  const now = Date.parse(f.at);
  const d = (f.data ?? {}) as Record<string, unknown>;
  if (JOB_EFFECT_FACTS.has(f.type)) return { type: 'fact', fact: { type: f.type, data: f.data } as JobFact, now };
  switch (f.type) {
    case 'job.started':
      return { type: 'start', now };
    case 'job.step.completed':
      return { type: 'step.done', now };
    case 'job.step.failed':
      return { type: 'step.failed', reason: String(d.reason), retryable: d.retryable === true, now };
    case 'job.cancel.requested':
      return { type: 'cancel', by: String(d.by ?? 'operator'), now };
    case 'job.cancelled':
      return snap.matches('pending') ? { type: 'cancel', by: 'operator', now } : undefined;
    case 'job.step.started':
    case 'job.failed':
      return snap.matches('retrying') ? { type: 'deadline.reached', now } : undefined;
    default:
      return undefined;
  }
}

/** Effect facts about the hop's own image: their version is the one the hop downloads or installs. */
const HOP_IMAGE_FACTS = new Set<string>(JOB_FACT_TYPES.filter((t) => /^job\.(download|install|reboot)\./.test(t)));

/**
 * Where a recorded effect fact contradicts the job machine's state at that point: the effects report on
 * the hop the job is on (`hop`), and a software download, install or reboot on the version that hop
 * downloads or installs. The machine takes an effect's report as it is, so only this check sees it.
 */
export function jobFactContradiction(f: EventEnvelope, snap: { context: unknown }): string | undefined {
  if (!JOB_EFFECT_FACTS.has(f.type)) return undefined;
  const d = (f.data ?? {}) as { hop?: unknown; version?: unknown };
  const job = snap.context as Pick<JobState, 'hop' | 'plan'>;
  const hop = job.plan[job.hop];
  const what = hop ? `hop ${job.hop} (${hop.action === 'download' ? 'download' : 'install'} of ${hop.version})` : `hop ${job.hop}, past the plan's ${job.plan.length} hop(s)`;
  if (d.hop !== undefined && d.hop !== job.hop) return `${f.type} names hop ${JSON.stringify(d.hop)}, the job is on ${what}`;
  if (HOP_IMAGE_FACTS.has(f.type) && d.version !== undefined && d.version !== hop?.version) return `${f.type} names version ${JSON.stringify(d.version)}, the job is on ${what}`;
  return undefined;
}

export function pairInputFor(f: EventEnvelope, snap: AnySnapshot): PairEvent | undefined {
  const now = Date.parse(f.at);
  const d = (f.data ?? {}) as Record<string, unknown>;
  if (PAIR_EFFECT_FACTS.has(f.type)) return { type: 'fact', fact: { type: f.type, data: f.data } as PairFact, now };
  switch (f.type) {
    case 'job.ha.started':
      return { type: 'start', now };
    case 'job.ha.step.failed':
      return { type: 'step.failed', reason: String(d.reason), now };
    case 'job.ha.cancel.requested':
      return { type: 'cancel', by: String(d.by ?? 'operator'), now };
    case 'job.ha.resumed':
      return { type: 'resume', by: String(d.by ?? 'operator'), now };
    case 'job.ha.step.started':
    case 'job.ha.paused':
    case 'job.ha.completed':
    case 'job.ha.failed':
    case 'job.ha.cancelled':
      // A pair step that ends records nothing of its own: the next step's start (or the end) is its trace.
      return snap.matches('pending') || snap.matches('paused') ? undefined : { type: 'step.done', now };
    default:
      return undefined;
  }
}

export interface StreamVerdict {
  stream: string;
  /** `job`, `pair`, `campaign`, `device` (its facts folded), or `log` for a stream whose seq is checked but which nothing folds. */
  kind: 'job' | 'pair' | 'campaign' | 'device' | 'log';
  ok: boolean;
  events: number;
  /** The first difference, when not ok. */
  difference?: string;
}

export interface VerifyReport {
  runId: string;
  ok: boolean;
  /** The whole log's global positions, 1…last with no gap. */
  gseq: { ok: boolean; last: number; events: number; difference?: string };
  streams: StreamVerdict[];
  mismatches: number;
}

/**
 * Replay one job stream through its machine: start it from the submitted state with inert effects and
 * a simulated clock, feed it the recorded effect facts and the events the machine-made facts imply,
 * and check that it emits exactly the recorded facts (type, data, at), and that its final context
 * equals both the fold of the stream and the context of the stored snapshot.
 */
export function replayJobStream(events: readonly EventEnvelope[], stored: StoredSnapshot<unknown> | undefined): { ok: boolean; kind: 'job' | 'pair'; difference?: string; state?: unknown } {
  const first = events[0];
  const isPair = first?.type === 'job.ha.submitted';
  const kind = isPair ? 'pair' : 'job';
  if (!first || (first.type !== 'job.submitted' && !isPair)) {
    return { ok: false, kind, difference: `seq 1: expected job.submitted or job.ha.submitted, found ${first?.type ?? 'nothing'}` };
  }
  const clock = new SimulatedClock();
  clock.set(Date.parse(first.at));
  const input = isPair
    ? { state: submittedPairState(first as unknown as Extract<PairFact, { type: 'job.ha.submitted' }>, first.at) }
    : { state: submittedJobState(first as unknown as Extract<JobFact, { type: 'job.submitted' }>, first.at) };
  const machine: AnyStateMachine = isPair ? replayPairMachine : replayJobMachine;
  const inputFor = isPair ? pairInputFor : jobInputFor;
  return replayThroughMachine<'job' | 'pair', UpgradeJobEvent | PairEvent>(events, stored, {
    kind,
    actor: createActor(machine, { input, clock }),
    clock,
    ...(isPair ? {} : { contradicts: (f: EventEnvelope, snap: { context: unknown }) => jobFactContradiction(f, snap) }),
    inputFor: (f, snap) => inputFor(f, snap as unknown as AnySnapshot),
    fold: () => (isPair ? foldPair(events as unknown as Array<PairFact & { at: string }>) : foldJob(events as unknown as Array<JobFact & { at: string }>)),
    ended: (snap) => `the job already ended (${JSON.stringify(snap.value)})`,
    notProduced: (snap, event) =>
      event
        ? `the machine (in ${JSON.stringify(snap.value)}) ignores ${event.type}, so it does not produce it`
        : `the machine (in ${JSON.stringify(snap.value)}) does not produce it and no event it accepts implies it`,
    // A finished job stored whole by an earlier daemon still holds its snapshots' entries; the fold keeps their counts.
    ...(isPair ? {} : { storedContext: (c: unknown) => finishedJobContext(c as JobState) }),
  });
}

/** A stream's seq runs 1, 2, 3… with no gap. */
export function checkSeq(events: readonly EventEnvelope[]): string | undefined {
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.seq !== i + 1) return `seq ${i + 1} is missing (found ${events[i]!.seq} at position ${i + 1})`;
  }
  return undefined;
}

/**
 * `replay verify`: the log's global positions are gapless, every stream the run touched has gapless
 * seq, and every job stream it touched replays through its machine to exactly what was recorded.
 */
/**
 * A device stream folded as the daemon folds it (machines/device.fold.ts): every event a device fact, the
 * first a discovery (a change to a device nobody discovered has nothing to change), each fact about this
 * device. The first problem, or undefined.
 */
function checkDeviceStream(stream: string, es: readonly EventEnvelope[]): string | undefined {
  const serial = stream.slice('device:'.length);
  let device: InventoryDevice | null = null;
  for (const e of es) {
    const where = `seq ${e.seq} (${e.type} at ${e.at})`;
    if (!DEVICE_FACT_TYPES.has(e.type)) return `${where}: not a device fact`;
    if (e.type === 'device.discovered' && (e.data as { serial?: unknown }).serial !== serial) return `${where}: it discovers ${String((e.data as { serial?: unknown }).serial)}, not ${serial}`;
    const next = evolveDevice(device, e);
    if (next === null && !e.type.startsWith('device.certificate.')) return `${where}: the device was not discovered before it`;
    device = next;
  }
  return undefined;
}

export function verifyRun(src: ReplaySource, runId: string): VerifyReport {
  const events = requireRun(src, runId);
  let last = 0;
  let count = 0;
  let gap: string | undefined;
  for (const e of src.readAll()) {
    count++;
    if (gap === undefined && e.gseq !== last + 1) gap = `global position ${last + 1} is missing (next is ${e.gseq})`;
    last = e.gseq;
  }
  const streams = [...new Set(events.map((e) => e.stream))].sort();
  const verdicts: StreamVerdict[] = [];
  for (const stream of streams) {
    const es = src.readStream(stream);
    const seqProblem = checkSeq(es);
    if (stream.startsWith('job:')) {
      const r = seqProblem ? { ok: false, kind: es[0]?.type === 'job.ha.submitted' ? ('pair' as const) : ('job' as const), difference: seqProblem } : replayJobStream(es, src.getSnapshot(stream));
      verdicts.push({ stream, kind: r.kind, ok: r.ok, events: es.length, ...(r.difference ? { difference: r.difference } : {}) });
    } else if (stream.startsWith('campaign:')) {
      const r = seqProblem ? { ok: false, difference: seqProblem } : replayCampaignStream(es, src.getSnapshot(stream));
      verdicts.push({ stream, kind: 'campaign', ok: r.ok, events: es.length, ...(r.difference ? { difference: r.difference } : {}) });
    } else if (stream.startsWith('device:')) {
      const difference = seqProblem ?? checkDeviceStream(stream, es);
      verdicts.push({ stream, kind: 'device', ok: !difference, events: es.length, ...(difference ? { difference } : {}) });
    } else {
      verdicts.push({ stream, kind: 'log', ok: !seqProblem, events: es.length, ...(seqProblem ? { difference: seqProblem } : {}) });
    }
  }
  const mismatches = verdicts.filter((v) => !v.ok).length + (gap ? 1 : 0);
  return {
    runId,
    ok: mismatches === 0,
    gseq: { ok: !gap, last, events: count, ...(gap ? { difference: gap } : {}) },
    streams: verdicts,
    mismatches,
  };
}

// ---- export ----

/** The run's envelopes as JSON lines, one per line, in global order, as the log holds them (a batch of call records is one). */
export function* exportRun(src: ReplaySource, runId: string): Generator<string> {
  for (const e of requireRun(src, runId, { asStored: true })) yield JSON.stringify(e);
}
