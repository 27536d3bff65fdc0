import type { AreaRule } from './policy.ts';
import type { ReadingName, Readings, ReadingValues } from './readings.ts';

/** The areas snapshotted before and after an upgrade, as the policy's `snapshots:` names them. */
export const SNAPSHOT_AREAS = ['routes', 'fib', 'arp', 'sessions', 'interfaces', 'bgp_peers', 'ipsec_tunnels', 'licenses', 'content'] as const;
export type SnapshotArea = (typeof SNAPSHOT_AREAS)[number];

/** The readings each area is made of. */
export const AREA_READINGS: Record<SnapshotArea, readonly ReadingName[]> = {
  routes: ['routes'],
  fib: ['fib'],
  arp: ['arp'],
  sessions: ['sessionInfo'],
  interfaces: ['interfaces', 'interfaceMtus'],
  bgp_peers: ['bgpPeers'],
  ipsec_tunnels: ['tunnels'],
  licenses: ['licenses'],
  content: ['systemInfo'],
};

/** One area: its entry count, and its entries by a stable key with the fields that may change. */
export interface AreaSnapshot {
  count: number;
  entries: Record<string, Record<string, string>>;
  /** More entries than a snapshot keeps (SNAPSHOT_ENTRY_CAP): only the count is compared. */
  truncated?: boolean;
}

/**
 * Entries kept per area: a snapshot goes into one event (LMDB, and a NATS message of at most 1 MB), and a
 * data-centre routing table runs to hundreds of thousands of routes. Above this only counts are compared.
 */
export const SNAPSHOT_ENTRY_CAP = 5000;

/** A device's state at one moment, plain JSON (it goes into the job's events). */
export interface DeviceSnapshot {
  areas: Partial<Record<SnapshotArea, AreaSnapshot>>;
  /** Areas that could not be read, and why. */
  unavailable: Partial<Record<SnapshotArea, string>>;
}

export function snapshotReadings(areas: readonly SnapshotArea[] = SNAPSHOT_AREAS): ReadingName[] {
  return [...new Set(areas.flatMap((a) => AREA_READINGS[a]))];
}

function keyed<T>(items: readonly T[], key: (t: T) => string, fields: (t: T) => Record<string, string>): AreaSnapshot {
  if (items.length > SNAPSHOT_ENTRY_CAP) return { count: items.length, entries: {}, truncated: true };
  const entries: Record<string, Record<string, string>> = {};
  for (const i of items) entries[key(i)] = fields(i);
  return { count: items.length, entries };
}

/** Make a snapshot of the device's answers. Pure. */
export function takeSnapshot(r: Readings, areas: readonly SnapshotArea[] = SNAPSHOT_AREAS): DeviceSnapshot {
  const snap: DeviceSnapshot = { areas: {}, unavailable: {} };
  for (const area of areas) {
    const missing = AREA_READINGS[area].map((n) => [n, r[n]] as const).find(([, v]) => !v || !v.ok);
    if (missing) {
      const [name, v] = missing;
      snap.unavailable[area] = v && !v.ok ? v.reason : `${name} not read`;
      continue;
    }
    const v = <K extends ReadingName>(k: K): ReadingValues[K] => (r[k] as { ok: true; value: ReadingValues[K] }).value;
    switch (area) {
      case 'routes':
        snap.areas.routes = keyed(v('routes'), (e) => `${e.virtualRouter} ${e.destination} via ${e.nexthop || e.interface}`, (e) => ({ interface: e.interface }));
        break;
      case 'fib':
        snap.areas.fib = keyed(v('fib'), (e) => `${e.virtualRouter} ${e.destination} via ${e.nexthop}`, (e) => ({ interface: e.interface, ...(e.mtu !== undefined ? { mtu: String(e.mtu) } : {}) }));
        break;
      case 'arp': {
        const arp = v('arp');
        snap.areas.arp = { ...keyed(arp.entries, (e) => `${e.interface} ${e.ip}`, (e) => ({ mac: e.mac })), count: arp.total || arp.entries.length };
        break;
      }
      case 'sessions': {
        const s = v('sessionInfo');
        snap.areas.sessions = { count: s.numActive, entries: { totals: { active: String(s.numActive), tcp: String(s.numTcp), udp: String(s.numUdp), icmp: String(s.numIcmp) } } };
        break;
      }
      case 'interfaces': {
        const mtus = v('interfaceMtus');
        snap.areas.interfaces = keyed(v('interfaces'), (e) => e.name, (e) => {
          const mtu = e.mtu ?? mtus[e.name];
          return { state: e.state, speed: e.speed, ...(mtu !== undefined ? { mtu: String(mtu) } : {}) };
        });
        break;
      }
      case 'bgp_peers':
        snap.areas.bgp_peers = keyed(v('bgpPeers'), (p) => p.key, (p) => ({ status: p.status, peer_address: p.peerAddress.replace(/:\d+$/, '') }));
        break;
      case 'ipsec_tunnels':
        snap.areas.ipsec_tunnels = keyed(v('tunnels').filter((t) => t.type === 'IPSec'), (t) => t.name, (t) => ({ state: t.state }));
        break;
      case 'licenses':
        snap.areas.licenses = keyed(v('licenses'), (l) => l.feature, (l) => ({ expires: l.expires, expired: l.expired ? 'yes' : 'no' }));
        break;
      case 'content': {
        const i = v('systemInfo');
        const versions: Record<string, string> = {};
        if (i.appVersion) versions.app = i.appVersion;
        if (i.threatVersion) versions.threat = i.threatVersion;
        if (i.avVersion) versions.antivirus = i.avVersion;
        snap.areas.content = { count: Object.keys(versions).length, entries: Object.fromEntries(Object.entries(versions).map(([k, ver]) => [k, { version: ver }])) };
        break;
      }
    }
  }
  return snap;
}

export interface FieldChange {
  key: string;
  field: string;
  before: string;
  after: string;
}

/** What changed in one area between before and after, and whether the policy allows it. */
export interface AreaDiff {
  area: SnapshotArea;
  severity: 'block' | 'warn';
  ok: boolean;
  before: number;
  after: number;
  /** Count change in % of before (null when before is 0). */
  changePct: number | null;
  missing: string[];
  added: string[];
  changed: FieldChange[];
  /** Why it fails, one line each. */
  problems: string[];
  /** The area could not be compared (not read before or after). */
  unavailable?: string;
}

export interface SnapshotComparison {
  /** No area with severity block failed. */
  ok: boolean;
  areas: AreaDiff[];
}

/** Lists kept in events are capped: a data-centre FIB can lose thousands of entries. */
export const DIFF_LIST_CAP = 50;

const cap = <T>(xs: T[]) => xs.slice(0, DIFF_LIST_CAP);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Compare two snapshots area by area under the policy's rules. Pure. */
export function compareSnapshots(pre: DeviceSnapshot, post: DeviceSnapshot, rules: Record<SnapshotArea, AreaRule>): SnapshotComparison {
  const areas: AreaDiff[] = [];
  for (const area of SNAPSHOT_AREAS) {
    const rule = rules[area];
    if (!rule?.enabled) continue;
    const a = pre.areas[area];
    const b = post.areas[area];
    if (!a || !b) {
      const why = pre.unavailable[area] ?? post.unavailable[area] ?? 'not in both snapshots';
      areas.push({ area, severity: rule.severity, ok: true, before: a?.count ?? 0, after: b?.count ?? 0, changePct: null, missing: [], added: [], changed: [], problems: [], unavailable: why });
      continue;
    }
    // A table too large to keep is compared by its count only.
    const whole = !a.truncated && !b.truncated;
    const missing = whole ? Object.keys(a.entries).filter((k) => !(k in b.entries)) : [];
    const added = whole ? Object.keys(b.entries).filter((k) => !(k in a.entries)) : [];
    const changed: FieldChange[] = [];
    for (const [key, fields] of Object.entries(whole ? a.entries : {})) {
      const after = b.entries[key];
      if (!after) continue;
      for (const [field, value] of Object.entries(fields)) {
        if (after[field] !== undefined && after[field] !== value) changed.push({ key, field, before: value, after: after[field]! });
      }
    }
    const delta = b.count - a.count;
    const changePct = a.count === 0 ? null : Math.round((10_000 * delta) / a.count) / 100;
    const problems: string[] = [];
    if (rule.max_change_pct !== null) {
      const allowed = Math.max(rule.max_change_count, Math.floor((a.count * rule.max_change_pct) / 100));
      if (Math.abs(delta) > allowed) problems.push(`count ${a.count} → ${b.count} (${delta > 0 ? '+' : ''}${delta}${changePct !== null ? `, ${changePct > 0 ? '+' : ''}${changePct}%` : ''}), allowed ±${rule.max_change_pct}%${rule.max_change_count ? ` or ±${rule.max_change_count}` : ''}`);
    }
    if (rule.keep_all && missing.length > 0) problems.push(`${plural(missing.length, 'entry', 'entries')} disappeared: ${cap(missing).slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
    const lostRequired = (whole ? rule.must_keep : []).filter((k) => !Object.keys(b.entries).some((e) => e === k || e.includes(k)));
    if (lostRequired.length > 0) problems.push(`required entr${lostRequired.length === 1 ? 'y' : 'ies'} missing after: ${lostRequired.join(', ')}`);
    if (!rule.allow_state_changes && changed.length > 0) problems.push(`${plural(changed.length, 'state change')}: ${changed.slice(0, 5).map((c) => `${c.key} ${c.field} ${c.before} → ${c.after}`).join(', ')}${changed.length > 5 ? ', …' : ''}`);
    areas.push({ area, severity: rule.severity, ok: problems.length === 0, before: a.count, after: b.count, changePct, missing: cap(missing), added: cap(added), changed: cap(changed), problems });
  }
  return { ok: areas.every((d) => d.ok || d.severity !== 'block'), areas };
}

/** The failed areas, one clause each, for the job's failure reason. */
export function describeRegressions(c: SnapshotComparison): string {
  return c.areas
    .filter((d) => !d.ok && d.severity === 'block')
    .map((d) => `${d.area.replace('_', ' ')}: ${d.problems.join('; ')}`)
    .join('; ');
}

/** A readable diff, one line per area (and per change), for `job checks` and `job status`. */
export function formatComparison(c: SnapshotComparison): string[] {
  const lines: string[] = [];
  for (const d of c.areas) {
    const mark = d.unavailable ? 'n/a ' : d.ok ? 'ok  ' : d.severity === 'block' ? 'FAIL' : 'warn';
    const count = d.unavailable ? `not compared (${d.unavailable})` : `${d.before} → ${d.after}${d.changePct !== null && d.changePct !== 0 ? ` (${d.changePct > 0 ? '+' : ''}${d.changePct}%)` : ''}`;
    lines.push(`${mark} ${d.area.padEnd(13)} ${count}`);
    for (const p of d.problems) lines.push(`       ${p}`);
    if (d.missing.length) lines.push(`       disappeared: ${d.missing.slice(0, 10).join(', ')}${d.missing.length > 10 ? ` (+${d.missing.length - 10})` : ''}`);
    if (d.added.length) lines.push(`       new: ${d.added.slice(0, 10).join(', ')}${d.added.length > 10 ? ` (+${d.added.length - 10})` : ''}`);
    for (const ch of d.changed.slice(0, 10)) lines.push(`       changed: ${ch.key} ${ch.field} ${ch.before} → ${ch.after}`);
  }
  return lines;
}
