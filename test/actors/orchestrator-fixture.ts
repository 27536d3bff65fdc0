import type { ExecutionContext } from 'ava';
import type { Msg } from '@nats-io/transport-node';
import { requestJson, type CommandName } from '../../bus/index.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { jobFold, toStatusRecord, type JobState, type JobStatusRecord } from '../../machines/upgrade-job.fold.ts';
import type { JobFact } from '../../machines/upgrade-job.events.ts';
import { isOpError, parseOpCommand } from '../../panos/commands.ts';
import type { Stack } from '../helpers/stack.ts';
import { servedCallEvents, waitFor } from '../helpers/index.ts';

/** Generous: these tests run next to others on a loaded 2-core machine. */
export const LONG = 60_000;

/** A request to the daemon over NATS, as the CLI or any NATS client sends it. */
export function command<T extends object = Record<string, unknown>>(stack: Stack, name: CommandName, payload: object = {}, timeoutMs = 30_000): Promise<T> {
  return requestJson<T>(stack.nc, stack.subjects.cmd(name), payload, timeoutMs);
}

/** A chaos control request to the simulator (`panos.sim.ctl.<serial>.<action>`). */
export async function control(stack: Stack, serial: string, action: string, payload: object): Promise<Record<string, unknown>> {
  const msg = await stack.nc.request(stack.subjects.simCtl(serial, action), JSON.stringify(payload), { timeout: 10_000 });
  const reply = msg.json<Record<string, unknown>>();
  if (reply.ok !== true) throw new Error(`sim ctl ${action} on ${serial} refused: ${JSON.stringify(reply.error)}`);
  return reply;
}

export async function discover(stack: Stack): Promise<number> {
  const r = await command<{ discovered: number }>(stack, 'device.discover');
  // Its calls are in the simulator's log before a test counts them (servedCalls).
  await stack.gateway.recordsWritten();
  return r.discovered;
}

export async function submit(stack: Stack, payload: { device: string; downloadOnly?: boolean; dryRun?: boolean; targetVersion?: string }): Promise<JobStatusRecord> {
  const r = await command<{ job: JobStatusRecord }>(stack, 'job.submit', payload);
  return r.job;
}

export async function getJob(stack: Stack, jobId: string): Promise<JobStatusRecord> {
  return (await command<{ job: JobStatusRecord }>(stack, 'job.get', { jobId })).job;
}

const TERMINAL = new Set(['complete', 'download_complete', 'failed', 'cancelled', 'skipped']);

/** Poll `job.get` until the job ends; resolves with its final status record. */
export async function jobEnded(stack: Stack, jobId: string, timeoutMs = LONG): Promise<JobStatusRecord> {
  let last: JobStatusRecord | undefined;
  try {
    return await waitFor(
      async () => {
        last = await getJob(stack, jobId);
        return TERMINAL.has(last.upgrade_status) ? last : undefined;
      },
      timeoutMs,
      50,
    );
  } catch (err) {
    throw new Error(`job ${jobId} did not end within ${timeoutMs} ms; last seen ${last?.upgrade_status}: ${last?.upgrade_message}`, { cause: err });
  }
}

/**
 * Every job event the daemon publishes on `<prefix>.evt.job.*.>`, in arrival order. Subscribe before
 * submitting, so that nothing a job publishes is missed.
 */
export class JobEvents {
  readonly events: EventEnvelope[] = [];

  constructor(t: ExecutionContext, stack: Stack) {
    const sub = stack.nc.subscribe(stack.subjects.streamEvents('job'), {
      callback: (err: Error | null, msg: Msg) => {
        if (!err) this.events.push(msg.json<EventEnvelope>());
      },
    });
    t.teardown(() => sub.unsubscribe());
  }

  /** Events of one job, once each (a republish after a crash repeats a seq), in seq order. */
  of(jobId: string): EventEnvelope[] {
    const bySeq = new Map<number, EventEnvelope>();
    for (const e of this.events) if (e.stream === `job:${jobId}`) bySeq.set(e.seq, e);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Resolves with the first event of `jobId` of type `type` (`job.install.enqueued`). */
  next(jobId: string, type: string, timeoutMs = LONG, where: (e: EventEnvelope) => boolean = () => true): Promise<EventEnvelope> {
    return waitFor(() => this.of(jobId).find((e) => e.type === type && where(e)), timeoutMs, 5);
  }

  /** Resolves with the job's last event (completed, failed or cancelled) once it has arrived. */
  ended(jobId: string, timeoutMs = LONG): Promise<EventEnvelope> {
    return waitFor(() => this.of(jobId).find((e) => e.type === 'job.completed' || e.type === 'job.failed' || e.type === 'job.cancelled'), timeoutMs, 5);
  }

  /** The status record after each event, as a client folding the stream sees it on the way. */
  statuses(jobId: string): JobStatusRecord[] {
    let state: JobState = jobFold.initialState();
    const out: JobStatusRecord[] = [];
    for (const e of this.of(jobId)) {
      state = jobFold.evolve(state, e as unknown as JobFact & { at: string });
      out.push(toStatusRecord(state));
    }
    return out;
  }
}

/** What a served call did, read from its `cmd` XML. */
export interface ServedCall {
  seq: number;
  /** The firewall: `target=` through Panorama, or the one whose address was called directly. */
  serial: string | null;
  via: 'panorama' | 'direct';
  kind: string;
  version: string | null;
  outcome: string;
  httpStatus: number | null;
  response: string;
}

/** The kinds that change a device; a dry run must send none of them. */
export const MUTATING_KINDS = new Set([
  'request.system.software.download',
  'request.system.software.install',
  'request.restart.system',
  'request.high-availability.state.suspend',
  'request.high-availability.state.functional',
  'request.content.upgrade.download',
  'request.content.upgrade.install',
]);

/** The gateway's log of served calls (the simulator store's `api` stream), parsed. */
export function servedCalls(stack: Stack): ServedCall[] {
  const byAddress = new Map(stack.scenario.devices.map((d) => [d.mgmtIp, d.serial]));
  return servedCallEvents(stack.simStore).map((e) => {
    const d = e.data as { via: 'panorama' | 'direct'; address: string; target: string | null; command: string | null; outcome: string; httpStatus: number | null; response: string | null };
    const parsed = d.command ? parseOpCommand(d.command) : undefined;
    const kind = parsed === undefined ? (d.command ?? 'none') : isOpError(parsed) ? 'invalid' : parsed.kind;
    const version = parsed && !isOpError(parsed) && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : null;
    const serial = d.via === 'direct' ? (byAddress.get(d.address) ?? null) : d.target;
    return { seq: e.seq, serial, via: d.via, kind, version, outcome: d.outcome, httpStatus: d.httpStatus, response: d.response ?? '' };
  });
}

/** `n` where `items` holds `n` equal values of `key`; used to find repeated commands. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}
