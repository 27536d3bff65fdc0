import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { PanosUpgradeError } from '../panos/errors.ts';

/** What a lease's key holds in the bucket: who owns it, under which epoch, and how often it was renewed. */
export interface LeaseValue {
  /** The daemon's name (`cluster.node_id`, or host and pid). */
  holder: string;
  /** This process's incarnation: a restarted daemon with the same name is another holder. */
  instance: string;
  /** The bucket revision at acquisition: stable for one ownership, greater for every later one. */
  epoch: number;
  /** Renewals so far (0 = just acquired). */
  n: number;
  renewedAt: string;
}

/** A lease this process holds. */
export interface HeldLease {
  key: string;
  epoch: number;
}

/** Why a lease stopped being ours. */
export type LostReason = 'taken' | 'expired' | 'released' | 'closed';

/** This process does not hold the lease (any more): nothing may be sent on its behalf. */
export class LeaseLostError extends PanosUpgradeError {
  constructor(
    readonly key: string,
    readonly epoch: number | undefined,
    readonly reason: string,
  ) {
    super('LEASE_LOST', `lease ${key}${epoch === undefined ? '' : ` (epoch ${epoch})`} is not held by this daemon: ${reason}`);
  }
}

export interface LeaseManagerOptions {
  nc: NatsConnection;
  /** The KV bucket (created when missing, with TTL = the lease time). */
  bucket: string;
  /** This daemon's name in the leases. */
  holder?: string;
  /** Lease time: the bucket's TTL. A bucket made earlier with another TTL keeps its own, which wins. */
  ttlMs: number;
  /** Replicas of the bucket's stream (3 on a 3-node cluster; 1 on a single server). */
  replicas?: number;
  /** Heartbeat period; default a third of the lease time. */
  renewEveryMs?: number;
  /**
   * Safety margin: a lease counts as lost locally once `ttl - margin` has passed since its last
   * successful renewal was sent (the bucket drops it `ttl` after that renewal was written, later still).
   * Default a fifth of the lease time.
   */
  marginMs?: number;
  /** How long one KV request may take; default a quarter of the lease time, at most 5 s. */
  requestTimeoutMs?: number;
  now?: () => number;
  log?: Logger;
}

interface Held {
  key: string;
  epoch: number;
  /** The key's revision after our last write: the next renewal is an update at it. */
  revision: number;
  n: number;
  /** Local time the last successful renewal (or the acquisition) was sent. */
  renewedAt: number;
  /** Renewals of one key run one after the other: two at the same revision would make one fail. */
  chain: Promise<unknown>;
  watchdog: ReturnType<typeof setTimeout> | undefined;
}

/** KV keys are tokens joined by dots; the lease keys are partition or campaign names. */
const KEY_RE = /^[A-Za-z0-9_=-]+(\.[A-Za-z0-9_=-]+)*$/;

export function validateLeaseKey(key: string): string {
  if (!KEY_RE.test(key) || key.length > 200) throw new PanosUpgradeError('INVALID_LEASE_KEY', `not a valid lease key: ${JSON.stringify(key.slice(0, 80))} (letters, digits, _ = - and dots between them)`);
  return key;
}

/** The lease bucket for a subject prefix: KV bucket names allow letters, digits, `_` and `-`. */
export function leaseBucketName(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}-leases`;
}

function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

const encoder = new TextEncoder();

/**
 * Leases in a JetStream key-value bucket: work (a campaign, a partition of the fleet, the whole fleet)
 * is owned by whoever holds its key.
 *
 * @remarks
 * - The bucket's TTL is the lease time: a key not renewed for that long disappears, and anyone may
 *   create it again.
 * - `acquire` creates the key only if absent (expected last subject sequence 0, or the revision of a
 *   release's delete marker); the revision it gets is the lease's epoch, written into the value.
 * - Renewals (a heartbeat every `renewEveryMs`) update the key at the revision of our last write, so a
 *   renewal after someone else took the key fails, and so does one after the key expired.
 * - A lease is lost when a renewal is refused, or when `ttl - margin` has passed on the local clock since
 *   the last successful renewal was sent, whichever comes first: a process paused longer than that finds,
 *   when it wakes, that `held()` says no before any timer has run.
 * - `confirm` is the check at send time: a renewal that must succeed, right before a mutating call.
 */
export class LeaseManager {
  readonly holder: string;
  readonly instance = randomBytes(6).toString('hex');
  readonly bucket: string;
  private readonly kv: KV;
  private readonly leases = new Map<string, Held>();
  private readonly lostListeners = new Set<(key: string, epoch: number, reason: LostReason) => void>();
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly renewEveryMs: number;
  private readonly marginMs: number;
  private readonly requestTimeoutMs: number;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  private constructor(
    kv: KV,
    readonly ttlMs: number,
    options: LeaseManagerOptions,
  ) {
    this.kv = kv;
    this.bucket = options.bucket;
    this.holder = options.holder ?? `${hostname()}-${process.pid}`;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.renewEveryMs = options.renewEveryMs ?? Math.max(50, Math.floor(ttlMs / 3));
    this.marginMs = options.marginMs ?? Math.floor(ttlMs / 5);
    this.requestTimeoutMs = options.requestTimeoutMs ?? Math.min(5_000, Math.max(200, Math.floor(ttlMs / 4)));
    if (this.renewEveryMs >= ttlMs - this.marginMs) throw new PanosUpgradeError('LEASE_CONFIG', `lease renewal every ${this.renewEveryMs} ms does not fit in a lease of ${ttlMs} ms minus a margin of ${this.marginMs} ms`);
  }

  /** Open (or create) the bucket and start the heartbeat. */
  static async open(options: LeaseManagerOptions): Promise<LeaseManager> {
    if (!(options.ttlMs >= 100)) throw new PanosUpgradeError('LEASE_CONFIG', `lease time must be at least 100 ms, got ${options.ttlMs}`);
    const kv = await new Kvm(options.nc).create(options.bucket, { ttl: options.ttlMs, history: 1, replicas: options.replicas ?? 1, allow_direct: false });
    // A bucket made before with another TTL keeps it; the leases expire by that one, so the local view must too.
    const ttlMs = (await kv.status()).ttl || options.ttlMs;
    if (ttlMs !== options.ttlMs) options.log?.warn({ bucket: options.bucket, bucketTtlMs: ttlMs, configuredMs: options.ttlMs }, 'lease bucket keeps its own lease time');
    const manager = new LeaseManager(kv, ttlMs, options);
    manager.heartbeat = setInterval(() => manager.renewAll(), manager.renewEveryMs);
    manager.heartbeat.unref?.();
    return manager;
  }

  /** Take the lease if nobody holds it: its epoch, or null when another holder has it. */
  async acquire(key: string): Promise<HeldLease | null> {
    validateLeaseKey(key);
    this.assertOpen();
    const mine = this.leases.get(key);
    if (mine && this.isValid(mine)) return { key, epoch: mine.epoch };
    const sentAt = this.now();
    let revision: number;
    try {
      revision = await this.kv.create(key, encoder.encode(JSON.stringify(this.value(0, 0, sentAt))));
    } catch (err) {
      // Held by someone. (A create of ours that timed out and landed all the same is left to expire:
      // we cannot know when it was written, so we could not know when it ends.)
      if (!isWrongLastSequence(err)) throw err;
      return null;
    }
    // The epoch is the create's revision; written into the value so that anyone reading the key sees it.
    let epochRevision = revision;
    try {
      epochRevision = await this.kv.update(key, encoder.encode(JSON.stringify(this.value(revision, 0, sentAt))), revision, this.requestTimeoutMs);
    } catch (err) {
      if (isWrongLastSequence(err)) return null;
      throw err;
    }
    const h: Held = { key, epoch: revision, revision: epochRevision, n: 0, renewedAt: sentAt, chain: Promise.resolve(), watchdog: undefined };
    this.leases.set(key, h);
    this.arm(h);
    this.log?.info({ lease: key, epoch: revision, holder: this.holder }, 'lease acquired');
    return { key, epoch: revision };
  }

  /** Try `acquire` every `pollMs` until it succeeds or `signal` aborts (then null). */
  async acquireWhenFree(key: string, options: { pollMs?: number; signal?: AbortSignal } = {}): Promise<HeldLease | null> {
    const pollMs = options.pollMs ?? Math.max(50, Math.floor(this.ttlMs / 10));
    for (;;) {
      if (options.signal?.aborted || this.closed) return null;
      try {
        const lease = await this.acquire(key);
        if (lease) return lease;
      } catch (err) {
        // NATS moving a stream leader, a node away: try again at the next poll.
        this.log?.warn({ lease: key, err }, 'could not try the lease');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        options.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }

  /** The lease as this process holds it now, by the local clock; null when not held or no longer surely valid. */
  held(key: string): HeldLease | null {
    const h = this.leases.get(key);
    if (!h) return null;
    if (!this.isValid(h)) {
      this.lose(h, 'expired');
      return null;
    }
    return { key, epoch: h.epoch };
  }

  /** Every lease held now (by the local clock). */
  heldLeases(): HeldLease[] {
    return [...this.leases.keys()].map((k) => this.held(k)).filter((l): l is HeldLease => l !== null);
  }

  /**
   * The check before a mutating call: the lease must be held locally under `epoch`, and a renewal at our
   * last revision must succeed in the bucket now (which no paused or partitioned ex-holder can do once
   * another daemon has the key). A renewal that cannot reach the bucket is tried again until the lease
   * would be lost locally. Throws LeaseLostError.
   */
  async confirm(key: string, epoch: number): Promise<void> {
    const h = this.leases.get(key);
    if (!h || h.epoch !== epoch) throw new LeaseLostError(key, epoch, h ? `it is held under epoch ${h.epoch} now` : 'not held');
    for (;;) {
      if (!this.isValid(h)) {
        this.lose(h, 'expired');
        throw new LeaseLostError(key, epoch, 'not renewed within the lease time');
      }
      const outcome = await this.renew(h);
      if (outcome === 'renewed') return;
      if (outcome === 'lost') throw new LeaseLostError(key, epoch, 'another daemon holds it, or it expired');
      await new Promise((r) => setTimeout(r, Math.min(250, this.renewEveryMs)));
    }
  }

  /** Give the lease up at once (a delete at our revision), so that a standby need not wait for it to expire. */
  async release(key: string): Promise<void> {
    const h = this.leases.get(key);
    if (!h) return;
    this.lose(h, 'released');
    await h.chain.catch(() => undefined);
    try {
      await this.kv.delete(key, { previousSeq: h.revision });
    } catch (err) {
      // Already taken or expired: nothing of ours to delete.
      if (!isWrongLastSequence(err)) this.log?.warn({ lease: key, err }, 'could not release the lease; it expires by itself');
    }
  }

  /** Who holds a key now, as the bucket says (read from the stream leader); null when nobody does. */
  async holderOf(key: string): Promise<LeaseValue | null> {
    return (await this.read(validateLeaseKey(key)))?.value ?? null;
  }

  private async read(key: string): Promise<{ value: LeaseValue; revision: number } | null> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return null;
    const v = JSON.parse(new TextDecoder().decode(e.value)) as LeaseValue;
    // Just created, the epoch not written yet: it is the create's revision.
    return { value: { ...v, epoch: v.epoch || e.revision }, revision: e.revision };
  }

  /** Called once per lost ownership (taken, expired, released, closed); returns an unsubscribe. */
  onLost(cb: (key: string, epoch: number, reason: LostReason) => void): () => void {
    this.lostListeners.add(cb);
    return () => this.lostListeners.delete(cb);
  }

  /** Stop renewing; with `release`, delete our keys so that others take over at once. */
  async close(options: { release?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (options.release) await Promise.all([...this.leases.keys()].map((k) => this.release(k)));
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const h of [...this.leases.values()]) this.lose(h, 'closed');
  }

  private value(epoch: number, n: number, at: number): LeaseValue {
    return { holder: this.holder, instance: this.instance, epoch, n, renewedAt: new Date(at).toISOString() };
  }

  private isValid(h: Held): boolean {
    return !this.closed && this.leases.get(h.key) === h && this.now() < h.renewedAt + this.ttlMs - this.marginMs;
  }

  /** A timer at the local end of validity: a lease nobody renewed by then is reported lost. */
  private arm(h: Held): void {
    clearTimeout(h.watchdog);
    h.watchdog = setTimeout(() => {
      if (this.leases.get(h.key) === h && !this.isValid(h)) this.lose(h, 'expired');
    }, Math.max(0, h.renewedAt + this.ttlMs - this.marginMs - this.now()) + 1);
    h.watchdog.unref?.();
  }

  private lose(h: Held, reason: LostReason): void {
    if (this.leases.get(h.key) !== h) return;
    this.leases.delete(h.key);
    clearTimeout(h.watchdog);
    this.log?.warn({ lease: h.key, epoch: h.epoch, reason }, 'lease lost');
    for (const cb of this.lostListeners) {
      try {
        cb(h.key, h.epoch, reason);
      } catch (err) {
        this.log?.error({ err, lease: h.key }, 'lease-lost listener failed');
      }
    }
  }

  private renewAll(): void {
    for (const h of [...this.leases.values()]) {
      if (!this.isValid(h)) {
        this.lose(h, 'expired');
        continue;
      }
      void this.renew(h);
    }
  }

  /** One renewal, after any other of the same key: renewed, lost (refused), or unreachable (try again). */
  private renew(h: Held): Promise<'renewed' | 'lost' | 'unreachable'> {
    const run = async (): Promise<'renewed' | 'lost' | 'unreachable'> => {
      if (this.leases.get(h.key) !== h) return 'lost';
      const sentAt = this.now();
      const n = h.n + 1;
      try {
        h.revision = await this.kv.update(h.key, encoder.encode(JSON.stringify(this.value(h.epoch, n, sentAt))), h.revision, this.requestTimeoutMs);
      } catch (err) {
        if (!isWrongLastSequence(err)) {
          this.log?.warn({ lease: h.key, err: (err as Error).message }, 'lease renewal did not reach the bucket');
          return 'unreachable';
        }
        // An earlier renewal that timed out may have landed after all: then the key is still ours.
        const now = await this.read(h.key).catch(() => null);
        if (!now || now.value.instance !== this.instance || now.value.epoch !== h.epoch) {
          this.lose(h, now ? 'taken' : 'expired');
          return 'lost';
        }
        h.revision = now.revision;
        return 'unreachable';
      }
      if (this.leases.get(h.key) !== h) return 'lost';
      h.n = n;
      h.renewedAt = sentAt;
      this.arm(h);
      return 'renewed';
    };
    const p = h.chain.then(run, run);
    h.chain = p.catch(() => undefined);
    return p;
  }

  private assertOpen(): void {
    if (this.closed) throw new PanosUpgradeError('LEASES_CLOSED', 'the lease manager is closed');
  }
}
