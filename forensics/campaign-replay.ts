import { SimulatedClock, createActor, fromCallback } from 'xstate';
import type { EventEnvelope, StoredSnapshot } from '../eventstore/index.ts';
import type { CampaignFact } from '../machines/campaign.events.ts';
import { foldCampaign, type CampaignState } from '../machines/campaign.fold.ts';
import { campaignMachine, createdCampaignState, type CampaignEvent } from '../machines/campaign.machine.ts';
import type { UpgradeStatus } from '../machines/upgrade-job.fold.ts';
import { replayThroughMachine } from './machine-replay.ts';

const replayMachine = campaignMachine.provide({ actors: { deadline: fromCallback<{ type: string }, { at: number }>(() => undefined) } });

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
  const verdict = replayThroughMachine(events, stored, {
    kind,
    actor,
    clock,
    inputFor: (f) => campaignInputFor(f),
    fold: () => foldCampaign(events as unknown as Array<CampaignFact & { at: string }>),
    ended: () => 'the campaign already ended',
    notProduced: (snap, event) => `the machine (in ${JSON.stringify(snap.value)}) does not produce it from ${event?.type ?? 'any event'}`,
  });
  return verdict.ok ? { ok: true, kind, state: verdict.state as CampaignState } : { ok: false, kind, difference: verdict.difference! };
}
