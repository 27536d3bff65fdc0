import { ValidationError, NotFoundError } from '../panos/errors.ts';
import type { DeviceFaults } from '../machines/firewall.logic.ts';
import type { DeviceMetrics } from '../panos/model.ts';
import type { HostedFirewall } from './hosted-firewall.ts';
import type { Simulator } from './simulator.ts';

/** A device as the management REST API and `panos.sim.ctl` list it. */
export interface DeviceSummary {
  serial: string;
  hostname: string;
  model: string;
  mgmtIp: string;
  state: string;
  reachability: string;
  swVersion: string;
  pendingVersion: string | null;
  downloaded: string[];
  contentVersion: string;
  haState: string | null;
  haPeer: string | null;
  metrics: DeviceMetrics;
  freeDiskMb: number;
}

export function summarize(d: HostedFirewall): DeviceSummary {
  const r = d.context.record;
  return {
    serial: r.serial,
    hostname: r.hostname,
    model: r.model,
    mgmtIp: r.mgmtIp,
    state: d.stateName,
    reachability: d.reachability,
    swVersion: r.swVersion,
    pendingVersion: r.pendingVersion ?? null,
    downloaded: r.downloaded,
    contentVersion: r.content.installed,
    haState: r.ha?.state ?? null,
    haPeer: r.ha?.config.peerSerial ?? null,
    metrics: r.metrics,
    freeDiskMb: Math.max(0, r.disk.panrepoTotalMb - r.disk.panrepoUsedMb),
  };
}

const FAULT_KEYS = new Set([
  'download',
  'install',
  'content_download',
  'content_install',
  'autocommit',
  'reboot',
  'rebootSlowFactor',
  'downloadStalls',
  'downloadSlowFactor',
  'installSlowFactor',
  'busy',
  'crash',
  'api',
  'readiness',
]);

async function parseFaults(value: unknown): Promise<Partial<DeviceFaults>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('faults must be an object', 'faults');
  for (const k of Object.keys(value)) {
    if (!FAULT_KEYS.has(k)) throw new ValidationError(`unknown fault "${k}"; known: ${[...FAULT_KEYS].join(', ')}`, `faults.${k}`);
  }
  const faults = value as Partial<DeviceFaults>;
  if (faults.readiness !== undefined) {
    // Loaded when first needed: its schema library (zod) is several MB of an idle simulator's memory.
    const { parseReadinessFaults, ReadinessFaultError } = await import('./readiness-faults.ts');
    try {
      return { ...faults, readiness: parseReadinessFaults(faults.readiness) };
    } catch (err) {
      if (err instanceof ReadinessFaultError) throw new ValidationError(err.message, `faults.${err.field}`);
      throw err;
    }
  }
  return faults;
}

function targets(sim: Simulator, serial: string): HostedFirewall[] {
  if (serial === '-' || serial === sim.panorama.serial) return [...sim.allDevices()];
  const d = sim.device(serial);
  if (!d) throw new NotFoundError('device', serial);
  return [d];
}

/**
 * `panos.sim.ctl.<serial>.<action>`: inspect the simulator and change devices live (chaos control).
 * Serial `-` addresses the simulator itself, or every device for fault actions.
 */
export async function handleControl(sim: Simulator, serial: string, action: string, payload: Record<string, unknown>): Promise<object> {
  const now = sim.clock.now();
  switch (action) {
    case 'describe':
      return sim.describe();
    case 'list':
      return { devices: targets(sim, serial).map(summarize) };
    case 'get': {
      if (serial === '-' || serial === sim.panorama.serial) throw new ValidationError('get needs a firewall serial');
      const [d] = targets(sim, serial);
      if (!d) throw new NotFoundError('device', serial);
      return { device: summarize(d), record: d.context.record, faults: d.context.faults };
    }
    case 'faults': {
      const faults = await parseFaults(payload.faults ?? {});
      const replace = payload.replace === true;
      const devices = targets(sim, serial);
      for (const d of devices) {
        const next = replace
          ? (faults as DeviceFaults)
          : { ...d.context.faults, ...faults, api: { ...d.context.faults.api, ...faults.api }, readiness: { ...d.context.faults.readiness, ...faults.readiness } };
        d.notify({ type: 'faults.set', faults: next, now });
      }
      return { changed: devices.length };
    }
    case 'metrics': {
      const metrics = payload.metrics;
      if (metrics === null || typeof metrics !== 'object') throw new ValidationError('metrics must be an object', 'metrics');
      const devices = targets(sim, serial);
      for (const d of devices) d.notify({ type: 'metrics.set', metrics: metrics as Partial<DeviceMetrics>, now });
      return { changed: devices.length };
    }
    case 'unstall': {
      const devices = targets(sim, serial);
      for (const d of devices) d.notify({ type: 'download.unstall', now });
      return { changed: devices.length };
    }
    case 'crash': {
      // An unplanned reboot of one device (its HA peer takes over); `seconds` down, default its reboot time.
      if (serial === '-' || serial === sim.panorama.serial) throw new ValidationError('crash needs a device serial');
      const [d] = targets(sim, serial);
      const seconds = payload.seconds;
      if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0)) {
        throw new ValidationError('seconds must be a number greater than 0', 'seconds');
      }
      const reason = typeof payload.reason === 'string' && payload.reason !== '' ? payload.reason : 'Unplanned reboot (chaos control)';
      const before = d!.stateName;
      d!.notify({ type: 'crash', now, reason, ...(typeof seconds === 'number' ? { downMs: Math.round(seconds * 1000) } : {}) });
      // A device that is already rebooting ignores the crash.
      return { crashed: !before.startsWith('rebooting') && d!.stateName.startsWith('rebooting'), state: d!.stateName };
    }
    default:
      throw new ValidationError(`unknown control action "${action}"; known: describe, list, get, faults, metrics, unstall, crash`, 'action');
  }
}
