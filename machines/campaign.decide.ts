import type { CampaignFact, CampaignSpec, FailureBudget } from './campaign.events.ts';
import { campaignJobId } from './campaign.events.ts';
import { evolveCampaign, isCampaignTerminal, unitEnded, unitInFlight, type CampaignState, type UnitState } from './campaign.fold.ts';
import { earliestFit, formatInZone, parseWindow, windowStatus, type MaintenanceWindow } from './campaign.windows.ts';

/**
 * Campaign time: wall time slowed down by the spec's time scale around the campaign's origin (its
 * created fact), so a rehearsal on a simulator at scale 0.001 lives through a night's windows in seconds.
 */
export function campaignTime(s: Pick<CampaignState, 'origin' | 'spec'>, wall: number): number {
  return s.origin + (wall - s.origin) / s.spec.timeScale;
}

/** Wall time of a campaign-time instant. */
export function wallTime(s: Pick<CampaignState, 'origin' | 'spec'>, ct: number): number {
  return s.origin + (ct - s.origin) * s.spec.timeScale;
}

const windowCache = new Map<string, MaintenanceWindow>();

export function windowsOf(spec: Pick<CampaignSpec, 'windows'>): MaintenanceWindow[] {
  return spec.windows.map((text) => {
    let w = windowCache.get(text);
    if (!w) windowCache.set(text, (w = parseWindow(text)));
    return w;
  });
}

export function zoneOf(spec: Pick<CampaignSpec, 'windows'>): string {
  return windowsOf(spec)[0]?.zone ?? 'UTC';
}

function exceeded(budget: FailureBudget, failures: number, units: number): boolean {
  if (budget.count !== null && failures > budget.count) return true;
  if (budget.percent !== null && units > 0 && (failures * 100) / units > budget.percent) return true;
  return false;
}

export function describeBudget(b: FailureBudget): string {
  const parts = [b.count !== null ? `${b.count}` : null, b.percent !== null ? `${b.percent}%` : null].filter(Boolean);
  return parts.length ? parts.join(' and ') : 'no limit';
}

function unitsOfWave(s: CampaignState, wave: number): UnitState[] {
  const ids = s.spec.waves[wave]?.units ?? [];
  const byId = new Map(s.units.map((u) => [u.id, u]));
  return ids.map((id) => byId.get(id)!).filter(Boolean);
}

function counts(units: readonly UnitState[]): { completed: number; failed: number; cancelled: number; waiting: number; running: number } {
  const c = { completed: 0, failed: 0, cancelled: 0, waiting: 0, running: 0 };
  for (const u of units) {
    if (u.status === 'complete') c.completed++;
    else if (u.status === 'failed') c.failed++;
    else if (u.status === 'cancelled') c.cancelled++;
    else if (unitInFlight(u)) c.running++;
    else c.waiting++;
  }
  return c;
}

function summary(s: CampaignState): string {
  const c = counts(s.units);
  return `${c.completed} complete, ${c.failed} failed${c.cancelled ? `, ${c.cancelled} cancelled` : ''}, ${c.waiting} not started`;
}

/** The budget check after a failure: per wave first, then overall. */
function budgetFact(s: CampaignState): CampaignFact | null {
  if (s.wave < 0) return null;
  const wave = unitsOfWave(s, s.wave);
  const wf = wave.filter((u) => u.status === 'failed').length;
  if (exceeded(s.spec.budget.wave, wf, wave.length)) {
    const reason = `wave ${s.wave + 1} failure budget exceeded: ${wf} of ${wave.length} unit(s) failed (allowed: ${describeBudget(s.spec.budget.wave)})`;
    return { type: 'campaign.budget.exceeded', data: { scope: 'wave', wave: s.wave, failures: wf, units: wave.length, reason } };
  }
  const of = s.units.filter((u) => u.status === 'failed').length;
  if (exceeded(s.spec.budget.overall, of, s.units.length)) {
    const reason = `campaign failure budget exceeded: ${of} of ${s.units.length} unit(s) failed (allowed: ${describeBudget(s.spec.budget.overall)})`;
    return { type: 'campaign.budget.exceeded', data: { scope: 'overall', wave: s.wave, failures: of, units: s.units.length, reason } };
  }
  return null;
}

/**
 * One decision from the state and the wall time: the next facts to record, or none. Pure; `advance`
 * applies it until nothing more follows.
 */
export function decide(s: CampaignState, now: number): CampaignFact[] {
  if (s.status === 'pending' || isCampaignTerminal(s)) return [];
  const inFlight = s.units.filter(unitInFlight);
  if (s.abortRequested) {
    return inFlight.length === 0 ? [{ type: 'campaign.aborted', data: { reason: `Aborted: ${summary(s)}` } }] : [];
  }
  if (!s.haltReason) {
    const over = budgetFact(s);
    if (over) return [over];
  }
  if (s.haltReason) {
    return inFlight.length === 0 ? [{ type: 'campaign.halted', data: { reason: `Halted: ${s.haltReason}; ${summary(s)}` } }] : [];
  }
  if (s.paused) return [];
  if (s.spec.waves.length === 0) return [{ type: 'campaign.completed', data: { message: 'Nothing to do: the campaign has no waves' } }];
  if (s.wave < 0) return [{ type: 'campaign.wave.started', data: { wave: 0 } }];
  const w = s.wave;
  const wave = s.waves[w]!;
  const plan = s.spec.waves[w]!;
  const last = w === s.spec.waves.length - 1;
  switch (wave.status) {
    case 'running':
      return runWave(s, now, w);
    case 'soaking':
    case 'awaiting-approval': {
      if (last) return [{ type: 'campaign.gate.passed', data: { wave: w } }];
      if (plan.soakMs > 0 && wave.soakUntil === null) return [{ type: 'campaign.soak.started', data: { wave: w, until: now + plan.soakMs * s.spec.timeScale } }];
      if (wave.soakUntil !== null && now < wave.soakUntil) return [];
      if (plan.approval && wave.approvedBy === null) return wave.approvalRequested ? [] : [{ type: 'campaign.approval.requested', data: { wave: w } }];
      return [{ type: 'campaign.gate.passed', data: { wave: w } }];
    }
    case 'passed': {
      if (!last) return [{ type: 'campaign.wave.started', data: { wave: w + 1 } }];
      return [{ type: 'campaign.completed', data: { message: `Campaign complete: ${summary(s)}` } }];
    }
    default:
      return [];
  }
}

function runWave(s: CampaignState, now: number, w: number): CampaignFact[] {
  const units = unitsOfWave(s, w);
  const c = counts(units);
  if (units.every(unitEnded)) return [{ type: 'campaign.wave.ended', data: { wave: w, completed: c.completed, failed: c.failed, cancelled: c.cancelled } }];
  const plan = s.spec.waves[w]!;
  let free = plan.concurrency - c.running;
  const windows = windowsOf(s.spec);
  const ct = campaignTime(s, now);
  const status = windowStatus(windows, ct);
  const specUnits = new Map(s.spec.units.map((u) => [u.id, u]));
  const facts: CampaignFact[] = [];
  let shortestWaiting: number | null = null;
  for (const u of units) {
    if (free <= 0) break;
    if (u.status !== 'waiting' && u.status !== 'staged') continue;
    const expected = specUnits.get(u.id)?.expectedMs ?? 0;
    const fits = status.open && (status.closesAt === null || ct + expected <= status.closesAt);
    if (fits) {
      facts.push({ type: 'campaign.unit.started', data: { unit: u.id, wave: w, jobId: campaignJobId(s.spec.campaignId, u.id, 'upgrade'), kind: 'upgrade' } });
      free--;
    } else if (s.spec.prestage && u.status === 'waiting') {
      facts.push({ type: 'campaign.unit.started', data: { unit: u.id, wave: w, jobId: campaignJobId(s.spec.campaignId, u.id, 'download-only'), kind: 'download-only' } });
      free--;
    } else shortestWaiting = Math.min(shortestWaiting ?? Infinity, expected);
  }
  if (facts.length > 0 || shortestWaiting === null || free <= 0) return facts;
  const opensAt = earliestFit(windows, ct, shortestWaiting);
  if (opensAt === null && c.running === 0) {
    const reason = `no maintenance window within a week is long enough for the next unit of wave ${w + 1} (expected ${Math.round(shortestWaiting / 60_000)} min)`;
    return [{ type: 'campaign.halted', data: { reason: `Halted: ${reason}; ${summary(s)}` } }];
  }
  const reason =
    opensAt === null
      ? `Waiting: no window long enough for the rest of wave ${w + 1}`
      : `Waiting for the maintenance window: installs in wave ${w + 1} start ${formatInZone(opensAt, zoneOf(s.spec))}`;
  if (s.windowWait && s.windowWait.wave === w && s.windowWait.opensAt === opensAt) return [];
  return [{ type: 'campaign.window.waiting', data: { wave: w, opensAt, reason } }];
}

/** Apply `decide` until it has nothing more to say; returns the facts and the state after them. */
export function advance(s: CampaignState, now: number): { facts: CampaignFact[]; state: CampaignState } {
  const all: CampaignFact[] = [];
  let state = s;
  const at = new Date(now).toISOString();
  for (let i = 0; i < 10_000; i++) {
    const facts = decide(state, now);
    if (facts.length === 0) break;
    for (const f of facts) state = evolveCampaign(state, { ...f, at } as CampaignFact & { at: string });
    all.push(...facts);
  }
  return { facts: all, state };
}

/** The wall time the campaign must next look at the clock (a soak ends, a window opens); null: only an event moves it. */
export function nextWake(s: CampaignState): number | null {
  if (s.status !== 'running') return null;
  const wave = s.waves[s.wave];
  if (!wave) return null;
  if (wave.status === 'soaking' && wave.soakUntil !== null) return wave.soakUntil;
  if (wave.status === 'running' && s.windowWait && s.windowWait.wave === s.wave && s.windowWait.opensAt !== null) return wallTime(s, s.windowWait.opensAt);
  return null;
}

function inSeconds(ms: number): string {
  const sec = Math.max(0, Math.round(ms / 1000));
  if (sec < 120) return `${sec} s`;
  if (sec < 7200) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}

/** What the campaign waits for, in words, for `campaign status`. */
export function waitingFor(s: CampaignState, now: number): string {
  if (isCampaignTerminal(s)) return '';
  const id = s.spec.campaignId;
  const running = s.units.filter(unitInFlight).length;
  if (s.status === 'pending') return 'its start';
  if (s.abortRequested) return `${running} running job(s) to stop after their current step`;
  if (s.haltReason) return `${running} running job(s) to finish before halting`;
  if (s.paused) return `an operator to resume it: panos-upgrade campaign resume ${id}`;
  const wave = s.waves[s.wave];
  if (!wave) return 'its first wave';
  const n = s.wave + 1;
  switch (wave.status) {
    case 'running': {
      const parts: string[] = [];
      if (running > 0) parts.push(`${running} job(s) of wave ${n} to finish`);
      if (s.windowWait && s.windowWait.wave === s.wave) {
        parts.push(
          s.windowWait.opensAt === null
            ? 'a window long enough'
            : `the maintenance window at ${formatInZone(s.windowWait.opensAt, zoneOf(s.spec))} (in ${inSeconds(wallTime(s, s.windowWait.opensAt) - now)})`,
        );
      }
      return parts.join('; ') || `wave ${n} to start its jobs`;
    }
    case 'soaking':
      return wave.soakUntil !== null ? `the soak after wave ${n} to end (in ${inSeconds(wave.soakUntil - now)})` : `the gate after wave ${n}`;
    case 'awaiting-approval':
      return `an operator's approval of wave ${n + 1}: panos-upgrade campaign approve ${id}`;
    default:
      return `wave ${n}`;
  }
}

export interface Forecast {
  /** Per wave, wall time it starts and ends (estimated for those not yet run); null when no window fits. */
  waves: Array<{ index: number; start: number | null; end: number | null }>;
  /** Estimated end of the campaign (wall time), or null. */
  end: number | null;
  /** Operator approvals the estimate assumes are given at once. */
  approvals: number;
}

/**
 * An estimate of when each wave starts and ends: units fill each wave's concurrency slots in order,
 * each starting at the first window instant it fits in, for its expected duration; gates add their soak.
 */
export function forecast(s: CampaignState, now: number): Forecast {
  const windows = windowsOf(s.spec);
  const specUnits = new Map(s.spec.units.map((u) => [u.id, u]));
  const out: Forecast = { waves: [], end: null, approvals: 0 };
  if (s.haltReason || s.abortRequested) {
    // Halting or aborting: nothing new starts, so only the jobs in flight are left to end.
    let end = now;
    for (const u of s.units.filter(unitInFlight)) end = Math.max(end, wallTime(s, campaignTime(s, u.startedAt ?? now) + (specUnits.get(u.id)?.expectedMs ?? 0)));
    for (const plan of s.spec.waves) {
      const wave = s.waves[plan.index];
      if (wave) out.waves.push({ index: plan.index, start: wave.startedAt, end: wave.status === 'running' ? end : wave.endedAt });
    }
    out.end = end;
    return out;
  }
  let t = campaignTime(s, now);
  let failed = false;
  for (const plan of s.spec.waves) {
    const wave = s.waves[plan.index];
    if (!wave) continue;
    if (wave.status === 'passed' || wave.status === 'stopped') {
      out.waves.push({ index: plan.index, start: wave.startedAt, end: wave.endedAt });
      continue;
    }
    const last = plan.index === s.spec.waves.length - 1;
    if (failed) {
      out.waves.push({ index: plan.index, start: null, end: null });
      continue;
    }
    if (wave.status === 'soaking' || wave.status === 'awaiting-approval') {
      if (!last) {
        const soakEnd = wave.soakUntil !== null ? campaignTime(s, wave.soakUntil) : t + plan.soakMs;
        t = Math.max(t, soakEnd);
        if (plan.approval && wave.approvedBy === null) out.approvals++;
      }
      out.waves.push({ index: plan.index, start: wave.startedAt, end: wave.endedAt });
      continue;
    }
    const start = t;
    const slots: number[] = [];
    const units = unitsOfWave(s, plan.index);
    for (const u of units.filter(unitInFlight)) {
      const expected = specUnits.get(u.id)?.expectedMs ?? 0;
      slots.push(Math.max(t, campaignTime(s, u.startedAt ?? now) + expected));
    }
    while (slots.length < plan.concurrency) slots.push(t);
    let end = t;
    let firstBegin: number | null = null;
    for (const u of units) {
      if (unitEnded(u) || unitInFlight(u)) continue;
      const expected = specUnits.get(u.id)?.expectedMs ?? 0;
      slots.sort((a, b) => a - b);
      const begin = earliestFit(windows, slots[0]!, expected);
      if (begin === null) {
        failed = true;
        break;
      }
      firstBegin ??= begin;
      slots[0] = begin + expected;
    }
    if (failed) {
      out.waves.push({ index: plan.index, start: wave.startedAt ?? wallTime(s, start), end: null });
      continue;
    }
    end = Math.max(end, ...slots);
    out.waves.push({ index: plan.index, start: wave.startedAt ?? wallTime(s, firstBegin ?? start), end: wallTime(s, end) });
    t = end;
    if (!last) {
      t += plan.soakMs;
      if (plan.approval) out.approvals++;
    }
  }
  out.end = failed ? null : wallTime(s, t);
  return out;
}
