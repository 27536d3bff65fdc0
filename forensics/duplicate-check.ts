import { API_CALL_RECORDED, oneEventPerCall, type EventEnvelope } from '../eventstore/index.ts';
import { apiCallSerial, commandOf, deviceAddresses, requireRun, type ReplaySource } from './replay.ts';

/**
 * `replay check`: a device must never receive a second mutating command for the same step. Read from
 * the daemon's log alone: its API-call records (`api.call.recorded`, the `api` stream) say what each
 * device was sent and whether it accepted it; its job and pair streams say which step of which job
 * was running on that device at the time. Two accepted commands of one kind (and version) to one
 * device within the same attempt of the same step of the same job are a duplicate; a step that failed
 * and was tried again (a new `job.step.started` attempt) may send again.
 */

/** Commands that change a device. */
export const MUTATING_COMMANDS: ReadonlySet<string> = new Set([
  'request.system.software.download',
  'request.system.software.install',
  'request.restart.system',
  'request.content.upgrade.download',
  'request.content.upgrade.install',
  'request.high-availability.state.suspend',
  'request.high-availability.state.functional',
]);

/** HA state changes belong to the pair job; everything else to the device's own job. */
const PAIR_COMMANDS: ReadonlySet<string> = new Set(['request.high-availability.state.suspend', 'request.high-availability.state.functional']);

export interface SentCommand {
  gseq: number;
  at: string;
  runId: string | null;
}

export interface Duplicate {
  serial: string;
  /** `request.system.software.install 11.1.0` */
  command: string;
  jobId: string;
  step: string;
  hop: number | null;
  attempt: number | null;
  sent: SentCommand[];
}

export interface CheckReport {
  /** The run checked, or null for the whole log. */
  runId: string | null;
  ok: boolean;
  /** Mutating commands a device accepted (in the run, or in the whole log). */
  mutating: number;
  /** Accepted mutating commands no job of this log was working on (sent by another tool, or before any job). */
  unattributed: Array<{ serial: string | null; command: string; gseq: number }>;
  duplicates: Duplicate[];
}

interface Work {
  jobId: string;
  step: string;
  hop: number | null;
  attempt: number | null;
}

interface ApiData {
  command?: string | null;
  target?: string | null;
  host?: string;
  outcome?: string;
  panosStatus?: string;
}

/**
 * Check the whole log in one ordered pass (a step resumed by a later daemon run belongs to the run that
 * started it, so a duplicate can span runs). With `runId`, only duplicates with a command sent by that
 * run are reported, and the run must exist.
 */
export function checkDuplicates(src: ReplaySource, runId?: string): CheckReport {
  if (runId !== undefined) requireRun(src, runId);
  const all: EventEnvelope[] = inCallOrder(oneEventPerCall(src.readAll()));
  const serialByIp = deviceAddresses(src, all);
  /** What each job is doing now: its current step, hop and attempt. */
  const work = new Map<string, Work>();
  /** Serial → the device job (or pair job) that owns it, latest first. */
  const deviceJob = new Map<string, string>();
  const pairJob = new Map<string, string>();
  const sent = new Map<string, { dup: Omit<Duplicate, 'sent'>; sent: SentCommand[] }>();
  const unattributed: CheckReport['unattributed'] = [];
  let mutating = 0;
  for (const e of all) {
    const d = (e.data ?? {}) as Record<string, unknown>;
    const jobId = e.stream.startsWith('job:') ? e.stream.slice(4) : undefined;
    switch (e.type) {
      case 'job.submitted': {
        const serial = (d.device as { serial?: string } | undefined)?.serial;
        if (jobId && serial) deviceJob.set(serial, jobId);
        if (jobId) work.set(jobId, { jobId, step: 'submitted', hop: null, attempt: null });
        continue;
      }
      case 'job.ha.submitted': {
        for (const p of (d.peers as Array<{ serial: string }> | undefined) ?? []) if (jobId) pairJob.set(p.serial, jobId);
        if (jobId) work.set(jobId, { jobId, step: 'submitted', hop: null, attempt: null });
        continue;
      }
      case 'job.step.started':
        if (jobId) work.set(jobId, { jobId, step: String(d.step), hop: Number(d.hop), attempt: Number(d.attempt) });
        continue;
      case 'job.ha.step.started':
        if (jobId) work.set(jobId, { jobId, step: String(d.step), hop: null, attempt: null });
        continue;
      case API_CALL_RECORDED:
        break;
      default:
        continue;
    }
    const a = d as ApiData;
    const { kind, version } = commandOf(a.command);
    if (!kind || !MUTATING_COMMANDS.has(kind)) continue;
    // Only what the device accepted: a refused or unanswered request may be sent again by design.
    if (a.outcome !== 'ok' || a.panosStatus === 'error') continue;
    const mine = runId === undefined || e.runId === runId;
    if (mine) mutating++;
    const serial = apiCallSerial({ target: a.target ?? null, host: a.host ?? '' }, serialByIp);
    const command = version ? `${kind} ${version}` : kind;
    const owner = serial ? (PAIR_COMMANDS.has(kind) ? pairJob.get(serial) : deviceJob.get(serial)) : undefined;
    const w = owner ? work.get(owner) : undefined;
    if (!serial || !w) {
      if (mine) unattributed.push({ serial, command, gseq: e.gseq });
      continue;
    }
    const key = [serial, command, w.jobId, w.step, w.hop, w.attempt].join('\u0000');
    let entry = sent.get(key);
    if (!entry) {
      entry = { dup: { serial, command, jobId: w.jobId, step: w.step, hop: w.hop, attempt: w.attempt }, sent: [] };
      sent.set(key, entry);
    }
    entry.sent.push({ gseq: e.gseq, at: e.at, runId: e.runId ?? null });
  }
  const duplicates = [...sent.values()]
    .filter((x) => x.sent.length > 1 && (runId === undefined || x.sent.some((s) => s.runId === runId)))
    .map((x) => ({ ...x.dup, sent: x.sent }));
  return { runId: runId ?? null, ok: duplicates.length === 0, mutating, unattributed, duplicates };
}

/**
 * The log with each API-call record moved to when its call was made (its own `at`), the rest in log order.
 * The records are appended after the answer, in batches, to a stream of their own (`api`, or each daemon's
 * `api:<node id>` on a cluster), whose appends may wait behind others (a replicated log slowed by a NATS
 * node that stopped): a record can reach the log after the next step of its job has started (the restart
 * of hop 0 logged after hop 1's restart request). Read in log order it would be counted in the wrong step.
 * A job's facts are stamped when they happen, by the daemon running it, as the calls it makes are (after a
 * takeover, by two daemons whose clocks are taken to agree to within a step); on a tie (the same
 * millisecond) the log order stands (pure).
 */
export function inCallOrder(events: EventEnvelope[]): EventEnvelope[] {
  const time = (e: EventEnvelope): number => {
    const callAt = e.type === API_CALL_RECORDED ? Date.parse(String((e.data as { at?: unknown } | null)?.at ?? '')) : NaN;
    return Number.isNaN(callAt) ? Date.parse(e.at) : callAt;
  };
  return events
    .map((e) => ({ e, t: time(e) }))
    .sort((a, b) => a.t - b.t || a.e.gseq - b.e.gseq)
    .map((x) => x.e);
}

/** The report as lines a person reads. */
export function formatCheck(r: CheckReport): string {
  const lines = [`${r.runId ? `Run ${r.runId}` : 'The whole log'}: ${r.mutating} mutating command(s) accepted by devices, ${r.duplicates.length} duplicate(s).`];
  for (const d of r.duplicates) {
    const where = `${d.step}${d.hop !== null ? ` of hop ${d.hop}` : ''}${d.attempt !== null ? `, attempt ${d.attempt}` : ''}`;
    lines.push(`  DUPLICATE ${d.serial}: ${d.command} sent ${d.sent.length}× for job ${d.jobId} (${where}): ${d.sent.map((s) => `#${s.gseq} ${s.at}${s.runId ? ` run ${s.runId}` : ''}`).join(', ')}`);
  }
  if (r.unattributed.length > 0) lines.push(`  ${r.unattributed.length} mutating command(s) no job of this log was working on: ${r.unattributed.slice(0, 5).map((u) => `#${u.gseq} ${u.serial ?? '?'} ${u.command}`).join(', ')}`);
  lines.push(r.ok ? 'No device received a mutating command twice for the same step.' : 'Some device received a mutating command twice for the same step.');
  return lines.join('\n');
}
