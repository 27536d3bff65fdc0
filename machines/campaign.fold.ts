import type { CampaignFact, CampaignJobKind, CampaignSpec } from './campaign.events.ts';
import type { UpgradeStatus } from './upgrade-job.fold.ts';

export type CampaignStatus = 'pending' | 'running' | 'paused' | 'halting' | 'aborting' | 'completed' | 'halted' | 'aborted';

export const CAMPAIGN_TERMINAL: ReadonlySet<CampaignStatus> = new Set(['completed', 'halted', 'aborted']);

/** Where one unit stands: waiting, pre-staging images, staged, upgrading, or ended. */
export type UnitStatus = 'waiting' | 'staging' | 'staged' | 'running' | 'complete' | 'failed' | 'cancelled';

export interface UnitState {
  id: number;
  wave: number;
  status: UnitStatus;
  jobId: string | null;
  stageJobId: string | null;
  /** Which job is in flight (while staging or running). */
  kind: CampaignJobKind | null;
  message: string;
  startedAt: number | null;
  endedAt: number | null;
}

export type WaveStatus = 'waiting' | 'running' | 'soaking' | 'awaiting-approval' | 'passed' | 'stopped';

export interface WaveState {
  index: number;
  status: WaveStatus;
  startedAt: number | null;
  endedAt: number | null;
  soakUntil: number | null;
  approvalRequested: boolean;
  approvedBy: string | null;
}

/** Everything known about a campaign: the fold of its stream, and the campaign machine's context. */
export interface CampaignState {
  spec: CampaignSpec;
  status: CampaignStatus;
  /** The wave being worked on (-1 before the first). */
  wave: number;
  waves: WaveState[];
  units: UnitState[];
  paused: boolean;
  abortRequested: boolean;
  /** Why the campaign halts (the budget that was exceeded). */
  haltReason: string | null;
  /** The window opening the campaign last said it waits for (ms, campaign time). */
  windowWait: { wave: number; opensAt: number | null; reason: string } | null;
  message: string;
  /** Wall time of `campaign.created`: the origin of campaign time. */
  origin: number;
  createdAt: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  finishedAt: string | null;
}

export function emptySpec(): CampaignSpec {
  return {
    campaignId: '',
    name: '',
    targetVersion: null,
    units: [],
    waves: [],
    windows: [],
    budget: { wave: { count: null, percent: null }, overall: { count: null, percent: null } },
    prestage: false,
    timeScale: 1,
    selection: '',
    excluded: [],
  };
}

export function initialCampaignState(): CampaignState {
  return {
    spec: emptySpec(),
    status: 'pending',
    wave: -1,
    waves: [],
    units: [],
    paused: false,
    abortRequested: false,
    haltReason: null,
    windowWait: null,
    message: 'Created',
    origin: 0,
    createdAt: null,
    startedAt: null,
    updatedAt: null,
    finishedAt: null,
  };
}

export function isCampaignTerminal(s: CampaignState): boolean {
  return CAMPAIGN_TERMINAL.has(s.status);
}

const ENDED: ReadonlySet<UnitStatus> = new Set(['complete', 'failed', 'cancelled']);

export function unitEnded(u: UnitState): boolean {
  return ENDED.has(u.status);
}

export function unitInFlight(u: UnitState): boolean {
  return u.status === 'staging' || u.status === 'running';
}

/** How a job's terminal status counts for its unit. */
export function unitOutcome(kind: CampaignJobKind, status: UpgradeStatus): UnitStatus {
  if (status === 'failed') return 'failed';
  if (status === 'cancelled') return 'cancelled';
  if (kind === 'download-only') return 'staged';
  return 'complete';
}

function patchUnit(s: CampaignState, id: number, patch: Partial<UnitState>): UnitState[] {
  return s.units.map((u) => (u.id === id ? { ...u, ...patch } : u));
}

function patchWave(s: CampaignState, index: number, patch: Partial<WaveState>): WaveState[] {
  return s.waves.map((w) => (w.index === index ? { ...w, ...patch } : w));
}

function running(s: CampaignState): CampaignStatus {
  if (s.abortRequested) return 'aborting';
  if (s.haltReason) return 'halting';
  return s.paused ? 'paused' : 'running';
}

export function evolveCampaign(state: CampaignState, fact: CampaignFact & { at?: string }): CampaignState {
  const at = fact.at ? Date.parse(fact.at) : null;
  const s: CampaignState = { ...state, updatedAt: fact.at ?? state.updatedAt };
  switch (fact.type) {
    case 'campaign.created': {
      const spec = fact.data.spec;
      const waveOf = new Map<number, number>();
      for (const w of spec.waves) for (const u of w.units) waveOf.set(u, w.index);
      return {
        ...s,
        spec,
        origin: at ?? 0,
        createdAt: fact.at ?? null,
        waves: spec.waves.map((w) => ({ index: w.index, status: 'waiting', startedAt: null, endedAt: null, soakUntil: null, approvalRequested: false, approvedBy: null })),
        units: spec.units.map((u) => ({ id: u.id, wave: waveOf.get(u.id) ?? -1, status: 'waiting', jobId: null, stageJobId: null, kind: null, message: 'Waiting for its wave', startedAt: null, endedAt: null })),
        message: `Created: ${spec.units.length} unit(s) in ${spec.waves.length} wave(s)`,
      };
    }
    case 'campaign.started':
      return { ...s, status: running(s), startedAt: fact.at ?? null, message: 'Started' };
    case 'campaign.wave.started':
      return { ...s, wave: fact.data.wave, waves: patchWave(s, fact.data.wave, { status: 'running', startedAt: at }), windowWait: null, message: `Wave ${fact.data.wave + 1} started` };
    case 'campaign.unit.started': {
      const { unit, jobId, kind } = fact.data;
      const patch: Partial<UnitState> =
        kind === 'download-only'
          ? { status: 'staging', stageJobId: jobId, kind, message: 'Pre-staging images', startedAt: at }
          : { status: 'running', jobId, kind, message: 'Upgrading', startedAt: at };
      // The window it waited for is open: the header no longer says it waits.
      return { ...s, units: patchUnit(s, unit, patch), windowWait: null, ...(s.windowWait && s.message === s.windowWait.reason ? { message: `Wave ${fact.data.wave + 1} running` } : {}) };
    }
    case 'campaign.unit.ended': {
      const { unit, kind, status, message } = fact.data;
      const outcome = unitOutcome(kind, status);
      return { ...s, units: patchUnit(s, unit, { status: outcome, kind: null, message, endedAt: outcome === 'staged' ? null : at }) };
    }
    case 'campaign.window.waiting':
      return { ...s, windowWait: { ...fact.data }, message: fact.data.reason };
    case 'campaign.wave.ended': {
      const { wave, completed, failed, cancelled } = fact.data;
      return { ...s, waves: patchWave(s, wave, { status: 'soaking', endedAt: at }), message: `Wave ${wave + 1} ended: ${completed} complete, ${failed} failed${cancelled ? `, ${cancelled} cancelled` : ''}` };
    }
    case 'campaign.soak.started':
      return { ...s, waves: patchWave(s, fact.data.wave, { status: 'soaking', soakUntil: fact.data.until }), message: `Soaking after wave ${fact.data.wave + 1}` };
    case 'campaign.approval.requested':
      return {
        ...s,
        waves: patchWave(s, fact.data.wave, { status: 'awaiting-approval', approvalRequested: true }),
        message: `Wave ${fact.data.wave + 1} done; waiting for approval: panos-upgrade campaign approve ${s.spec.campaignId}`,
      };
    case 'campaign.approved':
      return { ...s, waves: patchWave(s, fact.data.wave, { approvedBy: fact.data.by }), message: `Approved by ${fact.data.by}` };
    case 'campaign.gate.passed':
      return { ...s, waves: patchWave(s, fact.data.wave, { status: 'passed' }), message: `Gate after wave ${fact.data.wave + 1} passed` };
    case 'campaign.paused':
      return { ...s, paused: true, status: running({ ...s, paused: true }), message: `Paused by ${fact.data.by}: running jobs finish, nothing new starts` };
    case 'campaign.resumed':
      return { ...s, paused: false, status: running({ ...s, paused: false }), message: `Resumed by ${fact.data.by}` };
    case 'campaign.budget.exceeded':
      return { ...s, haltReason: fact.data.reason, status: running({ ...s, haltReason: fact.data.reason }), message: `Halting: ${fact.data.reason}` };
    case 'campaign.abort.requested':
      return { ...s, abortRequested: true, status: 'aborting', message: `Aborting (by ${fact.data.by}): queued jobs cancelled, running ones stop after their current step` };
    case 'campaign.completed':
      return { ...s, status: 'completed', message: fact.data.message, finishedAt: fact.at ?? null };
    case 'campaign.halted':
      return { ...s, status: 'halted', message: fact.data.reason, finishedAt: fact.at ?? null, waves: s.waves.map((w) => (w.status === 'passed' ? w : { ...w, status: w.status === 'waiting' ? 'waiting' : 'stopped' })) };
    case 'campaign.aborted':
      return { ...s, status: 'aborted', message: fact.data.reason, finishedAt: fact.at ?? null, waves: s.waves.map((w) => (w.status === 'passed' ? w : { ...w, status: w.status === 'waiting' ? 'waiting' : 'stopped' })) };
    default: {
      const unreachable: never = fact;
      return unreachable;
    }
  }
}

export const campaignFold = { initialState: initialCampaignState, evolve: evolveCampaign };

export function foldCampaign(facts: ReadonlyArray<CampaignFact & { at?: string }>, from: CampaignState = initialCampaignState()): CampaignState {
  return facts.reduce(evolveCampaign, from);
}

/**
 * Devices other campaigns still count on, with why: the units not yet ended of a campaign that has not
 * ended (only those in flight when it halts or is aborted, as its waiting units never start).
 */
export function claimedDevices(states: Iterable<CampaignState>): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of states) {
    if (isCampaignTerminal(s)) continue;
    const stopping = s.abortRequested || s.haltReason !== null;
    const spec = new Map(s.spec.units.map((u) => [u.id, u]));
    for (const u of s.units) {
      if (unitEnded(u) || (stopping && !unitInFlight(u))) continue;
      for (const serial of spec.get(u.id)?.serials ?? []) {
        if (!out.has(serial)) out.set(serial, `is a unit of campaign ${s.spec.campaignId} (${s.status}, wave ${u.wave + 1}, ${u.status})`);
      }
    }
  }
  return out;
}
