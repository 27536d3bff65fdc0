// npm run bench [-- --only <id|group>[,…]] [--profile <role>[,…]] [--out <file>] [--list]
// Runs each benchmark in its own child processes, writes bench/results/latest.json and prints a markdown table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { eventLogAppendBench, eventLogReplayBench } from './eventlog.bench.ts';
import { replicatedLogAppendBench } from './replicated-log.bench.ts';
import { takeoverBench } from './takeover.bench.ts';
import { cliBench } from './cli.bench.ts';
import { demoBench } from './demo.bench.ts';
import { fleetBench } from './fleet.bench.ts';
import { campaignBench } from './campaign.bench.ts';
import { gatewayBench } from './gateway.bench.ts';
import type { BenchDef } from './lib/bench.ts';
import { repoRoot, stopAllServices } from './lib/child.ts';
import { machineInfo } from './lib/machine.ts';
import { markdownTable, shortfall, type BenchOutcome } from './lib/report.ts';
import { simBasicBench } from './sim-basic.bench.ts';
import { simScaleBench } from './sim-scale.bench.ts';
import { slowClientsBench } from './slow-clients.bench.ts';
import { xmlParseBench } from './xml-parse.bench.ts';

const BENCHES: BenchDef[] = [
  simScaleBench(1_000),
  simScaleBench(10_000),
  simScaleBench(100_000),
  simBasicBench(),
  gatewayBench(),
  slowClientsBench(),
  xmlParseBench(),
  eventLogAppendBench(),
  eventLogReplayBench(),
  replicatedLogAppendBench(),
  takeoverBench(),
  cliBench(),
  demoBench(),
  // Last: the longest, and the most sensitive to a busy machine.
  fleetBench(250),
  fleetBench(100),
  campaignBench(),
  // 10,000 firewalls at concurrency 1,000: the whole ten minutes to itself (`--only fleet-10k`).
  fleetBench(1000, { id: 'fleet-10k', group: 'fleet-10k', devices: Number(process.env.PANOS_BENCH_FLEET10K_DEVICES ?? 10_000), budgetMs: 570_000, submit: 'queue', reportMarginMs: 100_000, maxPayloadMiB: 64 }),
];

/**
 * The whole run stays under ten minutes: a benchmark that would start past this is skipped, and one that
 * runs into it is stopped. PANOS_BENCH_BUDGET_SCALE (a development knob, e.g. 2 for before/after
 * comparisons on a busy machine) stretches every budget and this total alike.
 */
const BUDGET_SCALE = Number(process.env.PANOS_BENCH_BUDGET_SCALE ?? 1) || 1;
const TOTAL_BUDGET_MS = 10 * 60_000 * BUDGET_SCALE;

interface Args {
  only: string[];
  profile: Set<string>;
  out: string;
  list: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { only: [], profile: new Set(), out: join(repoRoot, 'bench', 'results', 'latest.json'), list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--only') args.only.push(...value().split(',').filter(Boolean));
    else if (a === '--profile') for (const r of value().split(',').filter(Boolean)) args.profile.add(r);
    else if (a === '--out') args.out = resolve(value());
    else if (a === '--list') args.list = true;
    else fail(`unknown argument ${a}`);
  }
  return args;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: npm run bench -- [--only <id|group>[,…]] [--profile <role>[,…]] [--out <file>] [--list]\n`);
  process.exit(2);
}

async function runOne(def: BenchDef, profile: ReadonlySet<string>, budgetMs: number): Promise<BenchOutcome> {
  const started = performance.now();
  const progress = (m: string): void => {
    process.stderr.write(`[${def.id} ${((performance.now() - started) / 1000).toFixed(1)}s] ${m}\n`);
  };
  progress('starting');
  let timer: NodeJS.Timeout | undefined;
  const abort = new AbortController();
  try {
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(`over its ${Math.round(budgetMs / 1000)} s budget: stopped`));
      }, budgetMs);
    });
    const loadBefore = loadavg()[0];
    const { figures, details } = await Promise.race([def.run({ profile, progress, signal: abort.signal, deadline: started + budgetMs }), overrun]);
    progress('done');
    // The machine is shared: the 1-minute load before and after says how busy it was meanwhile.
    const load = { before: Math.round(loadBefore! * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 };
    return { bench: def.id, ok: true, wallMs: performance.now() - started, figures, details: { ...details, load1m: load } };
  } catch (err) {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    return { bench: def.id, ok: false, wallMs: performance.now() - started, figures: [], details: {}, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  } finally {
    clearTimeout(timer);
    abort.abort();
    await stopAllServices();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const b of BENCHES) process.stdout.write(`${b.id}\t(group ${b.group}, budget ${b.budgetMs / 1000} s)\n`);
    return;
  }
  const selected = args.only.length === 0 ? BENCHES : BENCHES.filter((b) => args.only.includes(b.id) || args.only.includes(b.group));
  if (selected.length === 0) fail(`nothing matches --only ${args.only.join(',')}; --list shows the benchmarks`);
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const outcomes: BenchOutcome[] = [];
  for (const def of selected) {
    const elapsed = performance.now() - t0;
    if (elapsed + Math.min(def.budgetMs, 60_000) > TOTAL_BUDGET_MS) {
      outcomes.push({ bench: def.id, ok: false, wallMs: 0, figures: [], details: {}, error: 'skipped: the run would pass ten minutes' });
      continue;
    }
    // Its own budget, or what is left of the ten minutes (less a margin for reporting), whichever is shorter.
    outcomes.push(await runOne(def, args.profile, Math.min(def.budgetMs * BUDGET_SCALE, TOTAL_BUDGET_MS - 15_000 - elapsed)));
  }
  const figures = outcomes.flatMap((o) => o.figures);
  const worst = figures
    .map((f) => ({ f, s: shortfall(f) }))
    .filter((x): x is { f: (typeof figures)[number]; s: number } => x.s !== undefined)
    .sort((a, b) => b.s - a.s)[0];
  const report = {
    startedAt,
    wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
    only: args.only,
    machine,
    worstAgainstGoal: worst ? { bench: worst.f.bench, name: worst.f.name, ratio: worst.f.ratio, goal: worst.f.goal, shortfall: worst.s } : null,
    benchmarks: outcomes,
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(report, null, 2) + '\n');
  const table = markdownTable(outcomes);
  process.stdout.write(
    `\n${table}\n\nMachine: ${machine.cpuModel}, ${machine.logicalCpus} logical CPUs, ${machine.totalMemGiB} GiB, ${machine.node}; ` +
      `load at start ${machine.loadAvgAtStart.join(' / ')}. Total ${report.wallSeconds} s. Results: ${args.out}\n`,
  );
  if (worst) process.stdout.write(`Furthest from its goal: ${worst.f.name} (ratio ${worst.f.ratio?.toFixed(3)}, goal ${worst.f.goal?.op} ${worst.f.goal?.value}).\n`);
  if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
}

await main();
// Whatever a failed benchmark left behind (a connection, a timer) must not keep the runner alive.
process.exit();
