import type { BenchDef } from './lib/bench.ts';
import { processStats, startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import type { AppendTrial } from './eventlog.child.ts';

const APPENDERS = [1, 64, 1000] as const;
const REPS = 2;
const TRIAL_MS = 2000;
const MAX_EVENTS = 300_000;
const RUN_DEVICES = 1000;
const TEMPLATE_DEVICES = 8;
const REPLAY_REPS = 3;

/** Durable appends through LmdbEventStore against raw lmdb puts + flush, trials alternating, a fresh file each. */
export function eventLogAppendBench(): BenchDef {
  const id = 'eventlog-append';
  return {
    id,
    group: 'eventlog',
    budgetMs: 90_000,
    async run(ctx) {
      const svc = await startService('bench/eventlog.child.ts', { role: id, profile: ctx.profile });
      const trials: Array<{ kind: 'store' | 'raw'; appenders: number; rep: number } & AppendTrial> = [];
      try {
        for (const appenders of APPENDERS) {
          for (let rep = 0; rep < REPS; rep++) {
            for (const kind of rep % 2 === 0 ? (['raw', 'store'] as const) : (['store', 'raw'] as const)) {
              const t = await svc.call<AppendTrial>('append', { kind, appenders, durationMs: TRIAL_MS, maxEvents: MAX_EVENTS }, 60_000);
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
        const rate = (kind: 'store' | 'raw') => median(trials.filter((t) => t.kind === kind && t.appenders === appenders).map((t) => t.eventsPerSecond));
        const store = rate('store');
        const raw = rate('raw');
        return {
          bench: id,
          name: `event log: durable append, ${appenders} concurrent appender${appenders > 1 ? 's' : ''}`,
          value: store,
          unit: 'events/s',
          baseline: { label: 'raw lmdb put + flush', value: raw, unit: 'events/s' },
          ratio: store / raw,
          goal: { op: '>=' as const, value: 0.5 },
          command: cmd,
        };
      });
      return {
        figures,
        details: { trialMs: TRIAL_MS, maxEvents: MAX_EVENTS, reps: REPS, trials: trials.map((t) => ({ ...t, eventsPerSecond: round(t.eventsPerSecond), ms: round(t.ms) })) },
      };
    },
  };
}

/** Replay (stateAt: every stream of a 1,000-device run folded) against one raw ordered range read of the same log. */
export function eventLogReplayBench(): BenchDef {
  const id = 'eventlog-replay';
  return {
    id,
    group: 'eventlog',
    budgetMs: 150_000,
    async run(ctx) {
      const svc = await startService('bench/eventlog.child.ts', { role: id, profile: ctx.profile });
      try {
        const run = await svc.call<{ events: number; devices: number; templateMs: number; cloneMs: number; eventsByKind: Record<string, number>; templateEvents: number }>(
          'buildRun',
          { devices: RUN_DEVICES, templateDevices: TEMPLATE_DEVICES },
          120_000,
        );
        ctx.progress(`run log: ${run.events} events for ${run.devices} devices (template ${Math.round(run.templateMs)} ms, copies ${Math.round(run.cloneMs)} ms)`);
        const replays: Array<{ ms: number; jobs: number; pairs: number; devices: number }> = [];
        const raws: Array<{ ms: number; events: number }> = [];
        for (let rep = 0; rep < REPLAY_REPS; rep++) {
          raws.push(await svc.call('rawRead', undefined, 60_000));
          replays.push(await svc.call('replay', undefined, 60_000));
          ctx.progress(`rep ${rep + 1}: replay ${Math.round(replays.at(-1)!.ms)} ms, raw read ${Math.round(raws.at(-1)!.ms)} ms`);
        }
        const stats = await svc.call<ReturnType<typeof processStats>>('stats');
        const replayMs = median(replays.map((r) => r.ms));
        const rawMs = median(raws.map((r) => r.ms));
        const cmd = command(id);
        const figures: Figure[] = [
          {
            bench: id,
            name: `event log: replay of a ${run.devices}-device run (${run.events.toLocaleString('en-US')} events)`,
            value: (run.events / replayMs) * 1000,
            unit: 'events/s',
            baseline: { label: 'raw ordered range read', value: (run.events / rawMs) * 1000, unit: 'events/s' },
            ratio: rawMs / replayMs,
            goal: { op: '>=', value: 0.5 },
            command: cmd,
            note: `${Math.round(replayMs)} ms`,
          },
        ];
        return { figures, details: { ...run, replayMs: round(replayMs), rawMs: round(rawMs), replays, raws, maxRssMiB: round(stats.maxRssMiB) } };
      } finally {
        await svc.stop();
      }
    },
  };
}
