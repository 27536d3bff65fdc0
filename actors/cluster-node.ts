import type { NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from '../bus/index.ts';
import { COORDINATOR_LEASE, LeaseFence, LeaseManager, leaseBucketName, Membership, membershipBucketName, PartitionKeeper, type Member } from '../cluster/index.ts';
import { FencedError, type ReplicatedLog } from '../eventstore/index.ts';
import { Daemon, type DaemonOptions } from './daemon.ts';

export interface ClusterNodeOptions extends Omit<DaemonOptions, 'cluster' | 'fence' | 'nc' | 'subjects'> {
  nc: NatsConnection;
  subjects: Subjects;
  /** This daemon's name among the others (`cluster.node_id`, or host name and a suffix). */
  nodeId: string;
  /** The replicated log the store projects: caught up before any work is taken, and fenced per stream. */
  replicatedLog?: ReplicatedLog;
}

/**
 * One daemon of several on a NATS JetStream cluster (docs/cluster.md): it announces itself in the membership
 * bucket, holds its share of the fleet's partitions through leases (cluster/partition-keeper.ts), runs the jobs
 * of the partitions it holds and answers every command, forwarding a mutating one to the owner of what it is
 * about. Every mutating device call is confirmed against the partition's lease first (LeaseFence), and every
 * append to a job's or campaign's stream carries the epoch of the lease it is made under, or is refused.
 */
export class ClusterNode {
  private constructor(
    readonly daemon: Daemon,
    readonly leases: LeaseManager,
    readonly membership: Membership,
    readonly keeper: PartitionKeeper,
    private readonly replicatedLog: ReplicatedLog | undefined,
  ) {}

  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const { config, nc, subjects, nodeId, replicatedLog } = options;
    const c = config.cluster;
    const log = options.log.child({ component: 'cluster', node: nodeId });
    const ttlMs = c.leaseSeconds * 1000;
    const heartbeatMs = c.heartbeatSeconds * 1000;
    const leases = await LeaseManager.open({ nc, bucket: leaseBucketName(subjects.prefix), holder: nodeId, ttlMs, renewEveryMs: heartbeatMs, replicas: c.replicas, log });
    let keeper: PartitionKeeper | undefined;
    let live: Member[] = [];
    const membership = await Membership.join({ nc, bucket: membershipBucketName(subjects.prefix), node: nodeId, ttlMs, heartbeatMs, replicas: c.replicas, partitions: () => keeper?.partitions() ?? [], log });
    let daemon: Daemon | undefined;
    try {
      daemon = await Daemon.start({
        ...options,
        cluster: {
          partitions: c.partitions,
          holds: (key) => keeper?.holds(key) ?? false,
          describe: () => ({
            node: nodeId,
            partitions: keeper?.partitions() ?? [],
            coordinator: keeper?.holds(COORDINATOR_LEASE) ?? false,
            members: live.map((m) => ({ node: m.node, partitions: m.partitions })),
          }),
          forwardTimeoutMs: Math.max(30_000, 2 * ttlMs + heartbeatMs),
        },
        fence: new LeaseFence(leases, (serial) => daemon!.leaseKeyOf(serial)),
      });
      const d = daemon;
      // An append to a job or campaign stream is made under the lease that owns it, and recorded with its epoch.
      replicatedLog?.setFence((stream) => {
        const key = d.leaseKeyOfStream(stream);
        if (key === undefined) return undefined;
        const held = leases.held(key);
        if (!held) throw new FencedError(stream, `this daemon does not hold ${key}`);
        return held.epoch;
      });
      keeper = new PartitionKeeper({
        leases,
        membership,
        partitions: c.partitions,
        intervalMs: heartbeatMs,
        log,
        hooks: {
          gained: async (key) => {
            // What the previous owner recorded is projected here before its jobs are resumed.
            // A reader that gets nothing (its consumer on a stopped NATS node) is reopened; past the bound the
            // lease is given back and taken again later (PartitionKeeper), rather than held with no work.
            await replicatedLog?.catchUp({ timeoutMs: Math.max(10_000, 2 * ttlMs) });
            await d.gained(key);
          },
          releasing: (key) => d.releasing(key),
          lost: (key) => d.lost(key),
        },
      });
      const refreshLive = (): void => void membership.live().then((m) => (live = m), () => undefined);
      await keeper.start();
      refreshLive();
      const timer = setInterval(refreshLive, heartbeatMs);
      timer.unref?.();
      const node = new ClusterNode(d, leases, membership, keeper, replicatedLog);
      node.stopTimer = () => clearInterval(timer);
      return node;
    } catch (err) {
      await keeper?.stop();
      await daemon?.stop();
      await membership.close({ leave: true });
      await leases.close({ release: true });
      throw err;
    }
  }

  private stopTimer: () => void = () => undefined;

  /** A clean stop: the work of every lease stops, the leases are released and the node leaves, so the others take over at once. */
  async stop(): Promise<void> {
    this.stopTimer();
    await this.keeper.stop({ release: true });
    await this.membership.close({ leave: true });
    await this.daemon.stop();
    this.replicatedLog?.setFence(undefined);
    await this.leases.close({ release: true });
  }
}
