import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { boundedMemo } from './bounded-memo.ts';
import { TransportError } from './errors.ts';

/** Why a server's certificate was not trusted. */
export type TlsProblem = 'self-signed' | 'unknown-issuer' | 'pin-mismatch' | 'hostname-mismatch' | 'expired' | 'not-yet-valid' | 'rejected';

/** What was seen of a certificate that was not trusted: enough to name the cause and the fix. */
export interface TlsFailure {
  problem: TlsProblem;
  /** `host:port` as the client was configured. */
  host: string;
  /** The name or address the certificate was checked against. */
  hostname: string;
  /** SHA-256 of the certificate the server presented (`AB:CD:…`), when one was presented. */
  presented?: string;
  /** The pinned SHA-256 (`AB:CD:…`), for `pin-mismatch`. */
  expected?: string;
  /** Subject and issuer common names, the names it carries, and its validity end (ISO). */
  subject?: string;
  issuer?: string;
  names?: string[];
  validTo?: string;
  validFrom?: string;
  /** OpenSSL's verification code (`DEPTH_ZERO_SELF_SIGNED_CERT`, …). */
  verifyCode?: string;
}

/** Turns a failure into what to do about it (which settings to change, and how). */
export type TrustAdvice = (failure: TlsFailure) => string;

/** `AB:CD:…` or `abcd…` → 64 lower-case hex digits; undefined when it is not a SHA-256. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^sha256[:/=]?/i, '').replace(/[:\s]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** 64 hex digits → `AB:CD:…`, as `openssl x509 -fingerprint -sha256` and the simulator print it. */
export function displayFingerprint(text: string): string {
  const hex = normalizeFingerprint(text) ?? text;
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

const PROBLEM_OF_CODE: Record<string, TlsProblem> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-issuer',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-issuer',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-issuer',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-issuer',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname-mismatch',
};

export function problemOf(code: string | undefined): TlsProblem {
  return (code && PROBLEM_OF_CODE[code]) || 'rejected';
}

const CAUSE: Record<TlsProblem, (f: TlsFailure) => string> = {
  'self-signed': () => 'it is self-signed, and no pin or CA file trusts it',
  'unknown-issuer': (f) => `it was issued by ${f.issuer ? `"${f.issuer}"` : 'a CA'} that is not trusted here`,
  'pin-mismatch': (f) => `it is not the pinned certificate: expected SHA-256 ${f.expected ?? '?'}, received ${f.presented ?? '?'}`,
  'hostname-mismatch': (f) => `it does not name ${f.hostname}${f.names && f.names.length > 0 ? ` (it names ${f.names.slice(0, 4).join(', ')}${f.names.length > 4 ? ', …' : ''})` : ''}`,
  expired: (f) => `it expired${f.validTo ? ` on ${f.validTo}` : ''}`,
  'not-yet-valid': (f) => `it is not valid yet${f.validFrom ? ` (from ${f.validFrom})` : ''}: check the clocks`,
  rejected: (f) => `it was rejected${f.verifyCode ? ` (${f.verifyCode})` : ''}`,
};

/** The cause in words, without the fix. */
export function describeTlsFailure(f: TlsFailure): string {
  return CAUSE[f.problem](f);
}

/** Advice in terms of a generic client: the fix for a caller of PanosClient (the daemon passes its own, naming config keys). */
export const defaultTrustAdvice: TrustAdvice = (f) => {
  switch (f.problem) {
    case 'pin-mismatch':
      return `if the certificate was replaced on purpose, pin the new one (${f.presented}); otherwise something else answers at ${f.host}`;
    case 'hostname-mismatch':
      return 'connect with a name the certificate carries, or pin its fingerprint';
    case 'not-yet-valid':
      return 'correct the clock of this machine or of the device';
    default:
      return `give the CA that signed it (caFile), or pin its fingerprint${f.presented ? ` ${f.presented}` : ''}`;
  }
};

/**
 * A server certificate that was not trusted. Configuration, not a transient fault: `certificate` is true,
 * so nothing retries it, and nothing of the request (its key) was sent.
 */
export class TlsTrustError extends TransportError {
  override readonly code = 'TLS_UNTRUSTED';
  readonly problem: TlsProblem;
  readonly presented: string | undefined;
  readonly expected: string | undefined;
  /** What to do, with the exact command. */
  readonly fix: string;

  constructor(failure: TlsFailure, advice: TrustAdvice, options?: ErrorOptions) {
    super(failure.host, 'tls', false, { ...options, certificate: true });
    this.problem = failure.problem;
    this.presented = failure.presented;
    this.expected = failure.expected;
    this.fix = advice(failure);
    this.message = `${failure.host}: TLS certificate not trusted: ${describeTlsFailure(failure)}. ${this.fix}`;
  }
}

function commonName(name: string | Record<string, string | string[]> | undefined): string | undefined {
  if (!name || typeof name !== 'object') return undefined;
  const cn = name.CN ?? name.O;
  return Array.isArray(cn) ? cn[0] : cn;
}

function namesOf(cert: tls.PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^(DNS|IP Address):/, ''))
    .filter((s) => s !== '');
}

function isoDate(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}

/** The facts of a presented certificate, for a failure. */
export function failureOf(problem: TlsProblem, host: string, hostname: string, cert: tls.PeerCertificate | undefined, extra: Partial<TlsFailure> = {}): TlsFailure {
  const f: TlsFailure = { problem, host, hostname, ...extra };
  if (cert && cert.raw) {
    f.presented = new X509Certificate(cert.raw).fingerprint256;
    const subject = commonName(cert.subject as unknown as Record<string, string>);
    const issuer = commonName(cert.issuer as unknown as Record<string, string>);
    if (subject) f.subject = subject;
    if (issuer) f.issuer = issuer;
    f.names = namesOf(cert);
    const to = isoDate(cert.valid_to);
    const from = isoDate(cert.valid_from);
    if (to) f.validTo = to;
    if (from) f.validFrom = from;
  }
  return f;
}

export type TrustMode = { kind: 'pin'; pin: string } | { kind: 'verify'; ca?: Buffer | string };

/** The client context trusting the CA `ca` (PEM; the system's CAs when empty), made once per CA. */
const secureContextFor = boundedMemo(64, (ca: string): tls.SecureContext => tls.createSecureContext(ca === '' ? {} : { ca }));

/**
 * The client context trusting `ca` (the system's CAs without one), shared by every agent that trusts the
 * same: a daemon makes a client, and two agents, for each firewall it reaches directly, all with one CA
 * file, and reading that CA into a new context cost about 0.3 ms of CPU apiece.
 */
function sharedSecureContext(ca: Buffer | string | undefined): tls.SecureContext {
  return secureContextFor(ca === undefined ? '' : ca.toString());
}

/**
 * Decides trust on the handshake, before the socket is handed to the request, so not one byte of the
 * request (and its key) is written to a server that fails it, and a failure names its cause with the
 * certificate that was presented. With a pin, the fingerprint alone decides (self-signed lab devices);
 * otherwise the chain (system CAs, or the given CA) and the host name are verified as Node would.
 *
 * Sessions are resumed, but only those of a handshake this agent judged and trusted: a new connection
 * offers the latest such session, and a server that accepts it proves it holds that session's secret,
 * so the connection is as trusted as the one that made it (a resumed TLS 1.3 handshake carries no
 * certificate to judge again). A server that does not resume it (restarted, another server on the
 * address, the ticket expired) gets the full check. A session is forgotten when its connection fails
 * the check or ends in an error. Each mutating call opens a connection of its own (PanosClient's
 * fresh agent): resuming saves each of them the certificate's signature and its check, about half the
 * handshake's CPU on each side.
 */
export class TrustingAgent extends https.Agent {
  constructor(
    private readonly mode: TrustMode,
    private readonly host: string,
    private readonly advice: TrustAdvice,
    private readonly connectTimeoutMs: number,
    options: https.AgentOptions,
  ) {
    super({ ...options, ...(mode.kind === 'verify' && mode.ca ? { ca: mode.ca } : {}), rejectUnauthorized: false, maxCachedSessions: 0 });
    this.secureContext = sharedSecureContext(mode.kind === 'verify' && mode.ca ? mode.ca : undefined);
  }

  /** Made once per CA: `tls.connect` would build one (and read the CA) for every connection. */
  private readonly secureContext: tls.SecureContext;

  /** The latest session of a trusted handshake, per address and server name (an agent serves one host). */
  private readonly trustedSessions = new Map<string, Buffer>();

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | undefined {
    const hostname = String(options.host ?? options.hostname ?? '');
    const sessionKey = `${hostname}:${options.port ?? ''}:${(options as tls.ConnectionOptions).servername ?? ''}`;
    const offered = this.trustedSessions.get(sessionKey);
    const socket = tls.connect({
      ...(options as tls.ConnectionOptions),
      secureContext: this.secureContext,
      rejectUnauthorized: false,
      ...(offered ? { session: offered } : {}),
    });
    let trusted = false;
    /** A session the server sent before the check was done (TLS 1.2 sends it within the handshake). */
    let pending: Buffer | undefined;
    socket.on('session', (session: Buffer) => {
      if (trusted) this.rememberSession(sessionKey, session);
      else pending = session;
    });
    socket.once('close', (hadError: boolean) => {
      if (hadError) this.trustedSessions.delete(sessionKey);
    });
    const done = (err: Error | null) => callback?.(err, socket);
    const onError = (err: Error) => done(err);
    socket.once('error', onError);
    const connectTimedOut = () => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
    socket.setTimeout(options.timeout ?? this.connectTimeoutMs, connectTimedOut);
    socket.once('secureConnect', () => {
      socket.removeListener('error', onError);
      socket.setTimeout(0);
      // Only a session this agent offered can be resumed, and it offers only sessions it trusted.
      const resumed = offered !== undefined && socket.isSessionReused();
      const failure = resumed ? undefined : this.judge(socket, hostname);
      if (failure) {
        this.trustedSessions.delete(sessionKey);
        socket.destroy();
        done(new TlsTrustError(failure, this.advice));
        return;
      }
      trusted = true;
      if (pending) this.rememberSession(sessionKey, pending);
      done(null);
    });
    return undefined;
  }

  private rememberSession(key: string, session: Buffer): void {
    if (!this.trustedSessions.has(key) && this.trustedSessions.size >= 16) this.trustedSessions.clear();
    this.trustedSessions.set(key, session);
  }

  private judge(socket: tls.TLSSocket, hostname: string): TlsFailure | undefined {
    const cert = socket.getPeerCertificate();
    const hasCert = cert && Object.keys(cert).length > 0;
    if (this.mode.kind === 'pin') {
      const fp = hasCert ? normalizeFingerprint(cert.fingerprint256 ?? '') : undefined;
      if (fp === this.mode.pin) return undefined;
      return failureOf('pin-mismatch', this.host, hostname, hasCert ? cert : undefined, { expected: displayFingerprint(this.mode.pin) });
    }
    if (!socket.authorized) {
      const raw = socket.authorizationError as unknown;
      const code = typeof raw === 'string' ? raw : ((raw as { code?: string } | null)?.code ?? undefined);
      return failureOf(problemOf(code), this.host, hostname, hasCert ? cert : undefined, code ? { verifyCode: code } : {});
    }
    const identity = hasCert ? tls.checkServerIdentity(hostname, cert) : new Error('no certificate');
    if (identity) return failureOf('hostname-mismatch', this.host, hostname, hasCert ? cert : undefined, { verifyCode: (identity as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID' });
    return undefined;
  }
}

/** What a server presents, read without trusting it (trust on first use records it). */
export interface PresentedCertificate {
  fingerprint: string;
  subject?: string;
  issuer?: string;
  validTo?: string;
}

/**
 * Read the certificate a TLS server presents, and close: nothing is sent after the handshake. Rejects
 * with the connection's error, or `ETIMEDOUT` after `timeoutMs`.
 */
export function probeCertificate(host: string, port: number, timeoutMs: number): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: isIP(host) ? '' : host });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no TLS handshake within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      socket.destroy();
      if (!cert || !cert.raw) {
        reject(Object.assign(new Error('no certificate presented'), { code: 'ERR_TLS_NO_CERT' }));
        return;
      }
      const f = failureOf('rejected', `${host}:${port}`, host, cert);
      resolve({ fingerprint: f.presented!, ...(f.subject ? { subject: f.subject } : {}), ...(f.issuer ? { issuer: f.issuer } : {}), ...(f.validTo ? { validTo: f.validTo } : {}) });
    });
  });
}
