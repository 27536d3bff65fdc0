import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentBuild } from '../bin/build-state.mjs';
import { parseJob, parseJobEnqueued, parseSystemInfo } from '../panos/index.ts';
import type { BenchDef } from './lib/bench.ts';
import { repoRoot } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { round } from './lib/stats.ts';

const BIN = join(repoRoot, 'bin', 'panos-upgrade.mjs');
/** The goal: the simulator process of the basic scenario stays at or below 80 MB (decimal). */
const LIMIT_MIB = 80e6 / 2 ** 20;
const SETTLE_MS = 2_000;

interface Mem {
  rssMiB: number;
  peakMiB: number;
}

function memOf(pid: number): Mem {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s*(\\d+)\\s*kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/** One XML API call to the simulator's Panorama over HTTPS, trusting the simulator's CA. */
function api(origin: string, ca: string, params: Record<string, string>): Promise<string> {
  const query = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return new Promise((resolve, reject) => {
    const req = request(`${origin}/api/?${query}`, { ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The seed's basic scenario as a person runs it: `panos-upgrade sim` (the build that `npm ci` makes,
 * HTTPS with the simulator's CA, every firewall on its own address), its resident memory once started,
 * then after a small upgrade run through its XML API (one firewall downloaded, installed and rebooted
 * onto its next release through Panorama, at time scale 0.1), against the 80 MB goal.
 */
export function simBasicBench(): BenchDef {
  const id = 'sim-basic';
  return {
    id,
    group: 'sim',
    budgetMs: 150_000,
    async run(ctx) {
      if (!currentBuild()) {
        ctx.progress('dist/ is missing or stale: npm run build');
        const b = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
        if (b.status !== 0) throw new Error('npm run build failed');
      }
      const dir = mkdtempSync(join(tmpdir(), 'panos-bench-simbasic-'));
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.NATS_URL;
      delete env.PANOS_SUBJECT_PREFIX;
      const start = (): ChildProcess => spawn(process.execPath, [BIN, '--data-dir', dir, 'sim', '--port', '0', '--time-scale', '0.1'], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
      const waitUp = async (sim: ChildProcess, stderr: () => string): Promise<{ url: string; caFile: string; apiKey: string }> => {
        const file = join(dir, 'connection.json');
        const deadline = Date.now() + 60_000;
        for (;;) {
          if (sim.exitCode !== null) throw new Error(`the simulator exited: ${stderr()}`);
          if (Date.now() > deadline || ctx.signal.aborted) throw new Error('the simulator did not start within 60 s');
          if (existsSync(file)) {
            const c = JSON.parse(readFileSync(file, 'utf8')) as { url: string; caFile: string; apiKey: string; pid: number };
            if (c.pid === sim.pid) return c;
          }
          await sleep(100);
        }
      };
      const stop = async (sim: ChildProcess): Promise<void> => {
        if (sim.exitCode !== null) return;
        const exited = new Promise((r) => sim.once('exit', r));
        sim.kill('SIGINT');
        await Promise.race([exited, sleep(10_000).then(() => sim.kill('SIGKILL'))]);
      };
      const figures: Figure[] = [];
      const details: Record<string, unknown> = {};
      const cmd = command(id);
      try {
        // First start: makes the CA and certificates in the data dir. Second start: reuses them, as every later start does.
        for (const run of ['first start', 'restart'] as const) {
          let err = '';
          const sim = start();
          sim.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
          try {
            const conn = await waitUp(sim, () => err);
            await sleep(SETTLE_MS);
            const started = memOf(sim.pid!);
            ctx.progress(`${run}: RSS ${started.rssMiB.toFixed(1)} MiB after start`);
            figures.push({
              bench: id,
              name: `sim basic (${run}): resident memory after start`,
              value: started.rssMiB,
              unit: 'MiB',
              baseline: { label: 'goal 80 MB', value: LIMIT_MIB, unit: 'MiB' },
              ratio: started.rssMiB / LIMIT_MIB,
              goal: { op: '<=', value: 1 },
              command: cmd,
            });
            details[run] = { afterStart: started };
            if (run !== 'restart') continue;
            // A small upgrade run: fw-dc1-01 (10.0.2) to 10.1.0 through Panorama, waiting on each job and the reboot.
            const ca = readFileSync(conn.caFile, 'utf8');
            const target = '001234567890';
            let calls = 0;
            const call = (c: string): Promise<string> => {
              calls++;
              return api(conn.url, ca, { type: 'op', cmd: c, target, key: conn.apiKey });
            };
            const waitJob = async (xml: string): Promise<void> => {
              const { jobId } = parseJobEnqueued(xml);
              for (;;) {
                const job = parseJob(await call(`<show><jobs><id>${jobId}</id></jobs></show>`));
                if (job.status === 'FIN') {
                  if (job.result !== 'OK') throw new Error(`job ${jobId} ended ${job.result}`);
                  return;
                }
                await sleep(100);
              }
            };
            const t0 = performance.now();
            await waitJob(await call('<request><system><software><download><version>10.1.0</version></download></software></system></request>'));
            await waitJob(await call('<request><system><software><install><version>10.1.0</version></install></software></system></request>'));
            await call('<request><restart><system></system></restart></request>');
            for (;;) {
              await sleep(200);
              const info = await call('<show><system><info></info></system></show>').catch(() => '');
              if (info.includes('<sw-version>10.1.0</sw-version>') && parseSystemInfo(info).swVersion === '10.1.0') break;
              if (performance.now() - t0 > 60_000) throw new Error('the firewall did not come back on 10.1.0 within 60 s');
            }
            await sleep(SETTLE_MS);
            const after = memOf(sim.pid!);
            ctx.progress(`after a small upgrade run (${Math.round(performance.now() - t0)} ms): RSS ${after.rssMiB.toFixed(1)} MiB, peak ${after.peakMiB.toFixed(1)} MiB`);
            figures.push({
              bench: id,
              name: 'sim basic: resident memory after a small upgrade run',
              value: after.rssMiB,
              unit: 'MiB',
              baseline: { label: 'goal 80 MB', value: LIMIT_MIB, unit: 'MiB' },
              ratio: after.rssMiB / LIMIT_MIB,
              goal: { op: '<=', value: 1 },
              command: cmd,
              note: `peak ${round(after.peakMiB, 1)} MiB`,
            });
            details[run] = { afterStart: started, afterUpgrade: after, upgradeMs: Math.round(performance.now() - t0), upgradeCalls: calls };
          } finally {
            await stop(sim);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return { figures, details: { ...details, limitMiB: round(LIMIT_MIB, 2), scenario: 'scenarios/basic.yaml', settleMs: SETTLE_MS } };
    },
  };
}
