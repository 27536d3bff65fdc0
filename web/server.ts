import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import Koa from 'koa';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { BusError, NoResponderError, RemoteError, RequestTimeoutError, requestJson, type CommandName, type Subjects } from '../bus/index.ts';
import { API_CALL_RECORDED, isCallBatch, oneEventPerCall, type EventEnvelope, type LmdbEventStore } from '../eventstore/index.ts';
import { countsOnly, toStatusRecord } from '../machines/upgrade-job.fold.ts';
import { toPairStatusRecord } from '../machines/ha-pair.fold.ts';
import { summarize } from '../forensics/replay.ts';
import { PanosUpgradeError } from '../panos/errors.ts';
import { FleetView, isViewStream, type JobRow } from './fleet-view.ts';
import { FleetMetrics, type MetricsOptions } from './metrics.ts';
import { isOperatorToken, loadOperatorToken } from './operator-token.ts';
import { parseListenAddress } from '../actors/listen-address.ts';

export { ListenAddressError, parseListenAddress } from '../actors/listen-address.ts';

export interface WebServerOptions {
  /** The daemon's event log: the view starts from it, job timelines are read from it. */
  store: LmdbEventStore;
  /** Where the events come from (any user that may subscribe to `panos.evt.>`). */
  nc: NatsConnection;
  /** Where operator actions are sent: a connection of a NATS user that may send them (the operator); default `nc`. */
  commands?: NatsConnection;
  subjects: Subjects;
  log: Logger;
  /** `ui.listen`; port 0 picks a free one. */
  listen: string;
  /** Where the operator token is kept (and made on first start). */
  dataDir: string;
  metrics?: MetricsOptions;
  /** How often changed rows are pushed to the browsers; default 250 ms. */
  patchIntervalMs?: number;
  /** The built page (index.html, app.js); default web/dist of this package. */
  assetsDir?: string;
  /** A feed client's bytes waiting past its socket's before it is dropped; default MAX_FEED_BACKLOG_BYTES. */
  maxFeedBacklogBytes?: number;
  /** Live feeds served at once; default MAX_FEED_CLIENTS. */
  maxFeedClients?: number;
  /** Open connections at once, all clients together (more are closed at once); default MAX_CONNECTIONS. */
  maxConnections?: number;
  /** A client must send its request line and headers within this; default HEADERS_TIMEOUT_MS. */
  headersTimeoutMs?: number;
}

export interface WebServerHandle {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly view: FleetView;
  readonly metrics: FleetMetrics;
  /** Live feed clients right now. */
  readonly clients: number;
  /** Open HTTP connections right now. */
  connections(): number;
  close(): Promise<void>;
}

/** An event envelope as published on `panos.evt.>` (bus/event-publisher.ts). */
const envelopeSchema = z.object({
  gseq: z.number().int().nonnegative(),
  stream: z.string().min(1),
  seq: z.number().int().positive(),
  type: z.string().min(1),
  at: z.string(),
  data: z.unknown(),
  runId: z.string().optional(),
  causationId: z.string().optional(),
});

const ACTIONS: Record<string, CommandName> = { cancel: 'job.cancel', resume: 'job.resume' };
const CAMPAIGN_ACTIONS: Record<string, CommandName> = { pause: 'campaign.pause', resume: 'campaign.resume', approve: 'campaign.approve', abort: 'campaign.abort' };

interface LiveClient {
  stream: PassThrough;
  /** Job page: also every event of this job (and of an HA pair's children). */
  job: string | undefined;
  /** Ends its feed and closes its connection (the page reconnects and starts over). */
  drop(): void;
}

/**
 * What a feed may hold for a client that does not read, beyond what its socket and the kernel hold: past
 * it the client is dropped, so a stalled tab (or a process that opened the feed and never reads) cannot
 * grow the daemon's memory. A browser that reads keeps well under it: a patch of a thousand rows is
 * about 300 KB, and the socket and the kernel take megabytes before anything waits here.
 */
export const MAX_FEED_BACKLOG_BYTES = 8 * 1024 * 1024;
/** Live feeds served at once: enough pages for a team; the next one is told why it is refused. */
export const MAX_FEED_CLIENTS = 64;

/**
 * The view runs in the daemon's process, whose file descriptors are also its connections to devices:
 * a flood of connections to the view (every client is on loopback, so a bound per address would bound
 * nothing) must not take them. Past this many, Node closes new connections at once.
 */
export const MAX_CONNECTIONS = 256;
/** Half-sent requests (a slow or stuck client) are closed after this. */
export const HEADERS_TIMEOUT_MS = 10_000;

function defaultAssetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From source (web/server.ts) the bundle is web/dist; from a compiled build (dist/web/server.js) it is ../../web/dist.
  for (const dir of [join(here, 'dist'), resolve(here, '..', '..', 'web', 'dist')]) if (existsSync(join(dir, 'index.html'))) return dir;
  return join(here, 'dist');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>panos-upgrade</title>
<p>The page is not built: run <code>npm run build:web</code> (npm ci runs it). <a href="/api/fleet">/api/fleet</a> and <a href="/metrics">/metrics</a> work without it.</p>`;

const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };

/** A timeline line of the job page, like `replay show`. */
export interface TimelineLine {
  gseq: number;
  at: string;
  stream: string;
  type: string;
  summary: string;
  /** The step of a `job.step.*` event, for the job page's step table. */
  step?: { step: string; hop: number; version: string | null; reason?: string };
}

function timelineLine(e: EventEnvelope): TimelineLine {
  const line: TimelineLine = { gseq: e.gseq, at: e.at, stream: e.stream, type: e.type, summary: summarize(e) };
  if (e.type.startsWith('job.step.')) {
    const d = e.data as { step: string; hop: number; version: string | null; reason?: string };
    line.step = { step: d.step, hop: d.hop, version: d.version ?? null, ...(d.reason !== undefined ? { reason: d.reason } : {}) };
  }
  return line;
}

/**
 * The daemon's HTTP face on a loopback address: the live fleet page (bundled at build time), its
 * JSON and server-sent-events feed, actions for operators, and Prometheus `/metrics`. The view is
 * the event log folded at start, then kept current from NATS (`panos.evt.>`); browsers get the
 * changed rows pushed every `patchIntervalMs`, never one request per device.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServerHandle> {
  const { store, nc, subjects, log } = options;
  const { host, port } = parseListenAddress(options.listen);
  const token = loadOperatorToken(options.dataDir);
  const assetsDir = options.assetsDir ?? defaultAssetsDir();
  const view = new FleetView();
  const clients = new Set<LiveClient>();
  // The connection retries for ever, so it is never closed while the server is away: its status says.
  let natsUp = !nc.isClosed();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') natsUp = false;
      else if (s.type === 'reconnect') natsUp = true;
    }
  })().catch(() => undefined);
  const metrics = new FleetMetrics({ view, natsConnected: () => natsUp && !nc.isClosed(), liveClients: () => clients.size }, options.metrics);

  // Subscribed before the log is read: what is appended meanwhile arrives here and is de-duplicated by seq.
  let loaded = false;
  const backlog: EventEnvelope[] = [];
  let badPayloads = 0;
  const sub: Subscription = nc.subscribe(subjects.allEvents(), {
    callback: (err, msg) => {
      if (err) return;
      let e: EventEnvelope;
      try {
        e = envelopeSchema.parse(JSON.parse(msg.string())) as EventEnvelope;
      } catch {
        if (badPayloads++ === 0) log.warn({ subject: msg.subject }, 'ignoring an event that is not an event envelope');
        return;
      }
      if (loaded) receive(e);
      else backlog.push(e);
    },
  });

  const jobOf = (e: EventEnvelope): string | undefined => (e.stream.startsWith('job:') ? e.stream.slice(4) : undefined);
  const maxBacklog = options.maxFeedBacklogBytes ?? MAX_FEED_BACKLOG_BYTES;
  const maxClients = options.maxFeedClients ?? MAX_FEED_CLIENTS;
  const write = (c: LiveClient, text: string): void => {
    c.stream.write(text);
    const backlog = c.stream.writableLength + c.stream.readableLength;
    if (backlog > maxBacklog) {
      log.warn({ backlogBytes: backlog, job: c.job }, 'dropped a live feed client that stopped reading');
      c.drop();
    }
  };
  const send = (c: LiveClient, event: string, data: unknown): void => write(c, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  const fold = (e: EventEnvelope): boolean => {
    let outcome = view.offer(e);
    if (outcome === 'gap') {
      // Missed on NATS (published before we subscribed, or dropped): the log has them.
      store.lastGseq(); // a fresh read transaction: the daemon may be another process
      for (const missing of store.readStream(e.stream, { fromSeq: view.seqOf(e.stream) + 1, toSeq: e.seq - 1 })) view.offer(missing);
      outcome = view.offer(e);
      if (outcome === 'gap') log.warn({ stream: e.stream, seq: e.seq, have: view.seqOf(e.stream) }, 'events missing from the log; the view may lag for this stream');
    }
    return outcome === 'applied';
  };

  const receive = (e: EventEnvelope): void => {
    if (isCallBatch(e.type)) {
      // A batch of call records: each call counts in /metrics as its own.
      for (const call of oneEventPerCall([e])) receive(call);
      return;
    }
    const isApi = e.type === API_CALL_RECORDED;
    if (!isViewStream(e.stream) && !isApi) return;
    if (!isApi && !fold(e)) return;
    metrics.observe(e, (id) => view.jobRow(id)?.kind);
    const jobId = jobOf(e);
    if (!jobId) return;
    const parent = view.jobs.get(jobId)?.parentId ?? null;
    for (const c of clients) if (c.job && (c.job === jobId || c.job === parent)) send(c, 'job', timelineLine(e));
  };

  for (const prefix of ['device:', 'job:', 'campaign:']) {
    for (const stream of store.streamNames(prefix)) for (const e of store.readStream(stream)) view.offer(e);
  }
  view.takePatch(Date.now());
  loaded = true;
  for (const e of backlog.splice(0)) receive(e);

  let ticks = 0;
  const interval = options.patchIntervalMs ?? 250;
  const timer = setInterval(() => {
    if (++ticks % Math.max(1, Math.round(2000 / interval)) === 0) view.touchActiveCampaigns();
    const patch = view.takePatch(Date.now());
    if (!patch) return;
    for (const c of clients) send(c, 'patch', patch);
  }, interval);
  // Comments keep idle connections (and proxies) from timing out.
  const ping = setInterval(() => {
    for (const c of clients) write(c, ': ping\n\n');
  }, 15_000);

  const app = new Koa();
  const router = new Router();

  app.use(async (ctx, next) => {
    // Another origin's page may not frame the view (a loopback frame passes the Host check), nor may a browser sniff types.
    ctx.set({ 'X-Frame-Options': 'DENY', 'Content-Security-Policy': "frame-ancestors 'none'", 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    // DNS rebinding: a page on another origin that resolves to 127.0.0.1 still sends its own Host.
    const h = (ctx.request.host ?? '').replace(/:\d+$/, '');
    if (h !== 'localhost' && h !== '[::1]' && !(isIP(h) === 4 && h.startsWith('127.'))) {
      ctx.status = 403;
      ctx.body = { error: { code: 'FORBIDDEN_HOST', message: `requests must name a loopback host, not "${h}"` } };
      return;
    }
    try {
      await next();
    } catch (err) {
      // What failed inside is for the daemon's log, not for whoever is looking at the page.
      ctx.status = 500;
      ctx.body = { error: { code: 'INTERNAL', message: "the view could not answer this request; the daemon's log says why" } };
      log.warn({ err, path: ctx.path }, 'web request failed');
    }
  });

  const page = (): string => {
    const file = join(assetsDir, 'index.html');
    return existsSync(file) ? readFileSync(file, 'utf8') : NOT_BUILT;
  };
  router.get('/', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = page();
  });
  router.get('/jobs/:id', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page();
  });
  router.get('/assets/:file', (ctx) => {
    const name = ctx.params.file ?? '';
    const ext = /\.[a-z]+$/.exec(name)?.[0] ?? '';
    const file = join(assetsDir, name);
    if (!/^[\w.-]+$/.test(name) || !CONTENT_TYPES[ext] || !existsSync(file)) {
      ctx.status = 404;
      return;
    }
    ctx.type = CONTENT_TYPES[ext]!;
    ctx.body = readFileSync(file);
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.text();
  });

  router.get('/api/fleet', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = view.snapshot(new Date().toISOString());
  });

  router.get('/api/session', (ctx) => {
    ctx.body = { operator: isOperatorToken(bearer(ctx.get('authorization')), token) };
  });

  router.get('/api/jobs/:id', (ctx) => {
    const id = ctx.params.id ?? '';
    const job = view.jobs.get(id);
    const pair = view.pairs.get(id);
    if (!job && !pair) {
      ctx.status = 404;
      ctx.body = { error: { code: 'NOT_FOUND', message: `no job ${id}` } };
      return;
    }
    const childIds = pair ? pair.children.map((c) => c.jobId) : [];
    const streams = [`job:${id}`, ...childIds.map((c) => `job:${c}`)];
    const timeline = streams
      .flatMap((s) => store.readStream(s))
      .sort((a, b) => a.gseq - b.gseq)
      .map(timelineLine);
    const validated = job ? store.readStream(`job:${id}`).filter((e) => e.type === 'job.validated').map((e) => e.data) : [];
    ctx.body = {
      job: view.jobRow(id),
      record: job ? toStatusRecord(job) : toPairStatusRecord(pair!),
      plan: job ? job.plan : pair!.versions.map((version) => ({ version })),
      // The page shows each area's count: a running job's snapshot entries (a route table) stay here.
      readiness: job ? { validated: validated.at(-1) ?? null, report: job.readiness ?? null, pre: job.pre && countsOnly(job.pre), notes: job.notes } : null,
      postflight: job ? { post: job.post && countsOnly(job.post), checks: job.checks } : null,
      children: childIds.flatMap((c) => view.jobRow(c) ?? []),
      devices: (job ? [job.device?.serial ?? ''] : pair!.peers.map((p) => p.serial)).flatMap((s) => view.deviceRow(s) ?? []),
      timeline,
    };
  });

  router.get('/api/stream', (ctx) => {
    if (clients.size >= maxClients) {
      ctx.status = 503;
      ctx.body = { error: { code: 'TOO_MANY_FEEDS', message: `${maxClients} live feeds are open, the most this view serves: close a page, then reload this one` } };
      return;
    }
    const job = typeof ctx.query.job === 'string' && ctx.query.job !== '' ? ctx.query.job : undefined;
    const socket = ctx.req.socket;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    ctx.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const stream = new PassThrough();
    const end = (): void => {
      clients.delete(client);
      stream.end();
    };
    const client: LiveClient = {
      stream,
      job,
      drop: () => {
        clients.delete(client);
        stream.destroy();
        socket.destroy();
      },
    };
    clients.add(client);
    ctx.req.on('close', end);
    stream.on('error', end);
    ctx.status = 200;
    ctx.body = stream;
    // What the page has is as of `position`: patches after this carry every row changed since.
    stream.write('retry: 2000\n\n');
    send(client, 'hello', { position: view.position });
  });

  /** An operator's command to the daemon over NATS, as the CLI sends it; the reply or the daemon's error. */
  const act = async (ctx: Koa.Context, actions: Record<string, CommandName>, payload: object): Promise<void> => {
    const command = actions[ctx.params.action ?? ''];
    if (!command) {
      ctx.status = 404;
      ctx.body = { error: { code: 'NOT_FOUND', message: `no action "${ctx.params.action}"; actions: ${Object.keys(actions).join(', ')}` } };
      return;
    }
    const presented = bearer(ctx.get('authorization'));
    if (!isOperatorToken(presented, token)) {
      ctx.status = presented ? 403 : 401;
      ctx.body = { error: { code: presented ? 'FORBIDDEN' : 'UNAUTHORIZED', message: 'actions need the operator token (see ui-operator-token in the data dir); this view is read-only without it' } };
      return;
    }
    try {
      ctx.body = await requestJson(options.commands ?? nc, subjects.cmd(command), payload);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      ctx.status =
        err instanceof RemoteError ? (err.code === 'NOT_FOUND' ? 404 : 409) : err instanceof NoResponderError || err instanceof RequestTimeoutError ? 503 : code === 'NATS_PERMISSION' ? 403 : 500;
      ctx.body = { error: { code: err instanceof BusError || err instanceof PanosUpgradeError ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) } };
    }
  };
  router.post('/api/jobs/:id/:action', (ctx) => act(ctx, ACTIONS, { jobId: ctx.params.id }));
  router.post('/api/campaigns/:id/:action', (ctx) => act(ctx, CAMPAIGN_ACTIONS, { campaignId: ctx.params.id, by: 'live view' }));

  router.get('/api/campaigns/:id', (ctx) => {
    const record = view.campaignRecord(ctx.params.id ?? '', Date.now(), true);
    if (!record) {
      ctx.status = 404;
      ctx.body = { error: { code: 'NOT_FOUND', message: `no campaign ${ctx.params.id}` } };
      return;
    }
    ctx.body = { campaign: record };
  });

  // A browser closing its live feed ends the stream early: that is how a feed ends, not an error.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE' && err.code !== 'ECONNRESET') log.warn({ err }, 'web server error');
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const server: Server = createServer({ headersTimeout, requestTimeout: Math.max(headersTimeout, 30_000), connectionsCheckingInterval: Math.min(1_000, headersTimeout) }, app.callback());
  server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  const dropped = { count: 0, lastLog: 0 };
  server.on('drop', () => {
    dropped.count++;
    if (Date.now() - dropped.lastLog < 10_000) return;
    dropped.lastLog = Date.now();
    log.warn({ dropped: dropped.count, limit: server.maxConnections }, 'live view: connections over the limit closed');
  });
  // Node's own answer to a request that timed out leaves the connection open: answer, then close it.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code !== 'ECONNRESET' && socket.writable) {
      const [status, reason] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
      socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  let open = 0;
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  log.info({ url: `http://${urlHost}:${boundPort}`, devices: view.devices.size, jobs: view.jobs.size + view.pairs.size }, 'live view up');

  let closed = false;
  return {
    url: `http://${urlHost}:${boundPort}`,
    port: boundPort,
    view,
    metrics,
    get clients() {
      return clients.size;
    },
    connections: () => open,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      clearInterval(ping);
      sub.unsubscribe();
      for (const c of clients) c.stream.end();
      clients.clear();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

export type { JobRow };
