import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEnvelope, LmdbEventStore } from '../eventstore/index.ts';

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

export type DeviceFact =
  | { type: 'device.discovered'; data: DiscoveredDevice }
  | { type: 'device.version.changed'; data: { from: string; to: string; jobId: string } };

/** Fold of a `device:<serial>` stream. */
export function evolveDevice(state: InventoryDevice | null, e: EventEnvelope): InventoryDevice | null {
  const fact = e as unknown as DeviceFact & { at: string };
  switch (fact.type) {
    case 'device.discovered':
      return { ...fact.data, deviceGroup: fact.data.deviceGroup !== undefined ? fact.data.deviceGroup : (state?.deviceGroup ?? null), discoveredAt: state?.discoveredAt ?? fact.at, updatedAt: fact.at };
    case 'device.version.changed':
      return state ? { ...state, swVersion: fact.data.to, updatedAt: fact.at } : state;
    default:
      return state;
  }
}

/** Every device of the log. */
export function loadInventory(store: LmdbEventStore): Map<string, InventoryDevice> {
  const out = new Map<string, InventoryDevice>();
  for (const stream of store.streamNames('device:')) {
    let d: InventoryDevice | null = null;
    for (const e of store.readStream(stream)) d = evolveDevice(d, e);
    if (d) out.set(d.serial, d);
  }
  return out;
}

/** The seed's inventory.json. */
export function inventoryJson(devices: Iterable<InventoryDevice>, now: string): object {
  const entries: Record<string, object> = {};
  let count = 0;
  for (const d of devices) {
    count++;
    entries[d.serial] = {
      serial: d.serial,
      hostname: d.hostname,
      mgmt_ip: d.mgmtIp,
      current_version: d.swVersion,
      model: d.model,
      ha_state: d.haState,
      ha_peer: d.haPeer,
      connected: d.connected,
      discovered_at: d.discoveredAt,
    };
  }
  return { devices: entries, last_updated: now, device_count: count };
}

export function writeInventoryJson(dataDir: string, devices: Iterable<InventoryDevice>, now: string): string {
  const file = join(dataDir, 'inventory.json');
  writeFileSync(file, JSON.stringify(inventoryJson(devices, now), null, 2) + '\n', { mode: 0o600 });
  return file;
}
