import test from 'ava';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosReport } from '../../chaos/index.ts';
import { repoRoot, tempDir } from '../helpers/index.ts';

/**
 * Longer than the run's own bounds allow when all goes well (about 40 s here), shorter than ava's 600 s
 * inactivity timeout: a run still going then is killed and the test fails with where it stood (its phase
 * log and each daemon's last lines), not with ava's bare "timed out".
 */
const DEADLINE_MS = 480_000;

/** The last lines of each daemon's log in the run's work dir. */
function daemonLogTails(dir: string, lines = 4): string {
  return readdirSync(dir)
    .filter((f) => /^daemon-.*\.log$/.test(f))
    .map((f) => `${f}:\n${readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}

// Issue #19, point 4: chaos --cluster, three daemons on a private 3-node NATS cluster.
test('chaos --cluster: a machine lost, a NATS node stopped and a daemon frozen past its lease; every invariant holds, the frozen daemon sent nothing after it woke', async (t) => {
  const dir = tempDir(t, 'panos-chaos-cluster-e2e-');
  const child = spawn(process.execPath, [join(repoRoot, 'bin/panos-upgrade.mjs'), 'chaos', '--cluster', '--seed', '1', '--devices', '4', '--time-scale', '0.05', '--json', '--work-dir', dir], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // info: the run's phases go to stderr, so that a failure shows how far it came
    env: { ...process.env, PANOS_LOG_LEVEL: 'info' },
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let killed = false;
  const deadline = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, DEADLINE_MS);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(deadline);
  if (killed) {
    t.fail(`chaos --cluster still running after ${DEADLINE_MS / 1000} s, killed; its log:\n${stderr.slice(-3000)}\n${daemonLogTails(dir)}`);
    return;
  }
  const report = JSON.parse(stdout) as ChaosReport;
  const failed = report.invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.violations.slice(0, 3).join('; ')}`);
  t.deepEqual(failed, [], stderr.slice(-2000));
  t.is(code, 0);
  t.deepEqual(report.disruptions.map((d) => d.what), ['machine-lost', 'nats-node-stop', 'leader-pause']);
  const names = report.invariants.map((i) => i.name);
  t.true(names.includes('the daemon frozen past its lease sent nothing after it woke'));
  t.true(names.includes('every job and campaign fact was appended under its lease, never under an older one'));
  // The lost machine's daemon, the three others (one a new machine that joined) each ran on the replicated log.
  t.true(report.daemonRuns.length >= 4, JSON.stringify(report.daemonRuns));
  t.true(report.daemonRuns.every((r) => r.verified));
  t.true((report.jobs.complete ?? 0) + (report.jobs.failed ?? 0) >= 4, JSON.stringify(report.jobs));
});
