import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, BenchDef } from './lib/bench.ts';
import { repoRoot } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import { currentBuild } from '../bin/build-state.mjs';

const REPS = 2;
const FLOOR_REPS = 5;
/** Issue #18: the demo finishes in at most 15 s on two cores. */
const LIMIT_S = 15;
const BIN = join(repoRoot, 'bin', 'panos-upgrade.mjs');

/** Seconds from the demo's own durations (`12.3 s`, `1 min 02 s`). */
export function durationSeconds(text: string): number {
  const m = /^(?:(\d+) min )?([\d.]+) s$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
}

/** The demo's last lines: `Time: start-up 1.2 s, discovery 0.3 s, …` → { start-up: 1.2, … }. */
export function demoPhases(stdout: string): Record<string, number> {
  const line = /^\s*Time:\s+(.*)$/m.exec(stdout)?.[1];
  if (!line) return {};
  const phases: Record<string, number> = {};
  for (const part of line.split(', ')) {
    const m = /^([a-z-]+) (.*)$/.exec(part.trim());
    if (m) phases[m[1]!] = durationSeconds(m[2]!);
  }
  return phases;
}

interface DemoRun {
  wallS: number;
  /** User + system CPU of the demo process and what it waited for (its nats-server), from bash's `times`. */
  cpuS: number;
  phases: Record<string, number>;
}

/** One `panos-upgrade demo` in a fresh data dir, to its end; it must exit 0 (every job succeeded). */
async function runDemo(ctx: BenchContext, args: readonly string[]): Promise<DemoRun> {
  const dir = mkdtempSync(join(tmpdir(), 'panos-bench-demo-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NATS_URL;
  delete env.PANOS_SUBJECT_PREFIX;
  // `times` prints the CPU of the shell's children (the demo, and the nats-server it reaped) on its second line.
  const script = `"${process.execPath}" "${BIN}" demo --data-dir "${join(dir, 'demo')}" ${args.join(' ')}; s=$?; times >&2; exit $s`;
  try {
    const t0 = performance.now();
    // Its own process group: over the budget, the demo (not just the shell) is interrupted, then killed.
    const child = spawn('bash', ['-c', script], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const group = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    const onAbort = (): void => {
      group('SIGINT');
      setTimeout(() => group('SIGKILL'), 10_000).unref();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    ctx.signal.removeEventListener('abort', onAbort);
    const wallS = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`demo exited ${code}: ${(stdout + stderr).slice(-2000)}`);
    const times = stderr.trim().split('\n').slice(-1)[0] ?? '';
    const cpu = [...times.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
    return { wallS, cpuS: (cpu[0] ?? 0) + (cpu[1] ?? 0), phases: demoPhases(stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function nodeFloor(): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['-e', '0'], { cwd: repoRoot });
  if (r.status !== 0) throw new Error('node -e 0 failed');
  return (performance.now() - t0) / 1000;
}

/**
 * `panos-upgrade demo` as a user runs it after `npm ci` (from dist/), to its end: wall time against the
 * 15 s goal, beside `node -e 0` in the same run; its CPU, and where its seconds went (its own `Time:` line).
 */
export function demoBench(): BenchDef {
  const id = 'demo';
  return {
    id,
    group: 'cli',
    budgetMs: 300_000,
    async run(ctx) {
      if (!currentBuild()) {
        ctx.progress('dist/ is missing or stale: npm run build');
        const b = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
        if (b.status !== 0) throw new Error('npm run build failed');
      }
      const runs: DemoRun[] = [];
      const floor: number[] = [];
      for (let i = 0; i < REPS && !ctx.signal.aborted; i++) {
        for (let k = 0; k < FLOOR_REPS; k++) floor.push(nodeFloor());
        const r = await runDemo(ctx, []);
        runs.push(r);
        ctx.progress(`demo ${i + 1}: ${r.wallS.toFixed(1)} s wall, ${r.cpuS.toFixed(1)} s CPU; ${JSON.stringify(r.phases)}`);
      }
      const wall = median(runs.map((r) => r.wallS));
      const cpu = median(runs.map((r) => r.cpuS));
      const n = median(floor);
      const phaseNames = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
      const phases = Object.fromEntries(phaseNames.map((p) => [p, round(median(runs.map((r) => r.phases[p] ?? 0)), 2)]));
      const cmd = command(id);
      const figures: Figure[] = [
        {
          bench: id,
          name: 'demo (panos-upgrade demo, defaults): wall time, median',
          value: round(wall, 2),
          unit: 's',
          baseline: { label: 'limit', value: LIMIT_S, unit: 's' },
          ratio: wall / LIMIT_S,
          goal: { op: '<=', value: 1 },
          command: cmd,
          note: `phases: ${phaseNames.map((p) => `${p} ${phases[p]} s`).join(', ')}`,
        },
        {
          bench: id,
          name: 'demo: wall over node -e 0',
          value: round(wall, 2),
          unit: 's',
          baseline: { label: 'node -e 0', value: round(n, 3), unit: 's' },
          ratio: wall / n,
          command: cmd,
        },
        {
          bench: id,
          name: 'demo: CPU (user + system, the demo and its nats-server)',
          value: round(cpu, 2),
          unit: 's',
          baseline: { label: 'wall', value: round(wall, 2), unit: 's' },
          ratio: cpu / wall,
          command: cmd,
        },
      ];
      return { figures, details: { reps: runs.length, runs, nodeSeconds: floor, phases } };
    },
  };
}
