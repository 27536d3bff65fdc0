import type { BenchDef } from './lib/bench.ts';
import { startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import type { GatewayServerInfo } from './gateway-server.child.ts';
import type { LoadResult, LoadRun } from './load-generator.child.ts';
import type { SlowRun, SlowStats } from './slow-clients.child.ts';

const SLOW = 1000;
const CONCURRENCY = 16;
const REPS = 3;
const DURATION_MS = 3000;
const WARMUP_MS = 500;
const DEVICES = 1000;

/**
 * Normal `show system info` calls through the gateway while 1,000 slow clients (a header line every
 * 2 s, never finishing; reconnecting when closed) hold connections open, against the same calls with none,
 * in alternating trials of the same run. Goal: loaded p99 within 2× of unloaded.
 */
export function slowClientsBench(): BenchDef {
  const id = 'gateway-slow-clients';
  return {
    id,
    group: 'slow-clients',
    budgetMs: 150_000,
    async run(ctx) {
      const gw = await startService<GatewayServerInfo>('bench/gateway-server.child.ts', { role: 'gateway-server', args: [String(DEVICES)], profile: ctx.profile });
      const load = await startService('bench/load-generator.child.ts', { role: 'load-generator', profile: ctx.profile });
      const slow = await startService('bench/slow-clients.child.ts', { role: 'slow-clients', profile: ctx.profile });
      const port = Number(new URL(gw.info.url).port);
      // 4 source addresses × 250 connections: each below the gateway's per-client limit (256).
      const slowRun: SlowRun = { host: '127.0.0.1', port, count: SLOW, localAddresses: ['127.0.3.1', '127.0.3.2', '127.0.3.3', '127.0.3.4'], intervalMs: 2000 };
      const trials: Array<{ loaded: boolean; rep: number; result: LoadResult; slow?: SlowStats }> = [];
      try {
        for (let rep = 0; rep < REPS; rep++) {
          const order = rep % 2 === 0 ? [false, true] : [true, false];
          for (const loaded of order) {
            let held: SlowStats | undefined;
            if (loaded) held = await slow.call<SlowStats>('hold', slowRun, 60_000);
            const run: LoadRun = { origin: gw.info.url, paths: gw.info.paths, concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS };
            const result = await load.call<LoadResult>('run', run, 60_000);
            const after = loaded ? await slow.call<SlowStats>('release') : undefined;
            ctx.progress(
              `${loaded ? `with ${held?.open ?? 0} slow clients held` : 'no slow clients'} rep ${rep + 1}: ${Math.round(result.rps)} req/s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, errors ${result.errors}${after ? `, slow clients open at the end ${after.open}` : ''}`,
            );
            trials.push({ loaded, rep, result, ...(after ? { slow: { ...after, open: Math.min(held?.open ?? 0, after.open) } } : {}) });
          }
        }
      } finally {
        await slow.stop();
        await load.stop();
        await gw.stop();
      }
      const pick = (loaded: boolean) => trials.filter((t) => t.loaded === loaded).map((t) => t.result);
      const p99 = (loaded: boolean) => median(pick(loaded).map((r) => r.latency.p99));
      const p50 = (loaded: boolean) => median(pick(loaded).map((r) => r.latency.p50));
      const rps = (loaded: boolean) => median(pick(loaded).map((r) => r.rps));
      const cmd = command(id);
      const figures: Figure[] = [
        {
          bench: id,
          name: `gateway c=${CONCURRENCY} with ${SLOW} slow clients held: latency p99`,
          value: p99(true),
          unit: 'ms',
          baseline: { label: 'no slow clients', value: p99(false), unit: 'ms' },
          ratio: p99(true) / p99(false),
          goal: { op: '<=', value: 2 },
          command: cmd,
        },
        { bench: id, name: `gateway c=${CONCURRENCY} with ${SLOW} slow clients held: latency p50`, value: p50(true), unit: 'ms', baseline: { label: 'no slow clients', value: p50(false), unit: 'ms' }, ratio: p50(true) / p50(false), command: cmd },
        { bench: id, name: `gateway c=${CONCURRENCY} with ${SLOW} slow clients held: throughput`, value: rps(true), unit: 'req/s', baseline: { label: 'no slow clients', value: rps(false), unit: 'req/s' }, ratio: rps(true) / rps(false), command: cmd },
      ];
      return {
        figures,
        details: {
          slowClients: SLOW,
          slowHeaderIntervalMs: slowRun.intervalMs,
          concurrency: CONCURRENCY,
          durationMs: DURATION_MS,
          reps: REPS,
          trials: trials.map((t) => ({ loaded: t.loaded, rep: t.rep, rps: round(t.result.rps), p50: round(t.result.latency.p50, 3), p99: round(t.result.latency.p99, 3), errors: t.result.errors, slow: t.slow })),
        },
      };
    },
  };
}
