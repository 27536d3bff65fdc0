import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PanosUpgradeError, ValidationError } from '../panos/errors.ts';

/** Who holds a data dir's lock, as the holder tells it to whoever knocks. */
export interface LockHolder {
  pid: number;
  role: string;
  dataDir: string;
  since: string;
}

export class DataDirLockedError extends PanosUpgradeError {
  constructor(readonly dataDir: string, readonly role: string, readonly holder: LockHolder | undefined) {
    super(
      'DATA_DIR_LOCKED',
      `another ${role} ${holder ? `(pid ${holder.pid}, running since ${holder.since}) ` : ''}is already running on this data dir (${dataDir}); ` +
        `stop it first, or give this one another --data-dir. Nothing was started or changed`,
    );
  }
}

/**
 * Refuse a data dir another role's process is running in: a daemon's and a simulator's event logs and
 * private NATS stores must not mix. Each takes its own lock first and then asks after the other's, so
 * of two started at once at least one sees the other. A usage error (exit 2).
 */
export async function refuseDataDirOf(dataDir: string, other: 'daemon' | 'simulator', mine: 'daemon' | 'simulator'): Promise<void> {
  const holder = await askHolder(lockAddress(dataDir, other), 1_000).catch(() => undefined);
  if (!holder) return;
  throw new ValidationError(
    `a ${other} (pid ${holder.pid}, running since ${holder.since}) uses this data dir (${dataDir}); give the ${mine} its own --data-dir. Nothing was started or changed`,
    'data-dir',
  );
}

/** A held lock; the kernel releases it when the process ends, however it ends. */
export interface DataDirLock {
  readonly dataDir: string;
  readonly role: string;
  /** The socket address holding it (an abstract-namespace name on Linux). */
  readonly address: string;
  release(): Promise<void>;
}

/**
 * The lock's socket address for one role on one data dir: on Linux an abstract-namespace Unix socket
 * named after the dir's real path (no file; the kernel frees the name when the last holder dies), elsewhere
 * a socket file in the data dir.
 */
export function lockAddress(dataDir: string, role: string, platform: NodeJS.Platform = process.platform): string {
  const real = realpathSync(dataDir);
  if (platform !== 'linux') return join(real, `.${role}.lock`);
  const digest = createHash('sha256').update(real).digest('hex').slice(0, 40);
  return `\0panos-upgrade/${role}/${digest}`;
}

/** Ask the holder who it is; undefined when it does not say within `timeoutMs` (busy, or another program). */
export function askHolder(address: string, timeoutMs = 3_000): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const sock = createConnection(address);
    const done = (holder: LockHolder | undefined): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(holder);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => (text += chunk));
    sock.on('end', () => {
      try {
        const h = JSON.parse(text) as LockHolder;
        done(typeof h.pid === 'number' ? h : undefined);
      } catch {
        done(undefined);
      }
    });
    sock.on('error', () => done(undefined));
  });
}

function listen(server: Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(address);
  });
}

/**
 * Take the exclusive lock of `role` (e.g. `daemon`) on a data dir, before anything in it is read for
 * work or changed: one daemon per data dir. Throws DataDirLockedError naming the holder's PID when
 * another process has it. The lock is a listening Unix socket: binding is atomic, and a process
 * killed with SIGKILL frees it at once (no stale lock file to judge).
 */
export async function lockDataDir(dataDir: string, role: string): Promise<DataDirLock> {
  const address = lockAddress(dataDir, role);
  const me: LockHolder = { pid: process.pid, role, dataDir, since: new Date().toISOString() };
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.end(JSON.stringify(me));
  });
  // The lock must not keep the process alive on its own.
  server.unref();
  const infoFile = join(dataDir, `.${role}.lock.json`);
  try {
    await listen(server, address);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    // A holder busy starting up may not answer in time: what it wrote beside the lock says the same.
    const holder = (await askHolder(address)) ?? writtenHolder(infoFile);
    // A socket file left by a dead holder (not Linux): nobody answers, so it is stale.
    if (!holder && !address.startsWith('\0') && (await refused(address))) {
      rmSync(address, { force: true });
      return lockDataDir(dataDir, role);
    }
    throw new DataDirLockedError(dataDir, role, holder);
  }
  writeFileSync(infoFile, JSON.stringify(me) + '\n', { mode: 0o600 });
  return {
    dataDir,
    role,
    address,
    release: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          if (writtenHolder(infoFile)?.pid === process.pid) rmSync(infoFile, { force: true });
          resolve();
        }),
      ),
  };
}

/** The holder as it wrote itself down when it took the lock, if that process still lives. */
function writtenHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    if (typeof h.pid !== 'number') return undefined;
    process.kill(h.pid, 0);
    return h;
  } catch {
    return undefined;
  }
}

function refused(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(address);
    sock.on('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT'));
  });
}
