import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../panos/errors.ts';
import { CHECKS, type CheckDefinition } from './catalogue.ts';
import { DEFAULT_POLICY_YAML } from './default-policy.ts';
import { SNAPSHOT_AREAS, type SnapshotArea } from './snapshot.ts';
import { formatYamlPath, readYamlText, YamlSyntaxError, type YamlText } from '../panos/yaml-text.ts';

/**
 * A readiness policy that does not validate: names the file, the line and the field. A usage error (the
 * CLI exits 2; over NATS the reply's code is VALIDATION), as a campaign plan's or a scenario's is.
 */
export class PolicyError extends ValidationError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${problem}`, path);
  }
}

const severity = z.enum(['block', 'warn']);

/** A check's entry: `enabled`, `severity` and the check's own parameters side by side. */
function checkEntry(def: CheckDefinition) {
  const params = def.params as z.ZodObject;
  return z
    .object({ enabled: z.boolean().default(true), severity: severity.optional() })
    .extend(params.shape)
    .strict()
    .transform(({ enabled, severity: sev, ...rest }) => ({ enabled, ...(sev ? { severity: sev } : {}), params: rest as Record<string, unknown> }));
}

export interface AreaRule {
  enabled: boolean;
  /** `block`: a regression fails the job; `warn`: it is reported only. */
  severity: 'block' | 'warn';
  /** Allowed change of the entry count, in % of the count before; null = any. */
  max_change_pct: number | null;
  /** Allowed change of the entry count in entries, whatever the percentage (small tables). */
  max_change_count: number;
  /** Every entry present before must still be there. */
  keep_all: boolean;
  /** Entries (by key) that must still exist after. */
  must_keep: string[];
  /** Whether an entry's state (up/down, Established, speed, MTU, version) may change. */
  allow_state_changes: boolean;
}

function areaRule(d: Partial<AreaRule>) {
  const def: AreaRule = { enabled: true, severity: 'block', max_change_pct: null, max_change_count: 0, keep_all: false, must_keep: [], allow_state_changes: false, ...d };
  return z
    .object({
      enabled: z.boolean().default(def.enabled),
      severity: severity.default(def.severity),
      max_change_pct: z.number().min(0).nullable().default(def.max_change_pct),
      max_change_count: z.number().int().min(0).default(def.max_change_count),
      keep_all: z.boolean().default(def.keep_all),
      must_keep: z.array(z.string()).default(def.must_keep),
      allow_state_changes: z.boolean().default(def.allow_state_changes),
    })
    .strict()
    .default(def);
}

/** The shipped comparison limits per snapshot area (the old three figures' defaults where they had one). */
export const AREA_DEFAULTS: Record<SnapshotArea, Partial<AreaRule>> = {
  routes: { max_change_pct: 0 },
  fib: { max_change_pct: 0 },
  arp: { max_change_pct: 5, max_change_count: 5 },
  sessions: { max_change_pct: 10, allow_state_changes: true },
  interfaces: { keep_all: true },
  bgp_peers: { keep_all: true },
  ipsec_tunnels: { keep_all: true },
  licenses: { keep_all: true, severity: 'warn' },
  content: { allow_state_changes: true, severity: 'warn' },
};

const checksShape = Object.fromEntries((CHECKS as readonly CheckDefinition[]).map((c) => [c.name, checkEntry(c).optional()]));
const snapshotsShape = Object.fromEntries(SNAPSHOT_AREAS.map((a) => [a, areaRule(AREA_DEFAULTS[a])]));

/**
 * The one schema of a readiness policy: which checks run, with what severity and parameters, and the
 * snapshot comparison's limits per area. Used for the YAML file, the NATS payload and the job's record.
 */
export const readinessPolicySchema = z
  .object({
    name: z.string().min(1).optional(),
    checks: z.object(checksShape).strict().prefault({}),
    snapshots: z.object(snapshotsShape).strict().prefault({}),
  })
  .strict();

export interface CheckEntry {
  enabled: boolean;
  severity?: 'block' | 'warn';
  params: Record<string, unknown>;
}

export interface ReadinessPolicy {
  name?: string;
  checks: Record<string, CheckEntry | undefined>;
  snapshots: Record<SnapshotArea, AreaRule>;
}

type Seg = string | number;

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const known = issue.path.length === 1 && issue.path[0] === 'checks' ? `; known checks: ${CHECKS.map((c) => c.name).join(', ')}` : '';
    return `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}${known}`;
  }
  return issue.message;
}

/** Validate a policy given as an object (a NATS payload, a job's record); errors carry no line. */
export function policyFromObject(raw: unknown, file = '<inline>'): ReadinessPolicy {
  const parsed = readinessPolicySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? issue.path : issue.path;
    throw new PolicyError(file, undefined, formatYamlPath(path), describeIssue(issue));
  }
  return parsed.data as ReadinessPolicy;
}

/** Parse and validate policy YAML; every problem is a PolicyError naming the file, line and field. */
export function parsePolicy(text: string, file: string): ReadinessPolicy {
  let yaml: YamlText;
  try {
    yaml = readYamlText(text);
  } catch (err) {
    if (err instanceof YamlSyntaxError) throw new PolicyError(file, err.line, '', err.problem);
    throw err;
  }
  const value = yaml.value as unknown;
  const parsed = readinessPolicySchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((s): s is Seg => typeof s !== 'symbol');
    const keyPath = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...path, issue.keys[0]] : path;
    throw new PolicyError(file, yaml.lineOf(keyPath), formatYamlPath(issue.path), describeIssue(issue));
  }
  // A check left out does not run: an empty or cut-short file (a failed `--print-policy >`) would run none and say "Ready".
  if (typeof value !== 'object' || value === null || !('checks' in value)) {
    throw new PolicyError(file, undefined, 'checks', 'missing: without a checks: section no readiness check runs (to run none on purpose, write checks: {}; the shipped policy: panos-upgrade check --print-policy)');
  }
  return parsed.data as ReadinessPolicy;
}

export function loadPolicyFile(path: string): ReadinessPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PolicyError(path, undefined, '', `cannot read the policy file: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parsePolicy(text, path);
}

let defaultPolicy: ReadinessPolicy | undefined;

/** The shipped default policy (DEFAULT_POLICY_YAML, printed by `panos-upgrade check --print-policy`). */
export function defaultReadinessPolicy(): ReadinessPolicy {
  defaultPolicy ??= parsePolicy(DEFAULT_POLICY_YAML, '<default policy>');
  return defaultPolicy;
}

/** A validated policy back in the YAML's shape (what `policy` payloads carry): `policyFromObject(policyToObject(p))` is `p`. */
export function policyToObject(p: ReadinessPolicy): Record<string, unknown> {
  const checks: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(p.checks)) {
    if (entry) checks[name] = { enabled: entry.enabled, ...(entry.severity ? { severity: entry.severity } : {}), ...entry.params };
  }
  return { ...(p.name ? { name: p.name } : {}), checks, snapshots: p.snapshots };
}
