import type { BenchDef } from './lib/bench.ts';
import { startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { round } from './lib/stats.ts';
import type { SimScaleResult } from './sim-scale.child.ts';

const GiB_IN_MiB = 1024;

function label(size: number): string {
  return size >= 1000 ? `${size / 1000}k` : String(size);
}

/** 1,000 / 10,000 / 100,000 simulated firewalls in one fresh process each. */
export function simScaleBench(size: number): BenchDef {
  const id = `sim-${label(size)}`;
  return {
    id,
    group: 'sim',
    budgetMs: size >= 100_000 ? 150_000 : 60_000,
    async run(ctx) {
      const svc = await startService<{ pid: number }>('bench/sim-scale.child.ts', { role: id, profile: ctx.profile });
      let r: SimScaleResult;
      try {
        r = await svc.call<SimScaleResult>('run', { size, samples: 2000, maxMs: 8000 });
      } finally {
        await svc.stop();
      }
      const cmd = command(id);
      const n = size.toLocaleString('en-US');
      const figures: Figure[] = [
        { bench: id, name: `sim ${n}: start`, value: r.startMs / 1000, unit: 's', command: cmd, note: 'until the first device answers over NATS' },
        {
          bench: id,
          name: `sim ${n}: resident memory`,
          value: r.rssMiB,
          unit: 'MiB',
          baseline: { label: 'goal for 100,000', value: GiB_IN_MiB, unit: 'MiB' },
          ratio: r.rssMiB / GiB_IN_MiB,
          ...(size === 100_000 ? { goal: { op: '<=' as const, value: 1 } } : {}),
          command: cmd,
          note: `after GC; peak ${Math.round(r.maxRssMiB)} MiB`,
        },
        { bench: id, name: `sim ${n}: heap per device`, value: r.heapPerDeviceBytes / 1024, unit: 'KiB', command: cmd, note: 'scenario objects included' },
        {
          bench: id,
          name: `sim ${n}: show system info over NATS p50`,
          value: r.sim.p50,
          unit: 'ms',
          baseline: { label: 'bare NATS echo p50', value: r.echo.p50, unit: 'ms' },
          ratio: r.sim.p50 / r.echo.p50,
          command: cmd,
        },
        {
          bench: id,
          name: `sim ${n}: show system info over NATS p99`,
          value: r.sim.p99,
          unit: 'ms',
          baseline: { label: 'bare NATS echo p99', value: r.echo.p99, unit: 'ms' },
          ratio: r.sim.p99 / r.echo.p99,
          command: cmd,
        },
      ];
      return {
        figures,
        details: { ...r, sim: roundAll(r.sim), echo: roundAll(r.echo) },
      };
    },
  };
}

function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, 4) : v])) as T;
}
