import type { Command } from 'commander';
import { globalOptions } from './options.ts';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  hasNatsAuth,
  isAuthorizationFailure,
  mergeNatsAuth,
  natsAuthFromEnv,
  natsConnectionOptions,
  NatsAuthorizationError,
  NatsUrlError,
  natsUrlProblem,
  NoResponderError,
  requestJson,
  Subjects,
  type CommandName,
  type NatsAuth,
} from '../bus/index.ts';
import { PanosUpgradeError } from '../panos/errors.ts';
import { dataDirPath, subjectPrefix } from './data-dir.ts';
import { readDaemonFile } from './daemon-file.ts';

/** Where the CLI looks for NATS, and why (for the message when nothing answers there). */
export type NatsLocation =
  | { url: string; source: string; prefix: string; auth?: NatsAuth; authSource?: string }
  | { url: undefined; why: string; prefix: string };

/** Credentials given to this command: `--nats-creds`/`--nats-nkey`/`--nats-user` over the NATS_* variables. */
function givenAuth(options: NatsCliOptions): { auth: NatsAuth; source: string } | undefined {
  const fromOptions: NatsAuth = {
    ...(options.natsCreds ? { credsFile: options.natsCreds } : {}),
    ...(options.natsNkey ? { nkeyFile: options.natsNkey } : {}),
    ...(options.natsUser ? { user: options.natsUser } : {}),
  };
  const fromEnv = natsAuthFromEnv();
  if (!hasNatsAuth(fromOptions) && !hasNatsAuth(fromEnv)) return undefined;
  return { auth: mergeNatsAuth(fromEnv, fromOptions), source: hasNatsAuth(fromOptions) ? 'the --nats-* options' : 'the NATS_* variables' };
}

interface NatsCliOptions {
  natsUrl?: string;
  dataDir?: string;
  natsCreds?: string;
  natsNkey?: string;
  natsUser?: string;
}

/**
 * `--nats-url`, else `NATS_URL`, else the URL the running daemon wrote to `<data-dir>/daemon.json`
 * (the daemon may run its own private nats-server on a random port).
 */
export function locateNats(options: NatsCliOptions): NatsLocation {
  const given = givenAuth(options);
  const withAuth = given ? { auth: given.auth, authSource: given.source } : {};
  if (options.natsUrl) return { url: options.natsUrl, source: '--nats-url', prefix: subjectPrefix(), ...withAuth };
  if (process.env.NATS_URL) return { url: process.env.NATS_URL, source: 'NATS_URL', prefix: subjectPrefix(), ...withAuth };
  const dataDir = dataDirPath(options.dataDir);
  const read = readDaemonFile(dataDir);
  const prefix = (process.env.PANOS_SUBJECT_PREFIX ? subjectPrefix() : undefined) || (read.state === 'running' ? read.info.subjectPrefix : undefined) || 'panos';
  switch (read.state) {
    case 'running': {
      // The private server's operator seed, found as the URL is: by its file name, never the seed itself.
      const operator = read.info.natsUsers?.operator;
      const auth = given ? withAuth : operator ? { auth: { nkeyFile: operator }, authSource: `${read.file} (the operator user)` } : {};
      return { url: read.info.natsUrl, source: read.file, prefix, ...auth };
    }
    case 'stale':
      return { url: undefined, prefix, why: `${read.file} names pid ${read.info.pid}, which is not running (the daemon did not exit cleanly)` };
    case 'unreadable':
      return { url: undefined, prefix, why: `${read.file} cannot be read (${read.reason})` };
    case 'missing':
      return { url: undefined, prefix, why: `no --nats-url, no NATS_URL, and no daemon.json in ${dataDir}` };
  }
}

/** Nobody serves the daemon's commands where the CLI looked (exit 1, with how to start one). */
export class NoDaemonError extends PanosUpgradeError {
  constructor(readonly subject: string, readonly why: string, options?: ErrorOptions) {
    super('NO_DAEMON', `no daemon is answering on ${subject}. Start it with: panos-upgrade daemon`, options);
  }
}

/** How long each command may take: discovery and queueing a whole fleet are slow on a big one. */
const TIMEOUTS_MS: Partial<Record<CommandName, number>> = {
  'device.discover': 180_000,
  'download.queue-all': 600_000,
  'job.submit': 120_000,
  'job.cancel': 60_000,
};
const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * The CLI's side of the daemon's NATS API: every command that acts or reads daemon state is one
 * `requestJson` on `panos.cmd.<name>`; live views subscribe to `panos.evt.job.…`.
 */
export class DaemonClient {
  readonly subjects: Subjects;
  private nc: NatsConnection | undefined;
  private connecting: Promise<NatsConnection> | undefined;

  constructor(readonly location: NatsLocation) {
    this.subjects = new Subjects(location.prefix);
  }

  static fromOptions(options: NatsCliOptions): DaemonClient {
    return new DaemonClient(locateNats(options));
  }

  private where(): string {
    const l = this.location;
    return l.url === undefined ? l.why : `looked on ${l.url} (from ${l.source}) with subject prefix "${l.prefix}"`;
  }

  /** Connect on first use; `subject` names what we wanted, for the error. */
  async connection(subject: string): Promise<NatsConnection> {
    if (this.nc) return this.nc;
    const url = this.location.url;
    if (url === undefined) throw new NoDaemonError(subject, this.where());
    // Before anything repeats it (this error's hints, the connect error): a URL with a password in it.
    const problem = natsUrlProblem(url);
    if (problem) throw new NatsUrlError(problem);
    const auth = this.location.auth;
    this.connecting ??= connect({ servers: url, name: 'panos-upgrade cli', timeout: 3_000, maxReconnectAttempts: -1, reconnectTimeWait: 250, ...natsConnectionOptions(auth) });
    try {
      this.nc = await this.connecting;
      return this.nc;
    } catch (err) {
      this.connecting = undefined;
      if (isAuthorizationFailure(err)) throw new NatsAuthorizationError(url, { cause: err });
      throw new NoDaemonError(subject, `cannot connect to NATS at ${url} (from ${this.location.source}): ${(err as Error).message}`, { cause: err });
    }
  }

  /** One command; `{ error }` replies throw RemoteError, no responder throws NoDaemonError. */
  async request<T extends object>(name: CommandName, payload: object = {}, timeoutMs = TIMEOUTS_MS[name] ?? DEFAULT_TIMEOUT_MS): Promise<T> {
    const subject = this.subjects.cmd(name);
    const nc = await this.connection(subject);
    try {
      return await requestJson<T>(nc, subject, payload, timeoutMs);
    } catch (err) {
      if (err instanceof NoResponderError) throw new NoDaemonError(subject, `nothing subscribes there: ${this.where()}`, { cause: err });
      throw err;
    }
  }

  /**
   * Call `listener` when the connection to NATS is lost (`lost`: the daemon's server stopped, or the
   * network) and when it is back (`back`: events missed meanwhile are not replayed, so re-read). Returns
   * a function that stops listening.
   */
  async onConnection(listener: (change: 'lost' | 'back') => void): Promise<() => void> {
    const nc = await this.connection(this.subjects.cmd('daemon.status'));
    let stopped = false;
    void (async () => {
      for await (const s of nc.status()) {
        if (stopped) break;
        if (s.type === 'disconnect') listener('lost');
        else if (s.type === 'reconnect') listener('back');
      }
    })().catch(() => undefined);
    return () => {
      stopped = true;
    };
  }

  /**
   * Subscribe to events; resolves once the server has the subscription, so that a read made after it
   * cannot miss an event published in between.
   */
  async subscribe(subject: string, onMessage: (msg: Msg) => void): Promise<Subscription> {
    const nc = await this.connection(subject);
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (!err) onMessage(msg);
      },
    });
    await nc.flush();
    return sub;
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    if (nc && !nc.isClosed()) await nc.close();
  }
}

/** Run one command against the daemon located from the command's global options, then close the connection. */
export async function withDaemon<T>(cmd: Command, run: (client: DaemonClient) => Promise<T>): Promise<T> {
  const client = DaemonClient.fromOptions(globalOptions(cmd));
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}
