import { InvalidArgumentError, type Command } from 'commander';
import { PAYLOADS } from '../actors/payloads.ts';
import type { UpgradeStatus } from '../machines/upgrade-job.fold.ts';

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

/** A value checked against the daemon's own payload schema, so the CLI refuses exactly what the daemon would. */
function bySchema(schema: { safeParse(v: unknown): { success: boolean } }, what: string) {
  return (value: string): string => {
    if (!schema.safeParse(value).success) throw new InvalidArgumentError(`expected ${what}, got "${value}"`);
    return value;
  };
}

export const parseSerial = bySchema(PAYLOADS['device.get'].shape.serial, 'a device serial (letters and digits, e.g. 001234567890)');
export const parseJobId = bySchema(PAYLOADS['job.get'].shape.jobId, 'a job id (as printed by job submit or job list)');
export const parseVersion = bySchema(PAYLOADS['job.submit'].shape.targetVersion, 'a PAN-OS version such as 10.1.3 or 10.1.9-h1');

/** Every job status, in the order they are listed (waiting → finished). */
export const JOB_STATUSES = [
  'pending',
  'validating',
  'downloading',
  'download_complete',
  'installing',
  'rebooting',
  'verifying',
  'paused',
  'complete',
  'failed',
  'cancelled',
  'skipped',
] as const satisfies readonly UpgradeStatus[];

// A status added to the fold but not here fails to typecheck.
const allStatusesListed: Exclude<UpgradeStatus, (typeof JOB_STATUSES)[number]> extends never ? true : never = true;
void allStatusesListed;

export function parseStatus(value: string): UpgradeStatus {
  if (!(JOB_STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${JOB_STATUSES.join(', ')}`);
  return value as UpgradeStatus;
}

/** The options every command shares (`--data-dir`, `--nats-url`), wherever they were given on the line. */
export interface GlobalOptions {
  dataDir?: string;
  natsUrl?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  return { ...(o.dataDir ? { dataDir: o.dataDir } : {}), ...(o.natsUrl ? { natsUrl: o.natsUrl } : {}) };
}
