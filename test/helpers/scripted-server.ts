import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { ExecutionContext } from 'ava';

/** One request as the scripted server saw it. */
export interface ApiRequest {
  /** 1-based, in arrival order. */
  n: number;
  /** `Date.now()` on arrival. */
  at: number;
  method: string;
  path: string;
  rawBody: string;
  /** Decoded form parameters. */
  params: Record<string, string>;
  /** Parameter names in the order sent. */
  order: string[];
  headers: IncomingHttpHeaders;
  /** Over HTTPS: whether the connection resumed an earlier TLS session (no certificate was sent on it). */
  resumed?: boolean;
}

/**
 * What to answer: a string is a 200 `application/xml` body. `reset` destroys the socket without an answer,
 * `hang` never answers.
 */
export type Reply = string | 'reset' | 'hang' | { status?: number; statusMessage?: string; body?: string; contentType?: string };

export interface ScriptedServer {
  readonly port: number;
  /** `127.0.0.1:<port>`, for PanosClient's `host`. */
  readonly host: string;
  readonly requests: ApiRequest[];
  /** Stop listening and drop every connection: connections are refused until `start`. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  readonly listening: boolean;
}

export interface ScriptedServerOptions {
  tls?: { key: string; cert: string };
  /** Called once a reply has been written (after `finish`), e.g. to move a script on. */
  afterReply?: (req: ApiRequest) => void;
  /** Answer with `Connection: close`, so no pooled connection outlives a script step (e.g. a `stop`). */
  connectionClose?: boolean;
  /** Listen on this port (e.g. another server's, stopped: a new server on the same address); default a free one. */
  port?: number;
}

function parseForm(body: string): { params: Record<string, string>; order: string[] } {
  const params: Record<string, string> = {};
  const order: string[] = [];
  for (const [k, v] of new URLSearchParams(body)) {
    params[k] = v;
    order.push(k);
  }
  return { params, order };
}

/**
 * A real HTTP(S) server on a free loopback port that answers each request as `handler` says; stopped in
 * the test's teardown.
 */
export async function startScriptedServer(
  t: ExecutionContext,
  handler: (req: ApiRequest) => Reply | Promise<Reply>,
  options: ScriptedServerOptions = {},
): Promise<ScriptedServer> {
  const requests: ApiRequest[] = [];
  const listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const api: ApiRequest = {
        n: requests.length + 1,
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        rawBody,
        ...parseForm(rawBody),
        headers: req.headers,
        ...(req.socket instanceof TLSSocket ? { resumed: req.socket.isSessionReused() } : {}),
      };
      requests.push(api);
      void Promise.resolve(handler(api)).then((reply) => {
        if (reply === 'hang') return;
        if (reply === 'reset') {
          req.socket.destroy();
          options.afterReply?.(api);
          return;
        }
        const r = typeof reply === 'string' ? { body: reply } : reply;
        res.once('finish', () => options.afterReply?.(api));
        res.writeHead(r.status ?? 200, r.statusMessage ?? '', {
          'Content-Type': r.contentType ?? 'application/xml; charset=UTF-8',
          ...(options.connectionClose ? { Connection: 'close' } : {}),
        });
        res.end(r.body ?? '');
      });
    });
  };
  const server: http.Server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener) : http.createServer(listener);
  // TLS failures on the server side (a client that rejects our certificate) are expected in tests.
  server.on('tlsClientError', () => undefined);
  let port = options.port ?? 0;
  let listening = false;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        listening = true;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!listening) {
        resolve();
        return;
      }
      listening = false;
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await start();
  t.teardown(stop);
  return {
    get port() {
      return port;
    },
    get host() {
      return `127.0.0.1:${port}`;
    },
    requests,
    stop,
    start,
    get listening() {
      return listening;
    },
  };
}

/** A loopback port nothing listens on: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
