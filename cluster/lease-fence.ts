import { LeaseLostError, type LeaseManager } from './lease-manager.ts';

/**
 * The fence of actors/fence.ts over leases: a device's work belongs to the lease `keyOf(serial)` (one key
 * for the whole fleet, or the device's partition); its epoch is the one held now, and a mutating call is
 * confirmed against the bucket first.
 */
export class LeaseFence {
  constructor(
    private readonly leases: LeaseManager,
    private readonly keyOf: (serial: string) => string,
  ) {}

  epoch(serial: string): number {
    const key = this.keyOf(serial);
    const held = this.leases.held(key);
    if (!held) throw new LeaseLostError(key, undefined, 'not held');
    return held.epoch;
  }

  confirm(serial: string, epoch: number): Promise<void> {
    return this.leases.confirm(this.keyOf(serial), epoch);
  }
}
