import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ChaosReport } from '../../chaos/index.ts';
import { repoRoot, tempDir } from '../helpers/index.ts';

// Issue #19, point 4: chaos --cluster, three daemons on a private 3-node NATS cluster.
test('chaos --cluster: a machine lost, a NATS node stopped and a daemon frozen past its lease; every invariant holds, the frozen daemon sent nothing after it woke', async (t) => {
  const dir = tempDir(t, 'panos-chaos-cluster-e2e-');
  const child = spawn(process.execPath, [join(repoRoot, 'bin/panos-upgrade.mjs'), 'chaos', '--cluster', '--seed', '1', '--devices', '4', '--time-scale', '0.05', '--json', '--work-dir', dir], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PANOS_LOG_LEVEL: 'error' },
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
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
