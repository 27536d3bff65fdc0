import type { NatsConnection } from '@nats-io/transport-node';
import { BusError, NoResponderError, RemoteError, RequestTimeoutError, requestJson, toErrorBody, type Subjects } from '../bus/index.ts';

/**
 * One XML API call as it travels on `panos.sim.<serial>.op` (the wire contract of simulator/op-handler.ts
 * `SimOpRequest`; the gateway does not import the simulator). Secrets travel only for keygen.
 */
export interface SimOpPayload {
  type: 'op' | 'keygen' | 'config';
  cmd?: string;
  /** `type=config`: action and xpath (the element of a write is not forwarded: writes are refused). */
  action?: string;
  xpath?: string;
  target?: string;
  user?: string;
  password?: string;
}

/** What the device answered: an HTTP response, a dropped connection, or nothing at all (a hung management plane). */
export type SimReply = { kind: 'http'; status: number; body: string; contentType: string } | { kind: 'drop' } | { kind: 'hang' };

/** The routing facts of `panos.sim.ctl.-.describe` (simulator/simulator.ts `SimDescription`): no device state, no secrets. */
export interface SimDescription {
  scenario: string;
  runId?: string | undefined;
  panorama: { serial: string; hostname: string; mgmtIp: string };
  devices: Array<{ serial: string; hostname: string; mgmtIp: string }>;
  /** SHA-256 (hex) of every valid API key. */
  keyDigests: string[];
}

export const XML_CONTENT_TYPE = 'application/xml; charset=UTF-8';

/** Nothing answers for a device (no simulator owns it, or it did not answer in time). */
export class SimulatorUnavailableError extends BusError {
  constructor(
    readonly subject: string,
    readonly reason: 'no-responder' | 'timeout',
    options?: ErrorOptions,
  ) {
    super('SIM_UNAVAILABLE', reason === 'timeout' ? `no answer on ${subject} in time` : `nothing is answering on ${subject}`, options);
  }
}

/** The simulator answered, but not with a usable reply (bad JSON, an `{ error }`, a wrong shape). */
export class SimulatorReplyError extends BusError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('SIM_BAD_REPLY', `unusable reply on ${subject}: ${detail}`, options);
  }
}

/**
 * The gateway's only way to the devices: one XML API call or one control action, answered by the
 * simulator that owns the device, mapped to typed replies and two errors (SimulatorUnavailableError,
 * SimulatorReplyError; a remote `{ error }` passes as RemoteError). Two transports keep this contract:
 * NATS (NatsSimClient, a simulator in any process) and in-process (InProcessSimClient, the simulator of
 * this process, as `panos-upgrade sim` runs them).
 */
export interface SimClient {
  readonly subjects: Subjects;
  /** Ask the simulator that owns `serial` to answer one XML API call. */
  op(serial: string, payload: SimOpPayload): Promise<SimReply>;
  /** `panos.sim.ctl.<serial>.<action>`; the reply without its `ok` flag. */
  ctl(serial: string, action: string, payload?: object): Promise<Record<string, unknown>>;
  describe(): Promise<SimDescription>;
}

/** JSON requests over NATS (`panos.sim.<serial>.op`, `panos.sim.ctl.<serial>.<action>`). */
export class NatsSimClient implements SimClient {
  constructor(
    private readonly nc: NatsConnection,
    readonly subjects: Subjects,
    private readonly timeoutMs: number,
  ) {}

  async op(serial: string, payload: SimOpPayload): Promise<SimReply> {
    const subject = this.subjects.simOp(serial);
    return toSimReply(subject, await this.request(subject, payload));
  }

  async ctl(serial: string, action: string, payload: object = {}): Promise<Record<string, unknown>> {
    const { ok: _ok, ...rest } = await this.request(this.subjects.simCtl(serial, action), payload);
    return rest;
  }

  describe(): Promise<SimDescription> {
    return describeThrough(this);
  }

  private async request(subject: string, payload: object): Promise<Record<string, unknown>> {
    try {
      return await requestJson<Record<string, unknown>>(this.nc, subject, payload, this.timeoutMs);
    } catch (err) {
      if (err instanceof NoResponderError) throw new SimulatorUnavailableError(subject, 'no-responder', { cause: err });
      if (err instanceof RequestTimeoutError) throw new SimulatorUnavailableError(subject, 'timeout', { cause: err });
      // A remote `{ error }` is passed on as is: the management API maps NOT_FOUND to 404.
      if (err instanceof RemoteError) throw err;
      if (err instanceof BusError) throw new SimulatorReplyError(subject, err.message, { cause: err });
      throw err;
    }
  }
}

/**
 * What a simulator in this process offers the in-process transport (structurally simulator/simulator.ts
 * `Simulator`; the gateway does not import the simulator). The same three things its NATS
 * subscriptions answer: which serials it owns, one XML API call, one control action.
 */
export interface LocalSimulator {
  /** Whether it answers for `serial` now (the Panorama or one of its firewalls; false once stopped). */
  owns(serial: string): boolean;
  op(serial: string, request: SimOpPayload): Promise<object> | object;
  control(serial: string, action: string, payload: Record<string, unknown>): Promise<object> | object;
}

/**
 * The simulator of this process, called directly: no NATS round trip, but the same contract as
 * NatsSimClient. The request and the answer are copied as a JSON round trip would (so neither side
 * keeps a reference into the other's objects), a thrown error becomes the RemoteError the NATS
 * reply would have made, a call that takes longer than the timeout is SimulatorUnavailableError
 * ('timeout'), and a serial this simulator does not own goes to `fallback` (NATS: a simulator in
 * another process) or, without one, is SimulatorUnavailableError ('no-responder').
 * Control actions go to `fallback` when there is one (`panos.sim.ctl` stays on NATS), else here.
 * Unlike NATS, an answer has no size limit.
 */
export class InProcessSimClient implements SimClient {
  constructor(
    private readonly local: LocalSimulator,
    readonly subjects: Subjects,
    private readonly timeoutMs: number,
    private readonly fallback?: SimClient,
  ) {}

  async op(serial: string, payload: SimOpPayload): Promise<SimReply> {
    if (!this.local.owns(serial)) {
      if (this.fallback) return this.fallback.op(serial, payload);
      throw new SimulatorUnavailableError(this.subjects.simOp(serial), 'no-responder');
    }
    const request = jsonCopy(payload, () => this.subjects.simOp(serial)) as unknown as SimOpPayload;
    const answer = await this.call(() => this.local.op(serial, request), () => this.subjects.simOp(serial));
    return toSimReply(this.subjects.simOp.bind(this.subjects, serial), answer);
  }

  async ctl(serial: string, action: string, payload: object = {}): Promise<Record<string, unknown>> {
    if (this.fallback) return this.fallback.ctl(serial, action, payload);
    const name = this.subjects.simCtl(serial, action);
    const subject = (): string => name;
    if (serial !== '-' && !this.local.owns(serial)) throw new SimulatorUnavailableError(name, 'no-responder');
    const request = jsonCopy(payload, subject);
    const { ok: _ok, ...rest } = await this.call(() => this.local.control(serial, action, request), subject);
    return rest;
  }

  describe(): Promise<SimDescription> {
    return describeThrough(this);
  }

  /** Run one call as the simulator's NATS side would, and take its answer as the NATS client would. */
  private async call(run: () => Promise<object> | object, subject: () => string): Promise<Record<string, unknown>> {
    let answer: object;
    try {
      const pending = run();
      answer = isPromise(pending) ? await withTimeout(pending, this.timeoutMs, subject) : pending;
    } catch (err) {
      if (err instanceof SimulatorUnavailableError) throw err;
      // What `{ ok: false, error: toErrorBody(err) }` becomes on the other side of NATS.
      const { code, message, ...rest } = toErrorBody(err);
      throw new RemoteError(code, message, jsonCopy(rest, subject));
    }
    const reply = jsonCopy(answer, subject);
    // As requestJson reads `{ ok: true, ...answer }`: an answer with an `error` is one.
    if ('error' in reply && reply.error) {
      const { code, message, ...rest } = reply.error as Record<string, unknown>;
      throw new RemoteError(String(code ?? 'REMOTE'), String(message ?? 'remote error'), rest);
    }
    return reply;
  }
}

function isPromise(v: unknown): v is Promise<object> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

function withTimeout<T>(pending: Promise<T>, ms: number, subject: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new SimulatorUnavailableError(subject(), 'timeout')), ms);
    pending.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * A copy of a JSON object as `JSON.parse(JSON.stringify(v))` makes it: flat objects of strings, booleans
 * and finite numbers (every XML API call and answer) are copied field by field, anything else goes
 * through JSON. A value JSON cannot carry (a cycle, a bigint) is SimulatorReplyError, as unusable as a
 * reply NATS could not carry.
 */
export function jsonCopy(value: object, subject: () => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Object.getPrototypeOf(value) === Object.prototype) {
    let flat = true;
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      const v = (value as Record<string, unknown>)[k];
      const t = typeof v;
      if (t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(v))) out[k] = v;
      else if (v !== undefined) {
        flat = false;
        break;
      }
    }
    if (flat) return out;
  }
  let copied: unknown;
  try {
    copied = JSON.parse(JSON.stringify(value) ?? 'null');
  } catch (err) {
    throw new SimulatorReplyError(subject(), `not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (copied === null || typeof copied !== 'object' || Array.isArray(copied)) throw new SimulatorReplyError(subject(), 'not a JSON object');
  return copied as Record<string, unknown>;
}

async function describeThrough(client: SimClient): Promise<SimDescription> {
  const subject = client.subjects.simCtl('-', 'describe');
  const d = await client.ctl('-', 'describe');
  if (!isDescription(d)) throw new SimulatorReplyError(subject, 'not a simulator description');
  return d;
}

/** Validate the wire reply: `{ ok, status, body, contentType? }`, `{ ok, drop: true }` or `{ ok, hang: true }`. */
export function toSimReply(subject: string | (() => string), r: Record<string, unknown>): SimReply {
  if (r.drop === true) return { kind: 'drop' };
  if (r.hang === true) return { kind: 'hang' };
  const { status, body, contentType } = r;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new SimulatorReplyError(typeof subject === 'string' ? subject : subject(), 'no valid HTTP status');
  }
  if (typeof body !== 'string') throw new SimulatorReplyError(typeof subject === 'string' ? subject : subject(), 'no body');
  // A content type with a line break would split the response header.
  const type = typeof contentType === 'string' && contentType !== '' && !/[\r\n]/.test(contentType) ? contentType : XML_CONTENT_TYPE;
  return { kind: 'http', status, body, contentType: type };
}

function isDevice(v: unknown): v is { serial: string; hostname: string; mgmtIp: string } {
  const d = v as Record<string, unknown> | null;
  return typeof d === 'object' && d !== null && typeof d.serial === 'string' && typeof d.mgmtIp === 'string' && typeof d.hostname === 'string';
}

function isDescription(v: Record<string, unknown>): v is Record<string, unknown> & SimDescription {
  return (
    typeof v.scenario === 'string' &&
    isDevice(v.panorama) &&
    Array.isArray(v.devices) &&
    v.devices.every(isDevice) &&
    Array.isArray(v.keyDigests) &&
    v.keyDigests.every((k) => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k))
  );
}
