import { CHECKS, type CheckContext, type CheckDefinition, type CheckStatus, type Severity } from './catalogue.ts';
import type { ReadinessPolicy } from './policy.ts';
import { READING_COMMANDS, type ReadingName, type Readings } from './readings.ts';

/** One check's verdict, as recorded in the job's events and printed by `check`. Plain JSON. */
export interface CheckVerdict {
  check: string;
  title: string;
  severity: Severity;
  status: CheckStatus;
  /** A failed check whose severity is `block`. */
  blocking: boolean;
  message: string;
}

export interface ReadinessReport {
  serial: string;
  hostname: string;
  /** ISO-8601, when the answers were read. */
  at: string;
  verdicts: CheckVerdict[];
  /** No blocking failure. */
  ok: boolean;
  counts: { pass: number; fail: number; warn: number; skipped: number; unavailable: number };
}

function enabledChecks(policy: ReadinessPolicy): CheckDefinition[] {
  return (CHECKS as readonly CheckDefinition[]).filter((c) => policy.checks[c.name]?.enabled);
}

/** The readings the policy's enabled checks need, in catalogue order, each once. */
export function readingsNeeded(policy: ReadinessPolicy): ReadingName[] {
  return [...new Set(enabledChecks(policy).flatMap((c) => (readsAnything(c, policy) ? c.reads : [])))];
}

/** Whether the check, with the policy's parameters, looks at the device (see `readsWith`). */
function readsAnything(def: CheckDefinition, policy: ReadinessPolicy): boolean {
  if (!def.readsWith) return true;
  const params = def.params.safeParse(policy.checks[def.name]?.params ?? {});
  return !params.success || def.readsWith(params.data);
}

/**
 * Run the policy's checks over the device's answers. Pure. A check whose reading is missing says so and
 * is `unavailable` (never blocking); a check that throws is `unavailable` with the error, not a crash.
 */
export function runChecks(policy: ReadinessPolicy, readings: Readings, ctx: CheckContext): CheckVerdict[] {
  return enabledChecks(policy).map((def) => {
    const entry = policy.checks[def.name]!;
    const severity = entry.severity ?? def.severity;
    const base = { check: def.name, title: def.title, severity };
    const args: Record<string, unknown> = {};
    const parsed = def.params.safeParse(entry.params ?? {});
    // A check that reads nothing with these parameters runs without its readings (it skips before it looks).
    const needs = parsed.success && def.readsWith ? def.readsWith(parsed.data) : true;
    for (const r of needs ? def.reads : []) {
      const got = readings[r];
      if (!got) return { ...base, status: 'unavailable' as const, blocking: false, message: `not read: ${READING_COMMANDS[r]}` };
      if (!got.ok) return { ...base, status: 'unavailable' as const, blocking: false, message: `cannot run: ${READING_COMMANDS[r]}: ${got.reason}` };
      args[r] = got.value;
    }
    const params = parsed;
    if (!params.success) return { ...base, status: 'unavailable' as const, blocking: false, message: `bad parameters: ${params.error.issues[0]?.message ?? 'invalid'}` };
    try {
      const out = def.run(args as never, params.data, ctx);
      return { ...base, status: out.status, blocking: out.status === 'fail' && severity === 'block', message: out.message };
    } catch (err) {
      return { ...base, status: 'unavailable' as const, blocking: false, message: `cannot run: ${err instanceof Error ? err.message : String(err)}` };
    }
  });
}

export function readinessReport(serial: string, hostname: string, at: string, verdicts: CheckVerdict[]): ReadinessReport {
  const counts = { pass: 0, fail: 0, warn: 0, skipped: 0, unavailable: 0 };
  for (const v of verdicts) {
    if (v.status === 'pass') counts.pass++;
    else if (v.status === 'skipped') counts.skipped++;
    else if (v.status === 'unavailable') counts.unavailable++;
    else if (v.blocking) counts.fail++;
    else counts.warn++;
  }
  return { serial, hostname, at, verdicts, ok: verdicts.every((v) => !v.blocking), counts };
}

/** One line per blocking failure: what the operator reads in the job's failure reason. */
export function describeBlocking(verdicts: readonly CheckVerdict[]): string {
  return verdicts
    .filter((v) => v.blocking)
    .map((v) => `${v.check}: ${v.message}`)
    .join('; ');
}
