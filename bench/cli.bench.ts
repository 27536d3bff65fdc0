import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchDef } from './lib/bench.ts';
import { repoRoot } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import { currentBuild } from '../bin/build-state.mjs';

const REPS = 15;
const SOURCE_REPS = 3;
const LIMIT_S = 0.3;
const BIN = join(repoRoot, 'bin', 'panos-upgrade.mjs');

/** Wall time of one process run to its end, in seconds; its exit code must be 0. */
function wall(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: repoRoot, env, encoding: 'utf8' });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return s;
}

/**
 * How long a read command takes as a user types it: `panos-upgrade status --json` against a running
 * daemon (its own data dir and private nats-server), run from the build that `npm ci` makes, beside
 * `node -e 0` (the floor of any Node program) measured in the same run, trials alternating. The run from
 * the sources through tsx (what a stale build falls back to) is reported for comparison.
 */
export function cliBench(): BenchDef {
  const id = 'cli';
  return {
    id,
    group: 'cli',
    budgetMs: 180_000,
    async run(ctx) {
      if (!currentBuild()) {
        ctx.progress('dist/ is missing or stale: npm run build');
        const b = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
        if (b.status !== 0) throw new Error('npm run build failed');
      }
      const dir = mkdtempSync(join(tmpdir(), 'panos-bench-cli-'));
      const env: NodeJS.ProcessEnv = { ...process.env, PANOS_UPGRADE_HOME: dir };
      delete env.NATS_URL;
      delete env.PANOS_SUBJECT_PREFIX;
      // The daemon needs a Panorama to be configured, not to answer: status never calls it.
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ panorama: { host: '127.0.0.1:9', apiKey: 'bench' } }), { mode: 0o600 });
      const daemon = spawn(process.execPath, [BIN, 'daemon'], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let daemonErr = '';
      daemon.stderr.setEncoding('utf8').on('data', (c: string) => (daemonErr += c));
      try {
        const deadline = Date.now() + 60_000;
        while (!existsSync(join(dir, 'daemon.json'))) {
          if (daemon.exitCode !== null) throw new Error(`the daemon exited: ${daemonErr}`);
          if (Date.now() > deadline || ctx.signal.aborted) throw new Error('the daemon did not start within 60 s');
          await new Promise((r) => setTimeout(r, 100));
        }
        const statusArgs = [BIN, 'status', '--json'];
        wall(statusArgs, env); // warm the file cache
        const built: number[] = [];
        const floor: number[] = [];
        for (let i = 0; i < REPS && !ctx.signal.aborted; i++) {
          const order = i % 2 === 0 ? (['node', 'cli'] as const) : (['cli', 'node'] as const);
          for (const which of order) (which === 'node' ? floor : built).push(wall(which === 'node' ? ['-e', '0'] : statusArgs, env));
        }
        const fromSource: number[] = [];
        for (let i = 0; i < SOURCE_REPS && !ctx.signal.aborted; i++) fromSource.push(wall(statusArgs, { ...env, PANOS_UPGRADE_FROM_SOURCE: '1' }));
        const b = median(built);
        const n = median(floor);
        const s = median(fromSource);
        ctx.progress(`status --json: ${b.toFixed(3)} s (built), ${s.toFixed(3)} s (sources through tsx); node -e 0: ${n.toFixed(3)} s`);
        const cmd = command(id);
        const figures: Figure[] = [
          {
            bench: id,
            name: 'status --json against a running daemon: wall, median',
            value: round(b, 3),
            unit: 's',
            baseline: { label: 'limit', value: LIMIT_S, unit: 's' },
            ratio: b / LIMIT_S,
            goal: { op: '<=', value: 1 },
            command: cmd,
            note: `node -e 0 in the same run: ${n.toFixed(3)} s`,
          },
          {
            bench: id,
            name: 'status --json: wall over node -e 0',
            value: round(b, 3),
            unit: 's',
            baseline: { label: 'node -e 0', value: round(n, 3), unit: 's' },
            ratio: b / n,
            command: cmd,
            note: `from the sources through tsx: ${s.toFixed(3)} s`,
          },
        ];
        return { figures, details: { reps: REPS, builtSeconds: built, nodeSeconds: floor, fromSourceSeconds: fromSource } };
      } finally {
        daemon.kill('SIGTERM');
        await new Promise<void>((resolve) => {
          if (daemon.exitCode !== null || daemon.signalCode !== null) return resolve();
          const t = setTimeout(() => {
            daemon.kill('SIGKILL');
            resolve();
          }, 10_000);
          daemon.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        });
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
