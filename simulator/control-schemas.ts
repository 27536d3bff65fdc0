/**
 * The schemas of `panos.sim.ctl` payloads that change devices: faults and metrics. Loaded with the first such
 * message: zod is several MB of an idle simulator's memory.
 */
import { z } from 'zod';
import type { ApiFaults, DeviceFaults } from '../machines/firewall.logic.ts';
import type { DeviceMetrics } from '../panos/model.ts';
import type { ReadinessFaults } from '../panos/readiness-model.ts';
import { DEFAULT_DISK_FULL_ERROR, DEFAULT_FAILURE_ERRORS } from '../scenarios/scenario-defaults.ts';

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

const probability = z.number().min(0).max(1);
const factor = z.number().positive().max(1000);
/** A failure at a rate; its error message (absent or empty) defaults to the scenario's default for the operation. */
const faultRate = (operation: keyof typeof DEFAULT_FAILURE_ERRORS) =>
  z.strictObject({
    rate: probability,
    error: z
      .string()
      .max(500)
      .optional()
      .transform((e) => (e ? e : DEFAULT_FAILURE_ERRORS[operation])),
  });

const apiFaultsSchema = z
  .strictObject({
    latencyMs: z.number().min(0).max(600_000),
    latencyRate: probability,
    hangRate: probability,
    http5xxRate: probability,
    dropRate: probability,
    notConnected: z.boolean(),
    notConnectedRate: probability,
    busyRate: probability,
  })
  .partial() satisfies z.ZodType<ApiFaults>;

/** The one schema of the faults a control message may set (`{faults:{…}}`); every key optional. */
export const deviceFaultsSchema = z
  .strictObject({
    download: faultRate('download').extend({ mode: z.enum(['fail', 'disk_full']).optional() }).transform((f) =>
      f.mode === 'disk_full' && f.error === DEFAULT_FAILURE_ERRORS.download ? { ...f, error: DEFAULT_DISK_FULL_ERROR } : f,
    ),
    install: faultRate('install'),
    content_download: faultRate('content_download'),
    content_install: faultRate('content_install'),
    autocommit: faultRate('autocommit'),
    reboot: faultRate('reboot').extend({ mode: z.enum(['never_returns', 'wrong_version']) }),
    rebootSlowFactor: factor,
    downloadStalls: z.number().int().min(0).max(1_000_000),
    downloadSlowFactor: factor,
    installSlowFactor: factor,
    busy: faultRate('busy'),
    crash: faultRate('crash').extend({ on: z.literal('peer_install'), downMs: z.number().int().positive().max(86_400_000).optional() }),
    api: apiFaultsSchema,
    readiness: readinessFaultsSchema,
  })
  .partial() satisfies z.ZodType<Partial<DeviceFaults>, unknown>;

/** The metrics a control message may set (`{metrics:{…}}`); every key optional. */
export const deviceMetricsSchema = z
  .strictObject({
    tcpSessions: z.number().int().min(0),
    udpSessions: z.number().int().min(0),
    routes: z.number().int().min(0),
    arpEntries: z.number().int().min(0),
  })
  .partial() satisfies z.ZodType<Partial<DeviceMetrics>>;

/** Validate a control payload's part; throws a message naming the field (`faults.readiness.bgpPeerDown: …`). */
function parseWith<T>(schema: z.ZodType<T>, root: string, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const inner = (issue?.path ?? []).map(String);
  const path = (root === 'payload' && inner.length > 0 ? inner : [root, ...inner]).join('.');
  const known = issue?.code === 'unrecognized_keys' ? `; known: ${knownKeys(schema, issue.path)}` : '';
  const keys = issue?.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})${known}` : '';
  throw new ControlPayloadError(`${path}: ${issue?.message ?? 'invalid'}${keys}`, path);
}

/** The keys a (nested) object schema allows at a path, for the message of an unknown key. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string {
  const unwrap = (s: unknown): unknown => {
    const def = (s as { def?: { type?: string; in?: unknown; innerType?: unknown } } | undefined)?.def;
    if (def?.type === 'pipe') return unwrap(def.in);
    if (def?.type === 'optional' || def?.type === 'default') return unwrap(def.innerType);
    return s;
  };
  let at: unknown = schema;
  for (const key of path) at = (unwrap(at) as { shape?: Record<string, unknown> } | undefined)?.shape?.[String(key)];
  const shape = (unwrap(at) as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape).join(', ') : '';
}

/** The payloads of the control actions that change devices; unknown fields are refused. */
const faultsPayloadSchema = z.strictObject({ faults: deviceFaultsSchema.default({}), replace: z.boolean().optional() });
const metricsPayloadSchema = z.strictObject({ metrics: deviceMetricsSchema });
const crashPayloadSchema = z.strictObject({ seconds: z.number().positive().max(86_400).optional(), reason: z.string().min(1).max(200).optional() });

export const parseFaultsPayload = (value: unknown): { faults: Partial<DeviceFaults>; replace?: boolean } =>
  parseWith(faultsPayloadSchema, 'payload', value) as { faults: Partial<DeviceFaults>; replace?: boolean };
export const parseMetricsPayload = (value: unknown): { metrics: Partial<DeviceMetrics> } => parseWith(metricsPayloadSchema, 'payload', value);
export const parseCrashPayload = (value: unknown): { seconds?: number; reason?: string } => parseWith(crashPayloadSchema, 'payload', value);

export class ControlPayloadError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'ControlPayloadError';
  }
}
