import type { StatusRecord } from '../actors/daemon.ts';
import type { UpgradeStatus } from '../machines/upgrade-job.fold.ts';
import type { DaemonClient } from './client.ts';
import { describeError, InterruptedError } from './errors.ts';
import { isFinished, isPair, JobFeed } from './job-feed.ts';
import { FleetProgress, JobBars } from './progress.ts';
import { deviceName, jobName, type Output } from './output.ts';

/** Call `onSignal` on the first Ctrl-C (or SIGTERM) until the returned function is called. */
export function onInterrupt(onSignal: (signal: NodeJS.Signals) => void): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    off();
    onSignal(signal);
  };
  const off = (): void => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return off;
}

/**
 * `work`, unless Ctrl-C (or SIGTERM) comes first: then an InterruptedError with `message` (exit 130), so
 * that a request the daemon has not answered yet does not end in silence.
 */
export async function untilInterrupted<T>(work: Promise<T>, message: string): Promise<T> {
  let off: (() => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    off = onInterrupt(() => reject(new InterruptedError(message)));
  });
  try {
    return await Promise.race([work, interrupted]);
  } finally {
    off?.();
  }
}

/** A warning on stderr, once per distinct text, so a daemon that went away does not flood the screen. */
function warner(): (err: unknown) => void {
  const seen = new Set<string>();
  return (err) => {
    const text = describeError(err).replace(/^error: /, 'warning: ');
    if (seen.has(text)) return;
    seen.add(text);
    process.stderr.write(`${text} (still listening for events)\n`);
  };
}

/** What following says on stderr when the connection to the daemon's NATS goes, and when it is back. */
export function connectionNotice(client: DaemonClient, write: (line: string) => void = (line) => void process.stderr.write(`${line}\n`)): (change: 'lost' | 'back') => void {
  const where = client.location.url ?? 'NATS';
  return (change) =>
    write(
      change === 'lost'
        ? `warning: lost the connection to ${where}: the daemon or its NATS server stopped, or the network did. Waiting for it to come back (running jobs go on in a running daemon; a restarted daemon resumes them). Ctrl-C stops following.`
        : `connection to ${where} is back: following again`,
    );
}

/**
 * Follow jobs to their end with a bar each (live from `panos.evt.job.<id>.>`), and resolve with their
 * final records. An HA pair job also shows a bar for each peer's own job once the pair starts it.
 * Ctrl-C stops following (InterruptedError); the jobs go on in the daemon.
 */
export async function followJobs(client: DaemonClient, jobs: readonly StatusRecord[], out: Output, options: { bars?: boolean } = {}): Promise<StatusRecord[]> {
  const ids = jobs.map((j) => j.job_id);
  const latest = new Map<string, StatusRecord>(jobs.map((j) => [j.job_id, j]));
  const bars = options.bars === false ? undefined : new JobBars(out, jobs.map(jobName));
  let feed: JobFeed | undefined;
  const pendingChildren: string[] = [];
  try {
    return await new Promise<StatusRecord[]>((resolve, reject) => {
      const offInterrupt = onInterrupt(() => {
        const open = ids.filter((id) => !isFinished(latest.get(id)!));
        reject(new InterruptedError(`stopped following; ${open.length === 1 ? `job ${open[0]} goes` : `jobs ${open.join(', ')} go`} on in the daemon. Check with: panos-upgrade job status ${open[0] ?? ids[0]}`));
      });
      const watchChildren = (job: StatusRecord): void => {
        if (!isPair(job)) return;
        for (const p of job.peers) {
          if (!p.job_id) continue;
          if (feed) void feed.watch(p.job_id).catch(() => undefined);
          else pendingChildren.push(p.job_id);
        }
      };
      const onJob = (job: StatusRecord): void => {
        bars?.update(job);
        if (!latest.has(job.job_id)) return;
        latest.set(job.job_id, job);
        watchChildren(job);
        if (ids.every((id) => isFinished(latest.get(id)!))) {
          offInterrupt();
          resolve(ids.map((id) => latest.get(id)!));
        }
      };
      JobFeed.start({ client, jobIds: ids, onJob, onError: warner(), onConnection: connectionNotice(client) }).then(
        (f) => {
          feed = f;
          for (const id of pendingChildren.splice(0)) void f.watch(id).catch(() => undefined);
        },
        (err: unknown) => {
          offInterrupt();
          reject(err);
        },
      );
    });
  } finally {
    feed?.stop();
    bars?.stop();
  }
}

/** One device's download as the fleet view sees it. */
interface DeviceDownload {
  status: UpgradeStatus;
  /** Orders records of the same device: the newest job (a pair's child is newer than its pair) wins. */
  submittedAt: string;
}

/**
 * Follow the fleet's downloads with one overall bar (`queue-all`, `download status --watch`). It listens
 * from the start (`panos.evt.job.*.>`) and keeps, for each device, its newest download-only job: a
 * device job, an HA pair's child job, or the pair job itself until the pair starts that peer's child.
 * `expect` says which devices make up the run; with `grow`, devices whose downloads start later
 * (another terminal's queue-all) join it.
 */
export class DownloadFollower {
  readonly progress: FleetProgress;
  private feed: JobFeed | undefined;
  private expected: Set<string> | undefined;
  private readonly devices = new Map<string, DeviceDownload>();
  private readonly seenJobs = new Set<string>();
  private resolveDone: (() => void) | undefined;
  private readonly warn = warner();

  private constructor(out: Output, private readonly grow: boolean, activeBars: number) {
    this.progress = new FleetProgress(out, 'Downloads', activeBars);
  }

  /** `activeBars`: on a terminal, a bar for each device being worked on, at most that many. */
  static async start(client: DaemonClient, out: Output, options: { grow?: boolean; activeBars?: number } = {}): Promise<DownloadFollower> {
    const follower = new DownloadFollower(out, options.grow === true, options.activeBars ?? 0);
    const notice = connectionNotice(client);
    follower.feed = await JobFeed.start({
      client,
      onJob: (job) => follower.onJob(job),
      onError: (err) => follower.warn(err),
      onConnection: (change) => {
        notice(change);
        // Events missed while the connection was down are not replayed: read the jobs seen so far again, until the daemon answers.
        if (change === 'back') for (const id of follower.seenJobs) follower.feed?.refresh(id, 0, true);
      },
    });
    return follower;
  }

  private onJob(job: StatusRecord): void {
    if (!job.download_only) return;
    this.seenJobs.add(job.job_id);
    if (isPair(job)) {
      for (const serial of job.devices) this.record(serial, job.upgrade_status, job.submitted_at);
      // The peers' own jobs, in case their events went by before we listened.
      for (const p of job.peers) if (p.job_id && !this.seenJobs.has(p.job_id)) this.feed?.refresh(p.job_id);
    } else {
      this.record(job.device_serial, job.upgrade_status, job.submitted_at, { name: deviceName(job.hostname, job.device_serial), progress: job.progress, message: job.upgrade_message });
    }
    this.check();
  }

  private record(serial: string, status: UpgradeStatus, submittedAt: string | null, detail?: { name: string; progress: number; message: string }): void {
    if (this.expected && !this.expected.has(serial)) {
      if (!this.grow) return;
      this.expected.add(serial);
      this.progress.setTotal(this.expected.size);
    }
    const at = submittedAt ?? '';
    const known = this.devices.get(serial);
    if (known && known.submittedAt > at) return;
    this.devices.set(serial, { status, submittedAt: at });
    this.progress.set(serial, status, detail);
  }

  /**
   * The devices that make up the run, with their job ids and what is already known (a status read);
   * each unfinished job is re-read once, in case its events went by before we listened.
   */
  expect(rows: ReadonlyArray<{ device: string; jobId: string | null; status?: UpgradeStatus }>): void {
    this.expected = new Set(rows.map((r) => r.device));
    const reread = new Set<string>();
    for (const r of rows) {
      if (r.status && !this.devices.has(r.device)) this.record(r.device, r.status, '');
      if (r.jobId && !this.seenJobs.has(r.jobId) && !(r.status && isFinished({ upgrade_status: r.status }))) reread.add(r.jobId);
    }
    // After the statuses read: the first line then counts every device, not only those whose events came first.
    this.progress.setTotal(this.expected.size);
    for (const id of reread) this.feed?.refresh(id);
    this.check();
  }

  private check(): void {
    if (!this.expected || !this.resolveDone) return;
    for (const serial of this.expected) {
      const d = this.devices.get(serial);
      if (!d || !isFinished({ upgrade_status: d.status })) return;
    }
    this.resolveDone();
  }

  /** Resolves when every expected device's download has ended; Ctrl-C rejects with InterruptedError. */
  done(interruptMessage = 'stopped following; the downloads go on in the daemon. Check with: panos-upgrade download status'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const offInterrupt = onInterrupt(() => reject(new InterruptedError(interruptMessage)));
      this.resolveDone = () => {
        this.resolveDone = undefined;
        offInterrupt();
        resolve();
      };
      this.check();
    });
  }

  stop(): void {
    this.feed?.stop();
    this.progress.stop();
  }
}
