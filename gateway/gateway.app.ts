import Koa, { type Context, type Next } from 'koa';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Subjects } from '../bus/index.ts';
import { ApiError, internalError, notFound } from './api-errors.ts';
import { ApiRecorder, type ApiCallStore } from './api-recorder.ts';
import { apiCallOf, apiHandler, failCall, finishCall, resetConnection } from './api.routes.ts';
import { KeyRing } from './auth.ts';
import { DeviceDirectory } from './device-directory.ts';
import { MgmtError } from './mgmt-error.ts';
import { InProcessSimClient, NatsSimClient, XML_CONTENT_TYPE, type LocalSimulator, type SimClient, type SimDescription } from './sim-client.ts';

export interface GatewayAppOptions {
  nc: NatsConnection;
  subjects: Subjects;
  /** Where `api.call.served` events go (an LmdbEventStore). */
  store: ApiCallStore;
  /** A component logger; the gateway never logs URLs, keys or passwords. */
  log: Logger;
  /** The simulator's `panos.sim.ctl.-.describe` answer: routing and key digests. */
  description: SimDescription;
  /**
   * The simulator, when it runs in this process (`panos-upgrade sim`): its devices are then called
   * directly (InProcessSimClient) instead of over NATS; other serials and `panos.sim.ctl` still go over NATS.
   */
  simulator?: LocalSimulator;
  /** How long a `{ hang: true }` answer holds the client's connection before closing it. Default 120 s. */
  hangLimitMs?: number;
  /** How long to wait for the simulator over NATS. Default 30 s. */
  requestTimeoutMs?: number;
  /** Largest accepted POST body. Default 5 MB, as PAN-OS documents for POST. */
  maxBodyBytes?: number;
  /** How often calls refused for their credentials are recorded, as one count. Default 60 s. */
  refusedFlushMs?: number;
}

export const DEFAULT_HANG_LIMIT_MS = 120_000;
const API_PATH = /^\/api\/?$/i;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * The gateway as a Koa app, without a listener: `/api/` (the PAN-OS XML API of the simulated devices)
 * and `/mgmt/…` (JSON). Stateless: each call goes over NATS to the simulator that owns the device.
 * `app.callback()` is a plain `(req, res)` handler (benchmarks compare it with a bare one).
 */
export function createGatewayApp(options: GatewayAppOptions): Koa {
  return buildGateway(options).app;
}

/** The app and its recorder, whose appends a closing gateway waits for. */
export function buildGateway(options: GatewayAppOptions): { app: Koa; recorder: ApiRecorder } {
  const log = options.log;
  const sim = simClientFor(options);
  const directory = new DeviceDirectory(options.description);
  const keys = new KeyRing(options.description.keyDigests);
  const recorder = new ApiRecorder(options.store, log, options.refusedFlushMs);

  const app = new Koa();
  // Errors are handled by the one sink below; this only hears what escapes Koa itself (a broken socket).
  app.on('error', (err: unknown) => log.debug({ err }, 'koa error'));
  app.use(errorSink(log, recorder));

  const handler = apiHandler({
    sim,
    directory,
    keys,
    recorder,
    log,
    hangLimitMs: options.hangLimitMs ?? DEFAULT_HANG_LIMIT_MS,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });
  // `/api` and `/api/`, in any case (as the router matched them), without a router's per-request work.
  app.use((ctx, next) => (API_PATH.test(ctx.path) ? handler(ctx) : next()));
  // The management API and its router are loaded with the first request that is not an XML API call:
  // a simulator nobody asks for JSON does not carry them (`sim`'s memory: bench sim-basic).
  let mgmt: Promise<Koa.Middleware> | undefined;
  app.use((ctx, next) => {
    mgmt ??= import('./mgmt.routes.ts').then((m) => m.mgmtRouter({ sim, directory, keys, recorder }).routes() as unknown as Koa.Middleware);
    return mgmt.then((routes) => routes(ctx, next));
  });
  app.use((ctx) => {
    throw ctx.path.startsWith('/mgmt') ? new MgmtError(404, 'NOT_FOUND', `${ctx.path} not found`) : notFound(ctx.path);
  });
  return { app, recorder };
}

/** In-process to a simulator of this process (NATS for what it does not own), else NATS. */
export function simClientFor(options: Pick<GatewayAppOptions, 'nc' | 'subjects' | 'simulator' | 'requestTimeoutMs'>): SimClient {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const nats = new NatsSimClient(options.nc, options.subjects, timeoutMs);
  return options.simulator ? new InProcessSimClient(options.simulator, options.subjects, timeoutMs, nats) : nats;
}

/**
 * The one error sink (Koa style): every refusal and failure below becomes a well-formed answer —
 * PAN-OS XML under `/api/` and elsewhere, JSON under `/mgmt/` — and every `/api/` call is recorded
 * once it has been answered (hung calls record themselves when their connection ends).
 */
function errorSink(log: Logger, recorder: ApiRecorder) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      render(ctx, err, log);
    }
    const call = apiCallOf(ctx);
    if (call && !call.deferred) finishCall(ctx, call, recorder);
  };
}

function render(ctx: Context, err: unknown, log: Logger): void {
  if (ctx.headerSent || !ctx.writable) {
    log.warn({ err }, 'error after the response started');
    resetConnection(ctx.req.socket);
    return;
  }
  if (err instanceof MgmtError) {
    ctx.status = err.httpStatus;
    ctx.set(err.headers);
    ctx.body = { error: { code: err.code, message: err.message } };
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof ApiError)) log.error({ err }, 'request failed');
  if (ctx.path.startsWith('/mgmt')) {
    ctx.status = err instanceof ApiError ? err.httpStatus : 500;
    ctx.body = { error: { code: 'INTERNAL', message } };
    return;
  }
  const apiError = err instanceof ApiError ? err : internalError(message);
  failCall(apiCallOf(ctx), apiError);
  ctx.status = apiError.httpStatus;
  if (apiError.httpStatus === 403) ctx.message = 'Invalid Credential';
  ctx.set(apiError.headers);
  ctx.body = apiError.body;
  ctx.set('Content-Type', XML_CONTENT_TYPE);
}
