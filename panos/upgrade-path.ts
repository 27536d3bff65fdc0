import { baseImageOf, compareVersions, featureRelease, isVersion, sortVersions } from './version.ts';

/** What is wrong with one place of an upgrade paths map: where (`["10.0.2", 1]`), whether its key or its value, and why. */
export interface PathsProblem {
  path: Array<string | number>;
  at: 'key' | 'value';
  /** Phrased to follow the place's name (`upgrade.paths["10.0.2"][1] must be …`); the caller shows the value its own way. */
  problem: string;
}

/**
 * The one rule of an upgrade paths map (current version → versions to install in order, each newer than
 * the one before), wherever it is read: config.json's `upgrade.paths`, a paths file, a scenario's
 * `upgrade_paths`. Undefined when the map is good.
 */
export function upgradePathsProblem(map: unknown): PathsProblem | undefined {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    return { path: [], at: 'value', problem: 'must be a map of current version → list of versions, e.g. "10.0.2": ["10.1.0", "11.1.0"]' };
  }
  for (const [from, hops] of Object.entries(map)) {
    if (!isVersion(from)) return { path: [from], at: 'key', problem: `has the key ${JSON.stringify(from)}, not a PAN-OS version; write the full version in quotes, like "10.0.2"` };
    if (!Array.isArray(hops)) return { path: [from], at: 'value', problem: 'must be a list of versions, e.g. ["10.1.0", "11.1.0"]' };
    let previous = from;
    for (const [i, hop] of hops.entries()) {
      if (typeof hop !== 'string' || !isVersion(hop)) {
        return { path: [from, i], at: 'value', problem: `must be a PAN-OS version like 10.1.0 or 10.1.9-h1${typeof hop === 'number' ? ' in quotes' : ''}` };
      }
      if (compareVersions(hop, previous) <= 0) return { path: [from, i], at: 'value', problem: `must be newer than ${previous}: an upgrade path only goes up` };
      previous = hop;
    }
  }
  return undefined;
}

/** One step of an upgrade path, with the reason it is there. */
export interface PlannedHop {
  version: string;
  /** `download`: only put the image in the software manager (a base image); `install`: download if missing, install, reboot. */
  action: 'download' | 'install';
  reason: string;
}

export interface UpgradePlan {
  from: string;
  target: string;
  hops: PlannedHop[];
  source: 'static' | 'derived';
}

export type PlanResult = { ok: true; plan: UpgradePlan } | { ok: false; reason: string };

export interface PathRules {
  /** The seed's static map: current version → versions to install, in order. */
  staticPaths: Record<string, string[]>;
  /** Feature releases PAN-OS lets you skip from (Ansible panos_software's table); empty = never skip. */
  skipFrom: string[];
  /** How many feature releases one hop may skip (PAN-OS 10.1+: up to 3). 0 = one release at a time. */
  maxSkippedReleases: number;
}

export const DEFAULT_PATH_RULES: PathRules = {
  staticPaths: {},
  skipFrom: ['10.1', '10.2', '11.0', '11.1', '11.2', '12.1'],
  maxSkippedReleases: 0,
};

type PathsMap = Readonly<Record<string, readonly string[]>>;

/** A configured path to follow: its versions, and the version whose entry it is (`current` itself for its own; null: none). */
export interface ConfiguredPath {
  versions: readonly string[];
  from: string | null;
}

/**
 * The configured path of a device on `current`: its own, or else the rest of a configured path that
 * passes through it (a device stopped partway along one, by a cancel or a failed hop, goes on along it;
 * of several, the one that leads furthest). Empty when none does.
 */
export function configuredPath(paths: PathsMap, current: string): ConfiguredPath {
  const own = paths[current];
  if (own && own.length > 0) return { versions: own, from: current };
  let best: ConfiguredPath = { versions: [], from: null };
  for (const key of Object.keys(paths).sort()) {
    const path = paths[key]!;
    const at = path.indexOf(current);
    if (at < 0 || at === path.length - 1) continue;
    const rest = path.slice(at + 1);
    if (best.versions.length === 0 || compareVersions(rest.at(-1)!, best.versions.at(-1)!) > 0) best = { versions: rest, from: key };
  }
  return best;
}

/**
 * The configured path a job follows toward `target` (any when undefined), or null to derive one: its own
 * path must reach a target (it is refused otherwise); the rest of another version's path is followed only
 * toward a target on it.
 */
export function pathToFollow(paths: PathsMap, current: string, target: string | undefined): ConfiguredPath | null {
  const configured = configuredPath(paths, current);
  if (configured.versions.length === 0) return null;
  if (configured.from !== current && target !== undefined && !configured.versions.includes(target)) return null;
  return configured;
}

/** Why a device on `current` has nothing to follow without a target: no path, or it is at the end of one. */
export function noPathReason(paths: PathsMap, current: string): string {
  const endOf = Object.keys(paths)
    .sort()
    .find((key) => paths[key]!.at(-1) === current);
  return endOf !== undefined
    ? `already runs ${current}, the end of the upgrade path configured for ${endOf} (give a target version to go further)`
    : `no upgrade path configured for ${current} and no target version given`;
}

export interface PlanRequest {
  current: string;
  /** Where to go; without it only a static path can say. */
  target?: string;
  /** The device's own software list (`request system software info`). */
  available: readonly string[];
  rules: PathRules;
}

function compareTrains(a: string, b: string): number {
  return compareVersions(`${a}.0`, `${b}.0`);
}

/** Put the base image of `version`'s feature release before it, when the device needs and lists it. */
function withBase(hops: PlannedHop[], previous: string, version: string, available: ReadonlySet<string>, planned: Set<string>): void {
  if (featureRelease(previous) === featureRelease(version)) return;
  const base = baseImageOf(version);
  if (base === version || !available.has(base) || planned.has(base)) return;
  hops.push({
    version: base,
    action: 'download',
    reason: `base image of the ${featureRelease(version)} feature release: PAN-OS needs it in the software manager before installing ${version}`,
  });
  planned.add(base);
}

/**
 * The path from `current` to `target` (or along the static map), each hop with its reason.
 *
 * @remarks
 * Rules: a static path configured for the current version wins; otherwise feature releases are
 * crossed in order (one at a time unless skip rules allow more), installing the newest version the
 * device is offered in each intermediate release; before the first version of a new feature release
 * its base image (X.Y.0, 12.1.2 for 12.1) is downloaded, not installed.
 */
export function planUpgrade(req: PlanRequest): PlanResult {
  const { current, rules } = req;
  if (!isVersion(current)) return { ok: false, reason: `current version "${current}" is not a PAN-OS version` };
  const available = new Set(req.available.filter(isVersion));
  const configured = pathToFollow(rules.staticPaths, current, req.target);
  if (configured) {
    const staticPath = configured.versions;
    let path = staticPath;
    if (req.target !== undefined) {
      const at = path.indexOf(req.target);
      if (at < 0) return { ok: false, reason: `the upgrade path configured for ${current} (${staticPath.join(' → ')}) does not reach ${req.target}` };
      path = path.slice(0, at + 1);
    }
    const missing = path.filter((v) => !available.has(v));
    if (missing.length > 0) {
      return { ok: false, reason: `the device is not offered ${missing.join(', ')} of its upgrade path (run a software check on it: request system software check, or Check Now in Panorama)` };
    }
    const hops: PlannedHop[] = [];
    const planned = new Set(path);
    let previous = current;
    path.forEach((version, i) => {
      withBase(hops, previous, version, available, planned);
      hops.push({ version, action: 'install', reason: i === path.length - 1 ? 'target of the configured upgrade path' : `step ${i + 1} of the configured upgrade path` });
      previous = version;
    });
    return { ok: true, plan: { from: current, target: path[path.length - 1]!, hops, source: 'static' } };
  }
  if (req.target === undefined) return { ok: false, reason: noPathReason(rules.staticPaths, current) };
  const target = req.target;
  if (!isVersion(target)) return { ok: false, reason: `target "${target}" is not a PAN-OS version` };
  if (compareVersions(target, current) <= 0) return { ok: false, reason: `the device already runs ${current}, which is not older than ${target}` };
  if (!available.has(target)) return { ok: false, reason: `the device is not offered ${target} (run a software check on it: request system software check, or Check Now in Panorama)` };

  const byTrain = new Map<string, string[]>();
  for (const v of sortVersions(available)) {
    if (compareVersions(v, current) <= 0) continue;
    const t = featureRelease(v);
    byTrain.set(t, [...(byTrain.get(t) ?? []), v]);
  }
  const trains = [...byTrain.keys()].sort(compareTrains);
  const targetTrain = featureRelease(target);
  const between = trains.filter((t) => compareTrains(t, featureRelease(current)) > 0 && compareTrains(t, targetTrain) < 0);
  const hops: PlannedHop[] = [];
  const planned = new Set<string>();
  let previous = current;
  let i = 0;
  while (i < between.length) {
    const from = featureRelease(previous);
    const canSkip = rules.maxSkippedReleases > 0 && rules.skipFrom.includes(from);
    const remaining = between.length - i;
    if (canSkip && remaining <= rules.maxSkippedReleases) break; // the target is within reach
    const step = canSkip ? i + rules.maxSkippedReleases : i;
    const train = between[step]!;
    const version = byTrain.get(train)!.at(-1)!;
    withBase(hops, previous, version, available, planned);
    hops.push({
      version,
      action: 'install',
      reason: `intermediate feature release ${train}: PAN-OS cannot go from ${from} to ${targetTrain} directly${canSkip ? ` (skipping at most ${rules.maxSkippedReleases})` : ''}`,
    });
    planned.add(version);
    previous = version;
    i = step + 1;
  }
  withBase(hops, previous, target, available, planned);
  hops.push({ version: target, action: 'install', reason: 'target version' });
  return { ok: true, plan: { from: current, target, hops, source: 'derived' } };
}
