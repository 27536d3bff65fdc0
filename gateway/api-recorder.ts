import type { Logger } from 'pino';
import type { ApiOutcome } from './api-errors.ts';

/** The part of the event store the gateway uses (structurally `LmdbEventStore`). */
export interface ApiCallStore {
  append(stream: string, events: ReadonlyArray<{ type: string; data: unknown }>): Promise<unknown>;
  readStream(stream: string, options?: { fromSeq?: number; toSeq?: number }): Array<{ seq: number; at: string; type: string; data: unknown }>;
  streamHead(stream: string): number;
}

export const API_STREAM = 'api';
export const API_CALL_SERVED = 'api.call.served';
const MAX_TEXT = 2000;

/** `data` of an `api.call.served` event. Never holds a key or a password. */
export interface ApiCallRecord {
  requestId: string;
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

/**
 * Appends one `api.call.served` event per call without waiting for it: the response never waits on
 * LMDB, and appends made in the same event turn share one commit (group commit). Failures are logged.
 */
export class ApiRecorder {
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly store: ApiCallStore,
    private readonly log: Logger,
  ) {}

  record(call: ApiCallRecord): void {
    if (this.closed) {
      this.log.debug({ requestId: call.requestId }, 'api call not recorded: gateway closed');
      return;
    }
    try {
      const p = this.store.append(API_STREAM, [{ type: API_CALL_SERVED, data: call }]).then(
        () => undefined,
        (err: unknown) => this.failed(err, call),
      );
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    } catch (err) {
      // A closed store throws synchronously.
      this.failed(err, call);
    }
  }

  /** Stop recording and wait for the appends in flight, so the store can be closed after the gateway. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pending]);
  }

  /** The last `limit` calls, newest first. */
  recent(limit: number): Array<ApiCallRecord & { seq: number; at: string }> {
    const head = this.store.streamHead(API_STREAM);
    if (head === 0) return [];
    const events = this.store.readStream(API_STREAM, { fromSeq: Math.max(1, head - limit + 1), toSeq: head });
    return events
      .filter((e) => e.type === API_CALL_SERVED)
      .reverse()
      .map((e) => ({ seq: e.seq, at: e.at, ...(e.data as ApiCallRecord) }));
  }

  private failed(err: unknown, call: ApiCallRecord): void {
    this.log.warn({ err, requestId: call.requestId }, 'could not record api call');
  }
}
