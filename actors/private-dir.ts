import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What every file the tool writes should be: readable by its owner only (keys, logs, inventories). */
export const PRIVATE_UMASK = 0o077;

/**
 * Make `dir` (created if missing) 0700 and everything under it 0700 (directories) or 0600 (files),
 * whatever modes they had before: a data dir holds the API key, the event log and the TLS keys. Symbolic
 * links are left alone (not followed). Returns `dir`.
 */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir, 0);
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
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== 0o700) chmodSync(path, 0o700);
    // Data dirs are shallow (events/, tls/, nats/jetstream/…); the bound only guards against a wrong --data-dir like /.
    if (depth >= 8) return;
    for (const name of readdirSync(path)) tighten(join(path, name), depth + 1);
  } else if (st.isFile() && (st.mode & 0o777 & ~0o600) !== 0) {
    chmodSync(path, (st.mode & 0o600) | 0o600);
  }
}

/** From now on, files and directories this process creates are private (0600 / 0700). */
export function privateUmask(): void {
  process.umask(PRIVATE_UMASK);
}
