import { z } from 'zod';
import { ValidationError } from '../panos/errors.ts';
import { isVersion } from '../panos/version.ts';
import { readYamlText, YamlSyntaxError, type YamlText } from '../panos/yaml-text.ts';
import type { FailureBudget } from './campaign.events.ts';
import { CampaignPlanError, checkWaveEntries, parseBudget, parseWaveSpec, waveSizeProblem, type PlanInput, type PlannerDevice, type Timings, type WaveEntry, DEFAULT_TIMINGS } from './campaign.plan.ts';
import { parseWindow, WindowSyntaxError } from './campaign.windows.ts';

/** A campaign plan file that is not valid: names the file, line and field. */
export class CampaignFileError extends ValidationError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${problem}`, path);
  }
}

const DURATION_RE = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/;

/** `90s`, `10m`, `1h30m`, or a number of seconds → ms. */
export function parseDuration(v: string | number): number | null {
  if (typeof v === 'number') return v >= 0 && Number.isFinite(v) ? v * 1000 : null;
  const t = v.trim();
  if (t === '') return null;
  if (/^\d+(?:\.\d+)?$/.test(t)) return Number(t) * 1000;
  const m = DURATION_RE.exec(t);
  if (!m || (!m[1] && !m[2] && !m[3])) return null;
  return Math.round((Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000);
}

const DAY_MS = 86_400_000;
/** The longest soak (after a wave), in campaign time and, with `timeScale`, in wall time. */
export const MAX_SOAK_MS = 30 * DAY_MS;
/** The longest expected download, install or reboot, in campaign time and, with `timeScale`, in wall time. */
export const MAX_PHASE_MS = 7 * DAY_MS;

function days(ms: number): string {
  return `${ms / DAY_MS} days`;
}

/** A duration of at most `maxMs`. */
function duration(maxMs: number) {
  return z.union([z.number(), z.string()]).superRefine((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null) ctx.addIssue({ code: 'custom', message: 'a duration such as 90s, 10m, 1h30m or a number of seconds' });
    else if (ms > maxMs) ctx.addIssue({ code: 'custom', message: `at most ${days(maxMs)} (${maxMs / 3_600_000}h), not ${JSON.stringify(v)}` });
  });
}
const soak = duration(MAX_SOAK_MS);
const budget = z.union([z.number().int().min(0), z.string().regex(/^\d+(\.\d+)?%$|^\d+$/, 'a number of failures (3) or a percentage (10%)')]);
const names = z.array(z.string().min(1)).min(1);
const window = z.string().superRefine((w, ctx) => {
  try {
    parseWindow(w);
  } catch (err) {
    if (err instanceof WindowSyntaxError) ctx.addIssue({ code: 'custom', message: err.message });
    else throw err;
  }
});
const phase = z.strictObject({ download: duration(MAX_PHASE_MS).optional(), install: duration(MAX_PHASE_MS).optional(), reboot: duration(MAX_PHASE_MS).optional() });

const waveEntry = z.strictObject({
  name: z.string().min(1).optional(),
  size: z
    .union([z.number(), z.string()])
    .superRefine((size, ctx) => {
      const problem = waveSizeProblem(size);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  devices: names.optional(),
  concurrency: z.number().int().min(1).optional(),
  soak: soak.optional(),
  approval: z.boolean().optional(),
});

/** `waves[1].size` or `waves.1.size` → `['waves', 1, 'size']`: a planner error's field as a place in the plan. */
export function fieldPath(field: string): Array<string | number> {
  return field
    .split(/[.[\]]+/)
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** A planner check inside the schema: its CampaignPlanError becomes an issue at its field (relative to `base`). */
function planProblem(ctx: z.RefinementCtx, check: () => unknown, base: Array<string | number>): void {
  try {
    check();
  } catch (err) {
    if (!(err instanceof CampaignPlanError)) throw err;
    const path = fieldPath(err.field ?? '');
    const relative = path.slice(base.length);
    ctx.addIssue({ code: 'custom', message: err.problem, ...(relative.length > 0 && base.every((b, i) => path[i] === b) ? { path: relative } : {}) });
  }
}

/**
 * A campaign plan: the YAML file of `campaign create --plan`, and the payload of `panos.cmd.campaign.create`
 * (with `dryRun`). One schema for both.
 */
export const CAMPAIGN_PLAN_SCHEMA = z.strictObject({
  name: z.string().min(1).max(80).optional(),
  target: z.string().refine(isVersion, 'a PAN-OS version such as 11.1.2').optional(),
  select: z
    .strictObject({
      all: z.boolean().optional(),
      serials: names.optional(),
      hostnames: names.optional(),
      models: names.optional(),
      deviceGroups: names.optional(),
      versions: names.optional(),
    })
    .optional(),
  exclude: z.strictObject({ serials: names.optional(), hostnames: names.optional() }).optional(),
  waves: z
    .union([
      z.string().min(1).superRefine((spec, ctx) => planProblem(ctx, () => parseWaveSpec(spec), ['waves'])),
      z.array(waveEntry).min(1).superRefine((entries, ctx) => planProblem(ctx, () => checkWaveEntries(entries), ['waves'])),
    ])
    .optional(),
  concurrency: z.number().int().min(1).max(1000).optional(),
  soak: soak.optional(),
  approval: z.boolean().optional(),
  windows: z.array(window).optional(),
  maxFailures: budget.optional(),
  maxWaveFailures: budget.optional(),
  groupBy: z.enum(['none', 'site', 'device-group']).optional(),
  groups: z.enum(['spread', 'together']).optional(),
  prestage: z.boolean().optional(),
  timeScale: z.number().positive().max(1000).optional(),
  timings: phase.extend({ byModel: z.record(z.string(), phase).optional() }).optional(),
  /** The readiness policy of its jobs (the policy YAML's shape, checked by its own schema); the shipped default when absent. */
  policy: z.record(z.string(), z.unknown()).optional(),
  dryRun: z.boolean().optional(),
}).superRefine((plan, ctx) => {
  // A rehearsal's timeScale stretches (or shrinks) every duration into wall time: the bounds hold there too.
  const scale = plan.timeScale ?? 1;
  if (scale <= 1) return;
  const check = (v: string | number | undefined, maxMs: number, path: Array<string | number>): void => {
    const ms = v === undefined ? null : parseDuration(v);
    if (ms !== null && ms * scale > maxMs) ctx.addIssue({ code: 'custom', path, message: `at most ${days(maxMs)} of wall time: ${JSON.stringify(v)} at timeScale ${scale} is ${Math.round((ms * scale) / 3_600_000)}h` });
  };
  check(plan.soak, MAX_SOAK_MS, ['soak']);
  if (Array.isArray(plan.waves)) plan.waves.forEach((w, i) => check(w.soak, MAX_SOAK_MS, ['waves', i, 'soak']));
  const phases = (p: { download?: string | number; install?: string | number; reboot?: string | number } | undefined, path: Array<string | number>): void => {
    for (const k of ['download', 'install', 'reboot'] as const) check(p?.[k], MAX_PHASE_MS, [...path, k]);
  };
  phases(plan.timings, ['timings']);
  for (const [model, p] of Object.entries(plan.timings?.byModel ?? {})) phases(p, ['timings', 'byModel', model]);
});

export type CampaignPlan = z.infer<typeof CAMPAIGN_PLAN_SCHEMA>;

/**
 * `--exclude` values added to a plan's `exclude`: a value of digits only is a serial (PAN-OS serials are
 * digits); anything else is a hostname or hostname glob (`fw01`, `fw-lab-*`).
 */
export function withExcluded(exclude: CampaignPlan['exclude'], values: readonly string[]): CampaignPlan['exclude'] {
  const out = { ...(exclude ?? {}) };
  for (const value of values) {
    if (/^\d+$/.test(value)) out.serials = [...(out.serials ?? []), value];
    else out.hostnames = [...(out.hostnames ?? []), value];
  }
  return out.serials || out.hostnames ? out : undefined;
}

/** Selection options of `campaign create` given on the command line. */
export interface SelectionFlags {
  all?: boolean;
  serials?: readonly string[];
  hostnames?: readonly string[];
  models?: readonly string[];
  deviceGroups?: readonly string[];
  versions?: readonly string[];
}

/**
 * The command line's selection over a plan's `select`. The devices to add (`--all`, `--device`,
 * `--hostname`) are one choice: any of them replaces the plan's `all`, `serials` and `hostnames` together.
 * Each filter (`--model`, `--device-group`, `--from-version`) replaces the plan's list of its kind; the
 * plan's other filters still narrow the selection.
 */
export function withSelection(select: CampaignPlan['select'], flags: SelectionFlags): CampaignPlan['select'] {
  const out: NonNullable<CampaignPlan['select']> = { ...(select ?? {}) };
  const adds = flags.all === true || (flags.serials?.length ?? 0) > 0 || (flags.hostnames?.length ?? 0) > 0;
  if (adds) {
    if (flags.all && ((flags.serials?.length ?? 0) > 0 || (flags.hostnames?.length ?? 0) > 0)) {
      throw new ValidationError('--all selects every device: give --all, or --device/--hostname, not both', 'select.all');
    }
    delete out.all;
    delete out.serials;
    delete out.hostnames;
    if (flags.all) out.all = true;
    if (flags.serials?.length) out.serials = [...flags.serials];
    if (flags.hostnames?.length) out.hostnames = [...flags.hostnames];
  }
  if (flags.models?.length) out.models = [...flags.models];
  if (flags.deviceGroups?.length) out.deviceGroups = [...flags.deviceGroups];
  if (flags.versions?.length) out.versions = [...flags.versions];
  return Object.keys(out).length ? out : undefined;
}

/** zod issues as `path: message` pairs. */
export function planIssues(err: z.ZodError): Array<{ path: Array<string | number>; message: string }> {
  return err.issues.map((i) => ({ path: i.path.filter((p): p is string | number => typeof p !== 'symbol'), message: i.message }));
}

/** Parse a YAML plan; errors name the file, line and field. */
export function parsePlanFile(text: string, file: string): CampaignPlan {
  let yaml: YamlText;
  try {
    yaml = readYamlText(text);
  } catch (err) {
    if (err instanceof YamlSyntaxError) throw new CampaignFileError(file, err.line, '', `the YAML cannot be read: ${err.problem}`);
    throw err;
  }
  const result = CAMPAIGN_PLAN_SCHEMA.safeParse(yaml.value ?? {});
  if (result.success) return result.data;
  const issue = planIssues(result.error)[0]!;
  return fail(file, yaml.lineOf(issue.path), issue.path.join('.'), issue.message);
}

function valueAt(value: unknown, path: ReadonlyArray<string | number>): unknown {
  let v = value;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/**
 * A plan error only the daemon could find (a serial not in the inventory, a wave's devices matching
 * nothing, a policy's field), placed in the plan file: `file:line: field: problem`. `field` is the error's
 * (`waves[0].devices`, `select.serials[1]`); undefined when it names no place, or a value a command-line
 * option gave rather than the file.
 */
export function placePlanError(file: string, text: string, fromFile: CampaignPlan, sent: CampaignPlan, field: string, problem: string): CampaignFileError | undefined {
  if (!field) return undefined;
  const path = fieldPath(field);
  if (JSON.stringify(valueAt(fromFile, path)) !== JSON.stringify(valueAt(sent, path))) return undefined;
  let yaml: YamlText;
  try {
    yaml = readYamlText(text);
  } catch {
    return undefined;
  }
  return new CampaignFileError(file, yaml.lineOf(path), field, problem);
}

function fail(file: string, line: number | undefined, path: string, problem: string): never {
  throw new CampaignFileError(file, line, path, problem);
}

function ms(v: string | number | undefined): number | undefined {
  return v === undefined ? undefined : parseDuration(v)!;
}

function timingsOf(t: CampaignPlan['timings'], base: Timings): Timings {
  if (!t) return base;
  const byModel: Timings['byModel'] = { ...base.byModel };
  for (const [model, p] of Object.entries(t.byModel ?? {})) {
    byModel[model] = { ...(p.download !== undefined ? { downloadMs: ms(p.download) } : {}), ...(p.install !== undefined ? { installMs: ms(p.install) } : {}), ...(p.reboot !== undefined ? { rebootMs: ms(p.reboot) } : {}) };
  }
  return { downloadMs: ms(t.download) ?? base.downloadMs, installMs: ms(t.install) ?? base.installMs, rebootMs: ms(t.reboot) ?? base.rebootMs, byModel };
}

/** A validated plan as planner input. */
export function planInput(
  plan: CampaignPlan,
  ctx: { campaignId: string; devices: readonly PlannerDevice[]; concurrency: number; timings?: Timings; hops?: (d: PlannerDevice) => number; now?: number },
): PlanInput {
  const waves: string | WaveEntry[] =
    plan.waves === undefined
      ? 'rest'
      : typeof plan.waves === 'string'
        ? parseWaveSpec(plan.waves)
        : plan.waves.map((w) => ({
            ...(w.name ? { name: w.name } : {}),
            ...(w.size !== undefined ? { size: w.size } : {}),
            ...(w.devices ? { devices: w.devices } : {}),
            ...(w.concurrency !== undefined ? { concurrency: w.concurrency } : {}),
            ...(w.soak !== undefined ? { soakMs: ms(w.soak) } : {}),
            ...(w.approval !== undefined ? { approval: w.approval } : {}),
          }));
  const overall: FailureBudget = plan.maxFailures === undefined ? { count: 0, percent: null } : parseBudget(plan.maxFailures, 'maxFailures');
  const wave: FailureBudget = parseBudget(plan.maxWaveFailures, 'maxWaveFailures');
  return {
    campaignId: ctx.campaignId,
    ...(plan.name ? { name: plan.name } : {}),
    devices: ctx.devices,
    selection: { ...(plan.select ?? {}), ...(plan.exclude ? { exclude: plan.exclude } : {}) },
    targetVersion: plan.target ?? null,
    waves,
    concurrency: plan.concurrency ?? ctx.concurrency,
    soakMs: ms(plan.soak) ?? 0,
    approval: plan.approval ?? false,
    windows: plan.windows ?? [],
    budget: { wave, overall },
    groupBy: plan.groupBy ?? 'none',
    groups: plan.groups ?? 'spread',
    prestage: plan.prestage ?? false,
    timeScale: plan.timeScale ?? 1,
    timings: timingsOf(plan.timings, ctx.timings ?? DEFAULT_TIMINGS),
    ...(ctx.hops ? { hops: ctx.hops } : {}),
    ...(plan.policy ? { readiness: plan.policy } : {}),
    ...(ctx.now !== undefined ? { now: ctx.now } : {}),
  };
}
