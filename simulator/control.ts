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

/** Loaded with the first control message that changes a device: its schema library (zod) is several MB of an idle simulator's memory. */
async function controlSchemas(): Promise<typeof import('./control-schemas.ts')> {
  return import('./control-schemas.ts');
}

/** A part of a control payload checked by its schema; a mistake is a VALIDATION reply naming the field. */
async function checked<T>(parse: (schemas: Awaited<ReturnType<typeof controlSchemas>>) => T): Promise<T> {
  const schemas = await controlSchemas();
  try {
    return parse(schemas);
  } catch (err) {
    if (err instanceof schemas.ControlPayloadError) throw new ValidationError(err.message, err.field);
    throw err;
  }
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
  // The actions that read take no fields (checked by hand: describe must not load the schemas' library).
  if (['describe', 'list', 'get', 'unstall'].includes(action)) {
    const [extra] = Object.keys(payload);
    if (extra !== undefined) throw new ValidationError(`${action} takes no fields; got "${extra.slice(0, 64)}"`, extra.slice(0, 64));
  }
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
      const { faults, replace } = await checked((s) => s.parseFaultsPayload(payload));
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
      const { metrics } = await checked((s) => s.parseMetricsPayload(payload));
      const devices = targets(sim, serial);
      for (const d of devices) d.notify({ type: 'metrics.set', metrics, now });
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
      const { seconds, reason = 'Unplanned reboot (chaos control)' } = await checked((s) => s.parseCrashPayload(payload));
      const before = d!.stateName;
      d!.notify({ type: 'crash', now, reason, ...(typeof seconds === 'number' ? { downMs: Math.round(seconds * 1000) } : {}) });
      // A device that is already rebooting ignores the crash.
      return { crashed: !before.startsWith('rebooting') && d!.stateName.startsWith('rebooting'), state: d!.stateName };
    }
    default:
      throw new ValidationError(`unknown control action "${action}"; known: describe, list, get, faults, metrics, unstall, crash`, 'action');
  }
}
