import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where panos-upgrade keeps its state: `--data-dir`, `PANOS_UPGRADE_HOME`, or `~/.panos-upgrade` (not created here). */
export function dataDirPath(given?: string): string {
  return resolve(given ?? process.env.PANOS_UPGRADE_HOME ?? join(homedir(), '.panos-upgrade'));
}

/** The subject prefix: `PANOS_SUBJECT_PREFIX`, else `panos`. */
export function subjectPrefix(): string {
  return process.env.PANOS_SUBJECT_PREFIX || 'panos';
}

/** The data dir, created (mode 0700: it holds secrets and the event log) if missing. */
export function resolveDataDir(given?: string): string {
  const dir = dataDirPath(given);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
