import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimConnection } from './connection-schema.ts';

export type { SimConnection } from './connection-schema.ts';

/** Name of the connection file in the simulator's data dir. */
export const CONNECTION_FILE = 'connection.json';

/** The fields of the file, in the order it lists them. */
const FIELD_ORDER: ReadonlyArray<keyof SimConnection> = [
  'version',
  'url',
  'host',
  'protocol',
  'apiKey',
  'fingerprint',
  'caFile',
  'direct',
  'scenario',
  'scenarioName',
  'natsUrl',
  'natsNkeyFile',
  'subjectPrefix',
  'pid',
  'startedAt',
];

export function connectionFilePath(dataDir: string): string {
  return join(dataDir, CONNECTION_FILE);
}

/**
 * Write the connection file (`sim`, at every start), mode 0600 because it holds the API key. The value is
 * typed, so it is not validated here: that is the reader's part (connection-schema.ts, in zod), which keeps
 * the schema library out of the simulator's memory.
 */
export function writeSimConnection(dataDir: string, connection: SimConnection): string {
  const file = connectionFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const ordered: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if (connection[k] !== undefined) ordered[k] = connection[k];
  writeFileSync(tmp, JSON.stringify(ordered, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}
