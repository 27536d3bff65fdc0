import type { Subscription } from '@nats-io/transport-node';
import type { StatusRecord } from '../actors/daemon.ts';
import { RemoteError } from '../bus/errors.ts';
import type { PairStatusRecord } from '../machines/ha-pair.fold.ts';
import { TERMINAL_STATUSES, type UpgradeStatus } from '../machines/upgrade-job.fold.ts';
import type { DaemonClient } from './client.ts';

export function isFinished(job: { upgrade_status: UpgradeStatus }): boolean {
  return TERMINAL_STATUSES.has(job.upgrade_status);
}

/** An HA pair job (both peers as one unit), as opposed to one device's job. */
export function isPair(job: StatusRecord): job is PairStatusRecord {
  return job.kind === 'ha-upgrade' || job.kind === 'ha-download-only';
}

const NOT_FOUND_RETRIES = 5;

export interface JobFeedOptions {
  client: DaemonClient;
  /** Follow only these jobs (`panos.evt.job.<id>.>` each); without it, every job (`panos.evt.job.*.>`). */
  jobIds?: readonly string[];
  /** The job as the daemon has it now, after an event about it (or at start). */
  onJob(job: StatusRecord): void;
  /** A re-read failed (daemon gone, timeout); the feed keeps listening. */
  onError?(err: unknown): void;
  /** The connection to NATS was lost, or is back (the feed then re-reads every job it follows). */
  onConnection?(change: 'lost' | 'back'): void;
}

/**
 * Live job records driven by the event stream: a job is re-read with `job.get` at start and when an
 * event about it arrives, never on a timer. Reads of one job never overlap: events that arrive during a
 * read cause exactly one more read after it.
 */
export class JobFeed {
  private readonly subs: Subscription[] = [];
  private readonly inflight = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly watched = new Set<string>();
  private stopped = false;
  private stopWatchingConnection: (() => void) | undefined;

  private constructor(private readonly options: JobFeedOptions) {}

  /** Subscribe first, then read: an event published between the two cannot be missed. */
  static async start(options: JobFeedOptions): Promise<JobFeed> {
    const feed = new JobFeed(options);
    const { client } = options;
    feed.stopWatchingConnection = await client.onConnection((change) => {
      if (feed.stopped) return;
      options.onConnection?.(change);
      // Events published while the connection was down are not replayed: read every followed job again,
      // until the daemon answers (a restarted server is often back before the daemon that uses it).
      if (change === 'back') for (const id of feed.watched) feed.refresh(id, 0, true);
    });
    if (options.jobIds) {
      for (const id of options.jobIds) await feed.watch(id);
    } else {
      feed.subs.push(await client.subscribe(client.subjects.streamEvents('job'), (msg) => feed.onEvent(msg.string())));
    }
    return feed;
  }

  /** Add one job (with `jobIds` mode) and read it now. */
  async watch(jobId: string): Promise<void> {
    if (this.watched.has(jobId)) return;
    this.watched.add(jobId);
    const { client } = this.options;
    if (this.options.jobIds) this.subs.push(await client.subscribe(client.subjects.streamEvents('job', jobId), (msg) => this.onEvent(msg.string())));
    this.refresh(jobId);
  }

  private onEvent(body: string): void {
    let stream: unknown;
    try {
      stream = (JSON.parse(body) as { stream?: unknown }).stream;
    } catch {
      return;
    }
    if (typeof stream !== 'string' || !stream.startsWith('job:')) return;
    this.refresh(stream.slice(4));
  }

  /**
   * Re-read a job now (or right after the read in flight). `untilAnswered`: after a reconnect, a read that
   * finds no daemon is tried again (every few seconds) until one answers or the feed stops.
   */
  refresh(jobId: string, attempt = 0, untilAnswered = false): void {
    if (this.stopped) return;
    if (this.inflight.has(jobId)) {
      this.dirty.add(jobId);
      return;
    }
    this.inflight.add(jobId);
    let retryIn: number | undefined;
    this.options.client
      .request<{ job: StatusRecord }>('job.get', { jobId })
      .then((r) => {
        if (!this.stopped) this.options.onJob(r.job);
      })
      .catch((err: unknown) => {
        // A job's first event is published once it is on disk, which can be a moment before the daemon
        // answers for it: read it again shortly rather than report it missing.
        if (err instanceof RemoteError && err.code === 'NOT_FOUND' && attempt < NOT_FOUND_RETRIES) retryIn = 50 * 2 ** attempt;
        else if (untilAnswered && !(err instanceof RemoteError)) retryIn = Math.min(5_000, 250 * 2 ** attempt);
        else if (!this.stopped) this.options.onError?.(err);
      })
      .finally(() => {
        this.inflight.delete(jobId);
        if (this.dirty.delete(jobId)) this.refresh(jobId, 0, untilAnswered && retryIn !== undefined);
        else if (retryIn !== undefined) setTimeout(() => this.refresh(jobId, attempt + 1, untilAnswered), retryIn).unref();
      });
  }

  stop(): void {
    this.stopped = true;
    this.stopWatchingConnection?.();
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
  }
}
