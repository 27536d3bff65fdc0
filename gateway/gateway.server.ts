import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, isIPv6, type Server as NetServer, type Socket } from 'node:net';
import type Koa from 'koa';
import { PanosUpgradeError } from '../panos/index.ts';
import { rawHttpError } from './api-errors.ts';
import { buildGateway, DEFAULT_REQUEST_TIMEOUT_MS, type GatewayAppOptions } from './gateway.app.ts';
import { SimClient, SimulatorUnavailableError, type SimDescription } from './sim-client.ts';
import { loadTlsIdentity, type TlsIdentity } from './tls-identity.ts';
import { loadTlsFiles, MAX_IP_SANS, type TlsMaterial } from './tls-material.ts';

export interface StartGatewayOptions extends Omit<GatewayAppOptions, 'description'> {
  /** The Panorama's listen address; default: the Panorama's `mgmtIp` from the simulator (127.0.0.1). */
  host?: string;
  /** The port on every address; 0 picks a free one on the Panorama address and reuses it on the firewalls'. */
  port: number;
  protocol: 'https' | 'http';
  /** PEM files; without them an HTTPS gateway serves certificates issued by the simulator's CA. */
  tls?: { certFile: string; keyFile: string };
  /** Where the simulator's CA and certificates are kept across starts (`<data-dir>/tls`); without it they live for this run only. */
  tlsDir?: string;
  /** Make a new CA and certificates even if some are kept. */
  newCert?: boolean;
  /** Also listen on each firewall's management address, so a client there sees exactly one firewall. */
  direct: boolean;
  /** Skip the `describe` round trip (tests, or a caller that already has it). */
  description?: SimDescription;
}

/** A running gateway. URLs are origins (`https://127.0.0.1:8443`); the XML API is at `<url>/api/`. */
export interface GatewayHandle {
  readonly protocol: 'https' | 'http';
  readonly port: number;
  readonly panoramaUrl: string;
  /** Serial → origin, for the Panorama and every firewall whose address could be bound. */
  readonly urls: Readonly<Record<string, string>>;
  /** The addresses listened on, Panorama first. */
  readonly addresses: readonly string[];
  /** Firewall addresses that could not be bound, and why. */
  readonly skipped: ReadonlyArray<{ serial: string; address: string; reason: string }>;
  /** SHA-256 fingerprint of the certificate (HTTPS only), for clients that pin it. */
  readonly fingerprint: string | undefined;
  readonly tls: TlsMaterial | undefined;
  /** The simulator's CA and certificates (HTTPS without `tls` files). */
  readonly identity: TlsIdentity | undefined;
  readonly description: SimDescription;
  readonly app: Koa;
  close(): Promise<void>;
}

/** The simulator is not there to describe its devices: the gateway cannot know what to serve. */
export class SimulatorNotRunningError extends PanosUpgradeError {
  constructor(subject: string, options?: ErrorOptions) {
    super(
      'SIMULATOR_NOT_RUNNING',
      `no simulator answers on ${subject}; start one with: panos-upgrade sim --scenario <file> (same NATS server and subject prefix)`,
      options,
    );
  }
}

/**
 * Start the gateway: ask the simulator what it hosts, then listen on the Panorama's address and (with
 * `direct`) on every firewall's management address, all on the same port, over HTTPS (self-signed unless
 * files are given) or plain HTTP. One HTTP(S) server serves every listener; the local address a
 * connection arrived on decides which device answers.
 */
export async function startGateway(options: StartGatewayOptions): Promise<GatewayHandle> {
  const log = options.log;
  const description = options.description ?? (await describe(options));
  const host = options.host ?? description.panorama.mgmtIp;
  const deviceAddresses = options.direct ? description.devices.filter((d) => d.mgmtIp !== host) : [];

  let tls: TlsMaterial | undefined;
  let identity: TlsIdentity | undefined;
  if (options.protocol === 'https') {
    if (options.tls) {
      tls = loadTlsFiles(options.tls);
    } else {
      identity = await loadTlsIdentity({
        ...(options.tlsDir ? { dir: options.tlsDir } : {}),
        addresses: [host, ...deviceAddresses.map((d) => d.mgmtIp)],
        ...(options.newCert ? { renew: true } : {}),
      });
      tls = identity.materialFor(host);
      if (deviceAddresses.length + 3 > MAX_IP_SANS) {
        log.warn({ named: tls.ipSans.length, devices: deviceAddresses.length }, 'certificate names only the first addresses; pin its fingerprint');
      }
    }
  }

  const { app, recorder } = buildGateway({ ...options, description });
  const handler = app.callback();
  const server: HttpServer = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    log.debug({ code: err.code }, 'malformed http request');
    // As Node's own handler: answer only when no response of this connection has started (a body sent
    // without framing after a keep-alive request parses as a broken next request), then close.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const reason =
        status === 431 ? 'Request line or headers too large; send large parameters in a POST body' : status === 408 ? 'Request timed out' : 'Malformed HTTP request';
      socket.write(rawHttpError(status, reason));
    }
    socket.destroy();
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => log.debug({ code: err.code }, 'tls handshake failed'));

  const sockets = new Set<Socket>();
  const listeners: NetServer[] = [];
  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    server.emit('connection', socket);
  };
  const listen = (address: string, port: number): Promise<NetServer> =>
    new Promise((resolve, reject) => {
      const listener = createNetServer({ noDelay: true, keepAlive: true }, accept);
      listener.once('error', reject);
      listener.listen({ host: address, port, exclusive: true }, () => {
        listener.off('error', reject);
        listener.on('error', (err) => log.warn({ err, address }, 'listener error'));
        resolve(listener);
      });
    });

  let panoramaListener: NetServer;
  try {
    panoramaListener = await listen(host, options.port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? `: port ${options.port} is in use on ${host}; choose another with --port` : '';
    throw new PanosUpgradeError('CONFIG', `cannot listen on ${host}:${options.port} (${code ?? (err as Error).message})${hint}`, { cause: err });
  }
  listeners.push(panoramaListener);
  const port = (panoramaListener.address() as { port: number }).port;

  const scheme = options.protocol;
  const origin = (address: string): string => `${scheme}://${isIPv6(address) ? `[${address}]` : address}:${port}`;
  const urls: Record<string, string> = { [description.panorama.serial]: origin(host) };
  const addresses = [host];
  const skipped: Array<{ serial: string; address: string; reason: string }> = [];
  const bound = await Promise.allSettled(deviceAddresses.map((d) => listen(d.mgmtIp, port)));
  bound.forEach((result, i) => {
    const d = deviceAddresses[i]!;
    if (result.status === 'fulfilled') {
      listeners.push(result.value);
      urls[d.serial] = origin(d.mgmtIp);
      addresses.push(d.mgmtIp);
    } else {
      const err = result.reason as NodeJS.ErrnoException;
      skipped.push({ serial: d.serial, address: d.mgmtIp, reason: err.code ?? err.message });
    }
  });
  if (skipped.length > 0) {
    log.warn(
      { skipped: skipped.length, bound: addresses.length - 1, first: skipped.slice(0, 5) },
      'some firewall addresses could not be bound; those firewalls are reachable through Panorama (target=) only',
    );
  }

  let closed = false;
  return {
    protocol: scheme,
    port,
    panoramaUrl: origin(host),
    urls,
    addresses,
    skipped,
    fingerprint: tls?.fingerprint,
    tls,
    identity,
    description,
    app,
    async close() {
      if (closed) return;
      closed = true;
      const stopped = listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
      // A listener's close waits for its connections: keep-alive and hung ones are ended here.
      for (const s of sockets) s.destroy();
      await Promise.all(stopped);
      // Calls still in flight are not recorded after this; the ones already appending are awaited.
      await recorder.close();
    },
  };
}

async function describe(options: StartGatewayOptions): Promise<SimDescription> {
  const sim = new SimClient(options.nc, options.subjects, Math.min(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 10_000));
  try {
    return await sim.describe();
  } catch (err) {
    if (err instanceof SimulatorUnavailableError) throw new SimulatorNotRunningError(err.subject, { cause: err });
    throw err;
  }
}
