import Router from '@koa/router';
import type { Context } from 'koa';
import { RemoteError, isToken } from '../bus/index.ts';
import { ApiParams } from './api-params.ts';
import { envelopeOf, type ApiRecorder } from './api-recorder.ts';
import { credentialsOf, type KeyRing } from './auth.ts';
import type { DeviceDirectory } from './device-directory.ts';
import { SimulatorUnavailableError, type SimClient } from './sim-client.ts';

import { MgmtError } from './mgmt-error.ts';

export { MgmtError };

export interface MgmtDeps {
  sim: SimClient;
  directory: DeviceDirectory;
  keys: KeyRing;
  recorder: ApiRecorder;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/**
 * `/mgmt/…`: JSON about the simulated fleet, for people and dashboards. It needs the same credentials as
 * the XML API (the records it returns describe the lab), and is served on the Panorama's address only:
 * a firewall's address looks like a firewall, which has no such API.
 */
export function mgmtRouter(deps: MgmtDeps): Router {
  const router = new Router({ prefix: '/mgmt' });
  router.use(async (ctx, next) => {
    if (deps.directory.routeOf(ctx.req.socket?.localAddress).via !== 'panorama') {
      throw new MgmtError(404, 'NOT_FOUND', 'the management API is served on the Panorama address only');
    }
    await authenticate(ctx, deps);
    await next();
  });

  router.get('/devices', async (ctx) => {
    const { devices } = await ctl(deps, '-', 'list');
    ctx.body = { devices };
  });

  router.get('/devices/:serial', async (ctx) => {
    const serial = ctx.params.serial ?? '';
    if (serial === deps.directory.panoramaSerial) {
      throw new MgmtError(404, 'NOT_FOUND', `${serial} is the Panorama, not a managed firewall; GET /mgmt/devices lists the firewalls`);
    }
    if (!isToken(serial) || !deps.directory.isDevice(serial)) throw new MgmtError(404, 'NOT_FOUND', `no simulated firewall has serial ${JSON.stringify(serial.slice(0, 80))}`);
    const { device, record, faults } = await ctl(deps, serial, 'get');
    ctx.body = { device, record, faults };
  });

  router.get('/api-calls', (ctx) => {
    const limit = parseLimit(ctx.querystring);
    ctx.body = { limit, calls: deps.recorder.recent(limit) };
  });

  router.all('/{*rest}', (ctx) => {
    throw new MgmtError(ctx.method === 'GET' ? 404 : 405, ctx.method === 'GET' ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED', `${ctx.method} ${ctx.path} is not a management endpoint; see GET /mgmt/devices, /mgmt/devices/<serial>, /mgmt/api-calls?limit=N`);
  });
  return router;
}

/** `?limit=N`: 1 to 1000, 50 by default; anything else is a 400 that says so. */
export function parseLimit(querystring: string): number {
  const raw = ApiParams.parse(querystring).get('limit');
  if (raw === undefined) return DEFAULT_LIMIT;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) {
    throw new MgmtError(400, 'VALIDATION', `limit must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return n;
}

async function authenticate(ctx: Context, deps: MgmtDeps): Promise<void> {
  const credentials = credentialsOf(ApiParams.parse(ctx.querystring), ctx.headers);
  let ok = false;
  if (credentials.kind === 'key') ok = deps.keys.accepts(credentials.readings);
  if (credentials.kind === 'basic' && credentials.user.length <= 4096 && credentials.password.length <= 4096) {
    const reply = await deps.sim.op(deps.directory.panoramaSerial, { type: 'keygen', user: credentials.user, password: credentials.password }).catch(simErrorToMgmt);
    ok = reply.kind === 'http' && reply.status === 200 && envelopeOf(reply.body).panosStatus === 'success';
  }
  if (!ok) {
    throw new MgmtError(403, 'INVALID_CREDENTIAL', 'send the API key as the X-PAN-KEY header or key= parameter, or use HTTP Basic auth with a scenario admin', {
      'WWW-Authenticate': 'Basic realm="panos-upgrade"',
    });
  }
}

async function ctl(deps: MgmtDeps, serial: string, action: string): Promise<Record<string, unknown>> {
  return deps.sim.ctl(serial, action).catch(simErrorToMgmt);
}

function simErrorToMgmt(err: unknown): never {
  if (err instanceof SimulatorUnavailableError) {
    throw new MgmtError(503, 'SIMULATOR_UNAVAILABLE', `${err.message}; start it with: panos-upgrade sim --scenario <file>`);
  }
  if (err instanceof RemoteError && err.code === 'NOT_FOUND') throw new MgmtError(404, 'NOT_FOUND', err.message);
  throw err;
}
