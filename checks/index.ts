/**
 * Readiness checks and snapshots: pure functions from a device's parsed answers to verdicts, and from two
 * snapshots to a diff. The policy (which checks, severities, parameters, comparison limits) is data,
 * validated by one zod schema. Effects that read the device live in actors/readiness.ts.
 */
export * from './catalogue.ts';
export * from './default-policy.ts';
export * from './policy.ts';
export * from './readings.ts';
export * from './run-checks.ts';
export * from './snapshot.ts';
