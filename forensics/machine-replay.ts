import type { AnyActorRef, SimulatedClock, Snapshot } from 'xstate';
import type { EventEnvelope, StoredSnapshot } from '../eventstore/index.ts';

/** JSON with sorted keys and without undefined, so that msgpack round trips compare equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** Keys whose string values are wording for people (a cancel's reason, a job's message), not behaviour. */
const WORDING_KEYS = new Set(['message', 'reason', 'upgrade_message', 'haltReason']);

/**
 * `value` without its wording: a log recorded by an earlier version, whose messages were phrased
 * otherwise, verifies against today's machines as long as everything else agrees.
 */
export function withoutWording(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutWording);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (!(WORDING_KEYS.has(k) && typeof v === 'string')) out[k] = withoutWording(v);
  return out;
}

/** The path and the two values of the first place where `a` and `b` differ, or '' when they are equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (canonical(a) === canonical(b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) === !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const diff = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (diff) return diff;
    }
  }
  const show = (v: unknown): string => {
    const one = (v === undefined ? 'nothing' : JSON.stringify(v)).replace(/\s+/g, ' ').trim();
    return one.length > 120 ? `${one.slice(0, 117)}...` : one;
  };
  return `${path || '(value)'}: ${show(a)} vs ${show(b)}`;
}

interface Stamped {
  type: string;
  data: unknown;
  at: string;
}

/** A machine's snapshot as the replay reads it. */
export interface ReplaySnapshot {
  status: string;
  value: unknown;
  context: unknown;
}

/** What differs between the replays of jobs, pairs and campaigns: the machine, the inputs, the fold, the words. */
export interface MachineReplaySpec<K extends string, E extends { type: string; now: number }> {
  kind: K;
  /** The machine's actor, not yet started, created with `clock`. It emits `{ type: 'facts', facts }`. */
  actor: AnyActorRef;
  clock: SimulatedClock;
  /** Why a recorded fact contradicts the machine's state where it stands (a hop or version it is not on), or undefined. */
  contradicts?(fact: EventEnvelope, snap: ReplaySnapshot): string | undefined;
  /** The event a recorded fact implies when the machine did not emit it itself, or undefined when none does. */
  inputFor(fact: EventEnvelope, snap: ReplaySnapshot): E | undefined;
  /** The fold of the whole stream, which the final context must equal. */
  fold(): unknown;
  /** Why nothing can follow once the machine has ended ("the job already ended (…)"). */
  ended(snap: ReplaySnapshot): string;
  /** Why a fact was not produced after its implied event was sent. */
  notProduced(snap: ReplaySnapshot, event: E | undefined): string;
  /** A context stored whole by an earlier version, as today's fold keeps it (default: as it is). */
  storedContext?(context: unknown): unknown;
}

/**
 * Drive a machine from its first fact's state with a simulated clock: feed it the events the recorded facts
 * imply and check that it emits exactly the recorded facts (type, data, at; the wording of messages aside), that its final context equals
 * the fold of the stream, and that the stored snapshot (when given) follows the last fact with that context
 * and state. Shared by job, pair and campaign replay.
 */
export function replayThroughMachine<K extends string, E extends { type: string; now: number }>(
  events: readonly EventEnvelope[],
  stored: StoredSnapshot<unknown> | undefined,
  spec: MachineReplaySpec<K, E>,
): { ok: boolean; kind: K; difference?: string; state?: unknown } {
  const { kind, actor, clock } = spec;
  const emitted: Stamped[] = [];
  actor.on('facts', (e: { facts: Stamped[] }) => emitted.push(...e.facts));
  let failure: unknown;
  actor.subscribe({ error: (err: unknown) => (failure = err) });
  actor.start();
  const snapshotOf = (): ReplaySnapshot => actor.getSnapshot() as unknown as ReplaySnapshot;
  const recorded = events.slice(1);
  let matched = 0;
  let consumed = 0;
  const where = (e: EventEnvelope): string => `seq ${e.seq} (${e.type} at ${e.at})`;
  const fail = (difference: string) => ({ ok: false, kind, difference });
  try {
    for (;;) {
      while (consumed < emitted.length) {
        const mine = emitted[consumed]!;
        const theirs = recorded[matched];
        if (!theirs) return fail(`the machine emits ${mine.type} at ${mine.at} after the last recorded fact (seq ${events.length})`);
        const want = withoutWording({ type: theirs.type, data: theirs.data, at: theirs.at });
        const got = withoutWording({ type: mine.type, data: mine.data, at: mine.at });
        if (canonical(want) !== canonical(got)) return fail(`${where(theirs)}: recorded ${theirs.type}, the machine emits ${mine.type} — ${firstDifference(want, got)}`);
        consumed++;
        matched++;
      }
      if (matched >= recorded.length) break;
      const next = recorded[matched]!;
      const snap = snapshotOf();
      if (snap.status !== 'active') return fail(`${where(next)}: ${spec.ended(snap)}; nothing can follow`);
      const contradiction = spec.contradicts?.(next, snap);
      if (contradiction) return fail(`${where(next)}: ${contradiction}`);
      const event = spec.inputFor(next, snap);
      if (!event) return fail(`${where(next)}: ${spec.notProduced(snap, undefined)}`);
      // The simulated clock only goes forward: a recorded time that steps back (the host's clock set back,
      // an NTP step) leaves it where it was; the event still carries its own recorded time.
      if (event.now > clock.now()) clock.set(event.now);
      const before = emitted.length;
      try {
        actor.send(event);
      } catch (err) {
        return fail(`${where(next)}: the machine failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (failure) return fail(`${where(next)}: the machine failed: ${String(failure)}`);
      if (emitted.length === before) return fail(`${where(next)}: ${spec.notProduced(snap, event)}`);
    }
    const snapshot = snapshotOf();
    const folded = spec.fold();
    if (canonical(withoutWording(snapshot.context)) !== canonical(withoutWording(folded))) {
      return fail(`final context differs from the fold of the stream: ${firstDifference(withoutWording(snapshot.context), withoutWording(folded))}`);
    }
    if (stored) {
      const persisted = stored.state as Snapshot<unknown> & { context?: unknown; value?: unknown; foldedContext?: string };
      if (stored.seq !== events.at(-1)!.seq) return fail(`the stored snapshot follows seq ${stored.seq}, the stream ends at seq ${events.at(-1)!.seq}`);
      // A snapshot stored without its context (actors/job-runner.ts, foldedContextKey) is restored with the fold itself.
      const storedContext = persisted.foldedContext === undefined && spec.storedContext ? spec.storedContext(persisted.context) : persisted.context;
      // A snapshot an earlier daemon stored lacks the fields added since (stepStartedAt, upgraded, an in-flight request's requestedAt): compared on the fields it has, at every depth.
      const comparable = withoutWording(onShapeOf(folded, storedContext));
      const storedShape = withoutWording(storedContext);
      if (persisted.foldedContext === undefined && canonical(storedShape) !== canonical(comparable)) return fail(`the stored snapshot's context differs from the fold: ${firstDifference(storedShape, comparable)}`);
      if (canonical(persisted.value) !== canonical(snapshot.value)) return fail(`the stored snapshot is in ${JSON.stringify(persisted.value)}, the replay ends in ${JSON.stringify(snapshot.value)}`);
    }
    return { ok: true, kind, state: snapshot.context };
  } finally {
    actor.stop();
  }
}

/** `value` cut to the fields `shape` has (in its order), at every depth: objects by key, arrays element by element. */
function onShapeOf(value: unknown, shape: unknown): unknown {
  if (Array.isArray(value) && Array.isArray(shape)) return value.map((v, i) => (i < shape.length ? onShapeOf(v, shape[i]) : v));
  if (!isPlainObject(value) || !isPlainObject(shape)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(shape)) if (k in value) out[k] = onShapeOf(value[k], shape[k]);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
