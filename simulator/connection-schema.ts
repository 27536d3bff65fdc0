import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { PanosUpgradeError } from '../panos/errors.ts';
import { jsonErrorPlace } from '../panos/json-error.ts';
import { connectionFilePath } from './connection-file.ts';

/**
 * How to reach a running simulator, for machines (`panos-upgrade config from-sim DIR`): the file `sim`
 * writes at every start (connection-file.ts). This schema is the one check of it, made where it is read.
 */
export const simConnectionSchema = z.object({
  version: z.literal(1),
  /** The Panorama's origin, `https://127.0.0.1:8443`. */
  url: z.string(),
  /** `host:port` of the Panorama, as `panorama.host` takes it. */
  host: z.string(),
  protocol: z.enum(['https', 'http']),
  apiKey: z.string(),
  /** SHA-256 of the Panorama's certificate (`AB:CD:…`); absent over plain HTTP. */
  fingerprint: z.string().optional(),
  /** PEM of the simulator's CA, which issued every certificate it serves; absent over HTTP or with --tls-cert. */
  caFile: z.string().optional(),
  /** Firewalls listen on their own management addresses (direct downloads work). */
  direct: z.boolean(),
  /** The scenario file (it also holds the upgrade paths). */
  scenario: z.string(),
  /** `--time-scale`, when given (absent: the scenario's own durations). */
  timeScale: z.number().positive().optional(),
  scenarioName: z.string(),
  natsUrl: z.string(),
  /** The simulator user's NKey seed file on its private NATS (mode 0600; its path, never the seed). */
  natsNkeyFile: z.string().optional(),
  subjectPrefix: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
});

export type SimConnection = z.infer<typeof simConnectionSchema>;

/** Read a simulator's connection file; a missing or malformed one is a configuration error that says what to do. */
export function readSimConnection(dataDir: string): SimConnection {
  const file = connectionFilePath(dataDir);
  if (!existsSync(file)) {
    throw new PanosUpgradeError('CONFIG', `no simulator connection file at ${file}: start the simulator with: panos-upgrade sim --data-dir ${dataDir}`);
  }
  let raw: unknown;
  const text = readFileSync(file, 'utf8');
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // Its place, not V8's quote of the file: the file holds the simulator's API key.
    throw new PanosUpgradeError('CONFIG', `${file} is not valid JSON (${jsonErrorPlace(text, err)}); start the simulator again to rewrite it`);
  }
  const parsed = simConnectionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PanosUpgradeError('CONFIG', `${file}: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}; start the simulator again to rewrite it`);
  }
  return parsed.data;
}
