import type { BenchDef } from './lib/bench.ts';
import { startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import type { TakeoverTrial } from './takeover.child.ts';

const REPS = 2;
/** The cluster settings of the trials (the e2e tests' too): a short lease, so that a trial is quick. */
export const LEASE_SECONDS = 3;
export const HEARTBEAT_SECONDS = 1;

/**
 * Issue #19 point 6 (takeover half), on a 3-node cluster started by the child: the active daemon killed
 * mid-upgrade (its data dir deleted), measured from its death to the standby's first call to the device (the
 * step resumed), against a single daemon killed at the same point and started again at once on its own data
 * dir (same run, alternating trials); and from the death to the standby holding the lease, against the
 * bound the design promises (lease time plus one heartbeat).
 */
export function takeoverBench(): BenchDef {
  const id = 'cluster-takeover';
  return {
    id,
    group: 'cluster',
    budgetMs: 300_000,
    async run(ctx) {
      const svc = await startService('bench/takeover.child.ts', { role: id, profile: ctx.profile, startTimeoutMs: 120_000 });
      const trials: TakeoverTrial[] = [];
      try {
        for (let rep = 0; rep < REPS; rep++) {
          for (const mode of rep % 2 === 0 ? (['takeover', 'restart'] as const) : (['restart', 'takeover'] as const)) {
            const t = await svc.call<TakeoverTrial>('trial', { mode }, 300_000);
            ctx.progress(`${mode} rep ${rep + 1}: lease ${t.leaseMs ?? '-'} ms, first call ${t.firstCallMs} ms, first fact ${t.firstFactMs} ms (${t.status})`);
            trials.push(t);
          }
        }
      } finally {
        await svc.stop();
      }
      const of = (mode: TakeoverTrial['mode'], k: 'leaseMs' | 'firstCallMs' | 'firstFactMs'): number => median(trials.filter((t) => t.mode === mode).map((t) => t[k] ?? 0));
      const bound = (LEASE_SECONDS + HEARTBEAT_SECONDS) * 1000;
      const cmd = command(id);
      const figures: Figure[] = [
        {
          bench: id,
          name: `takeover: active's death (kill -9, data dir deleted) → the standby's first call to the device (lease ${LEASE_SECONDS} s, heartbeat ${HEARTBEAT_SECONDS} s)`,
          value: of('takeover', 'firstCallMs') / 1000,
          unit: 's',
          baseline: { label: 'one daemon killed at the same point and restarted at once on its data dir', value: of('restart', 'firstCallMs') / 1000, unit: 's' },
          ratio: of('takeover', 'firstCallMs') / of('restart', 'firstCallMs'),
          command: cmd,
        },
        {
          bench: id,
          name: "takeover: active's death → the standby holds the lease",
          value: of('takeover', 'leaseMs') / 1000,
          unit: 's',
          baseline: { label: 'lease time + one heartbeat (the design bound)', value: bound / 1000, unit: 's' },
          ratio: of('takeover', 'leaseMs') / bound,
          goal: { op: '<=', value: 1 },
          command: cmd,
        },
        {
          bench: id,
          name: "takeover: active's death → the standby's first recorded fact of the job",
          value: of('takeover', 'firstFactMs') / 1000,
          unit: 's',
          baseline: { label: 'restart at once on the same data dir', value: of('restart', 'firstFactMs') / 1000, unit: 's' },
          ratio: of('takeover', 'firstFactMs') / of('restart', 'firstFactMs'),
          command: cmd,
        },
      ];
      return { figures, details: { leaseSeconds: LEASE_SECONDS, heartbeatSeconds: HEARTBEAT_SECONDS, reps: REPS, trials: trials.map((t) => ({ ...t, firstCallMs: round(t.firstCallMs), firstFactMs: round(t.firstFactMs) })) } };
    },
  };
}
