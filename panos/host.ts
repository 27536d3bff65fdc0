import { ValidationError } from './errors.ts';

/** Where a PAN-OS management interface listens. */
export interface Endpoint {
  hostname: string;
  port: number;
}

/**
 * What is wrong with a management address given as `host`, `host:port` or `[v6]:port`, in the words
 * the configuration, the CLI and the client all use; undefined when it is fine.
 */
export function hostProblem(host: string): string | undefined {
  return endpointOf(host, 443).problem;
}

function endpointOf(host: string, defaultPort: number): { endpoint?: Endpoint; problem?: string } {
  const h = host.trim();
  if (/^[a-z]+:\/\//i.test(h) || h.includes('/')) return { problem: 'must be host or host:port, not a URL' };
  let hostname: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(h);
  if (bracketed) {
    hostname = bracketed[1] ?? '';
    port = bracketed[2];
  } else if (h.split(':').length === 2) {
    [hostname = '', port] = h.split(':');
  } else {
    hostname = h;
  }
  if (hostname === '') return { problem: 'must name a host: host or host:port' };
  if (/\s/.test(hostname)) return { problem: 'must be host or host:port, without spaces' };
  const p = port === undefined ? defaultPort : /^\d+$/.test(port) ? Number(port) : NaN;
  if (!Number.isInteger(p) || p < 1 || p > 65535) return { problem: 'must have a port from 1 to 65535 after the colon' };
  return { endpoint: { hostname, port: p } };
}

/** Split a management address; a bad one is a ValidationError in the words of {@link hostProblem}. */
export function parseHost(host: string, defaultPort: number): Endpoint {
  const { endpoint, problem } = endpointOf(host, defaultPort);
  if (!endpoint) throw new ValidationError(`host ${problem} (got ${JSON.stringify(host)})`, 'host');
  return endpoint;
}
