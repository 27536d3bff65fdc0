/**
 * Client side: parsers for the read-only commands that readiness checks and snapshots send. The formats
 * are PAN-OS's own, as pan-os-upgrade-assurance's FirewallProxy reads them (its test fixtures are ours in
 * test/panos/fixtures/readiness/). Each parser returns plain data; the checks in checks/ judge it.
 */
import { X509Certificate } from 'node:crypto';
import { boundedMemo } from './bounded-memo.ts';
import { BadResponseError } from './errors.ts';
import { expectSuccess, type PanosAnswer } from './parsers.ts';
import { parseClockText } from './time.ts';
import { attrOf, child, children, isXmlObject, textAt, textOf, type XmlValue } from './xml.ts';

function bad(reason: string): BadResponseError {
  return new BadResponseError('device', reason);
}

const str = (v: unknown, ...path: string[]) => textAt(v, ...path) ?? '';
const opt = (v: unknown, ...path: string[]) => {
  const t = textAt(v, ...path);
  return t === undefined || t === '' ? undefined : t;
};
function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : undefined;
}
/** pan-os-upgrade-assurance's `interpret_yes_no`. */
function yesNo(text: string, what: string): boolean {
  const t = text.trim().toLowerCase();
  if (['yes', 'on', 'true'].includes(t)) return true;
  if (['no', 'off', 'false'].includes(t)) return false;
  throw bad(`${what}: expected yes or no, got ${JSON.stringify(text.trim().slice(0, 40))}`);
}
/** Element children of a node except attributes and text. */
function elementEntries(v: unknown): Array<[string, XmlValue]> {
  if (!isXmlObject(v)) return [];
  return Object.entries(v).filter(([k]) => !k.startsWith('@_') && k !== '#text' && k !== '__cdata') as Array<[string, XmlValue]>;
}
function asList(v: XmlValue | undefined): XmlValue[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

// ---- check pending-changes / check full-commit-required / show system setting jumbo-frame ----

/** `<result>yes</result>` / `no` (also `on` / `off` for the jumbo-frame setting). */
export function parseYesNoResult(xml: PanosAnswer, what = 'the answer'): boolean {
  return yesNo(textOf(expectSuccess(xml)), what);
}

// ---- show panorama-status ----

export interface PanoramaServer {
  index: number;
  address: string;
  connected: boolean;
  haState?: string;
}

export interface PanoramaStatus {
  configured: boolean;
  servers: PanoramaServer[];
}

/** Text blocks `Panorama Server N : addr` / `Connected : yes|no` / `HA state : …`; an empty result means none configured. */
export function parsePanoramaStatus(xml: PanosAnswer): PanoramaStatus {
  const r = expectSuccess(xml);
  if (r !== undefined && isXmlObject(r) && elementEntries(r).length > 0) throw bad('show panorama-status: expected text, got elements');
  const text = textOf(r).trim();
  if (text === '') return { configured: false, servers: [] };
  const servers: PanoramaServer[] = [];
  let cur: PanoramaServer | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*([^:]+?)\s*:\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, key = '', value = ''] = m;
    const server = /^Panorama Server (\d+)$/i.exec(key);
    if (server) {
      cur = { index: Number(server[1]), address: value, connected: false };
      servers.push(cur);
    } else if (cur && /^connected$/i.test(key)) {
      cur.connected = value.toLowerCase() === 'yes';
    } else if (cur && /^ha state$/i.test(key)) {
      cur.haState = value;
    }
  }
  if (servers.length === 0 || !/connected\s*:\s*(yes|no)/i.test(text)) throw bad(`show panorama-status: no "Panorama Server … Connected : yes|no" block in ${JSON.stringify(text.slice(0, 80))}`);
  return { configured: true, servers };
}

// ---- show ntp ----

export interface NtpServer {
  key: string;
  name: string;
  status: string;
  reachable: boolean;
  authenticationType?: string;
}

export interface NtpStatus {
  /** The server synchronised to, or `LOCAL`. */
  synched: string;
  servers: NtpServer[];
}

export function parseNtp(xml: PanosAnswer): NtpStatus {
  const r = expectSuccess(xml);
  const synched = textAt(r, 'synched');
  if (synched === undefined) throw bad('show ntp: no <synched>');
  const servers: NtpServer[] = [];
  for (const [k, v] of elementEntries(r)) {
    if (!k.startsWith('ntp-server')) continue;
    const s: NtpServer = { key: k, name: str(v, 'name'), status: str(v, 'status'), reachable: str(v, 'reachable').toLowerCase() === 'yes' };
    const auth = opt(v, 'authentication-type');
    if (auth) s.authenticationType = auth;
    servers.push(s);
  }
  return { synched, servers };
}

// ---- request license info / request support check ----

export interface License {
  feature: string;
  description: string;
  issued?: string;
  expires: string;
  expired: boolean;
  /** ms since the epoch (UTC midnight), when `expires` is a date; `Never` gives undefined. */
  expiresAtMs?: number;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** `December 31, 2023` → ms (UTC); undefined for `Never` or anything else. */
export function parseLicenseDate(text: string): number | undefined {
  const m = /^\s*([A-Za-z]+)\s+(\d{1,2}),\s*(\d{4})\s*$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!.toLowerCase());
  return month < 0 ? undefined : Date.UTC(Number(m[3]), month, Number(m[2]));
}

/** Throws BadResponseError when the device lists no licenses at all (pan-os-upgrade-assurance: not licensed). */
export function parseLicenses(xml: PanosAnswer): License[] {
  const r = expectSuccess(xml);
  const list = child(r, 'licenses');
  if (list === undefined || list === '') return [];
  return children(list, 'entry').map((e) => {
    const expires = str(e, 'expires');
    const l: License = { feature: str(e, 'feature'), description: str(e, 'description'), expires, expired: str(e, 'expired').toLowerCase() === 'yes' };
    const issued = opt(e, 'issued');
    if (issued) l.issued = issued;
    const at = parseLicenseDate(expires);
    if (at !== undefined) l.expiresAtMs = at;
    return l;
  });
}

export interface SupportInfo {
  expiryDate?: string;
  expiresAtMs?: number;
  level?: string;
  description?: string;
}

export function parseSupportInfo(xml: PanosAnswer): SupportInfo {
  const s = child(child(expectSuccess(xml), 'SupportInfoResponse'), 'Support');
  const info: SupportInfo = {};
  const expiry = opt(s, 'ExpiryDate');
  if (expiry) {
    info.expiryDate = expiry;
    const at = parseLicenseDate(expiry);
    if (at !== undefined) info.expiresAtMs = at;
  }
  const level = opt(s, 'SupportLevel');
  if (level) info.level = level;
  const description = opt(s, 'SupportDescription');
  if (description) info.description = description;
  return info;
}

// ---- show session all ----

export interface SessionEntry {
  source: string;
  destination: string;
  /** The destination after NAT, as pan-os-upgrade-assurance matches it. */
  xdst: string;
  dport: number | undefined;
  proto: string;
  application: string;
  state: string;
  from: string;
  to: string;
}

export function parseSessionsAll(xml: PanosAnswer): SessionEntry[] {
  const r = expectSuccess(xml);
  return children(r, 'entry').map((e) => ({
    source: str(e, 'source'),
    destination: str(e, 'dst'),
    xdst: str(e, 'xdst') || str(e, 'dst'),
    dport: num(opt(e, 'dport')),
    proto: str(e, 'proto'),
    application: str(e, 'application'),
    state: str(e, 'state'),
    from: str(e, 'from'),
    to: str(e, 'to'),
  }));
}

// ---- show running tunnel flow all ----

export interface TunnelEntry {
  /** `IPSec`, `SSL-VPN`, `GlobalProtect-Gateway`, … */
  type: string;
  /** `tunnel` or `tunnel:proxy-id`. */
  name: string;
  state: string;
  peerIp?: string;
  innerIf?: string;
}

export function parseTunnels(xml: PanosAnswer): TunnelEntry[] {
  const r = expectSuccess(xml);
  const out: TunnelEntry[] = [];
  for (const [type, v] of elementEntries(r)) {
    if (!isXmlObject(v) && !Array.isArray(v)) continue;
    for (const e of children(v, 'entry')) {
      const t: TunnelEntry = { type, name: str(e, 'name'), state: str(e, 'state') };
      const peer = opt(e, 'peerip');
      if (peer) t.peerIp = peer;
      const inner = opt(e, 'inner-if');
      if (inner) t.innerIf = inner;
      out.push(t);
    }
  }
  return out;
}

// ---- show routing protocol bgp peer ----

export interface BgpPeer {
  virtualRouter: string;
  peer: string;
  group: string;
  status: string;
  peerAddress: string;
  remoteAs: string;
  /** `vr_group_peer`, as pan-os-upgrade-assurance keys them. */
  key: string;
}

export function parseBgpPeers(xml: PanosAnswer): BgpPeer[] {
  const r = expectSuccess(xml);
  if (r === undefined || r === '') return [];
  if (!isXmlObject(r)) throw bad('show routing protocol bgp peer: malformed result');
  return children(r, 'entry').map((e) => {
    const virtualRouter = attrOf(e, 'vr') ?? '';
    const peer = attrOf(e, 'peer') ?? '';
    const group = str(e, 'peer-group');
    return {
      virtualRouter,
      peer,
      group,
      status: str(e, 'status'),
      peerAddress: str(e, 'peer-address'),
      remoteAs: str(e, 'remote-as'),
      key: [virtualRouter, group, peer].map((s) => s.replace(/ /g, '-')).join('_'),
    };
  });
}

// ---- show routing fib ----

export interface FibEntry {
  virtualRouter: string;
  destination: string;
  interface: string;
  nexthop: string;
  flags: string;
  mtu?: number;
}

/** Every FIB table's entries (one per virtual router and address family). */
export function parseFib(xml: PanosAnswer): FibEntry[] {
  const r = expectSuccess(xml);
  const fibs = child(r, 'fibs');
  if (fibs === undefined) throw bad('show routing fib: no <fibs>');
  const out: FibEntry[] = [];
  for (const table of children(fibs, 'entry')) {
    const vr = str(table, 'vr');
    for (const e of children(child(table, 'entries'), 'entry')) {
      const f: FibEntry = { virtualRouter: vr, destination: str(e, 'dst'), interface: str(e, 'interface'), nexthop: str(e, 'nexthop'), flags: str(e, 'flags') };
      const mtu = num(opt(e, 'mtu'));
      if (mtu !== undefined) f.mtu = mtu;
      out.push(f);
    }
  }
  return out;
}

// ---- show clock / show clock more ----

/** `show clock more`: one `dataplane time: …` line per data plane; the distinct instants, in ms. */
export function parseDataplaneClocks(xml: PanosAnswer): number[] {
  const r = expectSuccess(xml);
  const text = textOf(child(r, 'member') ?? r);
  const times = new Set<number>();
  for (const line of text.split('\n')) {
    const m = /dataplane time:\s*(.+?)\s*$/i.exec(line);
    if (!m) continue;
    const ms = parseClockText(m[1]!);
    if (ms === undefined) throw bad(`show clock more: cannot read ${JSON.stringify(m[1])}`);
    times.add(ms);
  }
  if (times.size === 0) throw bad('show clock more: no "dataplane time" line');
  return [...times];
}

// ---- show config running: certificates ----

export interface CertificateInfo {
  name: string;
  /** `RSA` or `EC` as the config says. */
  algorithm: string;
  commonName?: string;
  notValidAfter?: string;
  /** Read from the PEM in `public-key`, when it parses. */
  keySize?: number;
  /** `sha1`, `sha256`, … from the signature algorithm, when the PEM parses. */
  hash?: string;
}

// Signature-algorithm OIDs (DER-encoded content bytes) → hash. The last match in a certificate is its outer signatureAlgorithm.
const SIG_OIDS: Array<[string, string]> = [
  ['2a864886f70d010104', 'md5'],
  ['2a864886f70d010105', 'sha1'],
  ['2a864886f70d01010e', 'sha224'],
  ['2a864886f70d01010b', 'sha256'],
  ['2a864886f70d01010c', 'sha384'],
  ['2a864886f70d01010d', 'sha512'],
  ['2a8648ce3d040301', 'sha224'],
  ['2a8648ce3d040302', 'sha256'],
  ['2a8648ce3d040303', 'sha384'],
  ['2a8648ce3d040304', 'sha512'],
  ['2a8648ce3d0401', 'sha1'],
];

const detailsOfPem = boundedMemo(1024, (pem: string): Readonly<{ keySize?: number; hash?: string }> => Object.freeze(readCertificateDetails(pem)));

/**
 * Key size and signature hash of a PEM certificate; empty when it does not parse. Each is read once: a
 * device's certificates are read by every readiness check, before and after each upgrade, and parsing one
 * costs some 0.2 ms.
 */
export function certificateDetails(pem: string): { keySize?: number; hash?: string } {
  return { ...detailsOfPem(pem) };
}

function readCertificateDetails(pem: string): { keySize?: number; hash?: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem.replace(/^[ \t]+/gm, ''));
  } catch {
    return {};
  }
  const out: { keySize?: number; hash?: string } = {};
  const d = cert.publicKey.asymmetricKeyDetails;
  if (d?.modulusLength) out.keySize = d.modulusLength;
  else if (d?.namedCurve) out.keySize = { prime256v1: 256, secp384r1: 384, secp521r1: 521 }[d.namedCurve] ?? undefined;
  if (out.keySize === undefined) delete out.keySize;
  const hex = cert.raw.toString('hex');
  let best = -1;
  for (const [oid, hash] of SIG_OIDS) {
    const i = hex.lastIndexOf(`06${(oid.length / 2).toString(16).padStart(2, '0')}${oid}`);
    if (i > best) {
      best = i;
      out.hash = hash;
    }
  }
  return out;
}

export function parseCertificates(xml: PanosAnswer): CertificateInfo[] {
  const r = expectSuccess(xml);
  const shared = child(child(r, 'config'), 'shared');
  return children(child(shared, 'certificate'), 'entry').map((e) => {
    const c: CertificateInfo = { name: attrOf(e, 'name') ?? '', algorithm: str(e, 'algorithm') };
    const cn = opt(e, 'common-name');
    if (cn) c.commonName = cn;
    const nva = opt(e, 'not-valid-after');
    if (nva) c.notValidAfter = nva;
    const pem = opt(e, 'public-key');
    if (pem) Object.assign(c, certificateDetails(pem));
    return c;
  });
}

// ---- type=config get …/deviceconfig/system/update-schedule ----

export interface UpdateSchedule {
  /** `anti-virus`, `threats`, `wildfire`, … */
  name: string;
  /** `daily`, `weekly`, `hourly`, `every-15-mins`, `real-time`, `none`, … */
  recurrence: string;
  /** `HH:MM` (daily, weekly), minute past the hour (hourly, every-N-mins). */
  at?: string;
  dayOfWeek?: string;
  action?: string;
}

/** An empty answer (no schedules configured) gives []. */
export function parseUpdateSchedules(xml: PanosAnswer): UpdateSchedule[] {
  const us = child(expectSuccess(xml), 'update-schedule');
  const out: UpdateSchedule[] = [];
  for (const [name, v] of elementEntries(us)) {
    const recurring = child(v, 'recurring');
    const kinds = elementEntries(recurring).filter(([k]) => !['sync-to-peer', 'threshold', 'new-app-threshold'].includes(k));
    if (kinds.length !== 1) throw bad(`update schedule ${name}: expected one recurrence under <recurring>, found ${kinds.length}`);
    const [recurrence, detail] = kinds[0]!;
    const s: UpdateSchedule = { name, recurrence };
    const at = opt(detail, 'at');
    if (at !== undefined) s.at = at;
    const day = opt(detail, 'day-of-week');
    if (day) s.dayOfWeek = day;
    const action = opt(detail, 'action');
    if (action) s.action = action;
    out.push(s);
  }
  return out;
}

// ---- show system environmentals ----

export interface EnvironmentalEntry {
  component: string;
  slot: string;
  description: string;
  alarm: boolean;
}

export function parseEnvironmentals(xml: PanosAnswer): EnvironmentalEntry[] {
  const r = expectSuccess(xml);
  const out: EnvironmentalEntry[] = [];
  for (const [component, slots] of elementEntries(r)) {
    for (const s of asList(slots)) {
      for (const [slot, v] of elementEntries(s)) {
        for (const e of children(v, 'entry')) {
          out.push({ component, slot, description: str(e, 'description'), alarm: str(e, 'alarm').toLowerCase() === 'true' });
        }
      }
    }
  }
  return out;
}

// ---- show running resource-monitor minute last N ----

/** Per data processor (`dp0`, `s1dp0`), per core, the per-minute load values in %. */
export type DataplaneCpu = Record<string, Record<string, number[]>>;

export function parseDataplaneCpu(xml: PanosAnswer): DataplaneCpu {
  const r = expectSuccess(xml);
  const dps = child(child(r, 'resource-monitor'), 'data-processors');
  const out: DataplaneCpu = {};
  const entries = elementEntries(dps);
  if (entries.length === 0) throw bad('show running resource-monitor: no <data-processors>');
  for (const [dp, v] of entries) {
    const cores: Record<string, number[]> = {};
    const load = child(child(v, 'minute'), 'cpu-load-average');
    for (const e of children(load, 'entry')) {
      cores[str(e, 'coreid')] = str(e, 'value')
        .split(',')
        .map((x) => Number(x.trim()))
        .filter((x) => Number.isFinite(x));
    }
    if (Object.keys(cores).length === 0) throw bad(`show running resource-monitor: no cpu-load-average for ${dp}`);
    out[dp] = cores;
  }
  return out;
}

/** Mean of every sample of every core. */
export function meanDataplaneCpu(cpu: DataplaneCpu): number | undefined {
  let sum = 0;
  let n = 0;
  for (const cores of Object.values(cpu)) for (const values of Object.values(cores)) for (const v of values) (sum += v), n++;
  return n === 0 ? undefined : sum / n;
}

// ---- show system state filter sys.monitor.*.mp.exports / sw.dev.interface.config ----

/** Management-plane CPU, 1-minute average in %, from `'cpu': { '1minavg': 3, }`. */
export function parseManagementCpu(xml: PanosAnswer): number {
  const text = textOf(expectSuccess(xml));
  if (/NO_MATCHES/.test(text)) throw bad('show system state sys.monitor.*.mp.exports: NO_MATCHES');
  const m = /'cpu':\s*\{[^}]*?'1minavg':\s*(\d+(?:\.\d+)?)/.exec(text);
  if (!m) throw bad('show system state sys.monitor.*.mp.exports: no cpu 1minavg');
  return Number(m[1]);
}

/** Interface name → MTU (undefined when the state lists none), parent interfaces only. */
export function parseInterfaceMtus(xml: PanosAnswer): Record<string, number | undefined> {
  const text = textOf(expectSuccess(xml));
  const body = /sw\.dev\.interface\.config:\s*\{([\s\S]*)\}/.exec(text);
  if (!body) throw bad('show system state sw.dev.interface.config: no data');
  const out: Record<string, number | undefined> = {};
  for (const m of body[1]!.matchAll(/'([^']+)':\s*\{([^{}]*)\}/g)) {
    const name = m[1]!;
    if (name.includes('.')) continue;
    const mtu = /'mtu':\s*(\d+)/.exec(m[2]!);
    out[name] = mtu ? Number(mtu[1]) : undefined;
  }
  return out;
}

// ---- show system resources ----

export interface ManagementMemory {
  totalMib: number;
  freeMib: number;
  usedMib: number;
  buffCacheMib: number;
}

/** The `MiB Mem :` line of top's output. */
export function parseManagementMemory(xml: PanosAnswer): ManagementMemory {
  const text = textOf(expectSuccess(xml));
  const line = text.split('\n').find((l) => /mib mem/i.test(l));
  if (!line) throw bad('show system resources: no "MiB Mem" line');
  const get = (k: string) => {
    const m = new RegExp(`([0-9.]+)\\s+${k.replace('/', '\\/')}`).exec(line);
    if (!m) throw bad(`show system resources: no ${k} in the MiB Mem line`);
    return Number(m[1]);
  };
  return { totalMib: get('total'), freeMib: get('free'), usedMib: get('used'), buffCacheMib: get('buff/cache') };
}

// ---- show config-locks / show commit-locks ----

export interface LockEntry {
  owner: string;
  type?: string;
  location?: string;
  created?: string;
  comment?: string;
}

/** `<config-locks>` or `<commit-locks>` entries; none gives []. */
export function parseLocks(xml: PanosAnswer): LockEntry[] {
  const r = expectSuccess(xml);
  const list = child(r, 'config-locks') ?? child(r, 'commit-locks');
  return children(list, 'entry').map((e) => {
    const l: LockEntry = { owner: attrOf(e, 'name') ?? '' };
    const fields = { type: opt(e, 'type'), location: opt(e, 'name'), created: opt(e, 'created'), comment: opt(e, 'comment') };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) Object.assign(l, { [k]: v });
    return l;
  });
}

// ---- show interface hardware / show interface all ----

export interface InterfaceState {
  name: string;
  state: string;
  speed: string;
  duplex?: string;
  mtu?: number;
}

/** `show interface "hardware"` (`<hw><entry>`), or the `<hw>` part of `show interface all`. */
export function parseInterfacesHardware(xml: PanosAnswer): InterfaceState[] {
  const r = expectSuccess(xml);
  const hw = child(r, 'hw');
  if (hw === undefined) throw bad('show interface hardware: no <hw>');
  return children(hw, 'entry').map((e) => {
    const i: InterfaceState = { name: str(e, 'name'), state: str(e, 'state'), speed: str(e, 'speed') };
    const duplex = opt(e, 'duplex');
    if (duplex) i.duplex = duplex;
    const mtu = num(opt(e, 'mtu'));
    if (mtu !== undefined) i.mtu = mtu;
    return i;
  });
}
