import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Subjects } from '../bus/index.ts';
import { ValidationError } from '../panos/errors.ts';
import { privateDir } from './private-dir.ts';

/** Where panos-upgrade keeps its state: `--data-dir`, `PANOS_UPGRADE_HOME`, or `~/.panos-upgrade` (not created here). */
export function dataDirPath(given?: string): string {
  return resolve(given ?? process.env.PANOS_UPGRADE_HOME ?? join(homedir(), '.panos-upgrade'));
}

/** The subject prefix: `PANOS_SUBJECT_PREFIX`, else `panos`; a value that is not subject tokens is refused naming the variable. */
export function subjectPrefix(): string {
  const prefix = process.env.PANOS_SUBJECT_PREFIX || 'panos';
  try {
    new Subjects(prefix);
  } catch {
    throw new ValidationError(
      `PANOS_SUBJECT_PREFIX must be NATS subject tokens joined by dots, without spaces, '*' or '>' (e.g. panos or lab.panos), got ${JSON.stringify(prefix)}`,
      'PANOS_SUBJECT_PREFIX',
    );
  }
  return prefix;
}

/** The data dir, created if missing, and it and its files made 0700 / 0600 whatever they were: it holds secrets and the event log. */
export function resolveDataDir(given?: string): string {
  return privateDir(dataDirPath(given));
}
