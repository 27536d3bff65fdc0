import type { BenchDef } from './lib/bench.ts';
import { startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import type { ReplicatedTrial } from './replicated-log.child.ts';

const APPENDERS = [1, 16, 64] as const;
const REPS = 2;
const TRIAL_MS = 2000;
const MAX_EVENTS = 100_000;

/**
 * Issue #19 point 6 (append half): durable appends of the replicated log (JetStream R3 entry, expected last
 * subject sequence, message id, LMDB projection) against raw `js.publish` + ack of entries of the same size to
 * a stream of the same configuration, on a 3-node cluster started by the child; trials alternate.
 */
export function replicatedLogAppendBench(): BenchDef {
  const id = 'cluster-log-append';
  return {
    id,
    group: 'cluster',
    budgetMs: 120_000,
    async run(ctx) {
      const svc = await startService('bench/replicated-log.child.ts', { role: id, profile: ctx.profile });
      const trials: Array<{ kind: 'log' | 'raw'; appenders: number; rep: number } & ReplicatedTrial> = [];
      try {
        for (const appenders of APPENDERS) {
          for (let rep = 0; rep < REPS; rep++) {
            for (const kind of rep % 2 === 0 ? (['raw', 'log'] as const) : (['log', 'raw'] as const)) {
              const t = await svc.call<ReplicatedTrial>('trial', { kind, appenders, durationMs: TRIAL_MS, maxEvents: MAX_EVENTS, replicas: 3 }, 60_000);
              ctx.progress(`${kind} ×${appenders} rep ${rep + 1}: ${Math.round(t.eventsPerSecond)} events/s`);
              trials.push({ kind, appenders, rep, ...t });
            }
          }
        }
      } finally {
        await svc.stop();
      }
      const cmd = command(id);
      const figures: Figure[] = APPENDERS.map((appenders) => {
        const rate = (kind: 'log' | 'raw') => median(trials.filter((t) => t.kind === kind && t.appenders === appenders).map((t) => t.eventsPerSecond));
        const log = rate('log');
        const raw = rate('raw');
        return {
          bench: id,
          name: `replicated log (3-node cluster, R3): durable append + LMDB projection, ${appenders} concurrent appender${appenders > 1 ? 's' : ''}`,
          value: log,
          unit: 'events/s',
          baseline: { label: 'raw JetStream publish + ack, same stream config', value: raw, unit: 'events/s' },
          ratio: log / raw,
          command: cmd,
        };
      });
      return {
        figures,
        details: { trialMs: TRIAL_MS, maxEvents: MAX_EVENTS, reps: REPS, replicas: 3, trials: trials.map((t) => ({ ...t, eventsPerSecond: round(t.eventsPerSecond), ms: round(t.ms) })) },
      };
    },
  };
}
