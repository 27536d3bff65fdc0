import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PanosUpgradeError } from '../panos/errors.ts';

/** What every file the tool writes should be: readable by its owner only (keys, logs, inventories). */
export const PRIVATE_UMASK = 0o077;

/** Entries that make a directory one of ours (a data dir, a simulator's, a chaos work dir): only then is its content tightened. */
const MARKERS = ['config.json', 'daemon.json', 'inventory.json', 'connection.json', 'events', 'tls', 'nats', 'report.json', 'daemon', 'sim'];

/**
 * Make `dir` (created if missing) 0700 and, when it is a data dir of ours, everything under it 0700
 * (directories) or without group and other bits (files: 0600 for ours), whatever the modes were: a data
 * dir holds the API key, the event log and the TLS keys. A shared directory (sticky bit, like /tmp) is
 * refused; one owned by another user is left as it is; symbolic links are not followed. Returns `dir`.
 */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if ((st.mode & 0o1000) !== 0) {
    throw new PanosUpgradeError('CONFIG', `${dir} is a shared directory (sticky bit, as /tmp is): give panos-upgrade a directory of its own, e.g. ${join(dir, 'panos-upgrade')}`);
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return dir;
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  if (MARKERS.some((m) => existsSync(join(dir, m)))) {
    for (const name of readdirSync(dir)) tighten(join(dir, name), 1);
  }
  return dir;
}

function tighten(path: string, depth: number): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== 0o700) chmodSync(path, 0o700);
    // Data dirs are shallow (events/, tls/, nats/daemon/jetstream/…).
    if (depth >= 8) return;
    for (const name of readdirSync(path)) tighten(join(path, name), depth + 1);
  } else if (st.isFile() && (st.mode & 0o077) !== 0) {
    // Group and other bits off; the owner's (an executable bit included) kept.
    chmodSync(path, st.mode & 0o700);
  }
}

/** From now on, files and directories this process creates are private (0600 / 0700). */
export function privateUmask(): void {
  process.umask(PRIVATE_UMASK);
}
