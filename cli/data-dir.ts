import { privateDir } from '../actors/private-dir.ts';
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

/** The data dir, created if missing, and it and its files made 0700 / 0600 whatever they were: it holds secrets and the event log. */
export function resolveDataDir(given?: string): string {
  return privateDir(dataDirPath(given));
}
