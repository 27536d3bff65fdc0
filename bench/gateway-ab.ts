// node --import tsx bench/gateway-ab.ts <other checkout> [http|https] [trials=12]
// The gateway of this checkout against that of another (an earlier commit: `git worktree add --detach
// ../before <commit>`, with its node_modules linked to this one's), and both against the bare Koa
// baseline, in one run: each trial runs the three in turn at concurrency 64, so that the machine's noise
// falls on all three alike, and each takes every place in the order equally often (use a multiple of six
// trials). Prints the median throughput, its ratio to bare Koa and the server CPU per request of each. A
// development tool for before/after figures (bench/README.md); `npm run bench -- --only gateway` is the
// benchmark.
import { relative, resolve } from 'node:path';
import { processStats, repoRoot, startService, stopAllServices } from './lib/child.ts';
import { median } from './lib/stats.ts';
import type { GatewayServerInfo } from './gateway-server.child.ts';
import type { LoadResult } from './load-generator.child.ts';

const [otherArg, protocolArg = 'http', trialsArg = '12'] = process.argv.slice(2);
if (!otherArg || (protocolArg !== 'http' && protocolArg !== 'https') || !(Number(trialsArg) > 0)) {
  process.stderr.write('usage: node --import tsx bench/gateway-ab.ts <other checkout> [http|https] [trials=12]\n');
  process.exit(2);
}
const protocol = protocolArg;
const trials = Number(trialsArg);
const CONCURRENCY = 64;
const ORDERS = [
  [0, 1, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
  [0, 2, 1],
  [1, 0, 2],
] as const;
const DEVICES = '1000';

type Stats = ReturnType<typeof processStats>;
const cpuSeconds = (s: Stats): number => s.cpuUserS + s.cpuSystemS;

try {
  const other = relative(repoRoot, resolve(otherArg, 'bench', 'gateway-server.child.ts'));
  const before = await startService<GatewayServerInfo>(other, { role: 'other gateway', args: [DEVICES] });
  const after = await startService<GatewayServerInfo>('bench/gateway-server.child.ts', { role: 'this gateway', args: [DEVICES] });
  const bare = await startService<{ url: string }>('bench/bare-server.child.ts', { role: 'bare-server', args: [String(after.info.bodyBytes)] });
  const load = await startService('bench/load-generator.child.ts', { role: 'load-generator' });
  const bareOrigin = protocol === 'http' ? bare.info.url : await bare.call<string>('https', after.info.tls);
  const targets = [
    { name: `other (${otherArg})`, service: before, origin: protocol === 'http' ? before.info.url : before.info.httpsUrl },
    { name: 'this checkout', service: after, origin: protocol === 'http' ? after.info.url : after.info.httpsUrl },
    { name: protocol === 'http' ? 'bare Koa' : 'bare HTTPS Koa', service: bare, origin: bareOrigin },
  ];
  const results = targets.map(() => ({ rps: [] as number[], cpuUs: [] as number[] }));
  for (let trial = 0; trial < trials; trial++) {
    // Each target takes each place in the order equally often (every sixth trial repeats): a target
    // measured in the same place every time was measured with a bias (an A/A run of one checkout against
    // itself gave the middle place 0.51 of bare and the outer ones 0.42).
    const order = ORDERS[trial % ORDERS.length]!;
    for (const i of order) {
      const { service, origin } = targets[i]!;
      const cpuBefore = cpuSeconds(await service.call<Stats>('stats'));
      const result = await load.call<LoadResult>('run', { origin, paths: after.info.paths, concurrency: CONCURRENCY, durationMs: 2000, warmupMs: 400 }, 60_000);
      results[i]!.rps.push(result.rps);
      results[i]!.cpuUs.push(((cpuSeconds(await service.call<Stats>('stats')) - cpuBefore) * 1e6) / Math.max(1, result.sent));
    }
    process.stderr.write(`trial ${trial + 1}/${trials}: ${targets.map((t, i) => `${t.name} ${Math.round(results[i]!.rps.at(-1)!)} req/s`).join(', ')}\n`);
  }
  const bareRps = median(results[2]!.rps);
  process.stdout.write(`${protocol}, c=${CONCURRENCY}, ${trials} trials (medians):\n`);
  for (const [i, t] of targets.entries()) {
    const rps = median(results[i]!.rps);
    process.stdout.write(`  ${t.name}: ${Math.round(rps)} req/s, ${(rps / bareRps).toFixed(3)} of bare, ${median(results[i]!.cpuUs).toFixed(1)} µs server CPU per request\n`);
  }
} finally {
  await stopAllServices();
}
