import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { BusError } from './errors.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, ensureNatsServerBinary, findOnPath, guardedCommand, untilListening } from './nats-server.ts';

/** Ports the project never takes, even when the system offers them (other services' well-known ports). */
const RESERVED_PORTS = new Set([4222, 5432, 6379, 5672, 3306, 1883, 6222, 8222]);

export interface NatsClusterOptions {
  /** How many nodes; 3 (default) lets JetStream keep replicas-3 streams and survive the loss of one node. */
  nodes?: number;
  /** Parent of the nodes' store dirs (`n1/`, `n2/`, …); a fresh temp dir, removed on stop, by default. */
  dir?: string;
  /** The cluster's name (`cluster.name`). */
  name?: string;
  /** How long to wait for a node to accept clients, and for the JetStream meta leader. */
  startTimeoutMs?: number;
  /** More nats-server configuration for every node (e.g. accounts). */
  config?: string;
  /** Where to say that the Debian package is being installed. */
  onInstall?: (message: string) => void;
}

/** One node of a private cluster. */
export interface NatsClusterNode {
  readonly name: string;
  readonly port: number;
  readonly routePort: number;
  readonly url: string;
  readonly storeDir: string;
  readonly pid: number | undefined;
  readonly running: boolean;
}

/** A private nats-server cluster with JetStream on loopback ports. */
export interface NatsClusterHandle {
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, comma-separated (what `NATS_URL` or `connect({ servers })` takes). */
  readonly url: string;
  readonly urls: readonly string[];
  readonly dir: string;
  /** Stop node `i` (SIGTERM, or SIGKILL with `kill: true`); its store dir is kept. */
  stopNode(i: number, options?: { kill?: boolean }): Promise<void>;
  /** Start node `i` again on the same ports and store dir, and wait until it accepts clients. */
  startNode(i: number): Promise<void>;
  /** Wait until JetStream has a meta leader that answers (after a node stop or start). */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  /** Wait until every stream has a leader and all its replicas are current (a restarted node has caught up). */
  waitForStreamsCurrent(timeoutMs?: number): Promise<void>;
  /** Stop every node and remove a temp dir. */
  stop(): Promise<void>;
}

/** A free loopback TCP port (asked of the system, then released), never one of RESERVED_PORTS. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const address = srv.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0 && !RESERVED_PORTS.has(port)) return port;
  }
}

/** The configuration file of one node (pure). */
export function clusterNodeConfig(node: { name: string; port: number; routePort: number; storeDir: string }, cluster: { name: string; routePorts: readonly number[]; maxPayloadBytes?: number; extra?: string }): string {
  const routes = cluster.routePorts.filter((p) => p !== node.routePort).map((p) => `    "nats-route://127.0.0.1:${p}"`);
  return [
    `server_name: ${JSON.stringify(node.name)}`,
    `listen: "127.0.0.1:${node.port}"`,
    `max_payload: ${Math.floor(cluster.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES)}`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(node.storeDir)}`,
    `}`,
    `cluster {`,
    `  name: ${JSON.stringify(cluster.name)}`,
    `  listen: "127.0.0.1:${node.routePort}"`,
    `  routes: [`,
    ...routes,
    `  ]`,
    `}`,
    cluster.extra ?? '',
    '',
  ].join('\n');
}

interface NodeState {
  name: string;
  port: number;
  routePort: number;
  storeDir: string;
  confFile: string;
  child: ChildProcess | undefined;
}

/**
 * Start a private nats-server cluster (3 nodes by default) with JetStream on free loopback ports, each node
 * with its own store dir, and wait until JetStream has elected a meta leader and a replicas-N stream can be
 * created. For tests, benchmarks and `chaos --cluster`: a production cluster is the operator's own.
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsClusterHandle> {
  const binary = ensureNatsServerBinary(options.onInstall);
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new BusError('NATS_CLUSTER_START', `a cluster needs at least one node, not ${count}`);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'panos-nats-cluster-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const clusterName = options.name ?? 'panos';
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const setpriv = findOnPath('setpriv');

  const ports = new Set<number>();
  const takePort = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!ports.has(p)) {
        ports.add(p);
        return p;
      }
    }
  };
  const nodes: NodeState[] = [];
  for (let i = 0; i < count; i++) {
    const name = `n${i + 1}`;
    const storeDir = join(dir, name);
    mkdirSync(storeDir, { recursive: true, mode: 0o700 });
    nodes.push({ name, port: await takePort(), routePort: await takePort(), storeDir, confFile: join(storeDir, 'nats-server.conf'), child: undefined });
  }
  const routePorts = nodes.map((n) => n.routePort);
  for (const node of nodes) {
    writeFileSync(node.confFile, clusterNodeConfig(node, { name: clusterName, routePorts, extra: options.config }), { mode: 0o600 });
    chmodSync(node.confFile, 0o600);
  }

  const launch = async (node: NodeState): Promise<void> => {
    const command = guardedCommand(binary, ['-c', node.confFile], setpriv);
    const proc = spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = proc;
    await untilListening(proc, {
      code: 'NATS_CLUSTER_START',
      name: `nats-server ${node.name}`,
      timeoutMs,
      onFail: () => (node.child = undefined),
    });
  };

  const halt = async (node: NodeState, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = node.child;
    node.child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill(signal);
    });
  };

  const url = (n: NodeState): string => `nats://127.0.0.1:${n.port}`;

  /** A replicas-N stream can be created (and is removed again): the meta leader is elected and enough peers are current. */
  const waitForJetStream = async (waitMs = timeoutMs, replicas?: number): Promise<void> => {
    const live = nodes.filter((n) => n.child);
    const deadline = Date.now() + waitMs;
    let nc: NatsConnection | undefined;
    let lastError: unknown;
    try {
      nc = await connect({ servers: live.map(url), name: 'panos-cluster-probe', maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
      const probe = `PANOS_PROBE_${process.pid}_${Date.now().toString(36)}`;
      const wanted = replicas ?? Math.min(3, live.length);
      for (;;) {
        try {
          await jsm.streams.add({ name: probe, subjects: [`panos-probe.${probe}`], num_replicas: wanted, storage: StorageType.Memory });
          await jsm.streams.delete(probe);
          return;
        } catch (err) {
          lastError = err;
          // a stream created on a second try after a timeout: remove it so the next add is not refused
          await jsm.streams.delete(probe).catch(() => undefined);
        }
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await nc?.close().catch(() => undefined);
    }
    throw new BusError('NATS_CLUSTER_START', `JetStream had no meta leader able to create a replicated stream within ${waitMs} ms: ${String((lastError as Error | undefined)?.message ?? lastError)}`);
  };

  const waitForStreamsCurrent = async (waitMs = timeoutMs): Promise<void> => {
    const live = nodes.filter((n) => n.child);
    const liveNames = new Set(live.map((n) => n.name));
    const deadline = Date.now() + waitMs;
    let nc: NatsConnection | undefined;
    let pending = 'no answer';
    try {
      nc = await connect({ servers: live.map(url), name: 'panos-cluster-probe', maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
      for (;;) {
        try {
          const lagging: string[] = [];
          for await (const info of jsm.streams.list()) {
            const c = info.cluster;
            if (!c?.leader) lagging.push(`${info.config.name}: no leader`);
            for (const r of c?.replicas ?? []) {
              if (liveNames.has(r.name) && (!r.current || r.offline)) lagging.push(`${info.config.name}: ${r.name} not current`);
            }
          }
          if (lagging.length === 0) return;
          pending = lagging.join('; ');
        } catch (err) {
          pending = String((err as Error).message ?? err);
        }
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await nc?.close().catch(() => undefined);
    }
    throw new BusError('NATS_CLUSTER_START', `streams not current within ${waitMs} ms: ${pending}`);
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => halt(n)));
  };
  const stopOnExit = (): void => {
    for (const n of nodes) n.child?.kill('SIGKILL');
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await Promise.all(nodes.map(launch));
    await waitForJetStream();
  } catch (err) {
    await stopAll();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  process.once('exit', stopOnExit);

  const nodeAt = (i: number): NodeState => {
    const node = nodes[i];
    if (!node) throw new BusError('NATS_CLUSTER_NODE', `the cluster has nodes 0..${nodes.length - 1}, not ${i}`);
    return node;
  };

  return {
    nodes: nodes.map((n) => ({
      get name() {
        return n.name;
      },
      get port() {
        return n.port;
      },
      get routePort() {
        return n.routePort;
      },
      get url() {
        return url(n);
      },
      get storeDir() {
        return n.storeDir;
      },
      get pid() {
        return n.child?.pid;
      },
      get running() {
        return n.child !== undefined;
      },
    })),
    url: nodes.map(url).join(','),
    urls: nodes.map(url),
    dir,
    async stopNode(i, opts = {}) {
      await halt(nodeAt(i), opts.kill ? 'SIGKILL' : 'SIGTERM');
    },
    async startNode(i) {
      const node = nodeAt(i);
      if (node.child) return;
      await launch(node);
    },
    waitForJetStream: (waitMs) => waitForJetStream(waitMs),
    waitForStreamsCurrent: (waitMs) => waitForStreamsCurrent(waitMs),
    async stop() {
      process.off('exit', stopOnExit);
      await stopAll();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
