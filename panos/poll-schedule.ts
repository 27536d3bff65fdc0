/**
 * When to look again at something that takes a while (a PAN-OS job, a reboot): near when it is expected
 * to be done, rather than every `pollMs`. Pure; the waits in panos/client.ts, panos/reboot-wait.ts and the
 * daemon's steps use it.
 *
 * What a wait expects comes from two places: how long the same kind of wait took before (on the same
 * model: `DurationEstimates`), and for a PAN-OS job the progress it reports (extrapolated linearly).
 * Once past what was expected, the polls back off from `pollMs` (× 1.5 each) up to `backoffMaxMs`.
 */

/** How many times longer than `pollMs` one sleep may be while the wait is still short of what it expects. */
export const STRETCH_FACTOR = 20;
/** How many times longer than `pollMs` the back-off may grow once past what was expected. */
export const BACKOFF_FACTOR = 4;
export const BACKOFF_GROWTH = 1.5;

export interface PollState {
  /** Since the wait began (the job was enqueued, the restart sent). */
  elapsedMs: number;
  pollMs: number;
  /** How long the wait is expected to take in all, when known. */
  expectedMs?: number;
  /** Progress (0–100) seen at the first and at the latest poll, with their `elapsedMs`. */
  firstProgress?: { atMs: number; percent: number };
  lastProgress?: { atMs: number; percent: number };
  /** Polls made since the wait went past what was expected (or since it began, when nothing was). */
  latePolls: number;
}

/** Time still expected from reported progress, undefined when progress says nothing. */
export function remainingFromProgress(s: Pick<PollState, 'elapsedMs' | 'firstProgress' | 'lastProgress'>): number | undefined {
  const last = s.lastProgress;
  if (!last || last.percent <= 0 || last.percent >= 100) return undefined;
  const first = s.firstProgress;
  // Two points: the rate between them (a wait resumed mid-job does not know when the job began).
  if (first && last.atMs > first.atMs && last.percent > first.percent) {
    const rate = (last.percent - first.percent) / (last.atMs - first.atMs);
    return Math.max(0, (100 - last.percent) / rate - (s.elapsedMs - last.atMs));
  }
  if (last.atMs <= 0) return undefined;
  return Math.max(0, (last.atMs * (100 - last.percent)) / last.percent - (s.elapsedMs - last.atMs));
}

/** How long to sleep before the next poll. */
export function nextPollDelay(s: PollState): number {
  const pollMs = Math.max(1, s.pollMs);
  const fromProgress = remainingFromProgress(s);
  const remaining = fromProgress ?? (s.expectedMs !== undefined ? s.expectedMs - s.elapsedMs : undefined);
  if (remaining !== undefined && remaining > pollMs) return Math.min(remaining, pollMs * STRETCH_FACTOR);
  return Math.min(pollMs * BACKOFF_GROWTH ** Math.max(0, s.latePolls - 1), pollMs * BACKOFF_FACTOR);
}

/** One wait's polls: tell it each progress seen, ask it how long to sleep. */
export class PollSchedule {
  private firstProgress: { atMs: number; percent: number } | undefined;
  private lastProgress: { atMs: number; percent: number } | undefined;
  private latePolls = 0;

  constructor(
    private readonly pollMs: number,
    private readonly expectedMs?: number,
  ) {}

  /** A poll found the wait not over yet, with the progress it reported (if any). */
  observe(elapsedMs: number, percent?: number): void {
    if (percent !== undefined && percent > 0 && percent < 100) {
      const p = { atMs: elapsedMs, percent };
      this.firstProgress ??= p;
      this.lastProgress = p;
    }
  }

  /** The sleep before the next poll. */
  next(elapsedMs: number): number {
    const state: PollState = { elapsedMs, pollMs: this.pollMs, latePolls: this.latePolls + 1 };
    if (this.expectedMs !== undefined) state.expectedMs = this.expectedMs;
    if (this.firstProgress) state.firstProgress = this.firstProgress;
    if (this.lastProgress) state.lastProgress = this.lastProgress;
    const delay = nextPollDelay(state);
    const remaining = remainingFromProgress(state) ?? (this.expectedMs !== undefined ? this.expectedMs - elapsedMs : undefined);
    if (remaining === undefined || remaining <= this.pollMs) this.latePolls++;
    return delay;
  }
}

/** What a sample whose first look found the wait over counts for, when no wait of its kind was seen unfinished lately (see DurationEstimates). */
export const UPPER_BOUND_SHARE = 0.9;

interface DurationSample {
  ms: number;
  /** An earlier look of the same wait found it not over: the end lies between that look and this one. */
  bracketed: boolean;
}

/**
 * The durations the daemon has seen, by kind of wait and model (`software install PA-3220`): what the next wait
 * of that kind expects (a first poll there finds most done).
 *
 * A wait is first looked at when the estimate says, so a wait that was over by then only tells that it
 * took at most that long plus the look itself. Taken as its duration, such samples could only make the
 * estimate grow: by a call's latency every few waits over a long campaign, and a slow spell (a loaded
 * Panorama) would never be forgotten. So a sample says whether an earlier look found the wait unfinished
 * (`bracketed`: the end lies between the two looks). The estimate is the shortest bracketed sample of
 * the recent ones; when none is, the shortest of the others times UPPER_BOUND_SHARE, so that the next
 * first look comes a little earlier, until one finds the wait unfinished again (one poll more, now and
 * then, against first looks that drift later for ever).
 */
export class DurationEstimates {
  private readonly recent = new Map<string, DurationSample[]>();

  constructor(private readonly keep = 16) {}

  /** `bracketed`: an earlier look of this wait found it not over. The default keeps a sample as it is: the reboot waits record theirs so. */
  record(key: string, ms: number, bracketed = true): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    const list = this.recent.get(key) ?? [];
    list.push({ ms, bracketed });
    if (list.length > this.keep) list.shift();
    this.recent.set(key, list);
  }

  expected(key: string): number | undefined {
    const list = this.recent.get(key);
    if (!list || list.length === 0) return undefined;
    let bracketed = Infinity;
    let upper = Infinity;
    for (const s of list) {
      if (s.bracketed) bracketed = Math.min(bracketed, s.ms);
      else upper = Math.min(upper, s.ms);
    }
    return Number.isFinite(bracketed) ? bracketed : upper * UPPER_BOUND_SHARE;
  }
}
