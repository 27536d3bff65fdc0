import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { BusError, parseJsonObject, toErrorBody, type Subjects } from '../bus/index.ts';
import type { SimAnswer, SimOpRequest } from './op-handler.ts';

/**
 * What a simulator answers, whichever transport carries it: the serials it owns, one XML API call, one
 * control action. `Simulator` is one; the gateway's in-process transport calls the same three methods.
 */
export interface SimHost {
  owns(serial: string): boolean;
  op(serial: string, request: SimOpRequest): Promise<SimAnswer> | SimAnswer;
  control(serial: string, action: string, payload: Record<string, unknown>): Promise<object> | object;
}

/**
 * Serve `host` over NATS with one wildcard subscription per kind (`panos.sim.*.op`, `panos.sim.ctl.>`):
 * a request for a serial it does not own is left to the simulator that owns it. Every answer is JSON
 * `{ ok: true, ...answer }`, every thrown error `{ ok: false, error }`.
 */
export function serveSimHost(nc: NatsConnection, subjects: Subjects, host: SimHost, log: Logger): Subscription[] {
  const onOp = (err: Error | null, msg: Msg): void => {
    if (err) return;
    const serial = subjects.parseSimOp(msg.subject);
    // Another simulator process may own this serial: only the owner answers.
    if (!serial || !host.owns(serial)) return;
    void answer(msg, serial, log, async () => host.op(serial, opRequest(parseJsonObject(msg))));
  };
  const onCtl = (err: Error | null, msg: Msg): void => {
    if (err) return;
    const target = subjects.parseSimCtl(msg.subject);
    if (!target) return;
    if (target.serial !== '-' && !host.owns(target.serial)) return;
    void answer(msg, target.serial, log, async () => host.control(target.serial, target.action, parseJsonObject(msg)));
  };
  return [nc.subscribe(subjects.simOpAll(), { callback: onOp }), nc.subscribe(subjects.simCtlAll(), { callback: onCtl })];
}

const OP_FIELDS: ReadonlySet<string> = new Set(['type', 'cmd', 'action', 'xpath', 'target', 'user', 'password']);
const OP_TYPES: ReadonlySet<string> = new Set(['op', 'keygen', 'config']);

/**
 * An XML API call as the gateway forwards it. A missing `cmd` is the device's to answer (as a PAN-OS
 * error, like the HTTP request it stands for); a field of the wrong kind, an unknown type or an unknown
 * field is a bad payload. Checked by hand: zod stays out of an idle simulator's memory.
 */
export function opRequest(payload: Record<string, unknown>): SimOpRequest {
  for (const [key, value] of Object.entries(payload)) {
    if (!OP_FIELDS.has(key)) throw new BusError('BAD_PAYLOAD', `unknown field "${key.slice(0, 64)}"; an op request has ${[...OP_FIELDS].join(', ')}`);
    if (typeof value !== 'string') throw new BusError('BAD_PAYLOAD', `${key} must be a string`);
  }
  if (payload.type !== undefined && !OP_TYPES.has(payload.type as string)) throw new BusError('BAD_PAYLOAD', `type must be one of ${[...OP_TYPES].join(', ')}`);
  return payload as SimOpRequest;
}

async function answer(msg: Msg, serial: string, log: Logger, run: () => Promise<object>): Promise<void> {
  let reply: object;
  try {
    // A hang is answered explicitly: the gateway then holds the client's connection open, whereas
    // silence would look like a dead simulator (a NATS timeout) and be mapped to a reset or a 503.
    reply = { ok: true, ...(await run()) };
  } catch (e) {
    reply = { ok: false, error: toErrorBody(e) };
  }
  if (!msg.reply) return;
  try {
    msg.respond(JSON.stringify(reply));
  } catch (err) {
    // Typically an answer over the server's max_payload (a huge route table, `show devices` of a
    // very large fleet): say so rather than leave the caller waiting for a timeout.
    log.warn({ err, serial }, 'could not send an answer');
    msg.respond(JSON.stringify({ ok: false, error: { code: 'ANSWER_TOO_LARGE', message: `the answer of ${serial} could not be sent over NATS: ${(err as Error).message}` } }));
  }
}
