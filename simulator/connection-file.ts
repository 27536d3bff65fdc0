import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PanosUpgradeError } from '../panos/errors.ts';

/** Name of the connection file in the simulator's data dir. */
export const CONNECTION_FILE = 'connection.json';

/**
 * How to reach a running simulator, for machines (`panos-upgrade config from-sim DIR`): written at
 * every start, mode 0600 because it holds the API key.
 */
export interface SimConnection {
  version: 1;
  /** The Panorama's origin, `https://127.0.0.1:8443`. */
  url: string;
  /** `host:port` of the Panorama, as `panorama.host` takes it. */
  host: string;
  protocol: 'https' | 'http';
  apiKey: string;
  /** SHA-256 of the Panorama's certificate (`AB:CD:…`); absent over plain HTTP. */
  fingerprint?: string | undefined;
  /** PEM of the simulator's CA, which issued every certificate it serves; absent over HTTP or with --tls-cert. */
  caFile?: string | undefined;
  /** Firewalls listen on their own management addresses (direct downloads work). */
  direct: boolean;
  /** The scenario file (it also holds the upgrade paths). */
  scenario: string;
  scenarioName: string;
  natsUrl: string;
  /** The simulator user's NKey seed file on its private NATS (mode 0600; its path, never the seed). */
  natsNkeyFile?: string | undefined;
  subjectPrefix: string;
  pid: number;
  startedAt: string;
}

type FieldKind = 'version' | 'string' | 'optional string' | 'protocol' | 'boolean' | 'integer';

/**
 * Every field, in the order the file lists them. Checked by hand rather than with a schema library:
 * `sim` writes the file at every start, and zod alone is 7 MB of the simulator's memory.
 */
const FIELDS: ReadonlyArray<readonly [keyof SimConnection, FieldKind]> = [
  ['version', 'version'],
  ['url', 'string'],
  ['host', 'string'],
  ['protocol', 'protocol'],
  ['apiKey', 'string'],
  ['fingerprint', 'optional string'],
  ['caFile', 'optional string'],
  ['direct', 'boolean'],
  ['scenario', 'string'],
  ['scenarioName', 'string'],
  ['natsUrl', 'string'],
  ['natsNkeyFile', 'optional string'],
  ['subjectPrefix', 'string'],
  ['pid', 'integer'],
  ['startedAt', 'string'],
];

const EXPECTED: Record<FieldKind, string> = {
  version: 'expected 1',
  string: 'expected a string',
  'optional string': 'expected a string',
  protocol: 'expected "https" or "http"',
  boolean: 'expected true or false',
  integer: 'expected an integer',
};

function fits(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'version':
      return v === 1;
    case 'string':
      return typeof v === 'string';
    case 'optional string':
      return v === undefined || typeof v === 'string';
    case 'protocol':
      return v === 'https' || v === 'http';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return Number.isInteger(v);
  }
}

/** The connection its fields make (other keys dropped), or the first field that is wrong and why. */
export function parseSimConnection(raw: unknown): { ok: true; connection: SimConnection } | { ok: false; path: string; message: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, path: '', message: 'expected an object' };
  const out: Record<string, unknown> = {};
  for (const [name, kind] of FIELDS) {
    const v = (raw as Record<string, unknown>)[name];
    if (!fits(kind, v)) return { ok: false, path: name, message: v === undefined ? `missing, ${EXPECTED[kind]}` : EXPECTED[kind] };
    if (v !== undefined) out[name] = v;
  }
  return { ok: true, connection: out as unknown as SimConnection };
}

export function connectionFilePath(dataDir: string): string {
  return join(dataDir, CONNECTION_FILE);
}

export function writeSimConnection(dataDir: string, connection: SimConnection): string {
  const file = connectionFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const parsed = parseSimConnection(connection);
  if (!parsed.ok) throw new PanosUpgradeError('INTERNAL', `simulator connection file: ${parsed.path}: ${parsed.message}`);
  writeFileSync(tmp, JSON.stringify(parsed.connection, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

/** Read a simulator's connection file; a missing or malformed one is a configuration error that says what to do. */
export function readSimConnection(dataDir: string): SimConnection {
  const file = connectionFilePath(dataDir);
  if (!existsSync(file)) {
    throw new PanosUpgradeError('CONFIG', `no simulator connection file at ${file}: start the simulator with: panos-upgrade sim --data-dir ${dataDir}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PanosUpgradeError('CONFIG', `${file} is not valid JSON (${(err as Error).message}); start the simulator again to rewrite it`);
  }
  const parsed = parseSimConnection(raw);
  if (!parsed.ok) throw new PanosUpgradeError('CONFIG', `${file}: ${parsed.path || 'file'}: ${parsed.message}; start the simulator again to rewrite it`);
  return parsed.connection;
}
