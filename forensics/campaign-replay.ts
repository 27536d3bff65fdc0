import { SimulatedClock, createActor, fromCallback, type Snapshot } from 'xstate';
import type { EventEnvelope, StoredSnapshot } from '../eventstore/index.ts';
import type { CampaignFact } from '../machines/campaign.events.ts';
import { foldCampaign, type CampaignState } from '../machines/campaign.fold.ts';
import { campaignMachine, createdCampaignState, type CampaignEvent } from '../machines/campaign.machine.ts';
import type { UpgradeStatus } from '../machines/upgrade-job.fold.ts';

const replayMachine = campaignMachine.provide({ actors: { deadline: fromCallback<{ type: string }, { at: number }>(() => undefined) } });

/** JSON with sorted keys and without undefined, so that msgpack round trips compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (canonical(a) === canonical(b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) === !Array.isArray(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v)).slice(0, 120);
  return `${path || '(value)'}: ${show(a)} vs ${show(b)}`;
}

/**
 * The event a recorded campaign fact implies when the machine did not already emit it: an operator's
 * command, a job's end, or (for everything the campaign decides itself) the clock at the recorded time.
 */
export function campaignInputFor(f: EventEnvelope): CampaignEvent {
  const now = Date.parse(f.at);
  const d = (f.data ?? {}) as Record<string, unknown>;
  const by = String(d.by ?? 'operator');
  switch (f.type) {
    case 'campaign.started':
      return { type: 'start', now };
    case 'campaign.unit.ended':
      return { type: 'job.ended', unit: Number(d.unit), jobId: String(d.jobId), kind: d.kind === 'download-only' ? 'download-only' : 'upgrade', status: d.status as UpgradeStatus, message: String(d.message), now };
    case 'campaign.paused':
      return { type: 'pause', by, now };
    case 'campaign.resumed':
      return { type: 'resume', by, now };
    case 'campaign.approved':
      return { type: 'approve', by, now };
    case 'campaign.abort.requested':
      return { type: 'abort', by, now };
    default:
      return { type: 'tick', now };
  }
}

interface Stamped {
  type: string;
  data: unknown;
  at: string;
}

/**
 * Replay a `campaign:<id>` stream through the campaign machine: from its created state, the recorded
 * commands and job ends, and the clock at each recorded decision, it must emit exactly the recorded
 * facts; its final context must equal the fold and the stored snapshot.
 */
export function replayCampaignStream(events: readonly EventEnvelope[], stored: StoredSnapshot<unknown> | undefined): { ok: boolean; kind: 'campaign'; difference?: string; state?: CampaignState } {
  const kind = 'campaign' as const;
  const first = events[0];
  if (!first || first.type !== 'campaign.created') return { ok: false, kind, difference: `seq 1: expected campaign.created, found ${first?.type ?? 'nothing'}` };
  const clock = new SimulatedClock();
  clock.set(Date.parse(first.at));
  const actor = createActor(replayMachine, { input: { state: createdCampaignState(first as unknown as Extract<CampaignFact, { type: 'campaign.created' }>, first.at) }, clock });
  const emitted: Stamped[] = [];
  actor.on('facts', (e: { facts: Stamped[] }) => emitted.push(...e.facts));
  let failure: unknown;
  actor.subscribe({ error: (err: unknown) => (failure = err) });
  actor.start();
  const recorded = events.slice(1);
  let matched = 0;
  let consumed = 0;
  const where = (e: EventEnvelope): string => `seq ${e.seq} (${e.type} at ${e.at})`;
  try {
    for (;;) {
      while (consumed < emitted.length) {
        const mine = emitted[consumed]!;
        const theirs = recorded[matched];
        if (!theirs) return { ok: false, kind, difference: `the machine emits ${mine.type} at ${mine.at} after the last recorded fact (seq ${events.length})` };
        const want = { type: theirs.type, data: theirs.data, at: theirs.at };
        const got = { type: mine.type, data: mine.data, at: mine.at };
        if (canonical(want) !== canonical(got)) return { ok: false, kind, difference: `${where(theirs)}: recorded ${theirs.type}, the machine emits ${mine.type} — ${firstDifference(want, got)}` };
        consumed++;
        matched++;
      }
      if (matched >= recorded.length) break;
      const next = recorded[matched]!;
      if (actor.getSnapshot().status !== 'active') return { ok: false, kind, difference: `${where(next)}: the campaign already ended; nothing can follow` };
      const event = campaignInputFor(next);
      clock.set(event.now);
      const before = emitted.length;
      actor.send(event);
      if (failure) return { ok: false, kind, difference: `${where(next)}: the machine failed: ${String(failure)}` };
      if (emitted.length === before) return { ok: false, kind, difference: `${where(next)}: the machine (in ${JSON.stringify(actor.getSnapshot().value)}) does not produce it from ${event.type}` };
    }
    const snapshot = actor.getSnapshot();
    const folded = foldCampaign(events as unknown as Array<CampaignFact & { at: string }>);
    if (canonical(snapshot.context) !== canonical(folded)) return { ok: false, kind, difference: `final context differs from the fold of the stream: ${firstDifference(snapshot.context, folded)}` };
    if (stored) {
      const persisted = stored.state as Snapshot<unknown> & { context?: unknown; value?: unknown };
      if (stored.seq !== events.at(-1)!.seq) return { ok: false, kind, difference: `the stored snapshot follows seq ${stored.seq}, the stream ends at seq ${events.at(-1)!.seq}` };
      if (canonical(persisted.context) !== canonical(folded)) return { ok: false, kind, difference: `the stored snapshot's context differs from the fold: ${firstDifference(persisted.context, folded)}` };
      if (canonical(persisted.value) !== canonical(snapshot.value)) return { ok: false, kind, difference: `the stored snapshot is in ${JSON.stringify(persisted.value)}, the replay ends in ${JSON.stringify(snapshot.value)}` };
    }
    return { ok: true, kind, state: snapshot.context };
  } finally {
    actor.stop();
  }
}
