import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PanosUpgradeError } from '../panos/errors.ts';

/** What a running daemon tells the CLI about itself: `<data-dir>/daemon.json`. */
export interface DaemonInfo {
  natsUrl: string;
  pid: number;
  runId: string;
  startedAt: string;
  /** The subject prefix the daemon serves, so a CLI without PANOS_SUBJECT_PREFIX still finds it. */
  subjectPrefix?: string;
  /** The private server's users' NKey seed files (mode 0600), for a CLI on the same machine and account. */
  natsUsers?: { operator: string; reader: string };
}

export class DaemonAlreadyRunningError extends PanosUpgradeError {
  constructor(readonly file: string, readonly pid: number) {
    super(
      'DAEMON_RUNNING',
      `another daemon (pid ${pid}) is already running on this data dir (${file}); stop it first. ` +
        `If pid ${pid} is not a panos-upgrade daemon, the file is stale: remove it and start again`,
    );
  }
}

export function daemonFilePath(dataDir: string): string {
  return join(dataDir, 'daemon.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type DaemonFileRead =
  | { state: 'running'; info: DaemonInfo; file: string }
  | { state: 'missing'; file: string }
  | { state: 'stale'; info: DaemonInfo; file: string }
  | { state: 'unreadable'; file: string; reason: string };

/** Read `daemon.json`; a file whose pid is gone (the daemon was killed) is reported as stale, not trusted. */
export function readDaemonFile(dataDir: string): DaemonFileRead {
  const file = daemonFilePath(dataDir);
  if (!existsSync(file)) return { state: 'missing', file };
  let info: DaemonInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as DaemonInfo;
  } catch (err) {
    return { state: 'unreadable', file, reason: (err as Error).message };
  }
  if (typeof info?.natsUrl !== 'string' || typeof info.pid !== 'number') return { state: 'unreadable', file, reason: 'natsUrl or pid missing' };
  return alive(info.pid) ? { state: 'running', info, file } : { state: 'stale', info, file };
}

/**
 * Announce this daemon in the data dir. Two daemons on one data dir would run the same jobs twice, so a
 * live one already announced there is an error; a stale file (kill -9) is replaced.
 */
export function writeDaemonFile(dataDir: string, info: DaemonInfo, options: { locked?: boolean } = {}): string {
  // The data dir's lock holder owns the file: a live pid in it is an unrelated process that reused a dead daemon's pid.
  const existing = options.locked ? undefined : readDaemonFile(dataDir);
  if (existing?.state === 'running' && existing.info.pid !== info.pid) throw new DaemonAlreadyRunningError(existing.file, existing.info.pid);
  const file = daemonFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

/** Remove `daemon.json` at a clean exit, unless another process has taken it over since. */
export function removeDaemonFile(dataDir: string, pid = process.pid): void {
  const read = readDaemonFile(dataDir);
  if (read.state === 'missing') return;
  if ((read.state === 'running' || read.state === 'stale') && read.info.pid !== pid) return;
  rmSync(read.file, { force: true });
}
