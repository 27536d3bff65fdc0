import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BusError } from './errors.ts';

export interface NatsServerOptions {
  /** Loopback port; 0 (default) lets the server pick a free one. */
  port?: number;
  /**
   * The server's own directory: its configuration, PID file, last port and JetStream store (`jetstream/`).
   * Give a directory in the data dir so that streams survive a restart; a fresh temp dir (removed on stop)
   * by default. One server at a time per directory: a server left running there is stopped first.
   */
  storeDir?: string;
  /** More nats-server configuration (e.g. accounts and users), appended to the generated file. */
  config?: string;
  /** How the server is tied to this process's life; `pdeathsig` (default when setpriv exists) or `none`. */
  guard?: 'pdeathsig' | 'none';
  jetstream?: boolean;
  /** Where to say that the Debian package is being installed. */
  onInstall?: (message: string) => void;
  /** How long to wait for the server to accept clients. */
  startTimeoutMs?: number;
  /** Largest message the server accepts; default DEFAULT_MAX_PAYLOAD_BYTES. */
  maxPayloadBytes?: number;
  /**
   * Start the server again, on its port and store, when it dies (killed, crashed): its clients retry for
   * ever and come back by themselves. Told of the death, of the return, and of each failed attempt
   * (tried again after 1, 2, 4… at most 30 s). Without it a dead server stays dead.
   */
  supervise?: {
    onExit(code: number | null, signal: NodeJS.Signals | null): void;
    onBack(port: number): void;
    onRestartFailed(err: Error): void;
  };
}

/**
 * The private server's message limit. NATS's own default (1 MB) is smaller than answers the simulator
 * must carry: Panorama's `show devices connected` for 1,000 firewalls (1.3 MB of XML) or a data-centre
 * firewall's route table. 8 MB is the largest value NATS recommends.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

/** A private nats-server child process. */
export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: number | undefined;
  /** Stop the server (SIGTERM, then SIGKILL after a grace period) and remove a temp store dir. */
  stop(): Promise<void>;
  /** Stop and start again on the same port and store dir (chaos: "NATS restarts"). */
  restart(): Promise<void>;
}

export class NatsServerMissingError extends BusError {
  constructor() {
    super(
      'NATS_SERVER_MISSING',
      'nats-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install nats-server; ' +
        'or download it from https://github.com/nats-io/nats-server/releases), or set NATS_URL to use a running server.',
    );
  }
}

const SEARCH_EXTRA = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/sbin'];

/** The first executable `name` in `pathVar`'s directories, then in the usual sbin/bin ones. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? '', extraDirs: readonly string[] = SEARCH_EXTRA): string | undefined {
  for (const dir of [...pathVar.split(delimiter), ...extraDirs]) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** What was found on this machine; the input of natsServerPlan. */
export interface NatsServerLookup {
  natsServer: string | undefined;
  aptGet: string | undefined;
  isRoot: boolean;
}

/**
 * Decide how to get a nats-server binary (pure): use the one found, install the Debian package with apt-get
 * (only as root), or throw NatsServerMissingError, whose message says how to install it or set NATS_URL.
 */
export function natsServerPlan(lookup: NatsServerLookup): { use: string } | { installWith: string } {
  if (lookup.natsServer) return { use: lookup.natsServer };
  if (lookup.aptGet && lookup.isRoot) return { installWith: lookup.aptGet };
  throw new NatsServerMissingError();
}

/**
 * The path of the nats-server binary. When it is missing and we are root with apt-get available,
 * installs the Debian package `nats-server` (and says so); otherwise throws NatsServerMissingError.
 */
export function ensureNatsServerBinary(onInstall: (message: string) => void = (m) => process.stderr.write(m + '\n')): string {
  const plan = natsServerPlan({
    natsServer: findOnPath('nats-server'),
    aptGet: findOnPath('apt-get'),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
  });
  if ('use' in plan) return plan.use;
  onInstall('nats-server not found: installing the Debian package nats-server with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync(plan.installWith, ['update', '-qq'], { stdio: 'ignore', env });
  const res = spawnSync(plan.installWith, ['install', '-y', '-qq', 'nats-server'], { stdio: 'ignore', env });
  const installed = findOnPath('nats-server');
  if (res.status !== 0 || !installed) throw new NatsServerMissingError();
  onInstall(`installed nats-server at ${installed}`);
  return installed;
}

// The whole line: a chunk may end in the middle of the port number.
const LISTEN_RE = /Listening for client connections on [^\s]*:(\d+)\r?\n/;

/** The client port announced in nats-server's log output so far, once its line is complete. */
export function listenPort(output: string): number | undefined {
  const m = LISTEN_RE.exec(output);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** Whether `pid` is a live process (EPERM: alive, someone else's). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of `pid` where /proc shows it (Linux), else undefined. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/**
 * Stop a nats-server still running on `dir` (its PID file names it and its command line names the dir):
 * one whose parent was killed before it could be tied to it, or one still shutting down when a service
 * manager restarts the daemon. Two servers on one JetStream store would corrupt it.
 */
export async function reapLeftoverServer(dir: string, pidFile: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || !isAlive(pid)) return undefined;
  const cmd = commandLine(pid);
  if (cmd === undefined || !cmd.includes('nats-server') || !cmd.includes(dir)) return undefined;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited === 5_000) process.kill(pid, 'SIGKILL');
    if (waited > 10_000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pid;
}

/**
 * The command that starts nats-server so that it cannot outlive this process: under util-linux
 * `setpriv --pdeathsig TERM`, the kernel sends it SIGTERM when the process that spawned it dies, even by
 * SIGKILL. Node spawns on its main thread, whose end is the process's end, so the signal comes at the
 * right moment. Without setpriv the PID file lets the next start in the same directory stop a leftover.
 */
export function guardedCommand(binary: string, args: readonly string[], setpriv: string | undefined): { file: string; args: string[] } {
  if (!setpriv) return { file: binary, args: [...args] };
  return { file: setpriv, args: ['--pdeathsig', 'TERM', '--', binary, ...args] };
}

/** Start a private nats-server on a loopback port, with JetStream on by default. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = ensureNatsServerBinary(options.onInstall);
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'panos-nats-'));
  mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  chmodSync(storeDir, 0o700);
  const jetstream = options.jetstream ?? true;
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const setpriv = (options.guard ?? 'pdeathsig') === 'pdeathsig' ? findOnPath('setpriv') : undefined;
  const pidFile = join(storeDir, 'nats-server.pid');
  const portFile = join(storeDir, 'nats-server.port');
  // A server kept in a directory comes back on its last port when it is free, so clients reconnect by themselves.
  const lastPort = !ownStore && options.port === undefined && existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : undefined;
  let port = options.port ?? 0;
  let child: ChildProcess | undefined;
  // max_payload has no command-line flag; the file may hold users' public keys, so only this user reads it.
  const confFile = join(storeDir, 'nats-server.conf');
  writeFileSync(confFile, `max_payload: ${Math.floor(options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES)}\n${options.config ?? ''}`, { mode: 0o600 });
  chmodSync(confFile, 0o600);

  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const launch = async (): Promise<void> => {
    await reapLeftoverServer(storeDir, pidFile);
    // Stopped meanwhile (a relaunch racing a stop): start nothing nobody would stop.
    if (stopped) throw new BusError('NATS_SERVER_STOPPED', 'the nats-server was stopped');
    const args = ['-c', confFile, '-a', '127.0.0.1', '-p', port === 0 ? '-1' : String(port), '-m', '0', '-P', pidFile];
    if (jetstream) args.push('-js', '-sd', storeDir);
    const command = guardedCommand(binary, args, setpriv);
    const proc = spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    try {
      port = await untilListening(proc, { code: 'NATS_SERVER_START', name: 'nats-server', timeoutMs });
    } catch (err) {
      if (child === proc) child = undefined;
      throw err;
    }
    if (!ownStore) writeFileSync(portFile, `${port}\n`, { mode: 0o600 });
    // A death, not a stop or restart (halt forgets the child first).
    if (options.supervise) proc.once('exit', (code, signal) => {
      if (child !== proc || stopped) return;
      child = undefined;
      options.supervise!.onExit(code, signal);
      relaunch(0);
    });
  };
  // On the same port: the clients know only that one.
  const relaunch = (attempt: number): void => {
    retry = setTimeout(
      () => {
        retry = undefined;
        if (stopped || child) return;
        launch().then(
          () => options.supervise!.onBack(port),
          (err: unknown) => {
            if (stopped) return;
            options.supervise!.onRestartFailed(err instanceof Error ? err : new Error(String(err)));
            relaunch(attempt + 1);
          },
        );
      },
      attempt === 0 ? 200 : Math.min(30_000, 1_000 * 2 ** (attempt - 1)),
    );
    retry.unref();
  };

  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 3000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  };

  try {
    if (lastPort !== undefined && Number.isInteger(lastPort) && lastPort > 0) {
      port = lastPort;
      // Taken by something else since: any free port.
      await launch().catch(() => {
        port = 0;
        return launch();
      });
    } else {
      await launch();
    }
  } catch (err) {
    if (ownStore) rmSync(storeDir, { recursive: true, force: true });
    throw err;
  }
  const stopOnExit = (): void => {
    child?.kill('SIGKILL');
    if (ownStore) rmSync(storeDir, { recursive: true, force: true });
  };
  process.once('exit', stopOnExit);

  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    get pid() {
      return child?.pid;
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      process.off('exit', stopOnExit);
      await halt();
      if (ownStore) rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await launch();
    },
  };
}

/**
 * Resolve with the client port a just spawned nats-server reports listening on; reject (and kill it) when it
 * exits, cannot be spawned or says nothing within `timeoutMs`, with the end of its output. Its pipes are
 * drained afterwards, so that they never fill and block the server.
 */
export function untilListening(proc: ChildProcess, o: { code: string; name: string; timeoutMs: number; onFail?: () => void }): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new BusError(o.code, `${o.name} did not start within ${o.timeoutMs} ms: ${output.slice(-400)}`)), o.timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const listening = listenPort(output);
      if (listening !== undefined) {
        cleanup();
        resolve(listening);
      }
    };
    const onExit = (code: number | null): void => fail(new BusError(o.code, `${o.name} exited with code ${code}: ${output.slice(-400)}`));
    // Without a listener, a spawn failure (EACCES, ENOENT) would be an uncaught 'error' event.
    const onError = (err: Error): void => fail(new BusError(o.code, `${o.name} could not be started: ${err.message}`, { cause: err }));
    const cleanup = (): void => {
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      proc.stderr?.off('data', onData);
      proc.off('exit', onExit);
      proc.off('error', onError);
      proc.stdout?.resume();
      proc.stderr?.resume();
    };
    const fail = (err: Error): void => {
      cleanup();
      proc.kill('SIGKILL');
      o.onFail?.();
      reject(err);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', onExit);
    proc.once('error', onError);
  });
}
