import { describeBudget, forecast, nextWake, waitingFor } from './campaign.decide.ts';
import type { FailureBudget } from './campaign.events.ts';
import { isCampaignTerminal, unitInFlight, type CampaignState, type CampaignStatus, type UnitStatus, type WaveStatus } from './campaign.fold.ts';

export interface CampaignWaveRecord {
  wave: number;
  name: string;
  status: WaveStatus;
  units: number;
  devices: number;
  concurrency: number;
  soak_ms: number;
  approval: boolean;
  complete: number;
  failed: number;
  cancelled: number;
  running: number;
  waiting: number;
  started_at: string | null;
  ended_at: string | null;
  soak_until: string | null;
  approved_by: string | null;
  /** Estimated start and end (wall time), for waves not yet ended. */
  eta_start: string | null;
  eta_end: string | null;
  members?: Array<{ unit: number; hostnames: string[]; serials: string[]; ha: boolean; group: string | null; expected_ms: number; status: UnitStatus; job_id: string | null; stage_job_id: string | null; message: string }>;
}

/** A campaign as `campaign status`, `campaign list` and the NATS API show it. */
export interface CampaignRecord {
  campaign_id: string;
  name: string;
  status: CampaignStatus;
  message: string;
  target_version: string | null;
  selection: string;
  windows: string[];
  time_scale: number;
  prestage: boolean;
  budget: { wave: FailureBudget; overall: FailureBudget; wave_text: string; overall_text: string };
  wave: number;
  waiting_for: string;
  next_wake: string | null;
  /** Estimated end (wall time); null when unknown (no window fits) or ended. */
  eta: string | null;
  approvals_assumed: number;
  totals: { units: number; devices: number; complete: number; failed: number; cancelled: number; running: number; waiting: number };
  waves: CampaignWaveRecord[];
  excluded: Array<{ serial: string; hostname: string; reason: string }>;
  created_at: string | null;
  started_at: string | null;
  updated_at: string | null;
  finished_at: string | null;
}

/** The latest instant a Date holds (±8.64e15 ms around 1970). */
const MAX_DATE_MS = 8.64e15;

/**
 * An instant as ISO text; null when there is none, or when it lies beyond what a Date holds (a campaign
 * recorded before durations were bounded may carry such a soak: it still lists).
 */
export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS ? null : new Date(ms).toISOString();

/** `campaign list`: the campaigns as records, oldest first; with `active`, those not yet ended (completed, halted, aborted). */
export function campaignList(states: Iterable<CampaignState>, now: number, active: boolean): CampaignRecord[] {
  return [...states]
    .filter((s) => !active || !isCampaignTerminal(s))
    .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''))
    .map((s) => toCampaignRecord(s, now));
}

export function toCampaignRecord(s: CampaignState, now: number, options: { members?: boolean } = {}): CampaignRecord {
  const fc = forecast(s, now);
  const specUnits = new Map(s.spec.units.map((u) => [u.id, u]));
  const byId = new Map(s.units.map((u) => [u.id, u]));
  const count = (ids: readonly number[]) => {
    const c = { complete: 0, failed: 0, cancelled: 0, running: 0, waiting: 0, devices: 0 };
    for (const id of ids) {
      const u = byId.get(id);
      c.devices += specUnits.get(id)?.serials.length ?? 0;
      if (!u) continue;
      if (u.status === 'complete') c.complete++;
      else if (u.status === 'failed') c.failed++;
      else if (u.status === 'cancelled') c.cancelled++;
      else if (unitInFlight(u)) c.running++;
      else c.waiting++;
    }
    return c;
  };
  const ended = s.status === 'completed' || s.status === 'halted' || s.status === 'aborted';
  const waves: CampaignWaveRecord[] = s.spec.waves.map((w) => {
    const st = s.waves[w.index]!;
    const c = count(w.units);
    const f = fc.waves.find((x) => x.index === w.index);
    return {
      wave: w.index + 1,
      name: w.name,
      status: st.status,
      units: w.units.length,
      devices: c.devices,
      concurrency: w.concurrency,
      soak_ms: w.soakMs,
      approval: w.approval,
      complete: c.complete,
      failed: c.failed,
      cancelled: c.cancelled,
      running: c.running,
      waiting: c.waiting,
      started_at: iso(st.startedAt),
      ended_at: st.status === 'running' ? null : iso(st.endedAt),
      soak_until: iso(st.soakUntil),
      approved_by: st.approvedBy,
      eta_start: ended ? null : iso(f?.start),
      eta_end: ended ? null : iso(f?.end),
      ...(options.members
        ? {
            members: w.units.map((id) => {
              const su = specUnits.get(id)!;
              const u = byId.get(id);
              return {
                unit: id,
                hostnames: su.hostnames,
                serials: su.serials,
                ha: su.ha,
                group: su.group,
                expected_ms: su.expectedMs,
                status: u?.status ?? 'waiting',
                job_id: u?.jobId ?? null,
                stage_job_id: u?.stageJobId ?? null,
                message: u?.message ?? '',
              };
            }),
          }
        : {}),
    };
  });
  const all = count(s.spec.units.map((u) => u.id));
  return {
    campaign_id: s.spec.campaignId,
    name: s.spec.name,
    status: s.status,
    message: s.message,
    target_version: s.spec.targetVersion,
    selection: s.spec.selection,
    windows: s.spec.windows,
    time_scale: s.spec.timeScale,
    prestage: s.spec.prestage,
    budget: { ...s.spec.budget, wave_text: describeBudget(s.spec.budget.wave), overall_text: describeBudget(s.spec.budget.overall) },
    wave: s.wave + 1,
    waiting_for: waitingFor(s, now),
    next_wake: iso(nextWake(s)),
    eta: ended ? null : iso(fc.end),
    approvals_assumed: fc.approvals,
    totals: { units: s.spec.units.length, ...all },
    waves,
    excluded: s.spec.excluded,
    created_at: s.createdAt,
    started_at: s.startedAt,
    updated_at: s.updatedAt,
    finished_at: s.finishedAt,
  };
}
