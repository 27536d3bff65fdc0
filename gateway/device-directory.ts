import type { SimDescription } from './sim-client.ts';

/** Where a request goes: the Panorama (with or without `target=`), or one firewall addressed directly. */
export interface Route {
  via: 'panorama' | 'direct';
  /** The serial whose `panos.sim.<serial>.op` subject answers. */
  serial: string;
  /** The local address the request arrived on. */
  address: string;
}

const MAX_ROUTES = 65_536;

/**
 * The management addresses of the simulated devices, from the simulator's `describe`. A request is
 * routed by the local address its connection arrived on: a firewall's address reaches that firewall
 * alone; any other address (the Panorama's, or a wildcard listener's) reaches the Panorama.
 */
export class DeviceDirectory {
  private readonly byAddress = new Map<string, string>();
  private readonly serials = new Set<string>();
  private readonly routes = new Map<string, Route>();

  constructor(readonly description: SimDescription) {
    for (const d of description.devices) {
      this.byAddress.set(d.mgmtIp, d.serial);
      this.serials.add(d.serial);
    }
  }

  get panoramaSerial(): string {
    return this.description.panorama.serial;
  }

  /** The route of a local address; the same (frozen) object for every call that arrives there. */
  routeOf(localAddress: string | undefined): Route {
    const key = localAddress ?? '';
    let route = this.routes.get(key);
    if (route === undefined) {
      const address = normalizeAddress(key);
      const serial = this.byAddress.get(address);
      route = Object.freeze(serial ? { via: 'direct', serial, address } : { via: 'panorama', serial: this.panoramaSerial, address });
      // Local addresses are the ones listened on, a bounded set; a wildcard listener's are bounded too, but checked.
      if (this.routes.size < MAX_ROUTES) this.routes.set(key, route);
    }
    return route;
  }

  isDevice(serial: string): boolean {
    return this.serials.has(serial);
  }
}

/** `::ffff:127.0.1.1` (an IPv4 client on a dual-stack socket) is `127.0.1.1`. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
