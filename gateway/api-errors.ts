import { authErrorXml, errorXml } from '../panos/responses.ts';
import { shown } from './api-params.ts';

/** How a recorded call ended (`api.call.served` → `outcome`). */
export type ApiOutcome = 'answered' | 'dropped' | 'hung' | 'unauthorized' | 'bad-request';

/**
 * A request the gateway answers itself with a PAN-OS `<response status="error">`. Thrown by the
 * handlers and rendered by the app's one error sink.
 */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: string,
    readonly outcome: ApiOutcome,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** `<response status="error" code="400"><result><msg>…</msg></result></response>`, the shape of captured code-400 answers. */
function code400(text: string): string {
  return errorXml('400', [text], { form: 'result-msg' });
}

/** HTTP 403 "Invalid Credential" with the exact 97-byte body real devices send (§1). */
export function invalidCredential(): ApiError {
  return new ApiError(403, authErrorXml(), 'unauthorized', 'invalid credential');
}

/** [unconfirmed] Wording modelled on a captured code-400 answer (`Parameter "format" is required while exporting certificate`). */
export function missingParameter(name: string, context: string): ApiError {
  return new ApiError(400, code400(`Parameter "${name}" is required while ${context}`), 'bad-request', `missing parameter ${name}`);
}

/** `Illegal value for parameter "type" [x].`, as quoted by pan-os-python (§1). */
export function illegalValue(name: string, value: string): ApiError {
  return new ApiError(400, code400(`Illegal value for parameter "${name}" [${shown(value)}].`), 'bad-request', `illegal value for ${name}`);
}

/**
 * `Illegal parameter [x]` (pan-os-python issue #13). [unconfirmed] HTTP 400: §17.10 assumes it for
 * code-400 answers, though the message reaching pan-python in #13 hints that PAN-OS sends it with 200.
 */
export function illegalParameter(name: string): ApiError {
  return new ApiError(400, code400(`Illegal parameter [${shown(name)}]`), 'bad-request', 'illegal parameter');
}

export function bodyTooLarge(limit: number): ApiError {
  const mb = Math.round((limit / 1024 / 1024) * 10) / 10;
  return new ApiError(400, code400(`Request body is larger than ${mb} MB, the XML API limit`), 'bad-request', 'body too large', { Connection: 'close' });
}

/** [unconfirmed] A file upload (type=import) is a multipart POST; the simulator has no files to import into. */
export function multipartNotSupported(): ApiError {
  return new ApiError(400, code400('Multipart requests (type=import) are not supported by the panos-upgrade simulator'), 'bad-request', 'multipart');
}

/** [unconfirmed] Real PAN-OS types the simulator does not implement: code 1 "Unknown command", with HTTP 200 as for other API-level errors. */
export function unsupportedType(type: string): ApiError {
  return new ApiError(
    200,
    errorXml('1', [`type=${type} is not supported by the panos-upgrade simulator; it answers type=op, type=keygen, type=version and type=config`]),
    'bad-request',
    `unsupported type ${type}`,
  );
}

export function methodNotAllowed(method: string): ApiError {
  return new ApiError(
    405,
    code400(`Method ${shown(method, 20)} is not allowed; the XML API accepts GET and POST`),
    'bad-request',
    'method not allowed',
    { Allow: 'GET, HEAD, POST' },
  );
}

export function notFound(path: string): ApiError {
  return new ApiError(404, errorXml(undefined, [`${shown(path)} not found; the XML API is at /api/`], { form: 'result-msg' }), 'bad-request', 'not found');
}

/** The Panorama's simulator does not answer: say what to do about it. */
export function simulatorNotRunning(subject: string, reason: string): ApiError {
  return new ApiError(
    503,
    errorXml(undefined, [
      `The panos-upgrade simulator is not running (${reason} on ${subject}). ` +
        'Start it with: panos-upgrade sim --scenario <file>, and make sure the gateway and the simulator use the same NATS server and subject prefix.',
    ]),
    'answered',
    'simulator not running',
  );
}

/** [unconfirmed] A fault of the gateway or the simulator, not of the request: code 21 "Internal error". */
export function internalError(detail: string): ApiError {
  return new ApiError(500, errorXml('21', [`Internal error: ${shown(detail, 300)}`]), 'answered', 'internal error');
}

/** Node's HTTP parser refused the request before it reached Koa: a raw HTTP/1.1 answer, PAN-OS body included. */
export function rawHttpError(status: 400 | 408 | 431, reason: string): string {
  const body = code400(reason);
  const phrase = status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  return (
    `HTTP/1.1 ${status} ${phrase}\r\nContent-Type: application/xml; charset=UTF-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
