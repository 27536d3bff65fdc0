import type { Logger } from 'pino';
import { createActor, type Actor, type Snapshot } from 'xstate';
import type { LmdbEventStore } from '../eventstore/index.ts';
import type { StampedJobFact, UpgradeJobEvent, UpgradeJobMachine } from '../machines/upgrade-job.machine.ts';
import { isTerminal, type JobState } from '../machines/upgrade-job.fold.ts';

export interface JobRunnerOptions {
  jobId: string;
  /** The machine with its effects provided for this job. */
  machine: UpgradeJobMachine;
  store: LmdbEventStore;
  log: Logger;
  /** A fresh job: its state after `job.submitted`. */
  state?: JobState;
  /** A job restored after a restart: the snapshot recorded with its last fact. */
  snapshot?: Snapshot<unknown>;
  /** Called after each batch of facts is durable. */
  onChange?: (state: JobState, facts: readonly StampedJobFact[]) => void;
}

/**
 * Hosts one upgrade-job actor: appends every fact it records to `job:<id>` together with the actor's
 * snapshot, in order, and lets step effects wait until what they reported is on disk before they
 * act on the device (`durable()`), so a crash can never lose the record of a request that was sent.
 */
export class JobRunner {
  readonly jobId: string;
  readonly actor: Actor<UpgradeJobMachine>;
  private readonly store: LmdbEventStore;
  private readonly log: Logger;
  private lastAppend: Promise<unknown> = Promise.resolve();
  private buffered: StampedJobFact[] = [];
  private stopped = false;
  private readonly finished: Promise<JobState>;
  private resolveFinished!: (s: JobState) => void;

  constructor(private readonly options: JobRunnerOptions) {
    this.jobId = options.jobId;
    this.store = options.store;
    this.log = options.log;
    this.finished = new Promise((r) => (this.resolveFinished = r));
    const input = { state: options.state ?? (options.snapshot as unknown as { context: JobState }).context };
    this.actor = createActor(options.machine, options.snapshot ? { input, snapshot: options.snapshot } : { input });
    this.actor.on('facts', (e) => {
      this.buffered.push(...e.facts);
    });
    this.actor.subscribe({
      next: () => this.flush(),
      error: (err) => this.log.error({ err, jobId: this.jobId }, 'job actor failed'),
    });
  }

  start(): this {
    this.actor.start();
    if (isTerminal(this.state)) this.resolveFinished(this.state);
    return this;
  }

  send(event: UpgradeJobEvent): void {
    this.actor.send(event);
    this.flush();
  }

  get state(): JobState {
    return this.actor.getSnapshot().context;
  }

  /** Resolves when everything recorded so far is durable. */
  durable(): Promise<void> {
    return this.lastAppend.then(() => undefined);
  }

  /** Resolves with the final state when the job reaches a terminal status. */
  done(): Promise<JobState> {
    return this.finished;
  }

  /** Stop the actor (daemon shutdown): running effects are aborted; the log has what is needed to resume. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.actor.stop();
    await this.durable().catch(() => undefined);
  }

  private flush(): void {
    if (this.buffered.length === 0 || this.stopped) return;
    const facts = this.buffered;
    this.buffered = [];
    const snapshot = this.actor.getPersistedSnapshot();
    const state = this.state;
    const append = this.store.append(
      `job:${this.jobId}`,
      facts.map((f) => ({ type: f.type, data: f.data, at: f.at })),
      { snapshot },
    );
    this.lastAppend = append.then(
      () => {
        this.options.onChange?.(state, facts);
        if (isTerminal(state)) this.resolveFinished(state);
      },
      (err: unknown) => {
        this.log.error({ err, jobId: this.jobId }, 'could not record job facts');
        throw err;
      },
    );
    this.lastAppend.catch(() => undefined);
  }
}
