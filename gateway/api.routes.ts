import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { RemoteError } from '../bus/index.ts';
import { MAX_CMD_LENGTH } from '../panos/commands.ts';
import { parseSystemInfo } from '../panos/parsers.ts';
import { successXml } from '../panos/responses.ts';
import { el } from '../panos/xml.ts';
import {
  ApiError,
  bodyTooLarge,
  illegalParameter,
  illegalValue,
  internalError,
  invalidCredential,
  methodNotAllowed,
  missingParameter,
  multipartNotSupported,
  simulatorNotRunning,
  unsupportedType,
  type ApiOutcome,
} from './api-errors.ts';
import { ApiParams, readFormBody, xmlSafe } from './api-params.ts';
import { envelopeOf, redactKeys, truncate, type ApiRecorder } from './api-recorder.ts';
import { credentialsOf, type KeyRing } from './auth.ts';
import type { DeviceDirectory, Route } from './device-directory.ts';
import { SimulatorReplyError, SimulatorUnavailableError, type SimClient, type SimOpPayload, type SimReply } from './sim-client.ts';

/** What the `/api/` handler needs; built once by createGatewayApp. */
export interface ApiDeps {
  sim: SimClient;
  directory: DeviceDirectory;
  keys: KeyRing;
  recorder: ApiRecorder;
  log: Logger;
  hangLimitMs: number;
  maxBodyBytes: number;
}

/** The state of one call, completed as the request is handled and recorded once when it is over. */
export interface ApiCall extends Route {
  requestId: string;
  started: number;
  target: string | null;
  type: string | null;
  command: string | null;
  outcome?: ApiOutcome;
  /** A hung call is recorded when its connection ends, not when the handler returns. */
  deferred: boolean;
  /** The response carries an API key (keygen): record it with the key replaced. */
  carriesKey: boolean;
  recorded: boolean;
}

const TYPES = new Set(['keygen', 'op', 'version', 'config', 'commit', 'export', 'import', 'log', 'report', 'user-id']);

/**
 * Parameters of the real XML API, accepted silently even when the simulator ignores them, so that
 * pan-python, pan-os-python and Ansible keep working (they send `vsys`, `action`, `xpath`, `element`, …).
 * Anything else is `Illegal parameter [x]`.
 */
const KNOWN_PARAMS = new Set([
  'type',
  'cmd',
  'key',
  'target',
  'vsys',
  'user',
  'password',
  'action',
  'xpath',
  'element',
  'text',
  'from',
  'to',
  'where',
  'dst',
  'newname',
  'category',
  'file-name',
  'format',
  'job-id',
  'log-type',
  'nlogs',
  'skip',
  'dir',
  'query',
  'reporttype',
  'reportname',
  'async',
  'uid',
  'partial',
  'pcapid',
  'search-time',
  'serialno',
]);

const SHOW_SYSTEM_INFO = '<show><system><info></info></system></show>';

export function apiCallOf(ctx: Context): ApiCall | undefined {
  return (ctx.state as { apiCall?: ApiCall }).apiCall;
}

/**
 * `/api/`: parse → authenticate → route → map the simulator's answer. Requests the gateway refuses
 * itself throw an ApiError for the app's error sink to render.
 */
export function apiHandler(deps: ApiDeps): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const route = deps.directory.routeOf(ctx.req.socket?.localAddress);
    const call: ApiCall = {
      ...route,
      requestId: randomUUID(),
      started: performance.now(),
      target: null,
      type: null,
      command: null,
      deferred: false,
      carriesKey: false,
      recorded: false,
    };
    (ctx.state as { apiCall?: ApiCall }).apiCall = call;

    if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.method !== 'POST') throw methodNotAllowed(ctx.method);
    // A GET's parameters are all in its query string: no await (and no microtask) for them.
    const params = ctx.method === 'POST' ? await readPostParams(ctx, deps.maxBodyBytes) : ApiParams.parse(ctx.querystring);
    for (const name of params.names()) if (!KNOWN_PARAMS.has(name)) throw illegalParameter(name);

    const type = params.get('type');
    if (type === undefined) throw missingParameter('type', 'calling the XML API');
    call.type = truncate(xmlSafe(type), 40);
    if (!TYPES.has(type)) throw illegalValue('type', type);
    // [unconfirmed] A firewall addressed directly ignores `target=`, as the parameter only means something to Panorama.
    const target = route.via === 'panorama' ? params.get('target') : undefined;
    // Serials are short: a longer target cannot name a device, and is cut so it fits a NATS message.
    const routedTarget = target !== undefined && target !== '' ? truncate(xmlSafe(target), 200) : undefined;
    call.target = routedTarget ?? null;

    if (type === 'keygen') {
      call.carriesKey = true;
      const user = xmlSafe(params.get('user') ?? '');
      const password = params.get('password') ?? '';
      if (deps.log.isLevelEnabled('debug')) deps.log.debug({ requestId: call.requestId, via: route.via, serial: route.serial, type }, 'api call');
      // The user name only: the password is neither recorded nor logged.
      call.command = `keygen ${truncate(user, 200)}`.trimEnd();
      if (!plausibleCredential(user, password)) throw invalidCredential();
      deliver(ctx, call, await toDevice(deps, call, { type: 'keygen', user, password }), deps);
      // A wrong password is a refused call like a wrong key: counted, not recorded one by one.
      if (ctx.status === 403 && (call.outcome === undefined || call.outcome === 'answered')) call.outcome = 'unauthorized';
      return;
    }

    const cmd = params.get('cmd');
    // Recorded even when the caller is refused: what was attempted is worth knowing, and holds no secret.
    call.command =
      type === 'op'
        ? cmd === undefined
          ? null
          : truncate(cmd)
        : type === 'version'
          ? 'version'
          : type === 'config'
            ? truncate(`config ${params.get('action') ?? ''} ${params.get('xpath') ?? ''}`.trimEnd())
            : null;
    const checking = authenticate(ctx, params, deps, call);
    const refused = checking === undefined ? undefined : await checking;
    if (refused) {
      deliver(ctx, call, refused, deps);
      if (call.outcome === 'answered') call.outcome = 'unauthorized';
      return;
    }

    if (type === 'op') {
      if (cmd === undefined) throw missingParameter('cmd', 'executing an operational command');
      if (deps.log.isLevelEnabled('debug')) deps.log.debug({ requestId: call.requestId, via: route.via, serial: route.serial, type, cmd: truncate(cmd, 500) }, 'api call');
      // The simulator refuses a larger cmd too; stopping it here keeps NATS payloads small (1 MB limit).
      const sent = cmd.length > MAX_CMD_LENGTH ? cmd.slice(0, MAX_CMD_LENGTH + 1) : xmlSafe(cmd);
      deliver(ctx, call, await toDevice(deps, call, { type: 'op', cmd: sent }), deps);
      return;
    }
    if (type === 'version') {
      if (deps.log.isLevelEnabled('debug')) deps.log.debug({ requestId: call.requestId, via: route.via, serial: route.serial, type }, 'api call');
      deliver(ctx, call, versionOf(await toDevice(deps, call, { type: 'op', cmd: SHOW_SYSTEM_INFO })), deps);
      return;
    }
    if (type === 'config') {
      const action = params.get('action');
      if (action === undefined) throw missingParameter('action', 'executing a config command');
      const xpath = params.get('xpath');
      if (deps.log.isLevelEnabled('debug')) deps.log.debug({ requestId: call.requestId, via: route.via, serial: route.serial, type, action }, 'api call');
      // Xpaths are short; a longer one is cut so that it fits a NATS message (the device then finds nothing there).
      const payload: SimOpPayload = { type: 'config', action: truncate(xmlSafe(action), 40) };
      if (xpath !== undefined) payload.xpath = truncate(xmlSafe(xpath), 4096);
      deliver(ctx, call, await toDevice(deps, call, payload), deps);
      return;
    }
    throw unsupportedType(type);
  };
}

async function readPostParams(ctx: Context, maxBodyBytes: number): Promise<ApiParams> {
  const body = await readFormBody(ctx.req, maxBodyBytes);
  if (body.kind === 'too-large') throw bodyTooLarge(body.limit);
  if (body.kind === 'multipart') throw multipartNotSupported();
  return ApiParams.parse(ctx.querystring, body.kind === 'form' ? body.text : '');
}

/**
 * undefined when the caller may proceed; otherwise what to answer instead. A key is checked here against
 * the digests; HTTP Basic is checked by a keygen round trip to the addressed device, whose refusal (a 403,
 * or a dropped connection while it reboots) is what the client then sees.
 */
function authenticate(ctx: Context, params: ApiParams, deps: ApiDeps, call: ApiCall): Promise<SimReply | undefined> | undefined {
  const credentials = credentialsOf(params, ctx.headers);
  if (credentials.kind === 'key') {
    // Checked here and now: a key needs no round trip, so the caller need not wait a microtask for it.
    if (deps.keys.accepts(credentials.readings)) return undefined;
    throw invalidCredential();
  }
  if (credentials.kind === 'none' || !plausibleCredential(credentials.user, credentials.password)) throw invalidCredential();
  return basicLogin(deps, call, credentials);
}

async function basicLogin(deps: ApiDeps, call: ApiCall, credentials: { user: string; password: string }): Promise<SimReply | undefined> {
  const reply = await ask(deps, call, { type: 'keygen', user: xmlSafe(credentials.user), password: credentials.password });
  if (reply.kind === 'http' && reply.status === 200 && envelopeOf(reply.body).panosStatus === 'success') return undefined;
  if (reply.kind === 'http' && reply.status === 200) throw invalidCredential();
  return reply;
}

/** Longer values are refused without asking: no admin has them, and they would not fit a NATS message. */
const MAX_CREDENTIAL_LENGTH = 4096;

function plausibleCredential(user: string, password: string): boolean {
  return user.length <= MAX_CREDENTIAL_LENGTH && password.length <= MAX_CREDENTIAL_LENGTH;
}

/** Ask the device the call is for: the one of its address, or the `target=` it names through Panorama. */
function toDevice(deps: ApiDeps, call: ApiCall, payload: SimOpPayload): Promise<SimReply> {
  return ask(deps, call, call.target === null ? payload : { ...payload, target: call.target });
}

/** Ask the device's simulator; an unreachable firewall is a dropped connection, an unreachable Panorama a 503 saying why. */
async function ask(deps: ApiDeps, call: ApiCall, payload: SimOpPayload): Promise<SimReply> {
  try {
    return await deps.sim.op(call.serial, payload);
  } catch (err) {
    if (err instanceof SimulatorUnavailableError) {
      if (call.via === 'direct') return { kind: 'drop' };
      deps.log.warn({ requestId: call.requestId, subject: err.subject, reason: err.reason }, 'simulator not answering');
      throw simulatorNotRunning(err.subject, err.reason === 'timeout' ? 'no answer in time' : 'nothing answers');
    }
    if (err instanceof SimulatorReplyError || err instanceof RemoteError) {
      deps.log.error({ err, requestId: call.requestId }, 'simulator reply unusable');
      throw internalError(err.message);
    }
    throw err;
  }
}

/** [unconfirmed] `type=version` is answered from `show system info` of the same device, so it follows reboots and `target=`. */
function versionOf(reply: SimReply): SimReply {
  if (reply.kind !== 'http' || reply.status !== 200) return reply;
  let info: ReturnType<typeof parseSystemInfo>;
  try {
    info = parseSystemInfo(reply.body);
  } catch {
    // An error answer (not connected, booting) is passed on as it is.
    return reply;
  }
  const body = successXml(
    el('sw-version', info.swVersion) + el('multi-vsys', info.multiVsys ? 'on' : 'off') + el('model', info.model) + el('serial', info.serial),
  );
  return { ...reply, body };
}

/** Map the device's answer onto this HTTP exchange: a response, a reset connection, or silence. */
function deliver(ctx: Context, call: ApiCall, reply: SimReply, deps: ApiDeps): void {
  switch (reply.kind) {
    case 'http':
      ctx.status = reply.status;
      // Real devices send 403 with the reason phrase "Invalid Credential" (§1); pan-python shows it.
      if (reply.status === 403) ctx.message = 'Invalid Credential';
      // The type first: Koa then takes it as set instead of guessing one from the body (a MIME lookup per call).
      ctx.set('Content-Type', reply.contentType);
      // As text: Node writes the head and a text body as one string, encoded once as it is written
      // (bytes made here were one more copy, and a write of two buffers; bench/README.md, tenth pass).
      ctx.body = reply.body;
      call.outcome ??= 'answered';
      return;
    case 'drop':
      call.outcome = 'dropped';
      ctx.respond = false;
      resetConnection(ctx.req.socket);
      return;
    case 'hang':
      call.outcome = 'hung';
      call.deferred = true;
      ctx.respond = false;
      hold(ctx, call, deps);
      return;
  }
}

/** A rebooting device resets connections: RST where the socket allows it (plain TCP), else a plain close. */
export function resetConnection(socket: Socket | undefined): void {
  if (!socket || socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    // TLS sockets have no TCP handle of their own (ERR_INVALID_HANDLE_TYPE).
    socket.destroy();
  }
}

/** Say nothing until the client gives up or the hang limit passes, then close; record the call then. */
function hold(ctx: Context, call: ApiCall, deps: ApiDeps): void {
  const socket = ctx.req.socket;
  const done = (): void => finishCall(ctx, call, deps.recorder);
  if (!socket || socket.destroyed) {
    done();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), deps.hangLimitMs);
  socket.once('close', () => {
    clearTimeout(timer);
    done();
  });
}

/** Record the call once, from what was answered (or not). */
export function finishCall(ctx: Context, call: ApiCall, recorder: ApiRecorder): void {
  if (call.recorded) return;
  call.recorded = true;
  if (call.outcome === 'unauthorized') {
    recorder.refuse(call);
    return;
  }
  const answered = call.outcome !== 'dropped' && call.outcome !== 'hung';
  // The text of what was sent: the device's answer, or an error the sink rendered.
  const sent: unknown = ctx.body;
  const body = !answered ? null : typeof sent === 'string' ? sent : null;
  const shownBody = body !== null && call.carriesKey ? redactKeys(body) : body;
  recorder.record({
    requestId: call.requestId,
    at: new Date().toISOString(),
    via: call.via,
    address: call.address,
    target: call.target,
    type: call.type,
    command: call.command,
    httpStatus: answered ? ctx.status : null,
    ...(body !== null ? envelopeOf(body) : { panosStatus: null, panosCode: null }),
    durationMs: Math.round((performance.now() - call.started) * 100) / 100,
    response: shownBody === null ? null : truncate(shownBody),
    responseBytes: body === null ? 0 : Buffer.byteLength(body),
    outcome: call.outcome ?? 'answered',
  });
}

/** The outcome an ApiError gives a call, unless an earlier step decided it. */
export function failCall(call: ApiCall | undefined, err: ApiError): void {
  if (call && call.outcome === undefined) call.outcome = err.outcome;
}
