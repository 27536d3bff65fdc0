import { InvalidArgumentError, type Command } from 'commander';
import { JOB_ID_PATTERN, SERIAL_PATTERN } from '../actors/ids.ts';
import { isVersion } from '../panos/version.ts';
import { JOB_STATUSES, type UpgradeStatus } from '../machines/upgrade-job.fold.ts';

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number greater than 0, got "${value}"`);
  return n;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a whole number greater than 0, got "${value}"`);
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number (0 or more), got "${value}"`);
  return n;
}

/** A value checked by the rule of the daemon's own payload schema (actors/payloads.ts), so the CLI refuses exactly what the daemon would. */
function byRule(ok: (value: string) => boolean, what: string) {
  return (value: string): string => {
    if (!ok(value)) throw new InvalidArgumentError(`expected ${what}, got "${value}"`);
    return value;
  };
}

export const parseSerial = byRule((v) => SERIAL_PATTERN.test(v), 'a device serial (letters and digits, e.g. 001234567890)');
export const parseJobId = byRule((v) => JOB_ID_PATTERN.test(v), 'a job id (as printed by job submit or job list)');
export const parseVersion = byRule(isVersion, 'a PAN-OS version such as 10.1.3 or 10.1.9-h1');

export function parseStatus(value: string): UpgradeStatus {
  if (!(JOB_STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${JOB_STATUSES.join(', ')}`);
  return value as UpgradeStatus;
}

/** The options every command shares (`--data-dir`, `--nats-url`), wherever they were given on the line. */
export interface GlobalOptions {
  dataDir?: string;
  natsUrl?: string;
  /** NATS credentials files and user (docs/nats-security.md); a password comes from NATS_PASSWORD only. */
  natsCreds?: string;
  natsNkey?: string;
  natsUser?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const out: GlobalOptions = {};
  for (const k of ['dataDir', 'natsUrl', 'natsCreds', 'natsNkey', 'natsUser'] as const) if (o[k]) out[k] = o[k];
  return out;
}
