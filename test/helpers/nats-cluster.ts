import type { ExecutionContext, TestFn } from 'ava';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../bus/connect.ts';
import { startNatsCluster, type NatsClusterHandle, type NatsClusterOptions } from '../../bus/nats-cluster.ts';

/** The private 3-node nats-server cluster of one test file; readable once `test.before` has run. */
export interface TestNatsCluster {
  readonly cluster: NatsClusterHandle;
  /** Every node's client URL, comma-separated. */
  readonly url: string;
  /** A client of the whole cluster (reconnecting forever, as the product's), closed in the test's teardown. */
  connect(t: ExecutionContext, name?: string): Promise<NatsConnection>;
  /** Stop node `i` (0-based); `kill: true` sends SIGKILL. The node is started again after the test file. */
  stopNode(i: number, options?: { kill?: boolean }): Promise<void>;
  /** Start node `i` again on its ports and store dir, and wait until JetStream answers and its streams have caught up. */
  startNode(i: number): Promise<void>;
}

/**
 * Start one real nats-server cluster (3 nodes by default, JetStream on, free loopback client and route ports,
 * a store dir per node) for the whole test file in `test.before`, after JetStream has elected its meta leader
 * and a replicas-3 stream can be created; stop it in `test.after.always`.
 *
 * Tests that stop nodes change what the others see: give such tests a file of their own, or run them
 * `test.serial` and start the node again before the test ends.
 *
 * @example
 * const nats = startTestNatsCluster(test);
 * test('x: when one node stops then …', async (t) => { const nc = await nats.connect(t); await nats.stopNode(0); … });
 */
export function startTestNatsCluster(test: TestFn, options: NatsClusterOptions = {}): TestNatsCluster {
  let cluster: NatsClusterHandle | undefined;
  const clients = new Set<NatsConnection>();
  const running = (): NatsClusterHandle => {
    if (!cluster) throw new Error('startTestNatsCluster: the cluster is started in test.before; use it inside tests');
    return cluster;
  };

  test.before(async () => {
    cluster = await startNatsCluster({ startTimeoutMs: 60_000, ...options });
  });
  test.after.always(async () => {
    await Promise.all([...clients].map((nc) => nc.close()));
    await cluster?.stop();
  });

  return {
    get cluster() {
      return running();
    },
    get url() {
      return running().url;
    },
    async connect(t, name = 'panos-test') {
      const nc = await connectNats(running().url, name);
      clients.add(nc);
      t.teardown(async () => {
        clients.delete(nc);
        await nc.close();
      });
      return nc;
    },
    stopNode: (i, opts) => running().stopNode(i, opts),
    async startNode(i) {
      await running().startNode(i);
      await running().waitForJetStream(60_000);
      await running().waitForStreamsCurrent(60_000);
    },
  };
}
