import type { Logger } from 'pino';
import { API_CALL_SERVED, API_CALLS_SERVED, CallBatcher, isServedCalls, oneEventPerCall } from '../eventstore/call-batches.ts';
import type { ApiOutcome } from './api-errors.ts';

/** The part of the event store the gateway uses (structurally `LmdbEventStore`). */
export interface ApiCallStore {
  append(stream: string, events: ReadonlyArray<{ type: string; data: unknown }>): Promise<unknown>;
  readStream(stream: string, options?: { fromSeq?: number; toSeq?: number }): Array<{ seq: number; at: string; type: string; data: unknown }>;
  streamHead(stream: string): number;
}

export const API_STREAM = 'api';
/** The calls of one group commit go in one `api.calls.served` event (`data`: a ServedCallsRecord); older gateways wrote one `api.call.served` per call, still read. */
export { API_CALL_SERVED, API_CALLS_SERVED };
/** Calls refused for bad or missing credentials, counted together (one event per interval, not one per call). */
export const API_CALLS_REFUSED = 'api.calls.refused';
export const DEFAULT_REFUSED_FLUSH_MS = 60_000;

/** `data` of an `api.calls.refused` event. */
export interface RefusedCallsRecord {
  count: number;
  since: string;
  until: string;
  /** Local address the calls arrived on (Panorama's or a firewall's) → count. */
  byAddress: Record<string, number>;
  /** `type=` → count (`keygen`, `op`, …; `none` when missing). */
  byType: Record<string, number>;
}
/** `data` of an `api.calls.served` event: the calls answered within one batch, in the order they were answered. */
export interface ServedCallsRecord {
  calls: ApiCallRecord[];
}

/** An event that records served calls, either form (spelt with the batches, in eventstore/call-batches.ts). */
export { isServedCalls };

/** Readers see each batch as one `api.call.served` event per call (eventstore/call-batches.ts). */
export { oneEventPerCall };

const MAX_TEXT = 2000;
const TYPE_NAMES = new Set(['keygen', 'op', 'version', 'config', 'commit', 'export', 'import', 'log', 'report', 'user-id']);

/** One served call (`data` of an `api.call.served` event, an entry of `api.calls.served`). Never holds a key or a password. */
export interface ApiCallRecord {
  requestId: string;
  /** When the call was answered (or given up); an old `api.call.served` event without it took the event's time. */
  at?: string;
  via: 'panorama' | 'direct';
  /** The local address the call arrived on (the Panorama's or a firewall's management address). */
  address: string;
  target: string | null;
  type: string | null;
  /** The `cmd` XML (truncated), `keygen` with the user name, `version`, or null. */
  command: string | null;
  httpStatus: number | null;
  panosStatus: 'success' | 'error' | null;
  panosCode: string | null;
  durationMs: number;
  response: string | null;
  responseBytes: number;
  outcome: ApiOutcome;
}

export function truncate(text: string, max = MAX_TEXT): string {
  return text.length > max ? text.slice(0, max) : text;
}

const RESPONSE_OPEN = /^\s*(?:<\?xml[^>]*>\s*)?<response\b([^>]*)>/;

/** `status` and `code` of a PAN-OS envelope, in either quoting style; nulls for anything that is not one (HTML). */
export function envelopeOf(body: string): { panosStatus: 'success' | 'error' | null; panosCode: string | null } {
  const m = RESPONSE_OPEN.exec(body.slice(0, 400));
  if (!m) return { panosStatus: null, panosCode: null };
  const attrs = m[1] ?? '';
  const status = /\bstatus\s*=\s*["']([^"']*)["']/.exec(attrs)?.[1];
  const code = /\bcode\s*=\s*["']([^"']*)["']/.exec(attrs)?.[1];
  return { panosStatus: status === 'success' ? 'success' : status === undefined ? null : 'error', panosCode: code ?? null };
}

/** A keygen answer carries a key: it is recorded with the key replaced. */
export function redactKeys(body: string): string {
  return body.replace(/<key>[^<]*<\/key>/g, '<key>[redacted]</key>');
}

export { MAX_BATCH_TEXT, MAX_RECORD_BATCH, RECORD_BATCH_MS } from '../eventstore/call-batches.ts';
/** What a record weighs beside its command and answer, for MAX_BATCH_TEXT (about 305 bytes of JSON). */
const RECORD_OVERHEAD = 320;

/**
 * Records every served call without making the response wait for it: the records of the calls answered
 * within RECORD_BATCH_MS of each other (at most MAX_RECORD_BATCH of them, about MAX_BATCH_TEXT bytes) are
 * appended together as one `api.calls.served` event: one LMDB put, one flush, one NATS message for the
 * lot (group commit; a busy gateway answers thousands of calls a second, and one event per call cost it
 * about a fifth of its CPU per call). `close` appends what is waiting and waits for every append, so a graceful
 * stop loses nothing. Failures are logged.
 */
export class ApiRecorder {
  private readonly calls: CallBatcher<ApiCallRecord>;
  private refused: { count: number; since: string; byAddress: Map<string, number>; byType: Map<string, number> } | undefined;
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly store: ApiCallStore,
    private readonly log: Logger,
    refusedFlushMs = DEFAULT_REFUSED_FLUSH_MS,
  ) {
    this.flushTimer = setInterval(() => this.flushRefused(), refusedFlushMs);
    this.flushTimer.unref();
    this.calls = new CallBatcher<ApiCallRecord>({
      append: (calls) => this.store.append(API_STREAM, [{ type: API_CALLS_SERVED, data: { calls } satisfies ServedCallsRecord }]),
      weigh: (call) => RECORD_OVERHEAD + (call.command?.length ?? 0) + (call.response?.length ?? 0),
      failed: (err, calls) => this.failed(err, calls),
    });
  }

  /**
   * A call refused for its credentials is counted, not recorded: a scanner or a fuzzer would otherwise
   * write one event per request (12,836 events, 11 MB from one fuzz run). The counts go to the log as one
   * `api.calls.refused` event per interval, and at close.
   */
  refuse(call: { address: string; type: string | null }): void {
    if (this.calls.isClosed) return;
    this.refused ??= { count: 0, since: new Date().toISOString(), byAddress: new Map(), byType: new Map() };
    const r = this.refused;
    r.count++;
    r.byAddress.set(call.address, (r.byAddress.get(call.address) ?? 0) + 1);
    // Only the types the API knows are kept as they are, so a fuzzer cannot grow the record.
    const type = call.type === null ? 'none' : TYPE_NAMES.has(call.type) ? call.type : 'other';
    r.byType.set(type, (r.byType.get(type) ?? 0) + 1);
  }

  /** Append the counts gathered since the last flush (nothing when none). */
  flushRefused(): void {
    const r = this.refused;
    if (!r) return;
    this.refused = undefined;
    // Many addresses (a fleet scanned) are cut to the busiest ones.
    const top = [...r.byAddress].sort((a, b) => b[1] - a[1]).slice(0, 50);
    const data: RefusedCallsRecord = { count: r.count, since: r.since, until: new Date().toISOString(), byAddress: Object.fromEntries(top), byType: Object.fromEntries(r.byType) };
    this.log.warn({ count: data.count, since: data.since, addresses: r.byAddress.size }, 'api calls refused for their credentials');
    try {
      this.calls.track(
        this.store.append(API_STREAM, [{ type: API_CALLS_REFUSED, data }]).then(
          () => undefined,
          (err: unknown) => this.log.warn({ err }, 'could not record refused api calls'),
        ),
      );
    } catch (err) {
      this.log.warn({ err }, 'could not record refused api calls');
    }
  }

  record(call: ApiCallRecord): void {
    if (this.calls.isClosed) {
      this.log.debug({ requestId: call.requestId }, 'api call not recorded: gateway closed');
      return;
    }
    this.calls.add(call);
  }

  /** Append the records waiting for their batch (nothing when none). */
  flushCalls(): void {
    this.calls.flush();
  }

  /** Append the records waiting for their batch now, and resolve once every record made so far is appended. */
  written(): Promise<void> {
    return this.calls.written();
  }

  /** Stop recording, append what waits and wait for the appends in flight, so the store can be closed after the gateway. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    if (!this.calls.isClosed) this.flushRefused();
    await this.calls.close();
  }

  /** The last `limit` calls, newest first; `seq` is that of the event that holds the call. */
  recent(limit: number): Array<ApiCallRecord & { seq: number; at: string }> {
    const out: Array<ApiCallRecord & { seq: number; at: string }> = [];
    // Newest events first, a few at a time, until `limit` calls are found (a batch holds many).
    for (let toSeq = this.store.streamHead(API_STREAM); toSeq > 0 && out.length < limit; ) {
      const fromSeq = Math.max(1, toSeq - Math.min(limit, 64) + 1);
      const events = oneEventPerCall(this.store.readStream(API_STREAM, { fromSeq, toSeq }).filter(isServedCalls));
      for (let i = events.length - 1; i >= 0 && out.length < limit; i--) {
        const e = events[i]!;
        out.push({ ...(e.data as ApiCallRecord), seq: e.seq, at: e.at });
      }
      toSeq = fromSeq - 1;
    }
    return out;
  }

  private failed(err: unknown, calls: readonly ApiCallRecord[]): void {
    this.log.warn({ err, calls: calls.length, requestIds: calls.slice(0, 5).map((c) => c.requestId) }, 'could not record api calls');
  }
}
