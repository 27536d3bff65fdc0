import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { isIPv6, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import { PanosUpgradeError } from '../panos/errors.ts';
import { rawHttpError } from './api-errors.ts';
import { buildGateway, DEFAULT_REQUEST_TIMEOUT_MS, type GatewayAppOptions } from './gateway.app.ts';
import { NatsSimClient, SimulatorUnavailableError, type SimDescription } from './sim-client.ts';
import { loadTlsIdentity, type TlsIdentity } from './tls-identity.ts';
import { loadTlsFiles, type TlsMaterial } from './tls-material.ts';

export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_HTTP_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 256;

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
  /** A client must send its whole request line and headers within this (slow or partial headers are closed). Default 20 s. */
  headersTimeoutMs?: number;
  /** …and its whole request, body included, within this. Default 60 s. */
  httpRequestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** How often those limits are checked. Default 1 s. */
  connectionsCheckingIntervalMs?: number;
  /** Open connections one client address may hold on one listening address; more are closed at once. Default 256. */
  maxConnectionsPerClient?: number;
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
  /** Resolves once every call answered so far is in the event log (served calls are recorded in batches, a few ms late). */
  recordsWritten(): Promise<void>;
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
    }
  }

  const { app, recorder } = buildGateway({ ...options, description });
  const handler = app.callback();
  const limits = {
    headersTimeout: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeout: options.httpRequestTimeoutMs ?? DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    connectionsCheckingInterval: options.connectionsCheckingIntervalMs ?? Math.min(1_000, options.headersTimeoutMs ?? 1_000),
  };
  const perClient = options.maxConnectionsPerClient ?? DEFAULT_MAX_CONNECTIONS_PER_CLIENT;
  const onClientError = (err: NodeJS.ErrnoException, socket: Duplex): void => {
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
  };

  // Open connections per (listener, client address): one client cannot take every socket of a device.
  const open = new Map<string, number>();
  const refused = { count: 0, lastLog: 0 };
  const sockets = new Set<Socket>();
  const servers: Array<HttpServer | HttpsServer> = [];
  const track = (address: string) => (socket: Socket): void => {
    const key = `${address}|${socket.remoteAddress ?? '?'}`;
    const n = (open.get(key) ?? 0) + 1;
    if (n > perClient) {
      refused.count++;
      const now = Date.now();
      if (now - refused.lastLog > 10_000) {
        refused.lastLog = now;
        log.warn({ address, refused: refused.count, limit: perClient }, 'connections over the per-client limit closed');
      }
      socket.destroy();
      return;
    }
    open.set(key, n);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  };
  // One server per address, each listening itself, so Node arms its header and request timeouts
  // (it does so on 'listening') and each address serves its own certificate.
  const listen = (address: string, port: number): Promise<HttpServer | HttpsServer> =>
    new Promise((resolve, reject) => {
      const material = identity ? identity.materialFor(address) : tls;
      // requireHostHeader off: a request without Host still gets a PAN-OS answer from the app, not Node's bare 400.
      const serverOptions = { ...limits, requireHostHeader: false, noDelay: true, keepAlive: true };
      const server: HttpServer | HttpsServer = material
        ? createHttpsServer({ ...serverOptions, cert: material.cert, key: material.key, handshakeTimeout: limits.headersTimeout }, handler)
        : createHttpServer(serverOptions, handler);
      server.on('clientError', onClientError);
      server.on('tlsClientError', (err: NodeJS.ErrnoException) => log.debug({ code: err.code }, 'tls handshake failed'));
      server.on('connection', track(address));
      server.once('error', reject);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => log.warn({ err, address }, 'listener error'));
        servers.push(server);
        resolve(server);
      });
    });

  let panoramaListener: HttpServer | HttpsServer;
  try {
    panoramaListener = await listen(host, options.port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? `: port ${options.port} is in use on ${host}; choose another with --port` : '';
    throw new PanosUpgradeError('CONFIG', `cannot listen on ${host}:${options.port} (${code ?? (err as Error).message})${hint}`, { cause: err });
  }
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
    recordsWritten: () => recorder.written(),
    async close() {
      if (closed) return;
      closed = true;
      const stopped = servers.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
      // A listener's close waits for its connections: keep-alive and hung ones are ended here.
      for (const s of sockets) s.destroy();
      await Promise.all(stopped);
      // Calls still in flight are not recorded after this; the ones already appending are awaited.
      await recorder.close();
    },
  };
}

async function describe(options: StartGatewayOptions): Promise<SimDescription> {
  const sim = new NatsSimClient(options.nc, options.subjects, Math.min(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 10_000));
  try {
    return await sim.describe();
  } catch (err) {
    if (err instanceof SimulatorUnavailableError) throw new SimulatorNotRunningError(err.subject, { cause: err });
    throw err;
  }
}
