import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { PanosUpgradeError } from '../panos/errors.ts';

/** What a daemon says about itself in the membership bucket, renewed at every heartbeat. */
export interface Member {
  /** `cluster.node_id`: the name leases are held under. */
  node: string;
  /** This process's incarnation: a daemon restarted under the same name is another instance. */
  instance: string;
  startedAt: string;
  renewedAt: string;
  /** The partitions it held at its last heartbeat (for `daemon.status` and the docs' failure table). */
  partitions: number[];
}

export interface MembershipOptions {
  nc: NatsConnection;
  bucket: string;
  node: string;
  /** An entry not renewed for this long disappears (the bucket's TTL): the daemon has left. */
  ttlMs: number;
  heartbeatMs: number;
  replicas?: number;
  /** The partitions to announce at each heartbeat. */
  partitions?: () => number[];
  now?: () => number;
  log?: Logger;
}

/** The membership bucket for a subject prefix (KV bucket names allow letters, digits, `_` and `-`). */
export function membershipBucketName(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}-members`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Daemon membership through a JetStream key-value bucket whose TTL is the lease time: each daemon puts
 * its entry (key = its node id) at every heartbeat, so a daemon that stops, crashes or is cut off drops
 * out of `live()` one TTL after its last heartbeat, and one that leaves cleanly deletes its entry at once.
 */
export class Membership {
  readonly node: string;
  readonly instance = randomBytes(6).toString('hex');
  private readonly startedAt: string;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly options: MembershipOptions,
  ) {
    this.node = options.node;
    this.now = options.now ?? Date.now;
    this.startedAt = new Date(this.now()).toISOString();
  }

  /** Open (or create) the bucket, announce this daemon and start its heartbeat. */
  static async join(options: MembershipOptions): Promise<Membership> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.node)) throw new PanosUpgradeError('CLUSTER_CONFIG', `not a valid node id: ${JSON.stringify(options.node.slice(0, 80))} (letters, digits, - and _)`);
    if (!(options.heartbeatMs > 0 && options.heartbeatMs * 2 <= options.ttlMs)) {
      throw new PanosUpgradeError('CLUSTER_CONFIG', `a heartbeat every ${options.heartbeatMs} ms must be at most half the membership time of ${options.ttlMs} ms`);
    }
    const kv = await new Kvm(options.nc).create(options.bucket, { ttl: options.ttlMs, history: 1, replicas: options.replicas ?? 1 });
    const m = new Membership(kv, await jetstreamManager(options.nc), options);
    await m.beat();
    m.timer = setInterval(() => {
      m.beat().catch((err: unknown) => options.log?.warn({ err }, 'membership heartbeat failed'));
    }, options.heartbeatMs);
    m.timer.unref?.();
    return m;
  }

  /** Put this daemon's entry now (also called at every heartbeat). */
  async beat(): Promise<void> {
    if (this.closed) return;
    const value: Member = { node: this.node, instance: this.instance, startedAt: this.startedAt, renewedAt: new Date(this.now()).toISOString(), partitions: this.options.partitions?.() ?? [] };
    await this.kv.put(this.node, encoder.encode(JSON.stringify(value)));
  }

  /** The daemons whose entry has not expired, by node id. */
  async live(): Promise<Member[]> {
    const out: Member[] = [];
    // The stream's per-subject counts, in one request: KV's keys() lister can wait forever when an entry
    // expires while it runs (its consumer's pending count never reaches zero).
    const info = await this.jsm.streams.info(`KV_${this.options.bucket}`, { subjects_filter: '>' });
    const head = `$KV.${this.options.bucket}.`;
    const keys = Object.keys(info.state.subjects ?? {})
      .filter((s) => s.startsWith(head))
      .map((s) => s.slice(head.length));
    for (const key of keys) {
      const e = await this.kv.get(key);
      if (!e || e.operation !== 'PUT') continue;
      try {
        out.push(JSON.parse(decoder.decode(e.value)) as Member);
      } catch {
        // Not one of ours: ignored rather than trusted.
      }
    }
    return out.sort((a, b) => a.node.localeCompare(b.node));
  }

  /** Stop the heartbeat; with `leave`, delete the entry so that the others rebalance at once. */
  async close(options: { leave?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (options.leave) await this.kv.delete(this.node).catch((err: unknown) => this.options.log?.warn({ err }, 'could not leave the membership; the entry expires by itself'));
  }
}
