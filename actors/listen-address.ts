import { isIP } from 'node:net';
import { PanosUpgradeError } from '../panos/errors.ts';

/** `ui.listen` names an address that is not on this machine's loopback. */
export class ListenAddressError extends PanosUpgradeError {
  constructor(readonly listen: string, readonly reason: string) {
    super('UI_LISTEN', `ui.listen "${listen}": ${reason}`);
  }
}

/**
 * `127.0.0.1:8470`, `localhost:8470`, `[::1]:8470` or a bare port (on 127.0.0.1). The page and
 * /metrics are for this machine only: anything off loopback is refused.
 */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const text = listen.trim();
  const m = /^\d+$/.test(text) ? [text, undefined, undefined, text] : /^(?:\[([^\]]+)\]|([^:[\]/]+)):(\d+)$/.exec(text);
  if (!m) throw new ListenAddressError(listen, 'expected host:port on loopback, e.g. 127.0.0.1:8470');
  const host = m[1] ?? m[2] ?? '127.0.0.1';
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ListenAddressError(listen, 'the port must be 0-65535');
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!loopback) throw new ListenAddressError(listen, `${host} is not a loopback address; the live view listens on 127.0.0.1, localhost or [::1] only`);
  return { host, port };
}

/** Why `listen` is not a loopback listen address (the words after "ui.listen …"), or undefined. */
export function listenProblem(listen: string): string | undefined {
  try {
    parseListenAddress(listen);
    return undefined;
  } catch (err) {
    return err instanceof ListenAddressError ? err.reason : String(err);
  }
}
