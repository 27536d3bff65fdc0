import { z } from 'zod';
import { ValidationError } from '../panos/errors.ts';
import { isVersion } from '../panos/version.ts';
import { JOB_STATUSES } from '../machines/upgrade-job.fold.ts';
import { JOB_ID_PATTERN, SERIAL_PATTERN } from './ids.ts';

const serial = z.string().regex(SERIAL_PATTERN, 'a device serial (letters and digits)');
const jobId = z.string().regex(JOB_ID_PATTERN, 'a job id');
const version = z.string().refine(isVersion, 'a PAN-OS version such as 10.1.3 or 10.1.9-h1');
/** `devices` or `all: true`, one of the two. */
const oneSelection = (p: { devices?: string[]; all?: boolean }): boolean => (p.devices !== undefined) !== (p.all === true);
const ONE_SELECTION = { message: 'give "devices" (a list of serials) or "all": true, one of the two' };

/** The payloads of `panos.cmd.*`, exactly as docs/nats-api.md documents them. Unknown fields are refused. */
export const PAYLOADS = {
  'job.submit': z.strictObject({
    device: serial,
    downloadOnly: z.boolean().optional(),
    dryRun: z.boolean().optional(),
    targetVersion: version.optional(),
    /** Run the readiness checks only (read-only), instead of submitting a job. */
    checksOnly: z.boolean().optional(),
    /** A readiness policy (the YAML's shape), checked by the policy's own schema; the shipped default when absent. */
    policy: z.record(z.string(), z.unknown()).optional(),
  }),
  'job.cancel': z.strictObject({ jobId }),
  'job.get': z.strictObject({ jobId }),
  'job.list': z.strictObject({
    device: serial.optional(),
    status: z.enum(JOB_STATUSES, { error: `one of ${JOB_STATUSES.join(', ')}` }).optional(),
    active: z.boolean().optional(),
    limit: z.number().int().positive().max(10_000).optional(),
  }),
  'job.resume': z.strictObject({ jobId }),
  'download.queue-all': z.strictObject({ dryRun: z.boolean().optional() }),
  'download.status': z.strictObject({}),
  'device.discover': z.strictObject({}),
  'device.list': z.strictObject({}),
  'device.get': z.strictObject({ serial }),
  'device.check': z.strictObject({
    devices: z.array(serial).min(1).optional(),
    all: z.boolean().optional(),
    targetVersion: version.optional(),
    policy: z.record(z.string(), z.unknown()).optional(),
  }).refine(oneSelection, ONE_SELECTION),
  'device.trust': z.strictObject({ serial }),
  'upgrade.queue': z.strictObject({
    devices: z.array(serial).min(1).optional(),
    all: z.boolean().optional(),
    targetVersion: version.optional(),
    dryRun: z.boolean().optional(),
    policy: z.record(z.string(), z.unknown()).optional(),
  }).refine(oneSelection, ONE_SELECTION),
  'daemon.status': z.strictObject({}),
} as const;

export type PayloadOf<K extends keyof typeof PAYLOADS> = z.infer<(typeof PAYLOADS)[K]>;

const MAX_PROBLEMS = 5;
const short = (text: string, max = 200): string => (text.length <= max ? text : `${text.slice(0, max)}…`);

/** Validate a payload; the error names each bad field (the first five), e.g. `device: a device serial (letters and digits)`. */
export function validatePayload<K extends keyof typeof PAYLOADS>(name: K, payload: unknown): PayloadOf<K> {
  const result = PAYLOADS[name].safeParse(payload);
  if (result.success) return result.data as PayloadOf<K>;
  const issues = result.error.issues;
  // A few problems are named, each cut short: a payload of thousands of bad entries (or one huge key) gets a reply that fits.
  const problems = issues.slice(0, MAX_PROBLEMS).map((i) => short(`${i.path.length > 0 ? i.path.join('.') : 'payload'}: ${i.message}`));
  const more = issues.length > MAX_PROBLEMS ? `; and ${issues.length - MAX_PROBLEMS} more` : '';
  const first = issues[0];
  const field = first?.code === 'unrecognized_keys' ? [...first.path, first.keys[0]].join('.') : String(first?.path[0] ?? '');
  throw new ValidationError(`invalid ${name} payload: ${problems.join('; ')}${more}`, short(field, 64));
}
