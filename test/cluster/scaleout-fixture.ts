import type { ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ensureLogStream, eventPublisher, jetStreamLogTransport } from '../../bus/index.ts';
import { ClusterNode } from '../../actors/cluster-node.ts';
import type { DaemonConfig } from '../../actors/config.ts';
import { createDeviceAccess } from '../../actors/device-access.ts';
import { LmdbEventStore, ReplicatedLog } from '../../eventstore/index.ts';
import type { TestNatsCluster } from '../helpers/nats-cluster.ts';
import type { Stack } from '../helpers/stack.ts';
import { countBy, MUTATING_KINDS, servedCalls } from '../actors/orchestrator-fixture.ts';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Cluster settings of the scale-out tests: several partitions, short leases, three replicas. */
export function scaleoutConfig(c: DaemonConfig, partitions = 8): DaemonConfig {
  return { ...c, cluster: { ...c.cluster, enabled: true, replicas: 3, partitions, leaseSeconds: 4, heartbeatSeconds: 1 } };
}

/** One in-process daemon of the cluster: its own data dir, LMDB projection, NATS connection and node id. */
export interface TestNode {
  name: string;
  node: ClusterNode;
  store: LmdbEventStore;
  stop(): Promise<void>;
}

export async function startNode(t: ExecutionContext, stack: Stack, nats: TestNatsCluster, name: string, config: DaemonConfig = stack.config): Promise<TestNode> {
  const dataDir = mkdtempSync(join(tmpdir(), `panos-node-${name}-`));
  const nc = await nats.connect(t, `node ${name}`);
  await ensureLogStream(nc, stack.subjects, { replicas: 3 });
  const store = LmdbEventStore.open({ path: join(dataDir, 'events'), runId: name });
  const replicatedLog = await ReplicatedLog.open(store, jetStreamLogTransport(nc, stack.subjects), { writer: name });
  const off = store.onAppend(eventPublisher(nc, stack.subjects));
  const access = createDeviceAccess(config, { store, log });
  const node = await ClusterNode.start({ store, log: log.child({ node: name }), config, access, dataDir, nc, subjects: stack.subjects, nodeId: name, replicatedLog });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await node.stop();
    await access.close();
    off();
    await replicatedLog.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  t.teardown(stop);
  return { name, node, store, stop };
}

/** Which node wrote a job's facts (its store's run id is its name), by job id. */
export function writersByJob(store: LmdbEventStore): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const stream of store.streamNames('job:')) {
    const set = new Set<string>();
    for (const e of store.readStream(stream)) if (e.runId) set.add(e.runId);
    out.set(stream.slice(4), set);
  }
  return out;
}

/** Mutating commands a device accepted more than once for the same version (a repeated step), as `serial kind version ×n`. */
export function repeatedSteps(stack: Stack): string[] {
  const mutating = servedCalls(stack).filter((c) => c.outcome === 'answered' && MUTATING_KINDS.has(c.kind) && c.kind !== 'request.restart.system');
  return [...countBy(mutating, (c) => `${c.serial} ${c.kind} ${c.version ?? ''}`)].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
}
