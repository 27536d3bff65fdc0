import type { Logger } from 'pino';
import { createActor, type Actor, type AnyStateMachine, type Snapshot } from 'xstate';
import type { LmdbEventStore } from '../eventstore/index.ts';

/** A fact as a job machine emits it: stamped with the time it happened. */
export interface StampedFact {
  type: string;
  data: unknown;
  at: string;
}

export interface JobRunnerOptions<State> {
  jobId: string;
  /** A job machine (upgrade job, HA pair) with its effects provided; it emits `{ type: 'facts', facts }`. */
  machine: AnyStateMachine;
  store: LmdbEventStore;
  log: Logger;
  isTerminal: (state: State) => boolean;
  /** A fresh job: its state after its submitted fact. */
  state?: State;
  /** A job restored after a restart: the snapshot recorded with its last fact. */
  snapshot?: Snapshot<unknown>;
  /** The log stream its facts go to (default `job:<id>`; a campaign uses `campaign:<id>`). */
  stream?: string;
  /**
   * The machine's context is the fold of its stream (the upgrade job's is): the snapshot stored with each
   * append then leaves out the context and, in its children's input, the copy of it under this key
   * (`job`). A restore puts the fold back with `inflateSnapshot`. Each append then writes a few hundred
   * bytes of machine state instead of the whole job (its snapshots, readiness verdicts and policy) twice.
   */
  foldedContextKey?: string;
  /** Called after each batch of facts is durable. */
  onChange?: (state: State, facts: readonly StampedFact[]) => void;
}

/**
 * Hosts one job actor: appends every fact it records to `job:<id>` together with the actor's
 * snapshot, in order, and lets step effects wait until what they reported is on disk before they
 * act on a device (`durable()`), so a crash can never lose the record of a request that was sent.
 */
export class JobRunner<State = unknown> {
  readonly jobId: string;
  readonly actor: Actor<AnyStateMachine>;
  private readonly store: LmdbEventStore;
  private readonly log: Logger;
  private lastAppend: Promise<unknown> = Promise.resolve();
  private buffered: StampedFact[] = [];
  private stopped = false;
  private started = false;
  private readonly finished: Promise<State>;
  private durableState: State;
  private resolveFinished!: (s: State) => void;
  private resolveStopped!: () => void;
  private readonly stoppedPromise = new Promise<void>((r) => (this.resolveStopped = r));

  constructor(private readonly options: JobRunnerOptions<State>) {
    this.jobId = options.jobId;
    this.store = options.store;
    this.log = options.log;
    this.finished = new Promise((r) => (this.resolveFinished = r));
    const input = { state: options.state ?? (options.snapshot as unknown as { context: State }).context };
    this.durableState = input.state;
    this.actor = createActor(options.machine, options.snapshot ? { input, snapshot: options.snapshot } : { input });
    this.actor.on('facts', (e: { facts: StampedFact[] }) => {
      this.buffered.push(...e.facts);
    });
    this.actor.subscribe({
      next: () => this.flush(),
      error: (err: unknown) => this.log.error({ err, jobId: this.jobId }, 'job actor failed'),
    });
  }

  start(): this {
    if (this.started) return this;
    this.started = true;
    this.actor.start();
    if (this.options.isTerminal(this.state)) this.resolveFinished(this.state);
    return this;
  }

  get isStarted(): boolean {
    return this.started;
  }

  send(event: { type: string; [k: string]: unknown }): void {
    this.actor.send(event);
    this.flush();
  }

  get state(): State {
    return this.actor.getSnapshot().context as State;
  }

  /** The state as far as it is on disk: what the API reports, so it never shows what a crash could lose. */
  get recorded(): State {
    return this.durableState;
  }

  /**
   * Resolves when everything recorded so far is durable. A fact a step sends as it starts (its machine still
   * entering the step's state) waits in the machine's mailbox until that transition is over: it is appended
   * before the next microtask, so the append to wait for is looked up then, not now.
   */
  durable(): Promise<void> {
    return Promise.resolve()
      .then(() => this.lastAppend)
      .then(() => undefined);
  }

  /** Resolves when the job reaches a terminal status or the runner is stopped (its partition went to another daemon). */
  settled(): Promise<void> {
    return Promise.race([this.finished, this.stoppedPromise]).then(() => undefined);
  }

  /** Resolves with the final state when the job reaches a terminal status. */
  done(): Promise<State> {
    return this.finished;
  }

  /** Stop the actor (daemon shutdown): running effects are aborted; the log has what is needed to resume. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.resolveStopped();
    this.actor.stop();
    await this.durable().catch(() => undefined);
  }

  private flush(): void {
    if (this.buffered.length === 0 || this.stopped) return;
    const facts = this.buffered;
    this.buffered = [];
    const key = this.options.foldedContextKey;
    // Without the context, XState does not walk the whole job (persistContext) to persist it.
    const snapshot =
      key === undefined ? this.actor.getPersistedSnapshot() : slimSnapshot(this.actor.logic.getPersistedSnapshot({ ...this.actor.getSnapshot(), context: null } as never), key);
    const state = this.state;
    const append = this.store.append(
      this.options.stream ?? `job:${this.jobId}`,
      facts.map((f) => ({ type: f.type, data: f.data, at: f.at })),
      { snapshot },
    );
    this.lastAppend = append.then(
      () => {
        this.durableState = state;
        this.options.onChange?.(state, facts);
        if (this.options.isTerminal(state)) this.resolveFinished(state);
      },
      (err: unknown) => {
        this.log.error({ err, jobId: this.jobId }, 'could not record job facts');
        throw err;
      },
    );
    this.lastAppend.catch(() => undefined);
  }
}

type PersistedChild = { snapshot?: { input?: unknown } } & Record<string, unknown>;
type Persisted = { context?: unknown; children?: Record<string, PersistedChild>; foldedContext?: string } & Record<string, unknown>;

function mapChildInputs(children: Persisted['children'], key: string, value: unknown): Persisted['children'] {
  if (!children) return children;
  const out: Record<string, PersistedChild> = {};
  for (const [id, child] of Object.entries(children)) {
    const input = child?.snapshot?.input;
    out[id] =
      input && typeof input === 'object' && key in input ? { ...child, snapshot: { ...child.snapshot, input: { ...(input as object), [key]: value } } } : child;
  }
  return out;
}

/** A persisted snapshot without its context nor the copies of it in its children's input (`key`); see `foldedContextKey`. */
export function slimSnapshot(snapshot: unknown, key: string): unknown {
  const s = snapshot as Persisted;
  return { ...s, context: null, children: mapChildInputs(s.children, key, null), foldedContext: key };
}

/** A stored snapshot made whole again with the fold of its stream; a snapshot stored whole is returned as it is. */
export function inflateSnapshot<State>(stored: Snapshot<unknown>, state: State): Snapshot<unknown> {
  const s = stored as unknown as Persisted;
  if (typeof s.foldedContext !== 'string') return stored;
  const { foldedContext: key, ...rest } = s;
  return { ...rest, context: state, children: mapChildInputs(s.children, key, state) } as unknown as Snapshot<unknown>;
}
