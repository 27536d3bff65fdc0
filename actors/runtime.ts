import { join } from 'node:path';
import type { Logger } from 'pino';
import { assertCanSubscribe, connectBus, ensureEventStream, ensureLogStream, eventPublisher, jetStreamLogTransport, Subjects, type BusConnection, type NatsAuth, type PrivateUser } from '../bus/index.ts';
import { LmdbEventStore, newRunId, ReplicatedLog } from '../eventstore/index.ts';
import { busCopy } from './bus-copy.ts';
import { ConfigError } from './config-error.ts';
import { privateUmask } from './private-dir.ts';
import { resolveDataDir, subjectPrefix } from './data-dir.ts';

/** The event log of a data dir. */
export function eventLogPath(dataDir: string): string {
  return join(dataDir, 'events');
}

/** Where the private nats-server of `role` keeps its configuration and JetStream store. */
export function natsServerDir(dataDir: string, role: string): string {
  return join(dataDir, 'nats', role);
}

export interface Runtime {
  readonly bus: BusConnection;
  readonly store: LmdbEventStore;
  readonly subjects: Subjects;
  readonly runId: string;
  readonly dataDir: string;
  /** The replicated log the store projects (cluster mode), if any. */
  readonly replicatedLog: ReplicatedLog | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  role: 'simulator' | 'daemon' | 'gateway' | 'demo' | 'chaos';
  dataDir?: string;
  natsUrl?: string;
  prefix?: string;
  log: Logger;
  /** Credentials for the server at `natsUrl` / NATS_URL. */
  auth?: NatsAuth;
  /** Without a NATS URL: start the private server with its NKey users and connect as this one. */
  privateUser?: PrivateUser;
  /** A subject this role must be allowed to subscribe to, checked before anything is opened (a wrong NATS user stops here). */
  mustSubscribe?: (subjects: Subjects) => string;
  /** Extra facts about the run, recorded in `run.started`. */
  details?: Record<string, unknown>;
  /**
   * Cluster mode (docs/cluster.md): the event log is the JetStream stream PANOS_LOG with this many replicas,
   * and the LMDB log in the data dir its projection, rebuilt from the stream when it is empty or behind.
   * Needs a NATS server given by URL (a private server dies with its machine).
   */
  replicatedLog?: { replicas: number; writer: string };
}

/**
 * What every long-running command stands on: a NATS connection (or a private server), the event log
 * with durable events published on `panos.evt.>`, and a run recorded as `run:<id>`.
 */
export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  // Everything a long-running command writes (event log, inventory, logs, the NATS store) is private.
  privateUmask();
  const dataDir = resolveDataDir(options.dataDir);
  const runId = newRunId();
  const subjects = new Subjects(options.prefix ?? subjectPrefix());
  if (options.replicatedLog && !(options.natsUrl ?? process.env.NATS_URL)) {
    throw new ConfigError('cluster.enabled needs the NATS cluster\'s address: set nats.url (or NATS_URL, --nats-url) to its servers, e.g. nats://n1:4222,nats://n2:4222,nats://n3:4222');
  }
  const bus = await connectBus({
    ...(options.natsUrl ? { url: options.natsUrl } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
    // A private server keeps its JetStream store in the data dir: the event stream survives a restart.
    storeDir: natsServerDir(dataDir, options.role),
    ...(options.privateUser ? { privateUsers: { prefix: subjects.prefix, user: options.privateUser } } : {}),
    name: `panos-upgrade ${options.role}`,
    onInstall: (m) => options.log.warn(m),
    // A private server that dies is started again: commands, events and the live view come back with it.
    supervise: {
      onExit: (code, signal) => options.log.error({ code, signal }, 'the private nats-server died: starting it again on its port (commands and events wait for it)'),
      onBack: (port) => options.log.warn({ port }, 'the private nats-server is back'),
      onRestartFailed: (err) => options.log.error({ err }, 'the private nats-server did not start again: trying again'),
    },
  });
  if (options.mustSubscribe) {
    try {
      await assertCanSubscribe(bus.nc, options.mustSubscribe(subjects));
    } catch (err) {
      await bus.close();
      throw err;
    }
  }
  const store = LmdbEventStore.open({ path: eventLogPath(dataDir), runId });
  let replicatedLog: ReplicatedLog | undefined;
  if (options.replicatedLog) {
    try {
      await ensureLogStream(bus.nc, subjects, { replicas: options.replicatedLog.replicas });
      const before = store.projectionPosition().logSeq;
      replicatedLog = await ReplicatedLog.open(store, jetStreamLogTransport(bus.nc, subjects), {
        writer: options.replicatedLog.writer,
        onError: (err) => options.log.error({ err }, 'reading the replicated log failed: reading it again from the last applied entry'),
      });
      options.log.info({ applied: replicatedLog.position - before, position: replicatedLog.position, replicas: options.replicatedLog.replicas }, 'event log projected from the replicated log');
    } catch (err) {
      await store.close();
      await bus.close();
      throw err;
    }
  }
  if (!(await ensureEventStream(bus.nc, subjects))) options.log.info({ nats: bus.url }, 'no JetStream on this NATS server: events are published, not kept on NATS');
  const unsubscribe = store.onAppend(eventPublisher(bus.nc, subjects, { onError: (err) => options.log.warn({ err }, 'could not publish event'), busCopy }));
  await store.append(`run:${runId}`, [
    { type: 'run.started', data: { role: options.role, pid: process.pid, natsUrl: bus.url, ...(options.details ?? {}) } },
  ]);
  let closed = false;
  return {
    bus,
    store,
    subjects,
    runId,
    dataDir,
    replicatedLog,
    async close() {
      if (closed) return;
      closed = true;
      await store.append(`run:${runId}`, [{ type: 'run.stopped', data: { role: options.role } }]).catch(() => undefined);
      unsubscribe();
      await replicatedLog?.close();
      await bus.close();
      await store.close();
    },
  };
}
