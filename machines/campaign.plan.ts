import { ValidationError } from '../panos/errors.ts';
import { compareVersions, isVersion } from '../panos/version.ts';
import type { CampaignSpec, CampaignUnit, CampaignWave, FailureBudget } from './campaign.events.ts';
import { longestWindowMs, parseWindow, WindowSyntaxError, type MaintenanceWindow } from './campaign.windows.ts';

/** A plan that cannot be built; `field` names what to fix (`waves[1].size`, `select.hostnames`). */
export class CampaignPlanError extends ValidationError {
  constructor(field: string, readonly problem: string) {
    super(`${field ? `${field}: ` : ''}${problem}`, field);
  }
}

/** A device as the planner sees it (the daemon's inventory). */
export interface PlannerDevice {
  serial: string;
  hostname: string;
  model: string;
  swVersion: string;
  haPeer: string | null;
  connected: boolean;
  deviceGroup?: string | null;
  /** Why it cannot take a new job now (`already has an active download-only job …`, a unit of another campaign); null or absent when free. */
  busy?: string | null;
  /** The upgrade path the paths file configures for its version (empty: none; absent: not known, taken as any). */
  path?: readonly string[];
  /** False when `path` is the rest of another version's path (a device stopped partway along it): a target past it is then derived, not refused. */
  pathIsOwn?: boolean;
}

export interface Selection {
  all?: boolean;
  serials?: string[];
  /** Globs: `fw-dc*`, `fw-?-01`. */
  hostnames?: string[];
  models?: string[];
  deviceGroups?: string[];
  /** Current versions, exact or globs (`10.1.*`). */
  versions?: string[];
  exclude?: { serials?: string[]; hostnames?: string[] };
}

export interface WaveEntry {
  name?: string;
  /** Units: a count, a percentage of all units (`10%`), or `rest`. */
  size?: number | string;
  /** Explicit members: serials or hostname globs; an HA member brings its pair. */
  devices?: string[];
  concurrency?: number;
  soakMs?: number;
  approval?: boolean;
}

/** Expected durations, in ms of campaign time (production timings, or a scenario's unscaled ones). */
export interface Timings {
  downloadMs: number;
  installMs: number;
  rebootMs: number;
  byModel?: Record<string, Partial<Omit<Timings, 'byModel'>>>;
}

export const DEFAULT_TIMINGS: Timings = { downloadMs: 5 * 60_000, installMs: 10 * 60_000, rebootMs: 15 * 60_000 };

export interface PlanInput {
  campaignId: string;
  name?: string;
  devices: readonly PlannerDevice[];
  selection: Selection;
  targetVersion: string | null;
  /** `canary:2,10%,25%,rest`, or explicit entries. */
  waves: string | WaveEntry[];
  /** Default per-wave concurrency. */
  concurrency: number;
  soakMs?: number;
  approval?: boolean;
  windows?: string[];
  budget?: { wave?: FailureBudget; overall?: FailureBudget };
  /** `site` (from the hostname) or `device-group`; `spread` mixes groups across waves, `together` keeps a group in one wave. */
  groupBy?: 'none' | 'site' | 'device-group';
  groups?: 'spread' | 'together';
  prestage?: boolean;
  timeScale?: number;
  timings?: Timings;
  /** Upgrade hops a device needs (default 1). */
  hops?: (device: PlannerDevice) => number;
  /** The readiness policy for its jobs (validated by the daemon with the policy's own schema). */
  readiness?: Record<string, unknown>;
  /** When the plan is made (epoch ms): the week of windows measured against units starts here. */
  now?: number;
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function matchesAny(value: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globToRegExp(p).test(value));
}

/** `10.1.*` or `10.1.3`. */
function matchesVersion(version: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.includes('*') || p.includes('?') ? globToRegExp(p).test(version) : p === version));
}

/** The site of a hostname: `fw-berlin-03` → `berlin`, `fw-dc1-02` → `dc1`; else the hostname without its trailing number. */
export function siteOf(hostname: string): string {
  const m = /^[^-]+-(.+)-\d+$/.exec(hostname);
  if (m) return m[1]!;
  return hostname.replace(/[-_]?\d+$/, '') || hostname;
}

/** Parse `--max-failures` values: `3` or `10%`. */
export function parseBudget(text: string | number | undefined, field: string): FailureBudget {
  if (text === undefined || text === '') return { count: null, percent: null };
  const t = String(text).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pct) return { count: null, percent: Number(pct[1]) };
  if (/^\d+$/.test(t)) return { count: Number(t), percent: null };
  throw new CampaignPlanError(field, `"${t}" is not a number of failures (3) or a percentage (10%)`);
}

/** What is wrong with a wave size, or null: a whole number from 1 to MAX_WAVE_COUNT, a percentage above 0 up to 100%, or `rest`. */
/** More units than any fleet: a count above it is a typo, not a wave. */
export const MAX_WAVE_COUNT = 100_000;

export function waveSizeProblem(size: number | string): string | null {
  if (typeof size === 'number') return Number.isInteger(size) && size >= 1 && size <= MAX_WAVE_COUNT ? null : `a wave size is a whole number from 1 to ${MAX_WAVE_COUNT}, not ${size}`;
  if (size === 'rest') return null;
  if (/^\d+$/.test(size)) return Number(size) >= 1 && Number(size) <= MAX_WAVE_COUNT ? null : `a wave size is a whole number from 1 to ${MAX_WAVE_COUNT}, not "${size}"`;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(size);
  if (!pct || Number(pct[1]) <= 0 || Number(pct[1]) > 100) return `"${size}" is not a wave size (a count such as 2, a percentage such as 10%, or rest)`;
  return null;
}

/** `canary:2,10%,25%,rest` → wave entries; only the last may be `rest`. Errors name the wave and the spec. */
export function parseWaveSpec(text: string): WaveEntry[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new CampaignPlanError('waves', `"${text}" has an empty wave (expected e.g. canary:2,10%,25%,rest)`);
  return parts.map((p, i) => {
    const colon = p.indexOf(':');
    const name = colon >= 0 ? p.slice(0, colon).trim() : undefined;
    const size = colon >= 0 ? p.slice(colon + 1).trim() : p;
    const problem = waveSizeProblem(size);
    if (problem) throw new CampaignPlanError('waves', `wave ${i + 1} of "${text}": ${problem}`);
    if (size === 'rest' && i < parts.length - 1) throw new CampaignPlanError('waves', `wave ${i + 1} of "${text}": only the last wave may be rest`);
    return { ...(name ? { name } : {}), size: /^\d+$/.test(size) ? Number(size) : size };
  });
}

function waveLabel(e: WaveEntry, i: number): string {
  return `wave ${i + 1}${e.name ? ` "${e.name}"` : ''}`;
}

/**
 * Wave entries given one by one, before any device is looked at: each has a size or devices (not
 * both), a size is valid, and only the last is `rest`. Errors name the wave (`waves[1].size`).
 */
export function checkWaveEntries(entries: readonly WaveEntry[]): void {
  if (entries.length === 0) throw new CampaignPlanError('waves', 'at least one wave is needed');
  entries.forEach((e, i) => {
    if (e.devices !== undefined && e.size !== undefined) throw new CampaignPlanError(`waves[${i}]`, `${waveLabel(e, i)}: give either devices or size, not both`);
    if (e.devices === undefined && e.size === undefined) throw new CampaignPlanError(`waves[${i}]`, `${waveLabel(e, i)} has neither size nor devices: give size (a count such as 2, a percentage such as 10%, or rest for the last wave) or devices`);
    if (e.size === undefined) return;
    const problem = waveSizeProblem(e.size);
    if (problem) throw new CampaignPlanError(`waves[${i}].size`, `${waveLabel(e, i)}: ${problem}`);
    if (e.size === 'rest' && i < entries.length - 1) throw new CampaignPlanError(`waves[${i}].size`, `${waveLabel(e, i)}: only the last wave may be rest (it is wave ${i + 1} of ${entries.length})`);
  });
}

/**
 * Why a device cannot be upgraded by this campaign, or null: it has an active job (or is a unit of
 * another running campaign), it already runs the target or a newer version, the path the paths file
 * configures for its version does not reach the target, or, without a target, there is no such path. `upgrade queue` skips such devices for the same reasons.
 */
export function unavailableReason(d: PlannerDevice, targetVersion: string | null): string | null {
  if (d.busy) return d.busy;
  if (targetVersion !== null) {
    if (isVersion(targetVersion) && isVersion(d.swVersion) && compareVersions(targetVersion, d.swVersion) <= 0) {
      return d.swVersion === targetVersion ? `already runs the target ${targetVersion}` : `already runs ${d.swVersion}, newer than the target ${targetVersion}`;
    }
    // The job's planner refuses the same at the device's start (planUpgrade: a configured path wins and must reach the target).
    if (d.pathIsOwn !== false && d.path?.length && !d.path.includes(targetVersion)) return `the upgrade path configured for ${d.swVersion} (${d.path.join(' → ')}) does not reach the target ${targetVersion}`;
  } else if (d.path?.length === 0) return `no upgrade path configured for version ${d.swVersion} (and no target version given)`;
  return null;
}

/** The devices a selection names, and those it leaves out on purpose (with why). */
export function selectDevices(devices: readonly PlannerDevice[], sel: Selection, targetVersion: string | null = null): { selected: PlannerDevice[]; excluded: Array<{ serial: string; hostname: string; reason: string }> } {
  const adders = (sel.serials?.length ?? 0) + (sel.hostnames?.length ?? 0);
  const filters = (sel.models?.length ?? 0) + (sel.deviceGroups?.length ?? 0) + (sel.versions?.length ?? 0);
  if (!sel.all && adders === 0 && filters === 0) throw new CampaignPlanError('select', 'select some devices: all, serials, hostnames, models, deviceGroups or versions');
  const bySerial = new Map(devices.map((d) => [d.serial, d]));
  (sel.serials ?? []).forEach((s, i) => {
    if (!bySerial.has(s)) throw new CampaignPlanError(`select.serials[${i}]`, `${s} is not in the inventory (run "panos-upgrade device discover" first)`);
  });
  let picked = sel.all || adders === 0 ? [...devices] : devices.filter((d) => (sel.serials ?? []).includes(d.serial) || matchesAny(d.hostname, sel.hostnames ?? []));
  if (sel.models?.length) picked = picked.filter((d) => sel.models!.some((m) => m.toLowerCase() === d.model.toLowerCase()));
  if (sel.deviceGroups?.length) picked = picked.filter((d) => d.deviceGroup != null && sel.deviceGroups!.includes(d.deviceGroup));
  if (sel.versions?.length) picked = picked.filter((d) => matchesVersion(d.swVersion, sel.versions!));
  const excluded: Array<{ serial: string; hostname: string; reason: string }> = [];
  const exSerials = new Set(sel.exclude?.serials ?? []);
  const exHosts = sel.exclude?.hostnames ?? [];
  const selected: PlannerDevice[] = [];
  for (const d of picked) {
    if (exSerials.has(d.serial) || matchesAny(d.hostname, exHosts)) excluded.push({ serial: d.serial, hostname: d.hostname, reason: 'excluded by the plan' });
    else if (!d.connected) excluded.push({ serial: d.serial, hostname: d.hostname, reason: 'not connected to Panorama at the last discovery' });
    else {
      const why = unavailableReason(d, targetVersion);
      if (why) excluded.push({ serial: d.serial, hostname: d.hostname, reason: why });
      else selected.push(d);
    }
  }
  return { selected, excluded };
}

function timingsFor(t: Timings, model: string): { downloadMs: number; installMs: number; rebootMs: number } {
  const m = t.byModel?.[model] ?? {};
  return { downloadMs: m.downloadMs ?? t.downloadMs, installMs: m.installMs ?? t.installMs, rebootMs: m.rebootMs ?? t.rebootMs };
}

/**
 * Units from the selected devices: an HA member whose peer is in the inventory forms one unit with
 * it (never split); if the peer was excluded, the pair is left out and the report says why.
 */
export function formUnits(
  selected: readonly PlannerDevice[],
  all: readonly PlannerDevice[],
  excluded: Array<{ serial: string; hostname: string; reason: string }>,
  opts: { groupBy: 'none' | 'site' | 'device-group'; timings: Timings; hops: (d: PlannerDevice) => number },
): CampaignUnit[] {
  const bySerial = new Map(all.map((d) => [d.serial, d]));
  const excludedSerials = new Set(excluded.map((e) => e.serial));
  const done = new Set<string>();
  const units: CampaignUnit[] = [];
  const sorted = [...selected].sort((a, b) => a.hostname.localeCompare(b.hostname) || a.serial.localeCompare(b.serial));
  for (const d of sorted) {
    if (done.has(d.serial)) continue;
    done.add(d.serial);
    const peer = d.haPeer ? bySerial.get(d.haPeer) : undefined;
    if (peer && excludedSerials.has(peer.serial)) {
      excluded.push({ serial: d.serial, hostname: d.hostname, reason: `its HA peer ${peer.hostname} (${peer.serial}) is excluded; a pair is never split` });
      continue;
    }
    // A peer the selection did not name comes with its pair: it must be free too.
    if (peer && peer.busy) {
      excluded.push({ serial: d.serial, hostname: d.hostname, reason: `its HA peer ${peer.hostname} (${peer.serial}) ${peer.busy.replace(/^already /, '')}; a pair is never split` });
      done.add(peer.serial);
      continue;
    }
    const members = peer ? [d, peer] : [d];
    if (peer) done.add(peer.serial);
    const hops = Math.max(1, ...members.map(opts.hops));
    const t = timingsFor(opts.timings, d.model);
    // An HA pair: images to both peers, then each peer installs and reboots in turn.
    const expectedMs = hops * (members.length * t.downloadMs + members.length * (t.installMs + t.rebootMs));
    const group = opts.groupBy === 'site' ? siteOf(d.hostname) : opts.groupBy === 'device-group' ? (d.deviceGroup ?? '(none)') : null;
    units.push({ id: units.length, serials: members.map((m) => m.serial), hostnames: members.map((m) => m.hostname), models: [...new Set(members.map((m) => m.model))], group, ha: !!peer, expectedMs });
  }
  return units;
}

/** Order units so that groups are spread over the waves (round robin over the groups), or kept together. */
export function orderUnits(units: readonly CampaignUnit[], groups: 'spread' | 'together'): CampaignUnit[] {
  if (units.every((u) => u.group === null)) return [...units];
  const byGroup = new Map<string, CampaignUnit[]>();
  for (const u of units) {
    const g = u.group ?? '';
    byGroup.set(g, [...(byGroup.get(g) ?? []), u]);
  }
  const lists = [...byGroup.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, l]) => l);
  if (groups === 'together') return lists.flat();
  const out: CampaignUnit[] = [];
  for (let i = 0; out.length < units.length; i++) for (const l of lists) if (l[i]) out.push(l[i]!);
  return out;
}

function sizeOf(size: number | string | undefined, total: number, remaining: number): number {
  if (size === undefined || size === 'rest') return remaining;
  if (typeof size === 'number') return size;
  if (/^\d+$/.test(size)) return Number(size);
  const pct = Number(size.slice(0, -1));
  return Math.max(1, Math.ceil((total * pct) / 100));
}

/**
 * Waves from ordered units: explicit member lists take their units first; then sized waves take
 * the next units in order. With `together`, a wave takes whole groups (it may end up a little larger).
 */
export function splitWaves(
  units: readonly CampaignUnit[],
  entries: readonly WaveEntry[],
  defaults: { concurrency: number; soakMs: number; approval: boolean; groups: 'spread' | 'together' },
): CampaignWave[] {
  checkWaveEntries(entries);
  const taken = new Set<number>();
  const explicit = new Map<number, number[]>();
  entries.forEach((e, i) => {
    if (!e.devices) return;
    const ids: number[] = [];
    for (const pattern of e.devices) {
      const hit = units.filter((u) => !taken.has(u.id) && (u.serials.includes(pattern) || u.hostnames.some((h) => globToRegExp(pattern).test(h))));
      if (hit.length === 0 && !units.some((u) => u.serials.includes(pattern) || u.hostnames.some((h) => globToRegExp(pattern).test(h))))
        throw new CampaignPlanError(`waves[${i}].devices`, `"${pattern}" matches no selected device`);
      for (const u of hit) {
        taken.add(u.id);
        ids.push(u.id);
      }
    }
    if (ids.length === 0) throw new CampaignPlanError(`waves[${i}].devices`, `${waveLabel(e, i)}: every device it names is already in an earlier wave; it would be empty`);
    explicit.set(i, ids);
  });
  const total = units.length;
  const pool = units.filter((u) => !taken.has(u.id));
  let next = 0;
  const waves: CampaignWave[] = [];
  entries.forEach((e, i) => {
    let ids: number[];
    if (explicit.has(i)) ids = explicit.get(i)!;
    else {
      const want = sizeOf(e.size, total, pool.length - next);
      ids = [];
      while (next < pool.length && ids.length < want) ids.push(pool[next++]!.id);
      if (defaults.groups === 'together') {
        // Finish the group the last unit belongs to.
        const g = pool[next - 1]?.group;
        while (g != null && next < pool.length && pool[next]!.group === g) ids.push(pool[next++]!.id);
      }
    }
    if (ids.length === 0) return;
    const concurrency = e.concurrency ?? defaults.concurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new CampaignPlanError(`waves[${i}].concurrency`, `must be a whole number of at least 1, not ${concurrency}`);
    waves.push({
      index: waves.length,
      name: e.name ?? `wave ${waves.length + 1}`,
      units: ids,
      concurrency,
      soakMs: e.soakMs ?? defaults.soakMs,
      approval: e.approval ?? defaults.approval,
    });
  });
  if (next < pool.length) {
    const left = pool.slice(next);
    throw new CampaignPlanError(
      'waves',
      `${left.length} selected unit(s) are in no wave (first: ${left[0]!.hostnames.join(' / ')}): end the waves with "rest", or exclude them`,
    );
  }
  return waves;
}

/** Selection → units → waves, windows and budget: the campaign's whole spec. Pure. */
export function planCampaign(input: PlanInput): CampaignSpec {
  const windows = input.windows ?? [];
  const parsedWindows: MaintenanceWindow[] = [];
  windows.forEach((w, i) => {
    try {
      parsedWindows.push(parseWindow(w));
    } catch (err) {
      if (err instanceof WindowSyntaxError) throw new CampaignPlanError(`windows[${i}]`, err.message);
      throw err;
    }
  });
  if (!Number.isInteger(input.concurrency) || input.concurrency < 1) throw new CampaignPlanError('concurrency', `must be a whole number of at least 1, not ${input.concurrency}`);
  const timeScale = input.timeScale ?? 1;
  if (!(timeScale > 0)) throw new CampaignPlanError('timeScale', `must be above 0, not ${timeScale}`);
  const { selected, excluded } = selectDevices(input.devices, input.selection, input.targetVersion);
  const groupBy = input.groupBy ?? 'none';
  const groups = input.groups ?? 'spread';
  const units = formUnits(selected, input.devices, excluded, { groupBy, timings: input.timings ?? DEFAULT_TIMINGS, hops: input.hops ?? (() => 1) });
  if (units.length === 0) {
    const why = excluded.slice(0, 3).map((e) => `${e.hostname} (${e.serial}): ${e.reason}`);
    throw new CampaignPlanError(
      'select',
      `the selection matches no device that can be upgraded${excluded.length ? ` (${excluded.length} left out: ${why.join('; ')}${excluded.length > why.length ? '; …' : ''})` : ''}`,
    );
  }
  // A unit no window can hold halts the campaign when its turn comes: refuse it now (the same measure as the campaign's own wait).
  if (parsedWindows.length > 0) {
    const longest = longestWindowMs(parsedWindows, input.now ?? Date.UTC(2026, 0, 5));
    const unfit = units.reduce<CampaignUnit | undefined>((worst, u) => (u.expectedMs > longest && (!worst || u.expectedMs > worst.expectedMs) ? u : worst), undefined);
    if (unfit) {
      const min = (ms: number): number => Math.ceil(ms / 60_000);
      throw new CampaignPlanError(
        'windows',
        `no maintenance window is long enough for ${unfit.hostnames.join(' / ')} (expected ${min(unfit.expectedMs)} min: download, install and reboot), the longest lasts ${min(longest)} min: lengthen a window, or give the models their real timings (timings:)`,
      );
    }
  }
  const ordered = orderUnits(units, groups);
  const entries = typeof input.waves === 'string' ? parseWaveSpec(input.waves) : input.waves;
  const waves = splitWaves(ordered, entries, { concurrency: input.concurrency, soakMs: input.soakMs ?? 0, approval: input.approval ?? false, groups });
  const sel = input.selection;
  const selection = [
    sel.all ? 'all devices' : null,
    sel.serials?.length ? `serials ${sel.serials.join(', ')}` : null,
    sel.hostnames?.length ? `hostnames ${sel.hostnames.join(', ')}` : null,
    sel.models?.length ? `models ${sel.models.join(', ')}` : null,
    sel.deviceGroups?.length ? `device groups ${sel.deviceGroups.join(', ')}` : null,
    sel.versions?.length ? `versions ${sel.versions.join(', ')}` : null,
  ]
    .filter(Boolean)
    .join('; ');
  return {
    campaignId: input.campaignId,
    name: input.name ?? input.campaignId,
    targetVersion: input.targetVersion,
    units: ordered,
    waves,
    windows,
    budget: { wave: input.budget?.wave ?? { count: null, percent: null }, overall: input.budget?.overall ?? { count: 0, percent: null } },
    prestage: input.prestage ?? false,
    timeScale,
    selection: selection || 'all devices',
    excluded,
    ...(input.readiness ? { readiness: input.readiness } : {}),
  };
}
