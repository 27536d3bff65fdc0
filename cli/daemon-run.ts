import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Daemon } from '../actors/daemon.ts';
import { ClusterNode } from '../actors/cluster-node.ts';
import { createDeviceAccess } from '../actors/device-access.ts';
import type { DaemonConfig } from '../actors/config.ts';
import { lockDataDir, refuseDataDirOf } from '../actors/data-dir-lock.ts';
import { mergeNatsAuth, natsAuthFromEnv, type NatsAuth } from '../bus/index.ts';
import { loadDaemonConfig } from '../actors/paths-file.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../bus/index.ts';
import { startWebServer, operatorTokenPath, type WebServerHandle } from '../web/index.ts';
import { removeDaemonFile, writeDaemonFile } from './daemon-file.ts';
import { createLogger } from './logger.ts';
import type { GlobalOptions } from './options.ts';
import { openRuntime, resolveDataDir, untilSignal } from './runtime.ts';

/**
 * `panos-upgrade daemon`: the orchestrator on NATS (`NATS_URL`/`--nats-url`, or a private nats-server),
 * announced in `<data-dir>/daemon.json` so that the CLI finds it, until SIGINT/SIGTERM.
 */
export async function runDaemon(opts: GlobalOptions): Promise<void> {
  const log = createLogger();
  const dataDir = resolveDataDir(opts.dataDir);
  // Taken before anything is read or resumed: two daemons on one data dir would run the same jobs twice.
  const lock = await lockDataDir(dataDir, 'daemon');
  try {
    // A simulator's data dir is not a daemon's: their logs and private NATS stores would mix.
    await refuseDataDirOf(dataDir, 'simulator', 'daemon');
    await serve(opts, dataDir, log);
  } finally {
    await lock.release();
  }
}

async function serve(opts: GlobalOptions, dataDir: string, log: ReturnType<typeof createLogger>): Promise<void> {
  const config = loadDaemonConfig(dataDir);
  const natsUrl = opts.natsUrl ?? process.env.NATS_URL ?? (config.nats.url || undefined);
  const nodeId = clusterNodeId(config);
  const rt = await openRuntime({
    role: 'daemon',
    log,
    dataDir,
    ...(natsUrl ? { natsUrl } : {}),
    auth: daemonNatsAuth(config),
    privateUser: 'daemon',
    mustSubscribe: (subjects) => subjects.cmd('daemon.status'),
    details: { panorama: config.panorama.host, concurrency: config.concurrency, ...(config.cluster.enabled ? { nodeId } : {}) },
    ...(config.cluster.enabled ? { replicatedLog: { replicas: config.cluster.replicas, writer: nodeId } } : {}),
  });
  let access: ReturnType<typeof createDeviceAccess> | undefined;
  let daemon: Daemon | undefined;
  let node: ClusterNode | undefined;
  let web: WebServerHandle | undefined;
  let webCommands: NatsConnection | undefined;
  try {
    access = createDeviceAccess(config, { store: rt.store, log: log.child({ component: 'client' }), ...(config.cluster.enabled ? { apiStream: `api:${nodeId}` } : {}) });
    const daemonOptions = { store: rt.store, log: log.child({ component: 'daemon' }), config, access, dataDir, nc: rt.bus.nc, subjects: rt.subjects };
    if (config.cluster.enabled) {
      // One of several daemons (docs/cluster.md): work is taken partition by partition through leases.
      node = await ClusterNode.start({ ...daemonOptions, nodeId, ...(rt.replicatedLog ? { replicatedLog: rt.replicatedLog } : {}) });
      daemon = node.daemon;
    } else {
      daemon = await Daemon.start(daemonOptions);
    }
    // Listening from here on: a SIGTERM once "Daemon up" is printed (and while the live view starts) stops it cleanly, not by the default action.
    const stopped = untilSignal();
    const users = rt.bus.privateAuth?.files;
    const file = writeDaemonFile(
      dataDir,
      {
        natsUrl: rt.bus.url,
        pid: process.pid,
        runId: rt.runId,
        startedAt: new Date().toISOString(),
        subjectPrefix: rt.subjects.prefix,
        // Where the private server's operator and read-only seeds are (files of mode 0600), never the seeds.
        ...(users ? { natsUsers: { operator: users.operator, reader: users.reader } } : {}),
      },
      { locked: true },
    );
    log.info({ panorama: config.panorama.host, nats: rt.bus.url, eventLog: rt.store.path, runId: rt.runId, daemonFile: file, status: daemon.status() }, 'daemon up');
    process.stdout.write(
      `Daemon up: Panorama ${config.panorama.host}, NATS ${rt.bus.url} (subjects ${rt.subjects.prefix}.cmd.*), event log ${rt.store.path}, run ${rt.runId}\n` +
        (users ? `  NATS users (NKey seed files): operator ${users.operator}, read-only ${users.reader}\n` : '') +
        `  the CLI finds it through ${file}; Ctrl-C stops it (unfinished jobs resume at the next start)\n`,
    );
    if (config.ui.listen) {
      // The daemon's own user may not send commands: the page's actions go as the operator, once the HTTP side checked the operator token.
      if (users) webCommands = await connectNats(rt.bus.url, 'panos-upgrade live view', { nkeyFile: users.operator });
      web = await startWebServer({
        store: rt.store,
        nc: rt.bus.nc,
        ...(webCommands ? { commands: webCommands } : {}),
        subjects: rt.subjects,
        log: log.child({ component: 'web' }),
        listen: config.ui.listen,
        dataDir,
        metrics: config.metrics,
      });
      process.stdout.write(`  live view ${web.url}/ and ${web.url}/metrics (actions need the operator token in ${operatorTokenPath(dataDir)})\n`);
    }
    const signal = await stopped;
    log.info({ signal }, 'stopping daemon; unfinished jobs resume at the next start');
  } finally {
    await web?.close();
    await webCommands?.close();
    removeDaemonFile(dataDir);
    if (node) await node.stop();
    else await daemon?.stop();
    await access?.close();
    await rt.close();
  }
}

/** This daemon's name among the others on the cluster: cluster.node_id, or the host name and a random suffix. */
export function clusterNodeId(config: DaemonConfig): string {
  return config.cluster.nodeId || `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50)}-${randomBytes(3).toString('hex')}`;
}

/** The daemon user's NATS credentials: config.json's nats.* (files), then the NATS_* variables the nats CLI reads. */
export function daemonNatsAuth(config: DaemonConfig, env: NodeJS.ProcessEnv = process.env): NatsAuth {
  const n = config.nats;
  return mergeNatsAuth(
    { credsFile: n.credsFile, nkeyFile: n.nkeyFile, user: n.user, passwordFile: n.passwordFile, tokenFile: n.tokenFile, tls: { ...n.tls } },
    natsAuthFromEnv(env),
  );
}
