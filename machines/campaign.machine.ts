import { enqueueActions, setup } from 'xstate';
import { advance, nextWake } from './campaign.decide.ts';
import type { CampaignFact, CampaignJobKind } from './campaign.events.ts';
import { evolveCampaign, initialCampaignState, isCampaignTerminal, type CampaignState } from './campaign.fold.ts';
import { notProvidedCallback } from './effects.ts';
import type { UpgradeStatus } from './upgrade-job.fold.ts';

/** What the campaign machine is told: commands from operators, the end of its jobs, the clock. */
export type CampaignEvent =
  | { type: 'start'; now: number }
  | { type: 'job.ended'; unit: number; jobId: string; kind: CampaignJobKind; status: UpgradeStatus; message: string; now: number }
  | { type: 'pause'; by: string; now: number }
  | { type: 'resume'; by: string; now: number }
  | { type: 'approve'; by: string; now: number }
  | { type: 'abort'; by: string; now: number }
  /** Look at the clock again (after a restore, or from the deadline effect). */
  | { type: 'tick'; now: number }
  | { type: 'deadline.reached'; now: number };

export type StampedCampaignFact = CampaignFact & { at: string };
export type CampaignEmitted = { type: 'facts'; facts: StampedCampaignFact[] };

type Ctx = CampaignState;
type Ev = CampaignEvent;

/** The fact an event itself records (before the campaign decides what follows from it). */
function factOf(ctx: Ctx, ev: Ev): CampaignFact[] {
  switch (ev.type) {
    case 'start':
      return [{ type: 'campaign.started', data: {} }];
    case 'job.ended': {
      const unit = ctx.units.find((u) => u.id === ev.unit);
      // Only the job the unit is waiting for ends it (a late or repeated report changes nothing).
      const current = unit && (unit.status === 'running' || unit.status === 'staging') ? (unit.kind === 'download-only' ? unit.stageJobId : unit.jobId) : null;
      if (!unit || current !== ev.jobId) return [];
      return [{ type: 'campaign.unit.ended', data: { unit: ev.unit, wave: unit.wave, jobId: ev.jobId, kind: ev.kind, status: ev.status, message: ev.message } }];
    }
    case 'pause':
      return ctx.paused ? [] : [{ type: 'campaign.paused', data: { by: ev.by } }];
    case 'resume':
      return ctx.paused ? [{ type: 'campaign.resumed', data: { by: ev.by } }] : [];
    case 'approve': {
      const wave = ctx.waves[ctx.wave];
      return wave && wave.status === 'awaiting-approval' && wave.approvedBy === null ? [{ type: 'campaign.approved', data: { wave: ctx.wave, by: ev.by } }] : [];
    }
    case 'abort':
      return ctx.abortRequested ? [] : [{ type: 'campaign.abort.requested', data: { by: ev.by } }];
    case 'tick':
    case 'deadline.reached':
      return [];
  }
}

/** Record what the event says, then everything the campaign decides from it, as one batch of facts. */
const recordAndAdvance = enqueueActions<Ctx, Ev, undefined, Ev, never, never, never, never, CampaignEmitted>(({ context, event, enqueue }) => {
  const at = new Date(event.now).toISOString();
  let state = context;
  const own = factOf(context, event).map((f) => ({ ...f, at }) as StampedCampaignFact);
  for (const f of own) state = evolveCampaign(state, f);
  const next = advance(state, event.now);
  const facts = [...own, ...next.facts.map((f) => ({ ...f, at }) as StampedCampaignFact)];
  if (facts.length === 0) return;
  enqueue.assign(() => next.state);
  enqueue.emit({ type: 'facts', facts });
});

const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * A campaign: waves of upgrade jobs over a fleet, behind gates, inside maintenance windows, within a
 * failure budget. The decisions are `decide` (campaign.decide.ts), pure over the fold of the
 * campaign's facts; this machine records them and keeps one deadline armed for the next instant the
 * clock matters (a soak's end, a window's opening), computed from recorded facts, so a restored
 * campaign waits exactly as long as the original would have.
 *
 * @remarks
 * The machine never creates jobs: `campaign.unit.started` is the intent, and the host (the campaign
 * runner) creates the job under the id recorded there, exactly once, and reports its end with `job.ended`.
 */
export const campaignMachine = setup({
  types: {} as { context: CampaignState; events: CampaignEvent; input: { state: CampaignState }; emitted: CampaignEmitted },
  actors: {
    deadline: notProvidedCallback<{ at: number }>('deadline'),
  },
  actions: { recordAndAdvance },
  guards: {
    ended: ({ context }) => isCampaignTerminal(context),
    isPending: ({ context }) => context.status === 'pending',
  },
}).createMachine({
  id: 'campaign',
  context: ({ input }) => input.state,
  initial: 'restoring',
  states: {
    restoring: {
      always: [{ guard: 'ended', target: 'ended' }, { guard: 'isPending', target: 'pending' }, { target: 'active' }],
    },
    pending: {
      on: {
        start: { target: 'active', actions: 'recordAndAdvance' },
        abort: { target: 'active', actions: 'recordAndAdvance' },
      },
    },
    active: {
      always: { guard: 'ended', target: 'ended' },
      invoke: { src: 'deadline', input: ({ context }) => ({ at: nextWake(context) ?? NEVER }) },
      on: {
        'job.ended': { target: 'active', reenter: true, actions: 'recordAndAdvance' },
        pause: { target: 'active', reenter: true, actions: 'recordAndAdvance' },
        resume: { target: 'active', reenter: true, actions: 'recordAndAdvance' },
        approve: { target: 'active', reenter: true, actions: 'recordAndAdvance' },
        abort: { target: 'active', reenter: true, actions: 'recordAndAdvance' },
        tick: { target: 'active', reenter: true, actions: 'recordAndAdvance' },
        'deadline.reached': { target: 'active', reenter: true, actions: 'recordAndAdvance' },
      },
    },
    ended: { type: 'final' },
  },
});

export type CampaignMachine = typeof campaignMachine;

export function createdCampaignState(created: Extract<CampaignFact, { type: 'campaign.created' }>, at: string): CampaignState {
  return evolveCampaign(initialCampaignState(), { ...created, at });
}
