import type { Logger } from 'pino';
import type { Membership } from './membership.ts';
import { allPartitions } from './partitions.ts';
import { rebalance } from './rebalance.ts';

/** The lease key of partition `n`. */
export function partitionLeaseKey(n: number): string {
  return `partition-${n}`;
}

/** The lease whose holder runs every campaign and answers discovery. */
export const COORDINATOR_LEASE = 'coordinator';

/** The partition a lease key names, or undefined for another key. */
export function parsePartitionLeaseKey(key: string): number | undefined {
  const m = /^partition-(\d{1,4})$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** What the keeper needs of the lease manager (cluster/lease-manager.ts has it). */
export interface KeeperLeases {
  readonly holder: string;
  acquire(key: string): Promise<{ key: string; epoch: number } | null>;
  release(key: string): Promise<void>;
  held(key: string): { key: string; epoch: number } | null;
  holderOf(key: string): Promise<{ holder: string; epoch: number } | null>;
  onLost(cb: (key: string, epoch: number, reason: string) => void): () => void;
}

/** What the daemon does when work changes hands. */
export interface KeeperHooks {
  /** A lease was acquired: start (resume from the log) the work under it. */
  gained(key: string, epoch: number): Promise<void>;
  /** The plan hands the lease to another daemon: stop its work and wait until what it recorded is durable; the lease is released after. */
  releasing(key: string): Promise<void>;
  /** The lease was lost without a release (expired, taken): stop its work now; nothing more may be sent under it. */
  lost(key: string, reason: string): void;
}

export interface PartitionKeeperOptions {
  leases: KeeperLeases;
  membership: Membership;
  partitions: number;
  /** How often the plan is looked at again (the heartbeat). */
  intervalMs: number;
  hooks: KeeperHooks;
  log?: Logger;
}

/**
 * Keeps this daemon's share of the partitions: at every tick it reads the live daemons (membership) and
 * the holder of every partition lease, computes the rebalance plan, hands back what the plan gives to
 * another daemon (after stopping that work), and takes up what the plan gives it once it is free. It also
 * holds the coordinator lease when nobody else does. A lease lost on its own (a paused process, a
 * partition from NATS) stops its work at once through `hooks.lost`.
 */
export class PartitionKeeper {
  private readonly owned = new Set<string>();
  private readonly offLost: () => void;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: PartitionKeeperOptions) {
    this.offLost = options.leases.onLost((key, _epoch, reason) => {
      if (!this.owned.delete(key)) return;
      if (reason === 'released') return;
      options.log?.warn({ lease: key, reason }, 'lease lost: its work stops');
      options.hooks.lost(key, reason);
    });
  }

  /** Run the first tick now, then one every interval. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref?.();
  }

  /** The partitions this daemon works on now. */
  partitions(): number[] {
    return [...this.owned]
      .map(parsePartitionLeaseKey)
      .filter((p): p is number => p !== undefined)
      .sort((a, b) => a - b);
  }

  /** Whether this daemon holds the lease now (by the lease manager's clock, so a paused process says no). */
  holds(key: string): boolean {
    return this.owned.has(key) && this.options.leases.held(key) !== null;
  }

  /** One look at the plan; ticks never overlap. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.step()
      .catch((err: unknown) => this.options.log?.warn({ err }, 'could not rebalance partitions; trying again at the next heartbeat'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async step(): Promise<void> {
    const { leases, membership, partitions, hooks } = this.options;
    const me = leases.holder;
    const live = (await membership.live()).map((m) => m.node);
    const owners = new Map<number, string>();
    await Promise.all(
      allPartitions(partitions).map(async (p) => {
        const h = await leases.holderOf(partitionLeaseKey(p));
        if (h) owners.set(p, h.holder);
      }),
    );
    const plan = rebalance(partitions, live.includes(me) ? live : [...live, me], owners);
    const mine = plan.byMember.get(me)!;
    for (const p of mine.release) {
      const key = partitionLeaseKey(p);
      if (this.stopped || !this.owned.has(key)) continue;
      this.options.log?.info({ partition: p, to: plan.target.get(p) }, 'handing a partition over');
      this.owned.delete(key);
      await hooks.releasing(key);
      await leases.release(key);
    }
    for (const p of mine.acquire) await this.take(partitionLeaseKey(p));
    if (!this.owned.has(COORDINATOR_LEASE)) await this.take(COORDINATOR_LEASE);
  }

  private async take(key: string): Promise<void> {
    if (this.stopped) return;
    const lease = await this.options.leases.acquire(key);
    if (!lease || this.owned.has(key)) return;
    this.owned.add(key);
    this.options.log?.info({ lease: key, epoch: lease.epoch }, 'took a lease: its work starts');
    try {
      await this.options.hooks.gained(key, lease.epoch);
    } catch (err) {
      // The work did not start (the log could not be caught up with, say). Holding the lease anyway would keep
      // everyone else from the work for as long as this daemon lives: give it back, and try again at a later tick.
      this.options.log?.error({ err, lease: key }, 'could not start the work of a lease just taken: it is given back, to be taken again');
      if (!this.owned.delete(key)) return;
      await this.options.hooks.releasing(key).catch((e: unknown) => this.options.log?.warn({ err: e, lease: key }, 'could not stop the work of a lease given back'));
      await this.options.leases.release(key);
    }
  }

  /** Stop ticking; with `release`, stop the work of every lease held and give them up (a clean shutdown). */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    if (options.release) {
      for (const key of [...this.owned]) {
        this.owned.delete(key);
        await this.options.hooks.releasing(key);
        await this.options.leases.release(key);
      }
    }
    this.offLost();
  }
}
