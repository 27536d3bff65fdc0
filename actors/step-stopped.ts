/**
 * A step whose actor was stopped (daemon shutdown; on a cluster, its partition handed over or its lease
 * lost) goes no further: a fact it was recording never reaches the log (a stopped runner appends nothing
 * more), so what that fact announces (a command, a child job) must not happen either. The job resumes
 * from the log, here or on another daemon, and does it there once.
 */
export class StepStoppedError extends Error {
  constructor(what = 'the step') {
    super(`${what} was stopped: nothing more is sent or recorded for it here`);
    this.name = 'StepStoppedError';
  }
}

/**
 * The reason a step's signal is aborted with when its actor stops: what a wait or a call still pending
 * rejects with. One for all: every step's actor stops (its own end included), and `abort()` without a
 * reason makes a DOMException, stack and all, each time (some 30 µs apiece in a daemon's profile).
 */
export const STEP_STOPPED: Error = new StepStoppedError();

/** Throws StepStoppedError when `signal` (the step's) is aborted. */
export function throwIfStopped(signal: AbortSignal, what?: string): void {
  if (signal.aborted) throw new StepStoppedError(what);
}

/**
 * When a wait of a step ends: `allowedMs` after the step began, as its `*.step.started` fact logged it, so
 * a daemon restarted during the wait gets no fresh budget (DESIGN.md, waits that span a crash). A step
 * with no logged start (a snapshot stored before it was kept) counts from now.
 */
export function stepDeadline(stepStartedAt: string | null | undefined, now: number, allowedMs: number): number {
  const began = stepStartedAt ? Date.parse(stepStartedAt) : Number.NaN;
  return (Number.isFinite(began) ? Math.min(began, now) : now) + allowedMs;
}
