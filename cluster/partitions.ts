/**
 * Which partition of the fleet a unit of work belongs to (pure).
 *
 * A partition is a slice of the fleet owned by one daemon at a time (through the lease `partition.<n>`).
 * The unit is what the scheduler never splits: a device, or both peers of an HA pair. Its key is the
 * device's serial, or for an HA member the smaller of its serial and its peer's, so the two peers, the
 * pair job and both child jobs always land in the same partition and one daemon drives the whole pair.
 */

/** The default number of partitions: enough for an even share among a handful of daemons, few leases to renew. */
export const DEFAULT_PARTITIONS = 32;

/** The largest partition count `cluster.partitions` accepts. */
export const MAX_PARTITIONS = 1024;

/** FNV-1a, 32 bits, over the UTF-8 bytes: stable across processes, versions and machines (unlike any runtime hash). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** What a device contributes to its partition: its serial and its HA peer's (when it has one). */
export interface PartitionDevice {
  serial: string;
  haPeer?: string | null;
}

/** The key a device is partitioned by: the serial, or the smaller serial of its HA pair. */
export function partitionKey(device: PartitionDevice): string {
  const peer = device.haPeer;
  return peer && peer < device.serial ? peer : device.serial;
}

/** The partition (0 … count-1) of a device; both peers of an HA pair get the same one. */
export function partitionOf(device: PartitionDevice, count: number): number {
  checkCount(count);
  return fnv1a32(partitionKey(device)) % count;
}

export function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) throw new RangeError(`partition count must be a whole number from 1 to ${MAX_PARTITIONS} (got ${count})`);
}

/** Every partition number, 0 … count-1. */
export function allPartitions(count: number): number[] {
  checkCount(count);
  return Array.from({ length: count }, (_, i) => i);
}

/** Devices grouped by partition, each group in the input's order. */
export function groupByPartition<D extends PartitionDevice>(devices: readonly D[], count: number): Map<number, D[]> {
  const out = new Map<number, D[]>();
  for (const d of devices) {
    const p = partitionOf(d, count);
    const group = out.get(p);
    if (group) group.push(d);
    else out.set(p, [d]);
  }
  return out;
}
