import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LmdbEventStore } from '../eventstore/index.ts';
import { evolveDevice, type InventoryDevice } from '../machines/device.fold.ts';

// The device stream's facts and fold live with the other folds (machines/device.fold.ts); re-exported for the actors that use them.
export { evolveDevice, type DeviceFact, type DiscoveredDevice, type InventoryDevice } from '../machines/device.fold.ts';

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
