/**
 * PAN-OS version ordering (pan-os-python PanOSVersion semantics): major.minor.patch, then a suffix:
 * `-hN` (hotfix) sorts after the base release, `-cN` / `-bN` (candidate, beta) before it.
 */
export interface PanosVersion {
  major: number;
  minor: number;
  patch: number;
  /** 'h' hotfix, 'c' candidate, 'b' beta, or '' for none. */
  suffixKind: '' | 'h' | 'c' | 'b';
  suffixNumber: number;
  raw: string;
}

const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)(?:-([hcb])(\d+))?$/;

export function parseVersion(raw: string): PanosVersion | undefined {
  const m = VERSION_RE.exec(raw.trim());
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    suffixKind: (m[4] ?? '') as PanosVersion['suffixKind'],
    suffixNumber: m[5] ? Number(m[5]) : 0,
    raw: raw.trim(),
  };
}

export function isVersion(raw: unknown): raw is string {
  return typeof raw === 'string' && parseVersion(raw) !== undefined;
}

function mustParse(raw: string): PanosVersion {
  const v = parseVersion(raw);
  if (!v) throw new Error(`not a PAN-OS version: ${JSON.stringify(raw)}`);
  return v;
}

const SUFFIX_RANK: Record<PanosVersion['suffixKind'], number> = { b: -2, c: -1, '': 0, h: 1 };

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const x = mustParse(a);
  const y = mustParse(b);
  return (
    x.major - y.major ||
    x.minor - y.minor ||
    x.patch - y.patch ||
    SUFFIX_RANK[x.suffixKind] - SUFFIX_RANK[y.suffixKind] ||
    x.suffixNumber - y.suffixNumber
  );
}

export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort(compareVersions);
}

/** `10.1` for `10.1.5-h2`: the feature release (train) a version belongs to. */
export function featureRelease(raw: string): string {
  const v = mustParse(raw);
  return `${v.major}.${v.minor}`;
}

/**
 * The base image a version needs in the software manager before it can be installed: `X.Y.0`,
 * except the 12.1 train whose base is 12.1.2 (Ansible panos_software PR #665).
 */
export function baseImageOf(raw: string): string {
  const v = mustParse(raw);
  if (v.major === 12 && v.minor === 1) return '12.1.2';
  return `${v.major}.${v.minor}.0`;
}

/** True when going from `from` to `to` changes the feature release (needs the base image). */
export function changesFeatureRelease(from: string, to: string): boolean {
  return featureRelease(from) !== featureRelease(to);
}
