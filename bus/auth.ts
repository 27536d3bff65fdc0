import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  nkeys,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type ConnectionOptions,
} from '@nats-io/transport-node';
import { BusError } from './errors.ts';
import { eventStreamName } from './event-stream.ts';
import { Subjects, type CommandName } from './subjects.ts';

/**
 * How a client proves who it is to NATS, and how it checks the server: the options of the `nats` CLI
 * (`--creds`, `--nkey`, `--user`/`--password`, `--token`, `--tlsca`/`--tlscert`/`--tlskey`).
 * Secrets are never values here except a password or token taken from the environment: files are named.
 */
export interface NatsAuth {
  /** A `.creds` file (user JWT and NKey seed), for servers in operator (JWT) mode. */
  credsFile?: string;
  /** A file holding a user NKey seed (`SU…`). */
  nkeyFile?: string;
  user?: string;
  password?: string;
  passwordFile?: string;
  token?: string;
  tokenFile?: string;
  /** TLS to NATS: the CA that signed the server's certificate, and a client certificate when the server asks for one. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export class NatsCredentialsError extends BusError {
  constructor(message: string, options?: ErrorOptions) {
    super('NATS_CREDENTIALS', message, options);
  }
}

/** The credentials the `nats` CLI reads from the environment (NATS_CREDS, NATS_NKEY, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CA, NATS_CERT, NATS_KEY). */
export function natsAuthFromEnv(env: NodeJS.ProcessEnv = process.env): NatsAuth {
  const auth: NatsAuth = {};
  if (env.NATS_CREDS) auth.credsFile = env.NATS_CREDS;
  if (env.NATS_NKEY) auth.nkeyFile = env.NATS_NKEY;
  if (env.NATS_USER) auth.user = env.NATS_USER;
  if (env.NATS_PASSWORD) auth.password = env.NATS_PASSWORD;
  if (env.NATS_TOKEN) auth.token = env.NATS_TOKEN;
  const tls = { ...(env.NATS_CA ? { caFile: env.NATS_CA } : {}), ...(env.NATS_CERT ? { certFile: env.NATS_CERT } : {}), ...(env.NATS_KEY ? { keyFile: env.NATS_KEY } : {}) };
  if (Object.keys(tls).length > 0) auth.tls = tls;
  return auth;
}

/** Whether any credential or TLS setting is given. */
export function hasNatsAuth(auth: NatsAuth | undefined): boolean {
  return auth !== undefined && Object.values(auth).some((v) => v !== undefined && v !== '');
}

/** Later sources win, key by key (e.g. config file, then environment, then command-line options). */
export function mergeNatsAuth(...sources: Array<NatsAuth | undefined>): NatsAuth {
  const out: NatsAuth = {};
  for (const s of sources) {
    if (!s) continue;
    for (const [k, v] of Object.entries(s) as Array<[keyof NatsAuth, unknown]>) {
      if (k === 'tls') {
        const tls = Object.fromEntries(Object.entries(v as object).filter(([, x]) => x !== undefined && x !== ''));
        if (Object.keys(tls).length > 0) out.tls = { ...out.tls, ...tls };
      } else if (v !== undefined && v !== '') {
        (out as Record<string, unknown>)[k] = v;
      }
    }
  }
  return out;
}

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' ? 'permission denied (it is readable by its owner only)' : code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new NatsCredentialsError(`cannot read the NATS ${what} file ${file}: ${why}`, { cause: err });
  }
}

/** nats.js connection options for these credentials; files are read here, and a file that cannot be read is named. */
export function natsConnectionOptions(auth: NatsAuth = {}): Partial<ConnectionOptions> {
  const authenticators: Authenticator[] = [];
  if (auth.credsFile) {
    const creds = new TextEncoder().encode(readSecret(auth.credsFile, 'credentials'));
    authenticators.push(credsAuthenticator(creds));
  }
  if (auth.nkeyFile) {
    const seed = readSecret(auth.nkeyFile, 'NKey seed');
    if (!seed.startsWith('SU')) throw new NatsCredentialsError(`${auth.nkeyFile} does not hold a NATS user NKey seed (a line starting with SU)`);
    authenticators.push(nkeyAuthenticator(new TextEncoder().encode(seed)));
  }
  const password = auth.password ?? (auth.passwordFile ? readSecret(auth.passwordFile, 'password') : undefined);
  if (auth.user) authenticators.push(usernamePasswordAuthenticator(auth.user, password));
  const token = auth.token ?? (auth.tokenFile ? readSecret(auth.tokenFile, 'token') : undefined);
  if (token) authenticators.push(tokenAuthenticator(token));
  const opts: Partial<ConnectionOptions> = {};
  if (authenticators.length > 0) opts.authenticator = authenticators;
  const tls = auth.tls;
  if (tls && (tls.caFile || tls.certFile || tls.keyFile)) {
    opts.tls = { ...(tls.caFile ? { caFile: tls.caFile } : {}), ...(tls.certFile ? { certFile: tls.certFile } : {}), ...(tls.keyFile ? { keyFile: tls.keyFile } : {}) };
  }
  return opts;
}

/** The users of a private nats-server (see docs/nats-security.md for what each may do). */
export const PRIVATE_USERS = ['daemon', 'operator', 'reader', 'simulator'] as const;
export type PrivateUser = (typeof PRIVATE_USERS)[number];

/** The daemon's read-only requests: what the `reader` user may send. */
export const READ_ONLY_COMMANDS = ['job.get', 'job.list', 'device.list', 'device.get', 'download.status', 'daemon.status', 'campaign.list', 'campaign.get'] as const satisfies readonly CommandName[];

/** What a reader of the event stream needs from the JetStream API: stream info, message get, consumers. Never delete, purge or update. */
export function streamReadSubjects(stream: string): string[] {
  return [
    '$JS.API.INFO',
    '$JS.API.STREAM.NAMES',
    '$JS.API.STREAM.LIST',
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.NAMES.${stream}`,
    `$JS.API.CONSUMER.LIST.${stream}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/**
 * Each user's NATS permissions for a subject prefix. The daemon, the operator and the reader share the
 * account PANOS; the simulator is alone in the account SIM, so `<prefix>.sim.>` (keygen and Basic
 * passwords in clear) and its replies never reach the others, whatever their permissions.
 */
export function userPermissions(prefix: string): Record<PrivateUser, Permissions> {
  const s = new Subjects(prefix);
  const stream = eventStreamName(s);
  const evt = `${prefix}.evt.>`;
  const inbox = '_INBOX.>';
  const read = streamReadSubjects(stream);
  return {
    daemon: {
      // On a cluster a daemon forwards a command to the owner of its partition (panos.cmd.owner.<lease>.<command>).
      publish: [evt, `${prefix}.cmd.owner.>`, '$JS.API.INFO', `$JS.API.STREAM.CREATE.${stream}`, `$JS.API.STREAM.UPDATE.${stream}`, `$JS.API.STREAM.INFO.${stream}`],
      subscribe: [`${prefix}.cmd.>`, evt, inbox],
    },
    operator: { publish: [`${prefix}.cmd.>`, ...read], subscribe: [evt, inbox] },
    reader: { publish: [...READ_ONLY_COMMANDS.map((c) => s.cmd(c)), ...read], subscribe: [evt, inbox] },
    simulator: { publish: ['>'], subscribe: ['>'] },
  };
}

const ACCOUNT_OF: Record<PrivateUser, 'PANOS' | 'SIM'> = { daemon: 'PANOS', operator: 'PANOS', reader: 'PANOS', simulator: 'SIM' };

const quote = (s: string): string => JSON.stringify(s);

/** The `accounts { … }` block of nats-server configuration for these users' public NKeys. */
export function accountsConfig(prefix: string, publicKeys: Record<PrivateUser, string>): string {
  const perms = userPermissions(prefix);
  const block = (account: 'PANOS' | 'SIM'): string => {
    const users = PRIVATE_USERS.filter((u) => ACCOUNT_OF[u] === account).map((u) => {
      const p = perms[u];
      // allow_responses: a user may answer a request it received, and nothing else on _INBOX.
      return (
        `      # ${u}\n` +
        `      { nkey: ${quote(publicKeys[u])}, permissions: {\n` +
        `          publish: { allow: [${p.publish.map(quote).join(', ')}] }\n` +
        `          subscribe: { allow: [${p.subscribe.map(quote).join(', ')}] }\n` +
        `          allow_responses: true\n` +
        `      } }`
      );
    });
    return `  ${account} {\n    jetstream: enabled\n    users: [\n${users.join('\n')}\n    ]\n  }`;
  };
  return `accounts {\n${block('PANOS')}\n${block('SIM')}\n}\n`;
}

/** The NKey seed files of a private server's users, and the server configuration that admits them. */
export interface PrivateAuth {
  /** `<dir>/users/<user>.nk`: mode 0600, one seed each, generated once and kept. */
  files: Record<PrivateUser, string>;
  /** nats-server configuration: accounts, users by public key, permissions. No secret in it. */
  serverConfig: string;
}

/**
 * Generate (once) an NKey for every private-server user in `<dir>/users/` (0700 dir, 0600 files) and
 * build the server configuration for `prefix`. Seeds never leave their files.
 */
export function preparePrivateAuth(dir: string, prefix: string): PrivateAuth {
  const usersDir = join(dir, 'users');
  mkdirSync(usersDir, { recursive: true, mode: 0o700 });
  chmodSync(usersDir, 0o700);
  const files = {} as Record<PrivateUser, string>;
  const publicKeys = {} as Record<PrivateUser, string>;
  for (const user of PRIVATE_USERS) {
    const file = join(usersDir, `${user}.nk`);
    if (!existsSync(file)) {
      const kp = nkeys.createUser();
      writeFileSync(file, `${new TextDecoder().decode(kp.getSeed())}\n`, { mode: 0o600, flag: 'wx' });
    }
    chmodSync(file, 0o600);
    const seed = readSecret(file, 'NKey seed');
    publicKeys[user] = nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
    files[user] = file;
  }
  return { files, serverConfig: accountsConfig(prefix, publicKeys) };
}
