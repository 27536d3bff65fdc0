import { createActor, SimulatedClock, type Actor } from 'xstate';
import { campaignMachine, createdCampaignState, type CampaignEvent, type StampedCampaignFact } from '../../machines/campaign.machine.ts';
import type { CampaignState } from '../../machines/campaign.fold.ts';
import { planCampaign, type PlannerDevice, type PlanInput } from '../../machines/campaign.plan.ts';
import { deadlineEffect } from '../../machines/effects.ts';
import type { CampaignFact } from '../../machines/campaign.events.ts';

// Friday 2026-12-04 12:00 UTC.
export const T0 = Date.parse('2026-12-04T12:00:00Z');
export const MIN = 60_000;

function devices(n: number): PlannerDevice[] {
  return Array.from({ length: n }, (_, i) => ({ serial: `S${i}`, hostname: `fw-b${i}-01`, model: 'PA-440', swVersion: '10.1.3', haPeer: null, connected: true }));
}

/** A campaign actor on a simulated clock, and the jobs it asked for. */
export function harness(change: Partial<PlanInput> = {}, n = 6, restore?: { state: CampaignState; snapshot: unknown; clock: SimulatedClock; facts: StampedCampaignFact[] }) {
  const clock = restore?.clock ?? new SimulatedClock();
  if (!restore) clock.set(T0);
  const spec = planCampaign({
    campaignId: 'c1',
    devices: devices(n),
    selection: { all: true },
    targetVersion: '11.1.2',
    waves: 'canary:2,rest',
    concurrency: 2,
    timings: { downloadMs: 10 * MIN, installMs: 10 * MIN, rebootMs: 10 * MIN },
    ...change,
  });
  const created: Extract<CampaignFact, { type: 'campaign.created' }> = { type: 'campaign.created', data: { spec } };
  const facts: StampedCampaignFact[] = restore?.facts ?? [{ ...created, at: new Date(T0).toISOString() }];
  const state = restore?.state ?? createdCampaignState(created, new Date(T0).toISOString());
  const machine = campaignMachine.provide({ actors: { deadline: deadlineEffect(clock) } });
  const actor: Actor<typeof machine> = createActor(machine, { input: { state }, clock, ...(restore ? { snapshot: restore.snapshot as never } : {}) });
  actor.on('facts', (e) => facts.push(...e.facts));
  actor.start();
  let maxInFlight = 0;
  const inFlight = (): Array<{ unit: number; jobId: string; kind: 'upgrade' | 'download-only' }> => {
    const open = new Map<string, { unit: number; jobId: string; kind: 'upgrade' | 'download-only' }>();
    for (const f of facts) {
      if (f.type === 'campaign.unit.started') open.set(f.data.jobId, f.data);
      if (f.type === 'campaign.unit.ended') open.delete(f.data.jobId);
    }
    return [...open.values()];
  };
  const send = (ev: CampaignEvent): void => {
    actor.send(ev);
    maxInFlight = Math.max(maxInFlight, inFlight().length);
  };
  /** End every job in flight with a status, `ms` of campaign time later. */
  const finishAll = (status: 'complete' | 'failed' | 'download_complete' = 'complete', ms = 0): void => {
    clock.increment(ms);
    for (const j of inFlight()) send({ type: 'job.ended', unit: j.unit, jobId: j.jobId, kind: j.kind, status: j.kind === 'download-only' && status === 'complete' ? 'download_complete' : status, message: status, now: clock.now() });
  };
  const types = (): string[] => facts.map((f) => f.type);
  const ctx = (): CampaignState => actor.getSnapshot().context;
  return { actor, clock, facts, send, finishAll, inFlight, types, ctx, maxInFlight: () => maxInFlight, spec };
}

