import { z } from 'zod';
import type { ReadinessFaults } from '../panos/readiness-model.ts';

const name = z.string().min(1).max(63);
const pct = z.number().min(0).max(100);

/** The one schema of the readiness faults a control message may set (`{faults:{readiness:{…}}}`). */
export const readinessFaultsSchema = z
  .object({
    licenseExpired: z.union([z.boolean(), name]),
    supportExpired: z.boolean(),
    ntpUnsynced: z.boolean(),
    pendingChanges: z.boolean(),
    fullCommitRequired: z.boolean(),
    configLock: z.union([z.boolean(), name]),
    commitLock: z.union([z.boolean(), name]),
    lowDisk: z.union([z.boolean(), z.number().int().min(0).max(1_000_000)]),
    haNotSynced: z.boolean(),
    bgpPeerDown: z.union([z.boolean(), name]),
    tunnelDown: z.union([z.boolean(), name]),
    highDpCpu: z.union([z.boolean(), pct]),
    highMpCpu: z.union([z.boolean(), pct]),
    highMemory: z.union([z.boolean(), pct]),
    environmentalAlarm: z.union([z.boolean(), z.enum(['thermal', 'fantray', 'fan', 'power', 'power-supply'])]),
    clockSkewSeconds: z.number().finite().min(-86_400 * 366).max(86_400 * 366),
    weakCertificate: z.boolean(),
  })
  .partial()
  .strict() satisfies z.ZodType<ReadinessFaults>;

/** Validate readiness faults; throws a message naming the field (`readiness.bgpPeerDown: …`). */
export function parseReadinessFaults(value: unknown): ReadinessFaults {
  const r = readinessFaultsSchema.safeParse(value);
  if (r.success) return r.data as ReadinessFaults;
  const issue = r.error.issues[0];
  const path = ['readiness', ...(issue?.path ?? []).map(String)].join('.');
  const keys = issue?.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')}); known: ${Object.keys(readinessFaultsSchema.shape).join(', ')}` : '';
  throw new ReadinessFaultError(`${path}: ${issue?.message ?? 'invalid'}${keys}`, path);
}

export class ReadinessFaultError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'ReadinessFaultError';
  }
}
