import { DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { BusError } from './errors.ts';
import type { Subjects } from './subjects.ts';

/** The JetStream stream of the replicated event log (`<prefix>.log.>`): `PANOS_LOG` for the default prefix. */
export function logStreamName(subjects: Subjects): string {
  const suffix = subjects.prefix === 'panos' ? '' : `_${subjects.prefix.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  return `PANOS_LOG${suffix}`;
}

/** How long a retried append (same message id) is recognised as a duplicate: well above an append's retry time. */
export const LOG_DUPLICATE_WINDOW_MS = 10 * 60_000;

export class LogStreamError extends BusError {
  constructor(message: string, options?: ErrorOptions) {
    super('LOG_STREAM', message, options);
  }
}

/** The stream configuration of the replicated log (pure): kept forever, never purged or trimmed. */
export function logStreamConfig(subjects: Subjects, replicas: number) {
  return {
    name: logStreamName(subjects),
    subjects: [subjects.allLog()],
    num_replicas: replicas,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    // The log is the record: no age, count or size limit drops an entry, and nobody deletes or purges one.
    max_age: 0,
    max_msgs: -1,
    max_bytes: -1,
    discard: DiscardPolicy.New,
    deny_delete: true,
    deny_purge: true,
    duplicate_window: LOG_DUPLICATE_WINDOW_MS * 1e6,
  };
}

/**
 * Make sure the log stream exists with `replicas` replicas (3 on a 3-node cluster, 1 on a single server), and
 * return its info. An existing stream with another replica count is scaled to it (JetStream copies the data).
 */
export async function ensureLogStream(nc: NatsConnection, subjects: Subjects, options: { replicas: number; timeoutMs?: number }): Promise<StreamInfo> {
  const config = logStreamConfig(subjects, options.replicas);
  const jsm = await jetstreamManager(nc, { timeout: options.timeoutMs ?? 10_000 });
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(config.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw new LogStreamError(`cannot read the log stream ${config.name}: ${(err as Error).message}`, { cause: err });
  }
  try {
    if (!info) return await jsm.streams.add(config);
    if (info.config.num_replicas !== options.replicas) return await jsm.streams.update(config.name, { ...info.config, num_replicas: options.replicas });
    return info;
  } catch (err) {
    const hint = options.replicas > 1 ? ` (replicas ${options.replicas} need a JetStream cluster of at least ${options.replicas} servers: set cluster.replicas to 1 on a single server)` : '';
    throw new LogStreamError(`cannot create the log stream ${config.name} with ${options.replicas} replica(s)${hint}: ${(err as Error).message}`, { cause: err });
  }
}

/** What eventstore's ReplicatedLog needs of the log (structurally its LogTransport). */
export interface JetStreamLogTransport {
  origin(): Promise<string>;
  lastSeq(): Promise<number>;
  publish(
    stream: string,
    data: Uint8Array,
    options: { expectedLastLogSeq: number; msgId: string; timeoutMs: number },
  ): Promise<{ ok: true; logSeq: number; duplicate: boolean } | { ok: false; conflict: true } | { ok: false; conflict: false; error: unknown }>;
  read(fromSeq: number, signal: AbortSignal): AsyncIterable<{ logSeq: number; data: Uint8Array }>;
}

/** Whether a publish error means "not acknowledged, try again" (no leader yet, no quorum, a timeout, no responders). */
function isRetryable(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    // 503: JetStream or the stream's leader is not available right now; 10071 is a conflict, handled apart.
    return err.status === 503 || err.status === 408;
  }
  return true;
}

/**
 * The replicated log on the JetStream stream `logStreamName(subjects)`: one message per append on
 * `subjects.log(stream)`, published with `Nats-Msg-Id` and `Nats-Expected-Last-Subject-Sequence`; read back
 * with an ordered consumer.
 */
export function jetStreamLogTransport(nc: NatsConnection, subjects: Subjects): JetStreamLogTransport {
  const name = logStreamName(subjects);
  const js = jetstream(nc);
  let jsmP: ReturnType<typeof jetstreamManager> | undefined;
  const jsm = () => (jsmP ??= jetstreamManager(nc, { checkAPI: false }));
  return {
    async origin() {
      const info = await (await jsm()).streams.info(name);
      return `${name}@${info.created}`;
    },
    async lastSeq() {
      const info = await (await jsm()).streams.info(name);
      return info.state.last_seq;
    },
    async publish(stream, data, { expectedLastLogSeq, msgId, timeoutMs }) {
      try {
        const ack = await js.publish(subjects.log(stream), data, { msgID: msgId, expect: { lastSubjectSequence: expectedLastLogSeq, streamName: name }, timeout: timeoutMs });
        return { ok: true, logSeq: ack.seq, duplicate: ack.duplicate };
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) return { ok: false, conflict: true };
        if (isRetryable(err)) return { ok: false, conflict: false, error: err };
        throw new LogStreamError(`the log stream ${name} refused an entry of ${stream}: ${(err as Error).message}`, { cause: err });
      }
    },
    read(fromSeq, signal) {
      return {
        async *[Symbol.asyncIterator]() {
          const consumer = await js.consumers.get(name, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, fromSeq) });
          // Short pulls, so that a consumer lost with a NATS node is noticed (missed heartbeats) within seconds.
          const messages = await consumer.consume({ expires: 5_000 });
          const stop = (): void => void messages.stop();
          signal.addEventListener('abort', stop, { once: true });
          try {
            if (signal.aborted) return;
            for await (const m of messages) {
              yield { logSeq: m.seq, data: m.data };
              if (signal.aborted) return;
            }
          } finally {
            signal.removeEventListener('abort', stop);
            messages.stop();
          }
        },
      };
    },
  };
}
