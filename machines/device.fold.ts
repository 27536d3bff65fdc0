/**
 * A firewall as the daemon knows it: the fold of its `device:<serial>` stream. Discovery records what
 * Panorama reports; the daemon's own jobs record what they changed (software, content, HA roles), so the
 * inventory does not wait for the next discovery to tell the truth.
 */

/** A device as the daemon knows it from discovery and from its own upgrades. */
export interface InventoryDevice {
  serial: string;
  hostname: string;
  mgmtIp: string;
  model: string;
  family: string;
  swVersion: string;
  appVersion: string;
  connected: boolean;
  haState: string | null;
  haPeer: string | null;
  /** The Panorama device group (`show devicegroups`); null when in none or not known. */
  deviceGroup: string | null;
  discoveredAt: string;
  updatedAt: string;
}

/**
 * What discovery reports of a device. `deviceGroup` absent: Panorama did not say (an older release refused
 * `show devicegroups`), and the group known before is kept; null: the device is in no group.
 */
export type DiscoveredDevice = Omit<InventoryDevice, 'discoveredAt' | 'updatedAt' | 'deviceGroup'> & { deviceGroup?: string | null };

/** Facts of trust on first use (actors/firewall-trust.ts keeps the fingerprints; the inventory does not). */
export const CERTIFICATE_TRUSTED = 'device.certificate.trusted';
export const CERTIFICATE_CHANGED = 'device.certificate.changed';

export type DeviceFact =
  | { type: 'device.discovered'; data: DiscoveredDevice }
  | { type: 'device.version.changed'; data: { from: string; to: string; jobId: string } }
  /** A job installed app/threat content. */
  | { type: 'device.content.changed'; data: { from: string; to: string; jobId: string } }
  /** An HA pair job verified the pair: this peer's role now. */
  | { type: 'device.ha.changed'; data: { from: string | null; to: string; jobId: string } }
  /** A discovery where Panorama no longer listed it among its connected devices (it went away, or off Panorama). */
  | { type: 'device.disconnected'; data: Record<string, never> }
  | { type: typeof CERTIFICATE_TRUSTED; data: { address: string; fingerprint: string } }
  | { type: typeof CERTIFICATE_CHANGED; data: { address: string; expected: string; presented: string } };

export const DEVICE_FACT_TYPES: ReadonlySet<string> = new Set<DeviceFact['type']>([
  'device.discovered',
  'device.version.changed',
  'device.content.changed',
  'device.ha.changed',
  'device.disconnected',
  CERTIFICATE_TRUSTED,
  CERTIFICATE_CHANGED,
]);

/** Fold of a `device:<serial>` stream (each event with its time). */
export function evolveDevice(state: InventoryDevice | null, e: { type: string; data: unknown; at: string }): InventoryDevice | null {
  const fact = e as DeviceFact & { at: string };
  switch (fact.type) {
    case 'device.discovered':
      return { ...fact.data, deviceGroup: fact.data.deviceGroup !== undefined ? fact.data.deviceGroup : (state?.deviceGroup ?? null), discoveredAt: state?.discoveredAt ?? fact.at, updatedAt: fact.at };
    case 'device.version.changed':
      return state ? { ...state, swVersion: fact.data.to, updatedAt: fact.at } : state;
    case 'device.content.changed':
      return state ? { ...state, appVersion: fact.data.to, updatedAt: fact.at } : state;
    case 'device.ha.changed':
      return state ? { ...state, haState: fact.data.to, updatedAt: fact.at } : state;
    case 'device.disconnected':
      return state ? { ...state, connected: false, updatedAt: fact.at } : state;
    default:
      return state;
  }
}
