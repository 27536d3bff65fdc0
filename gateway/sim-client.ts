import type { NatsConnection } from '@nats-io/transport-node';
import { BusError, NoResponderError, RemoteError, RequestTimeoutError, requestJson, type Subjects } from '../bus/index.ts';

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

/** The gateway's only way to the devices: JSON requests over NATS, mapped to typed replies and two errors. */
export class SimClient {
  constructor(
    private readonly nc: NatsConnection,
    readonly subjects: Subjects,
    private readonly timeoutMs: number,
  ) {}

  /** Ask the simulator that owns `serial` to answer one XML API call. */
  async op(serial: string, payload: SimOpPayload): Promise<SimReply> {
    const subject = this.subjects.simOp(serial);
    return toSimReply(subject, await this.request(subject, payload));
  }

  /** `panos.sim.ctl.<serial>.<action>`; the reply without its `ok` flag. */
  async ctl(serial: string, action: string, payload: object = {}): Promise<Record<string, unknown>> {
    const { ok: _ok, ...rest } = await this.request(this.subjects.simCtl(serial, action), payload);
    return rest;
  }

  async describe(): Promise<SimDescription> {
    const subject = this.subjects.simCtl('-', 'describe');
    const d = await this.ctl('-', 'describe');
    if (!isDescription(d)) throw new SimulatorReplyError(subject, 'not a simulator description');
    return d;
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

/** Validate the wire reply: `{ ok, status, body, contentType? }`, `{ ok, drop: true }` or `{ ok, hang: true }`. */
export function toSimReply(subject: string, r: Record<string, unknown>): SimReply {
  if (r.drop === true) return { kind: 'drop' };
  if (r.hang === true) return { kind: 'hang' };
  const { status, body, contentType } = r;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new SimulatorReplyError(subject, 'no valid HTTP status');
  }
  if (typeof body !== 'string') throw new SimulatorReplyError(subject, 'no body');
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
