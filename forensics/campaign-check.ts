import type { EventEnvelope } from '../eventstore/index.ts';
import { campaignTime, windowsOf, zoneOf } from '../machines/campaign.decide.ts';
import type { CampaignFact } from '../machines/campaign.events.ts';
import { foldCampaign, type CampaignState } from '../machines/campaign.fold.ts';
import { formatInZone, windowStatus } from '../machines/campaign.windows.ts';

/** The outcome of one invariant, in the shape of chaos's own (actors/chaos-check.ts). */
export interface CampaignInvariant {
  name: string;
  ok: boolean;
  detail: string;
  violations: string[];
}

function byCampaign(events: readonly EventEnvelope[]): Map<string, EventEnvelope[]> {
  const out = new Map<string, EventEnvelope[]>();
  for (const e of events) if (e.stream.startsWith('campaign:')) out.set(e.stream, [...(out.get(e.stream) ?? []), e]);
  return out;
}

type DataOf<T extends CampaignFact['type']> = Extract<CampaignFact, { type: T }>['data'];

function dataOf<T extends CampaignFact['type']>(e: EventEnvelope, _type: T): DataOf<T> {
  return e.data as never;
}

/**
 * What every campaign in a daemon's log must show, whatever crashed and restarted around it: waves
 * in order and each started once; each unit's job made once and only after the campaign recorded its
 * intent; nothing started past the failure budget; no install or restart outside a maintenance window.
 */
export function checkCampaignInvariants(daemonEvents: readonly EventEnvelope[]): CampaignInvariant[] {
  const campaigns = byCampaign(daemonEvents);
  const jobSubmitted = new Map<string, EventEnvelope[]>();
  const jobStreams = new Map<string, EventEnvelope[]>();
  for (const e of daemonEvents) {
    if (!e.stream.startsWith('job:')) continue;
    const id = e.stream.slice(4);
    jobStreams.set(id, [...(jobStreams.get(id) ?? []), e]);
    if (e.type === 'job.submitted' || e.type === 'job.ha.submitted') jobSubmitted.set(id, [...(jobSubmitted.get(id) ?? []), e]);
  }
  const order: string[] = [];
  const once: string[] = [];
  const budget: string[] = [];
  const windows: string[] = [];
  let units = 0;
  let installs = 0;
  for (const [stream, events] of campaigns) {
    const id = stream.slice('campaign:'.length);
    const state: CampaignState = foldCampaign(events as unknown as Array<CampaignFact & { at: string }>);
    const spec = state.spec;
    // Waves in order, each once; a unit starts only in the wave running, after the gate before it.
    const started = new Set<number>();
    let current = -1;
    const ended = new Map<number, number>();
    const waveOf = new Map<number, number>();
    for (const w of spec.waves) for (const u of w.units) waveOf.set(u, w.index);
    const gatePassed = new Set<number>();
    let exceededAt: number | null = null;
    for (const e of events) {
      switch (e.type) {
        case 'campaign.wave.started': {
          const w = dataOf(e, 'campaign.wave.started').wave;
          if (started.has(w)) once.push(`${id}: wave ${w + 1} started twice (seq ${e.seq})`);
          if (w !== current + 1) order.push(`${id}: wave ${w + 1} started after wave ${current + 1} (seq ${e.seq})`);
          if (w > 0 && !gatePassed.has(w - 1)) order.push(`${id}: wave ${w + 1} started before the gate after wave ${w} passed (seq ${e.seq})`);
          started.add(w);
          current = w;
          break;
        }
        case 'campaign.gate.passed': {
          const w = dataOf(e, 'campaign.gate.passed').wave;
          const members = spec.waves[w]?.units ?? [];
          const open = members.filter((u) => !ended.has(u));
          if (open.length) order.push(`${id}: the gate after wave ${w + 1} passed with ${open.length} unit(s) not ended (seq ${e.seq})`);
          gatePassed.add(w);
          break;
        }
        case 'campaign.unit.started': {
          const d = dataOf(e, 'campaign.unit.started');
          units++;
          if (waveOf.get(d.unit) !== current) order.push(`${id}: unit ${d.unit} of wave ${(waveOf.get(d.unit) ?? -1) + 1} started while wave ${current + 1} ran (seq ${e.seq})`);
          if (exceededAt !== null) budget.push(`${id}: unit ${d.unit} started after the failure budget was exceeded (seq ${e.seq}, budget at seq ${exceededAt})`);
          if (d.kind === 'upgrade') {
            const at = Date.parse(e.at);
            const ct = campaignTime(state, at);
            const ws = windowStatus(windowsOf(spec), ct);
            const expected = spec.units.find((u) => u.id === d.unit)?.expectedMs ?? 0;
            if (!ws.open) windows.push(`${id}: unit ${d.unit} started at ${formatInZone(ct, zoneOf(spec))} (campaign time), outside every window (seq ${e.seq})`);
            else if (ws.closesAt !== null && ct + expected > ws.closesAt) windows.push(`${id}: unit ${d.unit} started although it would not finish before the window closes (seq ${e.seq})`);
          }
          // The job behind the intent: made once, and only after the intent was recorded.
          const subs = jobSubmitted.get(d.jobId) ?? [];
          if (subs.length > 1) once.push(`${id}: job ${d.jobId} of unit ${d.unit} submitted ${subs.length} times`);
          if (subs[0] && subs[0].gseq < e.gseq) once.push(`${id}: job ${d.jobId} exists before the campaign recorded its start (gseq ${subs[0].gseq} < ${e.gseq})`);
          // Installs and restarts of this job start inside a window.
          if (d.kind === 'upgrade' && spec.windows.length > 0) {
            const own = jobStreams.get(d.jobId) ?? [];
            // An HA pair job's installs are in its children's streams.
            const children = own.filter((j) => j.type === 'job.ha.child.created').flatMap((j) => jobStreams.get((j.data as { jobId: string }).jobId) ?? []);
            for (const j of [...own, ...children]) {
              if (j.type !== 'job.install.requested' && j.type !== 'job.reboot.requested') continue;
              installs++;
              const ct = campaignTime(state, Date.parse(j.at));
              if (!windowStatus(windowsOf(spec), ct).open) windows.push(`${id}: ${j.type} of job ${d.jobId} at ${formatInZone(ct, zoneOf(spec))} (campaign time) is outside every window`);
            }
          }
          break;
        }
        case 'campaign.unit.ended': {
          const d = dataOf(e, 'campaign.unit.ended');
          if (d.kind === 'upgrade' || d.status === 'failed' || d.status === 'cancelled') ended.set(d.unit, e.seq);
          break;
        }
        case 'campaign.budget.exceeded':
          exceededAt ??= e.seq;
          break;
        default:
          break;
      }
    }
    // The budget: a campaign that ended with more failures than allowed must have halted.
    const failed = state.units.filter((u) => u.status === 'failed').length;
    const { count, percent } = spec.budget.overall;
    const over = (count !== null && failed > count) || (percent !== null && spec.units.length > 0 && (failed * 100) / spec.units.length > percent);
    if (over && state.status === 'completed') budget.push(`${id}: completed with ${failed} failed unit(s) past its budget`);
  }
  const n = campaigns.size;
  return [
    { name: 'campaign waves in order', ok: order.length === 0, detail: `${n} campaign(s), ${units} unit start(s): each wave after the gate of the one before`, violations: order },
    { name: 'campaign steps once', ok: once.length === 0, detail: 'no wave started twice; each unit job submitted once, after its recorded intent', violations: once },
    { name: 'campaign failure budget', ok: budget.length === 0, detail: 'nothing started once the budget was exceeded', violations: budget },
    { name: 'campaign maintenance windows', ok: windows.length === 0, detail: `every upgrade started, and ${installs} install/restart request(s) made, inside a window`, violations: windows },
  ];
}
