import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiParams } from './api-params.ts';

/** How a caller authenticates (panos-xml-api.md §0): `key=`, the `X-PAN-KEY` header, or HTTP Basic. */
export type Credentials =
  | { kind: 'key'; readings: string[] }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'none' };

/** The first credential the request carries, in PAN-OS order: `key=`, then `X-PAN-KEY`, then Basic. */
export function credentialsOf(params: ApiParams, headers: IncomingHttpHeaders): Credentials {
  if (params.has('key')) return { kind: 'key', readings: params.readings('key') };
  const header = headers['x-pan-key'];
  if (typeof header === 'string' && header.trim() !== '') return { kind: 'key', readings: [header.trim()] };
  const basic = parseBasic(headers.authorization);
  return basic ? { kind: 'basic', ...basic } : { kind: 'none' };
}

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The valid API keys, held only as SHA-256 digests (from the simulator's `describe`). A presented key is
 * hashed and compared with every digest in constant time, without stopping at a match, so neither the
 * key nor its position leaks through timing.
 */
export class KeyRing {
  private readonly digests: Buffer[];

  constructor(hexDigests: readonly string[]) {
    this.digests = hexDigests.map((d) => Buffer.from(d, 'hex')).filter((d) => d.length === 32);
  }

  /** True when any reading of the presented key is valid. */
  accepts(readings: readonly string[]): boolean {
    let ok = false;
    for (const key of readings) {
      const presented = hash('sha256', key, 'buffer');
      for (const digest of this.digests) {
        if (timingSafeEqual(presented, digest)) ok = true;
      }
    }
    return ok;
  }
}
