import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveConfig, type DaemonConfig } from '../../actors/config.ts';
import { LeaseManager, leaseBucketName, type LeaseValue } from '../../cluster/index.ts';
import { exited, onLines, repoRoot, waitFor } from '../helpers/index.ts';
import type { TestNatsCluster } from '../helpers/nats-cluster.ts';
import type { Stack } from '../helpers/stack.ts';

/** The cluster settings of these tests: one partition (active/standby), short leases, three replicas. */
export const LEASE_SECONDS = 3;
export const HEARTBEAT_SECONDS = 1;

export function clusterConfig(c: DaemonConfig, nodeId = ''): DaemonConfig {
  return { ...c, cluster: { ...c.cluster, enabled: true, nodeId, replicas: 3, partitions: 1, leaseSeconds: LEASE_SECONDS, heartbeatSeconds: HEARTBEAT_SECONDS } };
}

/** A `panos-upgrade daemon` child on a data dir of its own, one of several on the test cluster. */
export interface ClusterDaemon {
  name: string;
  dataDir: string;
  child: ChildProcess;
  stderr: string[];
}

/**
 * Start `panos-upgrade daemon` as node `name` of the cluster: its own data dir with the stack's
 * configuration in cluster mode, the whole cluster as its NATS, the stack's subjects.
 */
export async function startClusterDaemon(t: ExecutionContext, stack: Stack, nats: TestNatsCluster, name: string, env: Record<string, string> = {}): Promise<ClusterDaemon> {
  const dataDir = mkdtempSync(join(tmpdir(), `panos-node-${name}-`));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  saveConfig(dataDir, clusterConfig(stack.config, name));
  const child = spawn(process.execPath, ['bin/panos-upgrade.mjs', 'daemon'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PANOS_UPGRADE_HOME: dataDir,
      NATS_URL: nats.url,
      PANOS_SUBJECT_PREFIX: stack.subjects.prefix,
      PANOS_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
  const stderr: string[] = [];
  onLines(child.stderr!, (line) => stderr.push(line));
  let up = false;
  onLines(child.stdout!, (line) => {
    if (line.startsWith('Daemon up:')) up = true;
  });
  try {
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`daemon ${name} exited with ${child.exitCode}`);
      return up;
    }, 120_000);
  } catch (err) {
    throw new Error(`daemon ${name} did not come up: ${stderr.slice(-20).join('\n')}`, { cause: err });
  }
  return { name, dataDir, child, stderr };
}

/** Whether the process is stopped (SIGSTOP): `T` in /proc/<pid>/stat. */
export function isStopped(d: ClusterDaemon): boolean {
  try {
    const stat = readFileSync(`/proc/${d.child.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

export function gone(d: ClusterDaemon): boolean {
  return d.child.exitCode !== null || d.child.signalCode !== null;
}

/** The machine is lost: the process is killed (if its crash point has not done it already) and its data dir deleted. */
export async function loseMachine(d: ClusterDaemon): Promise<void> {
  if (!gone(d)) d.child.kill('SIGKILL');
  await exited(d.child);
  rmSync(d.dataDir, { recursive: true, force: true });
}

/** A reader of the lease bucket (holders only; it never takes a lease). */
export async function leaseReader(t: ExecutionContext, stack: Stack, nats: TestNatsCluster): Promise<{ holder(key: string): Promise<LeaseValue | null> }> {
  const m = await LeaseManager.open({ nc: await nats.connect(t, 'lease-reader'), bucket: leaseBucketName(stack.subjects.prefix), ttlMs: LEASE_SECONDS * 1000, replicas: 3, holder: 'test-reader' });
  t.teardown(() => m.close());
  return { holder: (key) => m.holderOf(key) };
}
