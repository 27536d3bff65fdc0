/**
 * The PAN-OS XML API client: POST form calls to `https://<host>/api/` (pan-python's shape), typed errors,
 * retries on transport faults only, never an automatic resend of a command that changes the device once
 * it may have reached it, an optional token-bucket rate limit, and a record of every call without secrets.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import {
  BadResponseError,
  DeviceNotConnectedError,
  DeviceUnreachableError,
  JobTimeoutError,
  PanosApiError,
  PanosAuthError,
  PanosJobFailedError,
  TransportError,
  ValidationError,
  type UnreachableReason,
} from './errors.ts';
import { renderOpCommand, type OpCommand } from './commands.ts';
import { escapeXml } from './xml.ts';
import { parseHost, type Endpoint } from './host.ts';
import { PollSchedule, STRETCH_FACTOR } from './poll-schedule.ts';
import { CallLanes, TokenBucket } from './call-lanes.ts';
export { normalizeFingerprint } from './tls-trust.ts';
import { defaultTrustAdvice, normalizeFingerprint, TlsTrustError, TrustingAgent, type TrustAdvice, type TrustMode } from './tls-trust.ts';
import {
  RESTART_TEXT,
  parseArp,
  parseChassisReady,
  parseContentInfo,
  parseDevices,
  parseDeviceGroups,
  parseDiskSpace,
  parseHaResultText,
  parseHaState,
  parseJob,
  parseJobEnqueued,
  parseJobsAll,
  parseKeygen,
  parseResponse,
  parseRestartResponse,
  parseRoutes,
  parseRoutingSummary,
  parseSessionInfo,
  parseSoftwareInfo,
  parseSystemInfo,
  type ArpTable,
  type ContentEntry,
  type DiskRow,
  type HaState,
  type ManagedDevice,
  type PanosAnswer,
  type PanosResponse,
  type ParsedJob,
  type RouteEntry,
  type RoutingSummary,
  type SessionInfo,
  type SoftwareInfo,
  type SystemInfo,
} from './parsers.ts';

/** What a call ended as, in `ApiCallRecord.outcome`. */
export type ApiCallOutcome = 'ok' | 'api-error' | 'auth-error' | 'unreachable' | 'bad-response' | 'aborted';

/** One HTTP attempt, as handed to `recorder`. Never holds the API key, the username or the password. */
export interface ApiCallRecord {
  /** ISO-8601, from the injected clock, when the attempt started. */
  at: string;
  host: string;
  target?: string;
  /** `op`, `keygen`, `config` (get). */
  type: string;
  /** Whether the call may change the device (reads, keygen and config get do not). */
  mutating: boolean;
  /** The `cmd` XML, truncated to 2000 characters; empty for keygen. */
  command: string;
  durationMs: number;
  /** 1 for the first attempt, 2 for the first retry… */
  attempt: number;
  httpStatus?: number;
  outcome: ApiCallOutcome;
  panosStatus?: 'success' | 'error';
  panosCode?: string;
  /** The body, truncated to 4000 characters; `[redacted]` for keygen. */
  response?: string;
  error?: string;
}

/** pino's `Logger` fits. */
export interface PanosClientLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface PanosClientOptions {
  /** `host`, `host:port`, `[v6]:port`. */
  host: string;
  protocol?: 'https' | 'http';
  apiKey?: string;
  /** With `password`, and no `apiKey`: the first call runs keygen. */
  username?: string;
  password?: string;
  /** PEM file of the CA that signed the device certificate. */
  caFile?: string;
  /** SHA-256 of the server certificate, `AB:CD:…` or plain hex; a self-signed certificate is accepted only when it matches. */
  fingerprint?: string;
  /** Accept any certificate (self-signed lab devices). Off by default: certificates are fully verified. */
  insecure?: boolean;
  /** What a certificate failure tells the user to do (the daemon names its config keys); default: generic advice. */
  trustAdvice?: TrustAdvice;
  /** Per call, default 30 s. */
  timeoutMs?: number;
  /** Attempts per call for retryable failures, default 4. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Token bucket shared by every call of this client (the per-Panorama limit). */
  requestsPerSecond?: number;
  /** Bucket size, default 1: calls are spaced evenly. */
  burst?: number;
  /** Connections per agent (default 8). */
  maxSockets?: number;
  /**
   * Calls on the wire at once that wait for each other (default `maxSockets`); the rest wait here, those
   * with `precedence` first. A call still unanswered after `slowCallMs` (default 1 s) stops counting.
   */
  callSlots?: number;
  slowCallMs?: number;
  recorder?: (call: ApiCallRecord) => void;
  logger?: PanosClientLogger;
  sleep?: SleepFn;
  now?: () => number;
  /** For backoff jitter, in [0, 1). */
  random?: () => number;
}

export interface CallOptions {
  /** Panorama: the serial of the managed firewall to proxy to. */
  target?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Overrides the client's `maxAttempts` (pollers use 1: they retry on their own schedule). */
  maxAttempts?: number;
  /** When all of the client's connections are busy, go before the calls without it (see CallLanes). */
  precedence?: boolean;
}

export interface OpOptions extends CallOptions {
  /** Whether the command changes the device; inferred from the command when absent (anything but `show` and check/info is). */
  mutating?: boolean;
}

export interface WaitForJobOptions {
  target?: string;
  /** Each poll's; see CallOptions.precedence. */
  precedence?: boolean;
  /** Default 2000. */
  intervalMs?: number;
  /** Default 30 min. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Each answer, with how long the look that brought it took (its round trip, queueing in this client included). */
  onProgress?: (job: ParsedJob, look: { ms: number }) => void;
  /**
   * Poll near when the job should be done instead of every `intervalMs` (panos/poll-schedule.ts): the
   * first poll after `expectedMs` (or `intervalMs` when nothing is expected), then as its reported progress
   * says, then backing off from `intervalMs`.
   */
  adaptive?: boolean;
  /** How long the job is expected to take in all (adaptive). */
  expectedMs?: number;
  /** How long ago the job began (adaptive; a wait resumed after a restart): default 0. */
  elapsedMs?: number;
}

/** `acknowledged` is false when the connection dropped after the request was sent (the device may be going down). */
export interface RestartResult {
  acknowledged: boolean;
  text?: string;
}

export interface HaChangeResult {
  text: string;
  state?: 'suspended' | 'functional';
}

export interface ContentList {
  current?: string;
  entries: ContentEntry[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const COMMAND_LIMIT = 2000;
const RESPONSE_LIMIT = 4000;
const REDACTED = '[redacted]';

/** Panorama's answer for a `target` that is down (simulator wording: `Device <serial> is not connected to Panorama`). */
const NOT_CONNECTED = /not connected|not\s.*attached/i;
/** A direct device whose management plane is still starting (§11). */
const NOT_READY = /transport endpoint is not connected/i;
const CERT_CODES = /CERT|SELF_SIGNED|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID/;

/** Sleep that rejects with `signal.reason` when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Commands that read: `show …` and the check/info requests. Everything else is treated as changing the device. */
const READ_REQUESTS = [
  /^<request>\s*<system>\s*<software>\s*<(check|info)\s*\/?>/,
  /^<request>\s*<content>\s*<upgrade>\s*<(check|info)\s*\/?>/,
  /^<request>\s*<license>\s*<info\s*\/?>/,
  /^<request>\s*<support>\s*<check\s*\/?>/,
  /^<check>\s*<(pending-changes|full-commit-required)\s*\/?>/,
];

/** Whether an op command changes the device (and so is never resent once it may have arrived). */
export function isMutatingCommand(cmd: string): boolean {
  const c = cmd.trim();
  if (/^<show[\s/>]/.test(c)) return false;
  return !READ_REQUESTS.some((re) => re.test(c));
}

export function transportReason(code: string | undefined): UnreachableReason {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return 'reset';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return 'timeout';
    case 'EMFILE':
    case 'ENFILE':
    case 'ENOBUFS':
    case 'ENOMEM':
      return 'local';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return 'dns';
    default:
      if (code !== undefined && (CERT_CODES.test(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO')) {
        return 'tls';
      }
      return 'network';
  }
}

interface Exchange {
  status: number;
  body: string;
}

interface CallSpec {
  type: 'op' | 'keygen' | 'config';
  params: [string, string][];
  command: string;
  mutating: boolean;
  /** A status="error" answer that is a success for this command (restart's "Command succeeded with no output"). */
  accept?: (res: PanosResponse) => boolean;
}

interface Reply {
  body: string;
  response: PanosResponse;
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…[${s.length - n} more]` : s);

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Failures a poller waits out: the device is busy, rebooting, or its API is not up yet. */
export function isTransientError(err: unknown): boolean {
  if (err instanceof TransportError) return !err.certificate;
  return err instanceof DeviceUnreachableError || err instanceof BadResponseError || err instanceof PanosAuthError;
}

/** Throws PanosJobFailedError, with the job's detail lines, unless the job finished OK. */
export function expectJobOk(job: ParsedJob): ParsedJob {
  if (!job.ok) {
    const details = job.details.length > 0 || job.finished ? job.details : [`job not finished (status ${job.status})`];
    throw new PanosJobFailedError(String(job.id ?? '?'), job.type || 'unknown', details);
  }
  return job;
}

/**
 * @example
 * const pano = new PanosClient({ host: 'panorama.example:443', apiKey, fingerprint: 'AB:CD:…', requestsPerSecond: 5 });
 * const jobId = await pano.download('11.1.4', { target: '0079…', syncToPeer: false });
 * expectJobOk(await pano.waitForJob(jobId, { target: '0079…' }));
 */
export class PanosClient {
  /** As given: `host` or `host:port`; used in records, logs and error messages. */
  readonly host: string;
  readonly protocol: 'https' | 'http';
  private readonly endpoint: Endpoint;
  private apiKey: string | undefined;
  private readonly username: string | undefined;
  private readonly password: string | undefined;
  private keyPromise: Promise<string> | undefined;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  /** Reused connections for reads. */
  private readonly agent: http.Agent;
  /** A fresh connection per mutating call, so a stale pooled socket can never swallow one. */
  private readonly freshAgent: http.Agent;
  private readonly limiter: TokenBucket | undefined;
  /** Who goes next when `callSlots` calls are on the wire (CallLanes); the rest wait here, not in an agent's queue. */
  private readonly lanes: CallLanes;
  private readonly recorder: ((call: ApiCallRecord) => void) | undefined;
  private readonly logger: PanosClientLogger | undefined;
  private readonly sleepFn: SleepFn;
  private readonly now: () => number;
  private readonly random: () => number;
  /** The secrets' forms to scrub, for the key they were made with. */
  private secretForms: { key: string | undefined; forms: string[] } | undefined;

  constructor(options: PanosClientOptions) {
    this.protocol = options.protocol ?? 'https';
    if (this.protocol !== 'https' && this.protocol !== 'http') throw new ValidationError(`protocol must be https or http`, 'protocol');
    this.host = options.host.trim();
    this.endpoint = parseHost(this.host, this.protocol === 'https' ? 443 : 80);
    this.apiKey = options.apiKey || undefined;
    this.username = options.username;
    this.password = options.password;
    if (!this.apiKey && !(this.username && this.password)) {
      throw new ValidationError('an apiKey, or a username and password, is required', 'apiKey');
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 10_000;
    this.recorder = options.recorder;
    this.logger = options.logger;
    this.sleepFn = options.sleep ?? sleep;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    if (options.requestsPerSecond !== undefined) {
      if (!(options.requestsPerSecond > 0)) throw new ValidationError('requestsPerSecond must be positive', 'requestsPerSecond');
      this.limiter = new TokenBucket(options.requestsPerSecond, Math.max(1, options.burst ?? 1), this.now, this.sleepFn);
    }
    const maxSockets = options.maxSockets ?? 8;
    this.lanes = new CallLanes(Math.min(maxSockets, options.callSlots ?? maxSockets), options.slowCallMs ?? 1000);
    if (this.protocol === 'http') {
      if (options.caFile || options.fingerprint || options.insecure) throw new ValidationError('TLS options need protocol https', 'protocol');
      this.agent = new http.Agent({ keepAlive: true, maxSockets });
      this.freshAgent = new http.Agent({ keepAlive: false, maxSockets });
      return;
    }
    const modes = [options.fingerprint !== undefined, options.insecure === true].filter(Boolean).length;
    if (modes > 1 || (options.caFile && options.insecure)) {
      throw new ValidationError('choose one of fingerprint, insecure, or caFile', 'fingerprint');
    }
    if (options.insecure) {
      this.agent = new https.Agent({ keepAlive: true, maxSockets, rejectUnauthorized: false });
      this.freshAgent = new https.Agent({ keepAlive: false, maxSockets, rejectUnauthorized: false });
      return;
    }
    let mode: TrustMode;
    if (options.fingerprint !== undefined) {
      const pin = normalizeFingerprint(options.fingerprint);
      if (!pin) throw new ValidationError('fingerprint must be a SHA-256 in hex (64 digits, colons allowed)', 'fingerprint');
      mode = { kind: 'pin', pin };
    } else {
      mode = { kind: 'verify', ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}) };
    }
    const advice = options.trustAdvice ?? defaultTrustAdvice;
    this.agent = new TrustingAgent(mode, this.host, advice, this.timeoutMs, { keepAlive: true, maxSockets });
    this.freshAgent = new TrustingAgent(mode, this.host, advice, this.timeoutMs, { keepAlive: false, maxSockets });
  }

  /** Close pooled connections. */
  close(): void {
    this.agent.destroy();
    this.freshAgent.destroy();
  }

  // ---- auth ----

  /** Run `type=keygen` with the configured username and password; the key is kept for later calls and returned. */
  async keygen(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
    if (!this.username || !this.password) throw new ValidationError('keygen needs a username and password', 'username');
    const reply = await this.call(
      {
        type: 'keygen',
        params: [
          ['type', 'keygen'],
          ['user', this.username],
          ['password', this.password],
        ],
        command: '',
        mutating: false,
      },
      opts,
    );
    const key = this.parseWith(parseKeygen, reply.response, this.host);
    this.apiKey = key;
    return key;
  }

  /** `type=config&action=get` of one xpath: the raw XML of a success answer. Never changes the device. */
  async configGet(xpath: string, opts: CallOptions = {}): Promise<string> {
    return (await this.configGetReply(xpath, opts)).body;
  }

  /** As `configGet`, the answer as parsed to check it (the parsers take it as it is: no second parse). */
  async configGetAnswer(xpath: string, opts: CallOptions = {}): Promise<PanosResponse> {
    return (await this.configGetReply(xpath, opts)).response;
  }

  private configGetReply(xpath: string, opts: CallOptions) {
    const params: [string, string][] = [
      ['type', 'config'],
      ['action', 'get'],
      ['xpath', xpath],
    ];
    if (opts.target !== undefined) params.push(['target', opts.target]);
    return this.call({ type: 'config', params, command: xpath, mutating: false }, opts);
  }

  private async ensureKey(signal?: AbortSignal): Promise<string> {
    if (this.apiKey) return this.apiKey;
    // One keygen for every call waiting on it.
    this.keyPromise ??= this.keygen().finally(() => {
      this.keyPromise = undefined;
    });
    return raceAbort(this.keyPromise, signal);
  }

  // ---- generic op ----

  /** Any op command; returns the raw XML of a success answer (feed it to a parser from parsers.ts). */
  async op(cmd: string, opts: OpOptions = {}): Promise<string> {
    const reply = await this.opCall(cmd, opts, opts.mutating ?? isMutatingCommand(cmd));
    return reply.body;
  }

  /** As `op`, the answer as parsed to check it (the parsers take it as it is: no second parse). */
  async opAnswer(cmd: string, opts: OpOptions = {}): Promise<PanosResponse> {
    const reply = await this.opCall(cmd, opts, opts.mutating ?? isMutatingCommand(cmd));
    return reply.response;
  }

  private opCall(cmd: string, opts: CallOptions, mutating: boolean, accept?: (res: PanosResponse) => boolean): Promise<Reply> {
    const params: [string, string][] = [
      ['type', 'op'],
      ['cmd', cmd],
    ];
    if (opts.target !== undefined) params.push(['target', opts.target]);
    return this.call({ type: 'op', params, command: cmd, mutating, ...(accept ? { accept } : {}) }, opts);
  }

  private async typed<T>(command: OpCommand | string, opts: CallOptions, parse: (xml: PanosAnswer) => T, mutating = false): Promise<T> {
    const cmd = typeof command === 'string' ? command : renderOpCommand(command);
    const reply = await this.opCall(cmd, opts, mutating);
    // The envelope `interpret` parsed: each answer is parsed once, not once more by the typed reader.
    return this.parseWith(parse, reply.response, opts.target ?? this.host);
  }

  /** Parsers name the device `device`; name it properly. */
  private parseWith<T>(parse: (xml: PanosAnswer) => T, xml: PanosAnswer, who: string): T {
    try {
      return parse(xml);
    } catch (err) {
      if (err instanceof BadResponseError) throw new BadResponseError(who, err.reason);
      throw err;
    }
  }

  // ---- typed reads ----

  systemInfo(opts: CallOptions = {}): Promise<SystemInfo> {
    return this.typed({ kind: 'show.system.info' }, opts, parseSystemInfo);
  }

  haState(opts: CallOptions = {}): Promise<HaState> {
    return this.typed({ kind: 'show.high-availability.state' }, opts, parseHaState);
  }

  sessionInfo(opts: CallOptions = {}): Promise<SessionInfo> {
    return this.typed({ kind: 'show.session.info' }, opts, parseSessionInfo);
  }

  routes(opts: CallOptions & { virtualRouter?: string } = {}): Promise<{ count: number; entries: RouteEntry[] }> {
    const cmd: OpCommand = { kind: 'show.routing.route', ...(opts.virtualRouter !== undefined ? { virtualRouter: opts.virtualRouter } : {}) };
    return this.typed(cmd, opts, parseRoutes);
  }

  routingSummary(opts: CallOptions = {}): Promise<RoutingSummary> {
    return this.typed({ kind: 'show.routing.summary' }, opts, parseRoutingSummary);
  }

  arp(opts: CallOptions = {}): Promise<ArpTable> {
    return this.typed({ kind: 'show.arp.entry', name: 'all' }, opts, parseArp);
  }

  diskSpace(opts: CallOptions = {}): Promise<DiskRow[]> {
    return this.typed({ kind: 'show.system.disk-space' }, opts, parseDiskSpace);
  }

  /** `request system software check`: asks the update server and refreshes the list. */
  softwareCheck(opts: CallOptions = {}): Promise<SoftwareInfo> {
    return this.typed({ kind: 'request.system.software.check' }, opts, parseSoftwareInfo);
  }

  /** `request system software info`: the cached list, no network. */
  softwareInfo(opts: CallOptions = {}): Promise<SoftwareInfo> {
    return this.typed({ kind: 'request.system.software.info' }, opts, parseSoftwareInfo);
  }

  job(id: number | string, opts: CallOptions = {}): Promise<ParsedJob> {
    const n = Number(id);
    if (!Number.isSafeInteger(n)) return Promise.reject(new ValidationError(`job id must be an integer: ${String(id)}`, 'id'));
    return this.typed({ kind: 'show.jobs.id', id: n }, opts, parseJob);
  }

  /** Newest first, as PAN-OS lists them. */
  jobsAll(opts: CallOptions = {}): Promise<ParsedJob[]> {
    return this.typed({ kind: 'show.jobs.all' }, opts, parseJobsAll);
  }

  chassisReady(opts: CallOptions = {}): Promise<boolean> {
    return this.typed({ kind: 'show.chassis-ready' }, opts, parseChassisReady);
  }

  contentCheck(opts: CallOptions = {}): Promise<ContentList> {
    return this.typed({ kind: 'request.content.upgrade.check' }, opts, parseContentInfo);
  }

  contentInfo(opts: CallOptions = {}): Promise<ContentList> {
    return this.typed({ kind: 'request.content.upgrade.info' }, opts, parseContentInfo);
  }

  /** Panorama: connected firewalls. */
  devicesConnected(opts: CallOptions = {}): Promise<ManagedDevice[]> {
    return this.typed({ kind: 'show.devices.connected' }, opts, parseDevices);
  }

  /** Panorama: every managed firewall, connected or not. */
  devicesAll(opts: CallOptions = {}): Promise<ManagedDevice[]> {
    return this.typed({ kind: 'show.devices.all' }, opts, parseDevices);
  }

  /** Panorama: each firewall's device group (`show devicegroups`), serial → group; a firewall in no group is absent. */
  deviceGroups(opts: CallOptions = {}): Promise<Map<string, string>> {
    return this.typed({ kind: 'show.devicegroups' }, opts, parseDeviceGroups);
  }

  // ---- mutating: never resent once they may have reached the device ----

  haSuspend(opts: CallOptions = {}): Promise<HaChangeResult> {
    return this.typed({ kind: 'request.high-availability.state.suspend' }, opts, parseHaResultText, true);
  }

  haFunctional(opts: CallOptions = {}): Promise<HaChangeResult> {
    return this.typed({ kind: 'request.high-availability.state.functional' }, opts, parseHaResultText, true);
  }

  /** Returns the PAN-OS job id. */
  download(version: string, opts: CallOptions & { syncToPeer?: boolean } = {}): Promise<number> {
    const cmd: OpCommand = { kind: 'request.system.software.download', version, syncToPeer: opts.syncToPeer ?? false };
    return this.typed(cmd, opts, (xml) => parseJobEnqueued(xml).jobId, true);
  }

  /** Returns the PAN-OS job id. */
  install(version: string, opts: CallOptions = {}): Promise<number> {
    return this.typed({ kind: 'request.system.software.install', version }, opts, (xml) => parseJobEnqueued(xml).jobId, true);
  }

  /** Returns the PAN-OS job id. */
  contentDownloadLatest(opts: CallOptions & { syncToPeer?: boolean } = {}): Promise<number> {
    const cmd: OpCommand = { kind: 'request.content.upgrade.download', ...(opts.syncToPeer !== undefined ? { syncToPeer: opts.syncToPeer } : {}) };
    return this.typed(cmd, opts, (xml) => parseJobEnqueued(xml).jobId, true);
  }

  /** Returns the PAN-OS job id. `commit` and `syncToPeer` are sent only when given (DOC91 sends neither). */
  contentInstall(version = 'latest', opts: CallOptions & { commit?: boolean; syncToPeer?: boolean } = {}): Promise<number> {
    const yn = (b: boolean) => (b ? 'yes' : 'no');
    const inner =
      (opts.commit !== undefined ? `<commit>${yn(opts.commit)}</commit>` : '') +
      (opts.syncToPeer !== undefined ? `<sync-to-peer>${yn(opts.syncToPeer)}</sync-to-peer>` : '') +
      `<version>${version.replace(/[<>&'"]/g, '')}</version>`;
    const cmd = `<request><content><upgrade><install>${inner}</install></upgrade></content></request>`;
    return this.typed(cmd, opts, (xml) => parseJobEnqueued(xml).jobId, true);
  }

  /**
   * `request restart system`. Both answer forms of "Command succeeded with no output" are acknowledged; a
   * connection dropped (reset, timeout) after the request went out is `{ acknowledged: false }`: the
   * device probably got it, and waitForReboot will tell.
   */
  async restart(opts: CallOptions = {}): Promise<RestartResult> {
    const accept = (res: PanosResponse) => res.lines.some((l) => l.trim().startsWith(RESTART_TEXT));
    try {
      const reply = await this.opCall(renderOpCommand({ kind: 'request.restart.system' }), opts, true, accept);
      return { acknowledged: true, text: parseRestartResponse(reply.response) };
    } catch (err) {
      if (err instanceof TransportError && err.requestSent && (err.reason === 'reset' || err.reason === 'timeout')) {
        return { acknowledged: false };
      }
      throw err;
    }
  }

  // ---- jobs ----

  /**
   * Poll `show jobs id` until FIN and return the job (check it with expectJobOk). Transport errors, odd
   * bodies, 403s and Panorama's not-connected are waited out until `timeoutMs`, then JobTimeoutError.
   */
  async waitForJob(id: number | string, opts: WaitForJobOptions = {}): Promise<ParsedJob> {
    const intervalMs = opts.intervalMs ?? 2000;
    const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
    const start = this.now();
    // A job that began before a restart (elapsedMs ago) has its timeout counted from when it began.
    const origin = start - (opts.elapsedMs ?? 0);
    // However late the resume, a short last window of looks (each with its whole request timeout): the job
    // may have finished while nobody watched, and one look may meet a transient error.
    const deadline = Math.max(origin + timeoutMs, opts.elapsedMs ? start + 2 * intervalMs + this.timeoutMs : 0);
    let last: ParsedJob | undefined;
    let lastError: unknown;
    const schedule = opts.adaptive ? new PollSchedule(intervalMs, opts.expectedMs) : undefined;
    if (schedule) {
      // Nothing to see right after the enqueue: the first look is when the job may be done.
      const first = Math.min(deadline - this.now(), opts.expectedMs !== undefined ? Math.min(opts.expectedMs - (start - origin), intervalMs * STRETCH_FACTOR) : intervalMs);
      if (first > 0) await this.sleepFn(first, opts.signal);
    }
    for (;;) {
      const remaining = deadline - this.now();
      if (remaining <= 0) {
        throw new JobTimeoutError(String(id), this.now() - origin, last?.status, lastError !== undefined ? { cause: lastError } : undefined);
      }
      try {
        const lookedAt = this.now();
        const job = await this.job(id, {
          ...(opts.target !== undefined ? { target: opts.target } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.precedence ? { precedence: true } : {}),
          maxAttempts: 1,
          timeoutMs: Math.min(this.timeoutMs, remaining),
        });
        last = job;
        opts.onProgress?.(job, { ms: this.now() - lookedAt });
        if (job.finished) return job;
        schedule?.observe(this.now() - origin, job.progress);
      } catch (err) {
        if (!isTransientError(err)) throw err;
        lastError = err;
      }
      const wait = Math.min(schedule ? schedule.next(this.now() - origin) : intervalMs, deadline - this.now());
      if (wait > 0) await this.sleepFn(wait, opts.signal);
    }
  }

  // ---- transport ----

  /**
   * Each secret as it can come back in an answer: as sent, URL-encoded (as in our form, with `+` for a
   * space, or with lower-case escapes) and XML-escaped (a device that echoes a value in its XML).
   */
  private secrets(): string[] {
    // Made again only when the key changes (after a keygen): every call scrubs its record.
    const made = this.secretForms;
    if (made && made.key === this.apiKey) return made.forms;
    const out = new Set<string>();
    for (const s of [this.apiKey, this.password]) {
      // Very short values would blank out ordinary text; real keys and passwords are longer.
      if (!s || s.length < 4) continue;
      const enc = encodeURIComponent(s);
      for (const form of [s, enc, enc.replace(/%20/g, '+'), enc.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()), escapeXml(s)]) out.add(form);
    }
    const forms = [...out];
    this.secretForms = { key: this.apiKey, forms };
    return forms;
  }

  /** Scrub before truncating, so no prefix of a secret survives at a cut. */
  private scrub(text: string): string {
    let t = text;
    for (const s of this.secrets()) t = t.split(s).join(REDACTED);
    return t;
  }

  /**
   * `truncate(scrub(text), limit)` without scrubbing what the cut drops: a route table is a megabyte, its
   * record keeps 4,000 characters. Every secret that starts before the cut ends within `limit` plus the
   * longest secret, so that much is scrubbed; the count of characters left out is of the text as received.
   */
  private scrubbedHead(text: string, limit: number): string {
    const longest = Math.max(0, ...this.secrets().map((s) => s.length));
    // A secret the window cuts is not scrubbed, so it must lie past the cut: after the replacements have
    // shortened what comes before it, the scrubbed window must still reach `longest` beyond `limit`.
    for (let end = limit + longest; ; ) {
      if (text.length <= end) return truncate(this.scrub(text), limit);
      const head = this.scrub(text.slice(0, end));
      if (head.length >= limit + longest) return `${head.slice(0, limit)}…[${text.length - limit} more]`;
      end += limit + longest - head.length;
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private retryable(err: unknown, mutating: boolean): boolean {
    if (err instanceof TransportError) {
      if (err.certificate) return false;
      // Refused, DNS, a failed handshake: the device never saw the request, so even a mutating command may go again.
      return !mutating || !err.requestSent;
    }
    return err instanceof BadResponseError && !mutating;
  }

  private async call(spec: CallSpec, opts: CallOptions): Promise<Reply> {
    const maxAttempts = Math.max(1, opts.maxAttempts ?? this.maxAttempts);
    // keygen retries on its own; a failed keygen fails the call.
    const key = spec.type === 'keygen' ? undefined : await this.ensureKey(opts.signal);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(spec, opts, attempt, key);
      } catch (err) {
        if (err instanceof TlsTrustError) this.logger?.warn({ host: this.host, target: opts.target, problem: err.problem, presented: err.presented, expected: err.expected }, err.message);
        if (opts.signal?.aborted || attempt >= maxAttempts || !this.retryable(err, spec.mutating)) throw err;
        const delayMs = this.backoff(attempt);
        this.logger?.warn(
          { host: this.host, target: opts.target, type: spec.type, attempt, delayMs, error: this.scrub(errorText(err)) },
          'panos call failed, retrying',
        );
        await this.sleepFn(delayMs, opts.signal);
      }
    }
  }

  private async attempt(spec: CallSpec, opts: CallOptions, attempt: number, key: string | undefined): Promise<Reply> {
    const slot = await this.lanes.enter(opts.precedence === true, opts.signal);
    try {
      await this.limiter?.take(opts.precedence === true, opts.signal);
    } catch (err) {
      slot.leave();
      throw err;
    }
    slot.sent();
    const startedAt = this.now();
    const record: ApiCallRecord = {
      at: new Date(startedAt).toISOString(),
      host: this.host,
      ...(opts.target !== undefined ? { target: opts.target } : {}),
      type: spec.type,
      command: truncate(this.scrub(spec.command), COMMAND_LIMIT),
      mutating: spec.mutating,
      durationMs: 0,
      attempt,
      outcome: 'ok',
    };
    const params = key !== undefined ? [...spec.params, ['key', key] as [string, string]] : spec.params;
    const form = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    let exchange: Exchange | undefined;
    try {
      try {
        exchange = await this.exchange(form, opts.timeoutMs ?? this.timeoutMs, opts.signal, spec.mutating);
      } finally {
        slot.leave();
      }
      record.httpStatus = exchange.status;
      record.response = spec.type === 'keygen' ? REDACTED : this.scrubbedHead(exchange.body, RESPONSE_LIMIT);
      const response = this.interpret(exchange, spec, opts.target, record);
      return { body: exchange.body, response };
    } catch (err) {
      record.outcome = outcomeOf(err, opts.signal);
      record.error = this.scrub(errorText(err));
      throw err;
    } finally {
      record.durationMs = this.now() - startedAt;
      this.emit(record);
    }
  }

  private emit(record: ApiCallRecord): void {
    const { host, target, type, attempt, outcome, durationMs, httpStatus } = record;
    this.logger?.debug({ host, target, type, attempt, outcome, durationMs, httpStatus }, 'panos call');
    if (!this.recorder) return;
    try {
      this.recorder(record);
    } catch (err) {
      // A broken recorder must not break the call it records.
      this.logger?.warn({ error: errorText(err) }, 'panos call recorder threw');
    }
  }

  /** Turn an HTTP answer into a PAN-OS response, or the typed error it stands for. */
  private interpret(ex: Exchange, spec: CallSpec, target: string | undefined, record: ApiCallRecord): PanosResponse {
    let res: PanosResponse | undefined;
    let parseError: unknown;
    try {
      res = parseResponse(ex.body);
      record.panosStatus = res.status;
      if (res.code !== undefined) record.panosCode = res.code;
    } catch (err) {
      parseError = err;
    }
    // pan-python's urllib raises on 403 before reading the body: the status alone decides.
    if (ex.status === 403 || ex.status === 401) throw new PanosAuthError();
    if (ex.status >= 500) throw new TransportError(this.host, 'http-5xx', true, { httpStatus: ex.status });
    if (res === undefined) {
      if (parseError instanceof BadResponseError) {
        // The parser quotes the start of a non-XML answer: a proxy that echoes the form would quote secrets.
        const reason = parseError.reason.startsWith('non-XML text') ? `non-XML text ${JSON.stringify(this.scrubbedHead(ex.body.trim(), 40))}` : this.scrub(parseError.reason);
        throw new BadResponseError(this.host, ex.status === 200 ? reason : `HTTP ${ex.status} and ${reason}`);
      }
      throw parseError;
    }
    if (res.status === 'success' || spec.accept?.(res)) return res;
    const lines = res.lines.map((l) => this.scrub(l));
    if (res.code === '403' || lines.some((l) => /^\s*invalid credential/i.test(l))) {
      throw new PanosAuthError(lines[0]?.trim() || undefined);
    }
    if (target !== undefined && lines.some((l) => NOT_CONNECTED.test(l))) throw new DeviceNotConnectedError(target, lines);
    if (target === undefined && lines.some((l) => NOT_READY.test(l))) throw new DeviceUnreachableError(this.host, 'not-ready');
    throw new PanosApiError(res.code, lines, ex.status);
  }

  /** One POST. Rejects with TransportError (with `requestSent`) or the signal's reason. */
  private exchange(form: string, timeoutMs: number, signal: AbortSignal | undefined, fresh: boolean): Promise<Exchange> {
    const isTls = this.protocol === 'https';
    return new Promise<Exchange>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let sent = false;
      let settled = false;
      const finish = (err: unknown, value?: Exchange) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          req.destroy();
          reject(err);
        } else resolve(value!);
      };
      const fail = (err: NodeJS.ErrnoException) => {
        const reason = transportReason(err.code);
        if (err instanceof TlsTrustError) {
          finish(err);
          return;
        }
        const certificate = reason === 'tls' && CERT_CODES.test(err.code ?? '');
        // A handshake failure happens before the request is written.
        const requestSent = reason === 'refused' || reason === 'dns' || reason === 'tls' ? false : sent;
        finish(new TransportError(this.host, reason, requestSent, { cause: err, certificate }));
      };
      const onAbort = () => finish(signal?.reason ?? new Error('aborted'));
      const timer = setTimeout(() => {
        finish(new TransportError(this.host, 'timeout', sent, { cause: new Error(`no answer within ${timeoutMs} ms`) }));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      const requestOptions: https.RequestOptions = {
        host: this.endpoint.hostname,
        port: this.endpoint.port,
        path: '/api/',
        method: 'POST',
        agent: fresh ? this.freshAgent : this.agent,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(form),
          Accept: 'application/xml, text/xml, */*',
          'User-Agent': 'panos-upgrade',
        },
      };
      // No SNI for IP literals (RFC 6066).
      if (isTls && isIP(this.endpoint.hostname)) requestOptions.servername = '';
      const req = (isTls ? https : http).request(requestOptions);
      req.on('socket', (socket) => {
        if (socket.connecting) socket.once(isTls ? 'secureConnect' : 'connect', () => (sent = true));
        else sent = true;
      });
      req.on('error', (err: NodeJS.ErrnoException) => fail(err));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            finish(new BadResponseError(this.host, `a body over ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err: NodeJS.ErrnoException) => fail(Object.assign(err, { code: err.code ?? 'ECONNRESET' })));
        res.on('close', () => {
          if (!res.complete) fail(Object.assign(new Error('connection closed mid-answer'), { code: 'ECONNRESET' }));
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.end(form);
    });
  }
}

function outcomeOf(err: unknown, signal: AbortSignal | undefined): ApiCallOutcome {
  if (err instanceof PanosAuthError) return 'auth-error';
  if (err instanceof DeviceUnreachableError) return 'unreachable';
  if (err instanceof BadResponseError) return 'bad-response';
  if (err instanceof PanosApiError) return 'api-error';
  if (signal?.aborted) return 'aborted';
  return 'unreachable';
}
