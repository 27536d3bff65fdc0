/**
 * Several daemons on one NATS JetStream cluster (docs/cluster.md): the fleet cut into partitions, each
 * owned by one daemon at a time, and the rebalancer that says which daemon should hold which.
 *
 * @example
 * ```ts
 * partitionOf({ serial: '007901000002', haPeer: '007901000001' }, 32); // the same for both peers
 * rebalance(32, ['a', 'b', 'c'], currentOwners).byMember.get('c')!.acquire;
 * ```
 */
export * from './partitions.ts';
export * from './rebalance.ts';
