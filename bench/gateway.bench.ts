import type { BenchDef } from './lib/bench.ts';
import { peakRssOfPid, processStats, startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import type { GatewayServerInfo } from './gateway-server.child.ts';
import type { LoadResult, LoadRun } from './load-generator.child.ts';

/** Development knob: `PANOS_BENCH_GATEWAY_CONCURRENCY=64` measures at those concurrencies only (comma-separated). */
const CONCURRENCY: readonly number[] = process.env.PANOS_BENCH_GATEWAY_CONCURRENCY ? process.env.PANOS_BENCH_GATEWAY_CONCURRENCY.split(',').map(Number) : [1, 16, 64];
const REPS = 3;
const DURATION_MS = 2500;
const WARMUP_MS = 500;
const DEVICES = 1000;
type Protocol = 'http' | 'https';
/** Development knob: `PANOS_BENCH_GATEWAY_PROTOCOLS=http` measures over that protocol only (comma-separated). */
const PROTOCOLS: readonly Protocol[] = process.env.PANOS_BENCH_GATEWAY_PROTOCOLS
  ? (['http', 'https'] as const).filter((p) => process.env.PANOS_BENCH_GATEWAY_PROTOCOLS!.split(',').includes(p))
  : ['http', 'https'];
/** Development knob: `nats` measures the gateway on the NATS transport (the before side of the in-process one). */
const TRANSPORT = process.env.PANOS_BENCH_GATEWAY_TRANSPORT === 'nats' ? 'nats' : 'in-process';

type Stats = ReturnType<typeof processStats>;
const cpuSeconds = (s: Stats): number => s.cpuUserS + s.cpuSystemS;

/**
 * `show system info` through the gateway (Panorama with `target=`, the simulator in the same process
 * called in-process) against a bare Koa handler returning a body of the same size, over plain HTTP and
 * over HTTPS (the bare HTTPS server serves the gateway's own certificate), driven by the same load
 * generator in its own process; trials alternate between the two so noise falls on both.
 */
export function gatewayBench(): BenchDef {
  const id = 'gateway';
  return {
    id,
    group: 'gateway',
    budgetMs: 240_000,
    async run(ctx) {
      const gw = await startService<GatewayServerInfo>('bench/gateway-server.child.ts', { role: 'gateway-server', args: [String(DEVICES), TRANSPORT], profile: ctx.profile });
      const bare = await startService<{ url: string }>('bench/bare-server.child.ts', { role: 'bare-server', args: [String(gw.info.bodyBytes)], profile: ctx.profile });
      const load = await startService('bench/load-generator.child.ts', { role: 'load-generator', profile: ctx.profile });
      const trials: Array<{ protocol: Protocol; target: 'gateway' | 'bare'; concurrency: number; rep: number; result: LoadResult; cpuUsPerRequest: number }> = [];
      let gwStats: Stats;
      let bareStats: Stats;
      let natsPeak: number | undefined;
      try {
        const bareHttps = await bare.call<string>('https', gw.info.tls);
        const origins: Record<Protocol, Record<'gateway' | 'bare', string>> = {
          http: { gateway: gw.info.url, bare: bare.info.url },
          https: { gateway: gw.info.httpsUrl, bare: bareHttps },
        };
        ctx.progress(`gateway transport: ${TRANSPORT}`);
        const gwBefore = await gw.call<Stats>('stats');
        for (const protocol of PROTOCOLS) {
          for (const concurrency of CONCURRENCY) {
            for (let rep = 0; rep < REPS; rep++) {
              const order = rep % 2 === 0 ? (['bare', 'gateway'] as const) : (['gateway', 'bare'] as const);
              for (const target of order) {
                const run: LoadRun = { origin: origins[protocol][target], paths: gw.info.paths, concurrency, durationMs: DURATION_MS, warmupMs: WARMUP_MS };
                const server = target === 'gateway' ? gw : bare;
                const cpuBefore = cpuSeconds(await server.call<Stats>('stats'));
                const result = await load.call<LoadResult>('run', run, 60_000);
                // The server's CPU per request sent: less moved by the load of other processes than throughput.
                const cpuUsPerRequest = ((cpuSeconds(await server.call<Stats>('stats')) - cpuBefore) * 1e6) / Math.max(1, result.sent);
                ctx.progress(`${protocol} ${target} c=${concurrency} rep ${rep + 1}: ${Math.round(result.rps)} req/s, p50 ${result.latency.p50.toFixed(2)} ms, ${cpuUsPerRequest.toFixed(0)} µs CPU per request, errors ${result.errors}`);
                trials.push({ protocol, target, concurrency, rep, result, cpuUsPerRequest });
              }
            }
          }
        }
        gwStats = await gw.call<Stats>('stats');
        gwStats = { ...gwStats, cpuUserS: gwStats.cpuUserS - gwBefore.cpuUserS, cpuSystemS: gwStats.cpuSystemS - gwBefore.cpuSystemS };
        bareStats = await bare.call<Stats>('stats');
        natsPeak = await peakRssOfPid(gw.info.natsPid);
      } finally {
        await load.stop();
        await bare.stop();
        await gw.stop();
      }
      const cmd = command(id);
      const figures: Figure[] = [];
      const summary: Record<string, unknown> = {};
      for (const protocol of PROTOCOLS) {
        // The plain HTTP rows keep their names (`gateway c=16: …`); the HTTPS rows say so.
        const label = protocol === 'http' ? 'gateway' : 'gateway https';
        const bareLabel = protocol === 'http' ? 'bare Koa' : 'bare HTTPS Koa';
        for (const concurrency of CONCURRENCY) {
          const pickTrials = (target: 'gateway' | 'bare') => trials.filter((t) => t.protocol === protocol && t.target === target && t.concurrency === concurrency);
          const pick = (target: 'gateway' | 'bare') => pickTrials(target).map((t) => t.result);
          const g = pick('gateway');
          const b = pick('bare');
          const gCpu = median(pickTrials('gateway').map((t) => t.cpuUsPerRequest));
          const bCpu = median(pickTrials('bare').map((t) => t.cpuUsPerRequest));
          const gRps = median(g.map((r) => r.rps));
          const bRps = median(b.map((r) => r.rps));
          const gP50 = median(g.map((r) => r.latency.p50));
          const bP50 = median(b.map((r) => r.latency.p50));
          const gP99 = median(g.map((r) => r.latency.p99));
          const bP99 = median(b.map((r) => r.latency.p99));
          figures.push(
            {
              bench: id,
              name: `${label} c=${concurrency}: throughput`,
              value: gRps,
              unit: 'req/s',
              baseline: { label: bareLabel, value: bRps, unit: 'req/s' },
              ratio: gRps / bRps,
              goal: { op: '>=', value: 0.5 },
              command: cmd,
            },
            { bench: id, name: `${label} c=${concurrency}: latency p50`, value: gP50, unit: 'ms', baseline: { label: bareLabel, value: bP50, unit: 'ms' }, ratio: gP50 / bP50, command: cmd },
            { bench: id, name: `${label} c=${concurrency}: latency p99`, value: gP99, unit: 'ms', baseline: { label: bareLabel, value: bP99, unit: 'ms' }, ratio: gP99 / bP99, command: cmd },
            // The ratio in the throughput's sense (bare ÷ gateway): what share of the gateway's CPU per call a bare handler needs.
            { bench: id, name: `${label} c=${concurrency}: server CPU per request`, value: gCpu, unit: 'µs', baseline: { label: bareLabel, value: bCpu, unit: 'µs' }, ratio: bCpu / gCpu, command: cmd },
          );
          summary[`${protocol} c${concurrency}`] = {
            gateway: { rps: round(gRps), p50: round(gP50, 3), p99: round(gP99, 3), cpuUsPerRequest: round(gCpu, 1), errors: g.reduce((s, r) => s + r.errors, 0) },
            bare: { rps: round(bRps), p50: round(bP50, 3), p99: round(bP99, 3), cpuUsPerRequest: round(bCpu, 1), errors: b.reduce((s, r) => s + r.errors, 0) },
          };
        }
      }
      return {
        figures,
        details: {
          devices: DEVICES,
          transport: TRANSPORT,
          bodyBytes: gw.info.bodyBytes,
          durationMs: DURATION_MS,
          warmupMs: WARMUP_MS,
          reps: REPS,
          summary,
          gatewayProcess: gwStats,
          bareProcess: bareStats,
          natsPeakRssMiB: natsPeak,
          trials: trials.map((t) => ({ protocol: t.protocol, target: t.target, concurrency: t.concurrency, rep: t.rep, rps: round(t.result.rps), p50: round(t.result.latency.p50, 3), p99: round(t.result.latency.p99, 3), cpuUsPerRequest: round(t.cpuUsPerRequest, 1), errors: t.result.errors })),
        },
      };
    },
  };
}
