import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { BusError, NatsPermissionError, NoResponderError, RemoteError, RequestTimeoutError } from './errors.ts';

/** The `{ error }` half of every reply on the bus. */
export interface ErrorBody {
  code: string;
  message: string;
  [k: string]: unknown;
}

export type Reply<T extends object = Record<string, unknown>> = ({ ok: true } & T) | { ok?: false; error: ErrorBody };

/** Map any thrown value to an `{ error }` body; `code` and extra fields of our errors are kept. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof Error) {
    const raw = (err as { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : 'INTERNAL';
    const body: ErrorBody = { code, message: capped(err.message) };
    for (const [k, v] of Object.entries(err)) {
      if (k !== 'code' && k !== 'message' && k !== 'name' && k !== 'stack' && k !== 'cause' && isJsonish(v)) body[k] = v;
    }
    return body;
  }
  return { code: 'INTERNAL', message: capped(String(err)) };
}

/** Longest error message a reply carries: one that echoes a huge payload back is cut. */
export const MAX_ERROR_MESSAGE = 2000;

function capped(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE ? message : `${message.slice(0, MAX_ERROR_MESSAGE)}… (${message.length - MAX_ERROR_MESSAGE} more characters)`;
}

function isJsonish(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'object' && !(v instanceof Error));
}

/** Parse a message body as a JSON object, or throw a BusError with code BAD_PAYLOAD. */
export function parseJsonObject(msg: Msg): Record<string, unknown> {
  const text = msg.string();
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BusError('BAD_PAYLOAD', `payload is not JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BusError('BAD_PAYLOAD', 'payload must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export interface ServeOptions {
  queue?: string;
  /** Called for a handler error that could not be replied to. */
  onError?: (err: unknown, subject: string) => void;
}

/**
 * Answer JSON requests on `subject`: the handler's result is sent as `{ ok: true, ...result }`,
 * a thrown error as `{ error: { code, message, … } }`. A bad payload never stops the subscription.
 */
export function serveJson(
  nc: NatsConnection,
  subject: string,
  handler: (payload: Record<string, unknown>, msg: Msg) => Promise<object> | object,
  options: ServeOptions = {},
): Subscription {
  return nc.subscribe(subject, {
    ...(options.queue ? { queue: options.queue } : {}),
    callback: (err, msg) => {
      if (err) {
        options.onError?.(err, subject);
        return;
      }
      void (async () => {
        let reply: object;
        try {
          const payload = parseJsonObject(msg);
          reply = { ok: true, ...(await handler(payload, msg)) };
        } catch (e) {
          reply = { ok: false, error: toErrorBody(e) };
        }
        if (msg.reply) {
          try {
            msg.respond(replyText(reply));
          } catch (e) {
            // Typically a reply over the server's max_payload: say so rather than leave the caller
            // waiting for a timeout.
            options.onError?.(e, msg.subject);
            try {
              msg.respond(JSON.stringify({ ok: false, error: { code: 'REPLY_TOO_LARGE', message: `the reply could not be sent over NATS: ${capped((e as Error).message)}` } }));
            } catch (again) {
              options.onError?.(again, msg.subject);
            }
          }
        }
      })();
    },
  });
}

/** The reply as JSON; one that cannot be serialised (bigint, cycle) becomes an error reply, so the caller never waits for a timeout. */
function replyText(reply: object): string {
  try {
    return JSON.stringify(reply);
  } catch (err) {
    return JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: `reply is not JSON: ${(err as Error).message}` } });
  }
}

/**
 * Send a JSON request and return the `ok` reply. An `{ error }` reply becomes a RemoteError with the
 * remote code; no responders and timeouts become NoResponderError and RequestTimeoutError.
 */
export async function requestJson<T extends object = Record<string, unknown>>(
  nc: NatsConnection,
  subject: string,
  payload: object,
  timeoutMs = 10_000,
): Promise<T> {
  let msg: Msg;
  try {
    msg = await nc.request(subject, JSON.stringify(payload), { timeout: timeoutMs });
  } catch (err) {
    throw mapRequestError(err, subject, timeoutMs);
  }
  const body = parseJsonObject(msg) as Reply<T>;
  if ('error' in body && body.error) {
    const { code, message, ...rest } = body.error;
    throw new RemoteError(String(code ?? 'REMOTE'), String(message ?? 'remote error'), rest);
  }
  return body as T;
}

/** nats.js errors to ours: RequestError(cause NoRespondersError) → NoResponderError, TimeoutError → RequestTimeoutError. */
export function mapRequestError(err: unknown, subject: string, timeoutMs: number): Error {
  const e = err as { name?: string; cause?: { name?: string }; message?: string };
  // nats.js rejects a request whose publish the server refused (a user without the permission) at once.
  const pv = [err, e?.cause].find((x) => (x as { name?: string } | undefined)?.name === 'PermissionViolationError') as { operation?: string; subject?: string } | undefined;
  if (pv) return new NatsPermissionError(pv.operation === 'subscription' ? 'subscribe' : 'publish', pv.subject ?? subject, { cause: err });
  if (e?.name === 'NoRespondersError' || e?.cause?.name === 'NoRespondersError' || /no responders/i.test(e?.message ?? '')) {
    return new NoResponderError(subject, { cause: err });
  }
  if (e?.name === 'TimeoutError' || /timeout/i.test(e?.message ?? '')) {
    return new RequestTimeoutError(subject, timeoutMs, { cause: err });
  }
  return err instanceof Error ? err : new BusError('BUS', String(err));
}

/**
 * Subscribe to `subject` and drop the subscription again, throwing NatsPermissionError when the server
 * refuses it: a service signed in as the wrong user finds out at start instead of serving nothing.
 */
export async function assertCanSubscribe(nc: NatsConnection, subject: string): Promise<void> {
  const sub = nc.subscribe(subject, { callback: () => undefined });
  // The server answers a refused SUB with -ERR before the PONG of the flush that follows it.
  await nc.flush();
  await nc.flush();
  if (sub.isClosed()) throw new NatsPermissionError('subscribe', subject);
  sub.unsubscribe();
}
