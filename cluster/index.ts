/**
 * Several daemons on one NATS JetStream cluster (docs/cluster.md): the fleet cut into partitions, each
 * owned by one daemon at a time through a lease, the rebalancer that says which daemon should hold which,
 * and the fence that keeps a daemon which lost a lease from sending anything to a device.
 *
 * @example
 * ```ts
 * partitionOf({ serial: '007901000002', haPeer: '007901000001' }, 32); // the same for both peers
 * rebalance(32, ['a', 'b', 'c'], currentOwners).byMember.get('c')!.acquire;
 * const leases = await LeaseManager.open({ nc, bucket: leaseBucketName('panos'), ttlMs: 15_000, replicas: 3 });
 * const lease = await leases.acquireWhenFree('partition-0');   // a standby waits here
 * leases.onLost((key) => stopDrivingWork(key));
 * await leases.confirm('partition-0', lease.epoch);             // right before a mutating call
 * ```
 */
export * from './partitions.ts';
export * from './rebalance.ts';
export * from './lease-manager.ts';
export * from './lease-fence.ts';
export * from './membership.ts';
export * from './partition-keeper.ts';
export * from './routing.ts';
