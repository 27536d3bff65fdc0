/**
 * Client side: turn PAN-OS XML API answers into plain objects. Tolerant of the variants real devices
 * produce (single-quoted envelopes, CDATA or plain lines, one entry or many), strict about non-XML.
 */
import { BadResponseError, PanosApiError, PanosAuthError } from './errors.ts';
import { parseUptime } from './model.ts';
import { parseClockText } from './time.ts';
import { ATTR_PREFIX, XmlSyntaxError, at, attrOf, child, children, isXmlObject, parseXml, textAt, textOf, type XmlObject, type XmlValue } from './xml.ts';

/** Element paths that are lists, so one entry still parses as an array. */
export const RESPONSE_ARRAY_PATHS: ReadonlySet<string> = new Set([
  'response.msg.line',
  'response.result.msg.line',
  'response.result.job',
  'response.result.job.details.line',
  'response.result.job.warnings.line',
  'response.result.entry',
  'response.result.entries.entry',
  'response.result.sw-updates.versions.entry',
  'response.result.content-updates.entry',
  'response.result.devices.entry',
  'response.result.devices.entry.vsys.entry',
  'response.result.system.plugin_versions.entry',
]);

// Parsers do not know which device answered; the HTTP client may rethrow with the real target.
const WHO = 'device';

function bad(reason: string): BadResponseError {
  return new BadResponseError(WHO, reason);
}

// ---- envelope ----

export interface PanosResponse {
  status: 'success' | 'error';
  code?: string;
  /** The parsed `<result>` node, when there is one. */
  result: XmlValue | undefined;
  /** Message lines, searched in pan-python's order (§0). */
  lines: string[];
  /** The whole parsed `<response>` element. */
  response: XmlObject;
}

/** Message lines in pan-python `__get_response_msg` order: msg/line, result/msg/line, result/msg, msg, job details. */
function responseLines(resp: XmlObject): string[] {
  // type=user-id: ./msg/line/uid-response/payload/*/entry, each entry's attributes as "name: value".
  const payload = at(resp, 'msg', 'line', 'uid-response', 'payload');
  if (isXmlObject(payload)) {
    const out: string[] = [];
    for (const [name, group] of Object.entries(payload)) {
      if (name.startsWith(ATTR_PREFIX)) continue;
      for (const g of Array.isArray(group) ? group : [group]) {
        for (const e of children(g, 'entry')) {
          if (!isXmlObject(e)) continue;
          const msg = Object.entries(e)
            .filter(([a]) => a.startsWith(ATTR_PREFIX))
            .map(([a, v]) => `${a.slice(ATTR_PREFIX.length)}: ${textOf(v)}`)
            .join(' ');
          if (msg) out.push(msg);
        }
      }
    }
    if (out.length) return out;
  }
  const msgLines = children(child(resp, 'msg'), 'line');
  if (msgLines.length) {
    return msgLines
      .map((l) => {
        const t = textOf(l);
        return t !== '' ? t : textOf(child(l, 'line'));
      })
      .filter((t) => t !== '');
  }
  const result = child(resp, 'result');
  const resultLines = children(child(result, 'msg'), 'line');
  if (resultLines.length) return resultLines.map(textOf).filter((t) => t !== '');
  const resultMsg = child(result, 'msg');
  if (resultMsg !== undefined) return textOf(resultMsg) !== '' ? [textOf(resultMsg)] : [];
  const msg = child(resp, 'msg');
  if (msg !== undefined) return textOf(msg) !== '' ? [textOf(msg)] : [];
  const details = jobDetailLines(child(child(result, 'job'), 'details'));
  return details;
}

/**
 * What every parser below accepts: the raw body of an answer, or the envelope `parseResponse` already
 * made of it (the HTTP client parses each answer once to check its status, and hands that on).
 */
export type PanosAnswer = string | PanosResponse;

/**
 * Parse any API answer. Throws BadResponseError for an empty body, HTML, other non-XML text, or
 * XML without a `<response>` root — what a rebooting device's web server produces (§11).
 * An already parsed envelope is returned as it is.
 */
export function parseResponse(xml: PanosAnswer): PanosResponse {
  if (typeof xml !== 'string') return xml;
  const text = xml.trim();
  if (text === '') throw bad('an empty body');
  if (/^<!doctype\s+html|^<html[\s>]/i.test(text)) throw bad('HTML instead of XML');
  if (!text.startsWith('<')) throw bad(`non-XML text ${JSON.stringify(text.slice(0, 40))}`);
  let doc: XmlObject;
  try {
    doc = parseXml(text, RESPONSE_ARRAY_PATHS);
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw bad(`malformed XML (${err.message})`);
    throw err;
  }
  const resp = doc['response'];
  if (!isXmlObject(resp) && resp !== '') throw bad('XML without a <response> element');
  const r: XmlObject = isXmlObject(resp) ? resp : {};
  // pan-python: a missing status is not success.
  const status = attrOf(r, 'status') === 'success' ? 'success' : 'error';
  const code = attrOf(r, 'code');
  return { status, ...(code !== undefined ? { code } : {}), result: r['result'], lines: responseLines(r), response: r };
}

function toError(res: PanosResponse): Error {
  if (res.code === '403' || res.lines.some((l) => /^invalid credential/i.test(l.trim()))) {
    return new PanosAuthError(res.lines[0]?.trim() || undefined);
  }
  return new PanosApiError(res.code, res.lines);
}

/** The `<result>` of a success answer; throws PanosAuthError (403) or PanosApiError otherwise. */
export function expectSuccess(xml: PanosAnswer): XmlValue | undefined {
  const res = parseResponse(xml);
  if (res.status !== 'success') throw toError(res);
  return res.result;
}

/** The `<result>` of a success answer, which must be present. */
function resultOf(xml: PanosAnswer, what: string): XmlValue {
  const r = expectSuccess(xml);
  if (r === undefined) throw bad(`a ${what} answer without <result>`);
  return r;
}

// ---- small readers ----

const str = (v: unknown, ...path: string[]) => textAt(v, ...path) ?? '';
const opt = (v: unknown, ...path: string[]) => {
  const t = textAt(v, ...path);
  return t === undefined || t === '' ? undefined : t;
};
function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^-?\d+(\.\d+)?$/.test(t)) return undefined;
  return Number(t);
}
const yes = (v: unknown, ...path: string[]) => str(v, ...path).toLowerCase() === 'yes';
const onOrYes = (t: string) => ['on', 'yes', 'true'].includes(t.toLowerCase());

/** For when the node must exist. */
function need(v: XmlValue | undefined, what: string): XmlValue {
  if (v === undefined) throw bad(`a response without ${what}`);
  return v;
}

// ---- keygen ----

export function parseKeygen(xml: PanosAnswer): string {
  const key = str(resultOf(xml, 'keygen'), 'key');
  if (key === '') throw bad('a keygen answer without <key>');
  return key;
}

// ---- §2 system info ----

export interface SystemInfo {
  hostname: string;
  ipAddress: string;
  netmask?: string;
  defaultGateway?: string;
  macAddress?: string;
  model: string;
  family: string;
  serial: string;
  swVersion: string;
  appVersion?: string;
  threatVersion?: string;
  avVersion?: string;
  /** `N days, H:MM:SS` as printed. */
  uptime: string;
  uptimeSeconds?: number;
  /** `<time>`, trimmed. */
  time?: string;
  multiVsys: boolean;
  advancedRouting: boolean;
  operationalMode?: string;
  /** pan-os-python's rule: model `Panorama` or `M-*`. */
  isPanorama: boolean;
}

export function parseSystemInfo(xml: PanosAnswer): SystemInfo {
  const s = need(child(resultOf(xml, 'show system info'), 'system'), '<system>');
  const model = str(s, 'model');
  const uptime = str(s, 'uptime');
  const info: SystemInfo = {
    hostname: str(s, 'hostname'),
    ipAddress: str(s, 'ip-address'),
    model,
    family: str(s, 'family'),
    serial: str(s, 'serial'),
    swVersion: str(s, 'sw-version'),
    uptime,
    multiVsys: onOrYes(str(s, 'multi-vsys')),
    advancedRouting: onOrYes(str(s, 'advanced-routing')),
    isPanorama: model === 'Panorama' || model.startsWith('M-'),
  };
  const optional = {
    netmask: opt(s, 'netmask'),
    defaultGateway: opt(s, 'default-gateway'),
    macAddress: opt(s, 'mac-address'),
    appVersion: opt(s, 'app-version'),
    threatVersion: opt(s, 'threat-version'),
    avVersion: opt(s, 'av-version'),
    uptimeSeconds: parseUptime(uptime),
    time: opt(s, 'time'),
    operationalMode: opt(s, 'operational-mode'),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(info, { [k]: v });
  return info;
}

// ---- §3 HA ----

export interface HaMemberInfo {
  state: string;
  stateDuration?: number;
  /** Numeric on firewalls; Panorama says `primary` / `secondary` (see priorityText). */
  priority?: number;
  priorityText: string;
  preemptive?: boolean;
  buildRel?: string;
  buildCompat?: string;
  appVersion?: string;
  mgmtIp?: string;
  stateSync?: string;
  /** Peer only: `up` / `down`. */
  connStatus?: string;
  lastErrorReason?: string;
  lastErrorState?: string;
}

export interface HaState {
  enabled: boolean;
  /** True for Panorama's form (no `<group>`). */
  panorama: boolean;
  mode?: string;
  local?: HaMemberInfo;
  peer?: HaMemberInfo;
  runningSync?: string;
  runningSyncEnabled?: boolean;
}

function member(n: XmlValue | undefined): HaMemberInfo | undefined {
  if (n === undefined) return undefined;
  const priorityText = str(n, 'priority');
  const m: HaMemberInfo = { state: str(n, 'state'), priorityText };
  const fields: Partial<HaMemberInfo> = {
    stateDuration: num(opt(n, 'state-duration')),
    priority: num(priorityText),
    preemptive: opt(n, 'preemptive') !== undefined ? yes(n, 'preemptive') : undefined,
    buildRel: opt(n, 'build-rel'),
    buildCompat: opt(n, 'build-compat'),
    appVersion: opt(n, 'app-version'),
    mgmtIp: opt(n, 'mgmt-ip'),
    stateSync: opt(n, 'state-sync'),
    connStatus: opt(n, 'conn-status'),
    lastErrorReason: opt(n, 'last-error-reason'),
    lastErrorState: opt(n, 'last-error-state'),
  };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) Object.assign(m, { [k]: v });
  return m;
}

/** Firewall (`result/group/…`) and Panorama (`result/local-info`) forms; HA off when `enabled` is missing or `no`. */
export function parseHaState(xml: PanosAnswer): HaState {
  const r = resultOf(xml, 'show high-availability state');
  if (!yes(r, 'enabled')) return { enabled: false, panorama: false };
  const group = child(r, 'group');
  const g = group ?? r;
  const state: HaState = { enabled: true, panorama: group === undefined };
  const mode = opt(g, 'mode');
  if (mode !== undefined) state.mode = mode;
  const local = member(child(g, 'local-info'));
  if (local) state.local = local;
  const peer = member(child(g, 'peer-info'));
  if (peer) state.peer = peer;
  const rs = opt(g, 'running-sync');
  if (rs !== undefined) state.runningSync = rs;
  if (opt(g, 'running-sync-enabled') !== undefined) state.runningSyncEnabled = yes(g, 'running-sync-enabled');
  return state;
}

/** `Successfully changed HA state to suspended|functional`. */
export function parseHaResultText(xml: PanosAnswer): { text: string; state?: 'suspended' | 'functional' } {
  const text = textOf(expectSuccess(xml)).trim();
  const m = /changed HA state to (suspended|functional)/i.exec(text);
  return m ? { text, state: m[1]!.toLowerCase() as 'suspended' | 'functional' } : { text };
}

// ---- §4 sessions ----

export interface SessionInfo {
  numMax: number;
  numActive: number;
  numTcp: number;
  numUdp: number;
  numIcmp: number;
  numInstalled: number;
  cps: number;
  kbps: number;
  pps: number;
  /** Every numeric field by its element name, as pan-os-upgrade-assurance keeps them. */
  all: Record<string, number>;
}

export function parseSessionInfo(xml: PanosAnswer): SessionInfo {
  const r = resultOf(xml, 'show session info');
  const all: Record<string, number> = {};
  if (isXmlObject(r)) {
    for (const [k, v] of Object.entries(r)) {
      const n = typeof v === 'string' ? num(v) : undefined;
      if (n !== undefined) all[k] = n;
    }
  }
  const g = (k: string) => all[k] ?? 0;
  return {
    numMax: g('num-max'),
    numActive: g('num-active'),
    numTcp: g('num-tcp'),
    numUdp: g('num-udp'),
    numIcmp: g('num-icmp'),
    numInstalled: g('num-installed'),
    cps: g('cps'),
    kbps: g('kbps'),
    pps: g('pps'),
    all,
  };
}

// ---- §5 routes and ARP ----

export interface RouteEntry {
  virtualRouter: string;
  destination: string;
  nexthop: string;
  metric?: number;
  /** Trimmed, e.g. `A S`. */
  flags: string;
  age?: number;
  interface: string;
  routeTable: string;
}

export function parseRoutes(xml: PanosAnswer): { count: number; entries: RouteEntry[] } {
  const r = expectSuccess(xml);
  const entries = children(r, 'entry').map((e) => {
    const route: RouteEntry = {
      virtualRouter: str(e, 'virtual-router'),
      destination: str(e, 'destination'),
      nexthop: str(e, 'nexthop'),
      flags: str(e, 'flags'),
      interface: str(e, 'interface'),
      routeTable: str(e, 'route-table'),
    };
    const metric = num(opt(e, 'metric'));
    if (metric !== undefined) route.metric = metric;
    const age = num(opt(e, 'age'));
    if (age !== undefined) route.age = age;
    return route;
  });
  return { count: entries.length, entries };
}

export interface RoutingSummary {
  total: number;
  active: number;
  limit?: number;
  /** Names of the per-virtual-router entries. */
  virtualRouters: string[];
}

/** Totals from the unnamed `<entry>`'s `All-Routes`. */
export function parseRoutingSummary(xml: PanosAnswer): RoutingSummary {
  const entries = children(expectSuccess(xml), 'entry');
  const global = entries.find((e) => attrOf(e, 'name') === undefined);
  const summary: RoutingSummary = {
    total: num(opt(global, 'All-Routes', 'total')) ?? 0,
    active: num(opt(global, 'All-Routes', 'active')) ?? 0,
    virtualRouters: entries.map((e) => attrOf(e, 'name')).filter((n): n is string => n !== undefined),
  };
  const limit = num(opt(global, 'All-Routes', 'limit'));
  if (limit !== undefined) summary.limit = limit;
  return summary;
}

export interface ArpEntry {
  interface: string;
  ip: string;
  mac: string;
  port: string;
  /** Trimmed status letter, `c` = complete. */
  status: string;
  ttl?: number;
}

export interface ArpTable {
  dp?: string;
  timeout?: number;
  total: number;
  max?: number;
  entries: ArpEntry[];
}

export function parseArp(xml: PanosAnswer): ArpTable {
  const r = expectSuccess(xml);
  const entries = children(child(r, 'entries'), 'entry').map((e) => {
    const a: ArpEntry = {
      interface: str(e, 'interface'),
      ip: str(e, 'ip'),
      mac: str(e, 'mac'),
      port: str(e, 'port'),
      status: str(e, 'status'),
    };
    const ttl = num(opt(e, 'ttl'));
    if (ttl !== undefined) a.ttl = ttl;
    return a;
  });
  const table: ArpTable = { total: num(opt(r, 'total')) ?? entries.length, entries };
  const dp = opt(r, 'dp');
  if (dp !== undefined) table.dp = dp;
  const timeout = num(opt(r, 'timeout'));
  if (timeout !== undefined) table.timeout = timeout;
  const max = num(opt(r, 'max'));
  if (max !== undefined) table.max = max;
  return table;
}

// ---- §6 disk space ----

export interface DiskRow {
  filesystem: string;
  sizeMb: number;
  usedMb: number;
  availMb: number;
  usePercent?: number;
  mount: string;
}

const DF_SCALE: Record<string, number> = { '': 1 / (1024 * 1024), K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024, P: 1024 * 1024 * 1024 };

/** A `df -h` size in MB: `7.9G`, `76K`, `12M`, `1.2T`; a bare number is bytes. Undefined if unreadable. */
export function parseDfSize(token: string): number | undefined {
  const m = /^(\d+(?:[.,]\d+)?)([KMGTP]?)i?B?$/i.exec(token.trim());
  if (!m) return undefined;
  return Number(m[1]!.replace(',', '.')) * (DF_SCALE[m[2]!.toUpperCase()] ?? 1);
}

/** Rows of the `df -h` text; a filesystem name on a line of its own is joined with the next line. */
export function parseDiskSpace(xml: PanosAnswer): DiskRow[] {
  const text = textOf(expectSuccess(xml));
  const rows: DiskRow[] = [];
  let carry: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^Filesystem\s/i.test(line)) continue;
    const tokens = (carry !== undefined ? `${carry} ${line}` : line).split(/\s+/);
    if (tokens.length === 1) {
      carry = tokens[0];
      continue;
    }
    carry = undefined;
    if (tokens.length < 6) continue;
    const [fs = '', size = '', used = '', avail = '', use = ''] = tokens;
    const sizeMb = parseDfSize(size);
    const usedMb = parseDfSize(used);
    const availMb = parseDfSize(avail);
    if (sizeMb === undefined || usedMb === undefined || availMb === undefined) continue;
    const row: DiskRow = { filesystem: fs, sizeMb, usedMb, availMb, mount: tokens.slice(5).join(' ') };
    const pct = num(use.replace('%', ''));
    if (pct !== undefined) row.usePercent = pct;
    rows.push(row);
  }
  return rows;
}

/** Free MB on a mount point. */
export function availMb(rows: readonly DiskRow[], mount: string): number | undefined {
  return rows.find((r) => r.mount === mount)?.availMb;
}

/** Free MB on `/opt/panrepo`, where images are downloaded (§6). */
export function panrepoAvailMb(rows: readonly DiskRow[]): number | undefined {
  return availMb(rows, '/opt/panrepo');
}

// ---- §7 software and content ----

export interface SoftwareEntry {
  version: string;
  filename: string;
  sizeMb: number;
  sizeKb?: number;
  releasedOn: string;
  downloaded: boolean;
  /** cdot65 tolerates a literal `downloading` value [unconfirmed whether PAN-OS emits it]. */
  downloading: boolean;
  current: boolean;
  latest: boolean;
  uploaded: boolean;
}

export interface SoftwareInfo {
  /** The `current=yes` entry's version. */
  current?: string;
  lastUpdatedAt?: string;
  entries: SoftwareEntry[];
}

export function parseSoftwareInfo(xml: PanosAnswer): SoftwareInfo {
  const updates = need(child(resultOf(xml, 'software info'), 'sw-updates'), '<sw-updates>');
  const entries = children(child(updates, 'versions'), 'entry').map((e) => {
    const dl = str(e, 'downloaded').toLowerCase();
    const entry: SoftwareEntry = {
      version: str(e, 'version'),
      filename: str(e, 'filename'),
      sizeMb: num(opt(e, 'size')) ?? 0,
      releasedOn: str(e, 'released-on'),
      downloaded: dl === 'yes',
      downloading: dl === 'downloading',
      current: yes(e, 'current'),
      latest: yes(e, 'latest'),
      uploaded: yes(e, 'uploaded'),
    };
    const kb = num(opt(e, 'size-kb'));
    if (kb !== undefined) entry.sizeKb = kb;
    return entry;
  });
  const info: SoftwareInfo = { entries };
  const current = entries.find((e) => e.current)?.version;
  if (current !== undefined) info.current = current;
  const lu = attrOf(updates, 'last-updated-at');
  if (lu !== undefined) info.lastUpdatedAt = lu;
  return info;
}

export interface ContentEntry {
  version: string;
  appVersion: string;
  filename: string;
  sizeMb: number;
  releasedOn: string;
  downloaded: boolean;
  current: boolean;
  previous: boolean;
  installing: boolean;
}

export function parseContentInfo(xml: PanosAnswer): { current?: string; entries: ContentEntry[] } {
  const updates = need(child(resultOf(xml, 'content info'), 'content-updates'), '<content-updates>');
  const entries = children(updates, 'entry').map((e) => ({
    version: str(e, 'version'),
    appVersion: str(e, 'app-version') || str(e, 'version'),
    filename: str(e, 'filename'),
    sizeMb: num(opt(e, 'size')) ?? 0,
    releasedOn: str(e, 'released-on'),
    downloaded: yes(e, 'downloaded'),
    current: yes(e, 'current'),
    previous: yes(e, 'previous'),
    installing: yes(e, 'installing'),
  }));
  const current = entries.find((e) => e.current)?.version;
  return current !== undefined ? { current, entries } : { entries };
}

// ---- §8–§10 jobs ----

/** `result/job` of a code-19 answer (download, install, content). */
export function parseJobEnqueued(xml: PanosAnswer): { jobId: number; lines: string[] } {
  const res = parseResponse(xml);
  if (res.status !== 'success') throw toError(res);
  const jobId = num(opt(res.result, 'job'));
  if (jobId === undefined) throw bad('an enqueue answer without <job>');
  return { jobId, lines: res.lines };
}

export interface ParsedJob {
  /** Missing on some system entries of `show jobs all` (e.g. type Failed-Job). */
  id?: number;
  type: string;
  status: string;
  result: string;
  /** Percent while running; 100 once FIN even when PAN-OS prints a timestamp instead. */
  progress?: number;
  user: string;
  tenq?: string;
  tdeq?: string;
  /** `Still Active` while running. */
  tfin?: string;
  stoppable: boolean;
  description: string;
  details: string[];
  warnings: string[];
  finished: boolean;
  ok: boolean;
}

/** `details/line` texts, including `<line><newjob><newmsg>` and commit `<msg><errors><line>` nesting. */
function jobDetailLines(details: XmlValue | undefined): string[] {
  if (details === undefined) return [];
  const out: string[] = [];
  for (const l of children(details, 'line')) {
    const t = textOf(l).trim();
    if (t !== '') out.push(t);
    else {
      const nested = textOf(at(l, 'newjob', 'newmsg')).trim();
      if (nested !== '') out.push(nested);
    }
  }
  for (const l of children(at(details, 'msg', 'errors'), 'line')) {
    const t = textOf(l).trim();
    if (t !== '') out.push(t);
  }
  if (out.length === 0 && typeof details === 'string' && details.trim() !== '') out.push(details.trim());
  return out;
}

function jobFrom(j: XmlValue): ParsedJob {
  const status = str(j, 'status');
  const finished = status === 'FIN';
  const result = str(j, 'result');
  const progressText = str(j, 'progress');
  const job: ParsedJob = {
    type: str(j, 'type'),
    status,
    result,
    user: str(j, 'user') || str(j, 'admin'),
    stoppable: yes(j, 'stoppable'),
    description: str(j, 'description'),
    details: jobDetailLines(child(j, 'details')),
    warnings: children(child(j, 'warnings'), 'line')
      .map((l) => textOf(l).trim())
      .filter((t) => t !== ''),
    finished,
    ok: finished && result === 'OK',
  };
  const id = num(opt(j, 'id'));
  if (id !== undefined) job.id = id;
  const progress = num(progressText) ?? (finished ? 100 : undefined);
  if (progress !== undefined) job.progress = progress;
  for (const k of ['tenq', 'tdeq', 'tfin'] as const) {
    const v = opt(j, k);
    if (v !== undefined) job[k] = v;
  }
  return job;
}

export function parseJob(xml: PanosAnswer): ParsedJob {
  const j = children(resultOf(xml, 'show jobs id'), 'job')[0];
  if (j === undefined) throw bad('a show jobs answer without <job>');
  return jobFrom(j);
}

/** `show jobs all`, in the order given (newest first on PAN-OS); `[]` for `<result/>`. */
export function parseJobsAll(xml: PanosAnswer): ParsedJob[] {
  return children(expectSuccess(xml), 'job').map(jobFrom);
}

// ---- §11 restart and readiness ----

export const RESTART_TEXT = 'Command succeeded with no output';

/** Accepts the success form and the older status="error" form of "Command succeeded with no output". */
export function parseRestartResponse(xml: PanosAnswer): string {
  const res = parseResponse(xml);
  if (res.status === 'success') return textOf(res.result).trim() || res.lines[0] || RESTART_TEXT;
  if (res.lines.some((l) => l.trim().startsWith(RESTART_TEXT))) return RESTART_TEXT;
  throw toError(res);
}

/** `show chassis-ready`: true when the result text is `yes`. */
export function parseChassisReady(xml: PanosAnswer): boolean {
  return textOf(expectSuccess(xml)).trim().toLowerCase() === 'yes';
}

export function parseClock(xml: PanosAnswer): { text: string; epochMs?: number } {
  const text = textOf(expectSuccess(xml)).trim();
  const epochMs = parseClockText(text);
  return epochMs !== undefined ? { text, epochMs } : { text };
}

/** `show system software status`: the lines, and the process names reported as not running. */
export function parseSoftwareStatus(xml: PanosAnswer): { lines: string[]; notRunning: string[] } {
  const lines = textOf(expectSuccess(xml))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const notRunning = lines
    .map((l) => /^(?:Process|Group)\s+(\S+).*\bnot running\b/i.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
  return { lines, notRunning };
}

// ---- §12 Panorama ----

export interface ManagedDevice {
  serial: string;
  hostname: string;
  ipAddress: string;
  model: string;
  family: string;
  /** Empty for a pre-registered device that never connected. */
  swVersion: string;
  appVersion: string;
  connected: boolean;
  unsupportedVersion: boolean;
  multiVsys: boolean;
  haState?: string;
  haPeerSerial?: string;
  uptime?: string;
  uptimeSeconds?: number;
}

export function parseDevices(xml: PanosAnswer): ManagedDevice[] {
  return children(child(expectSuccess(xml), 'devices'), 'entry').map((e) => {
    const d: ManagedDevice = {
      serial: str(e, 'serial') || (attrOf(e, 'name') ?? ''),
      hostname: str(e, 'hostname'),
      ipAddress: str(e, 'ip-address'),
      model: str(e, 'model'),
      family: str(e, 'family'),
      swVersion: str(e, 'sw-version'),
      appVersion: str(e, 'app-version'),
      connected: yes(e, 'connected'),
      unsupportedVersion: yes(e, 'unsupported-version'),
      multiVsys: yes(e, 'multi-vsys'),
    };
    const ha = child(e, 'ha');
    if (ha !== undefined) {
      const state = opt(ha, 'state');
      if (state !== undefined) d.haState = state;
      // 10.x capture: peer is a sibling of state; pan-os-python's path has it under state.
      const peer = opt(ha, 'peer', 'serial') ?? opt(ha, 'state', 'peer', 'serial');
      if (peer !== undefined) d.haPeerSerial = peer;
    }
    const uptime = opt(e, 'uptime');
    if (uptime !== undefined) {
      d.uptime = uptime;
      const s = parseUptime(uptime);
      if (s !== undefined) d.uptimeSeconds = s;
    }
    return d;
  });
}

/**
 * Panorama `show devicegroups`: each firewall's device group, serial → group name (the shape pan-os-python's
 * `refresh_devices` reads: `devicegroups/entry[@name]/devices/entry` with a `serial` child or the entry's name).
 * A firewall in no group is absent from the map.
 */
export function parseDeviceGroups(xml: PanosAnswer): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of children(child(expectSuccess(xml), 'devicegroups'), 'entry')) {
    const name = attrOf(g, 'name');
    if (name === undefined || name === '') continue;
    for (const d of children(child(g, 'devices'), 'entry')) {
      const serial = str(d, 'serial') || (attrOf(d, 'name') ?? '');
      if (serial !== '' && !out.has(serial)) out.set(serial, name);
    }
  }
  return out;
}

// ---- error classification ----

/** Code 17 `… is unexpected`: the device does not know the command (e.g. `show devices` on a firewall). */
export function isUnexpectedCommandError(err: unknown): boolean {
  return err instanceof PanosApiError && err.panosCode === '17' && err.lines.some((l) => /is unexpected/.test(l));
}

/** Panorama refused a `target=` call because the firewall is unknown or disconnected. */
export function isTargetNotConnectedError(err: unknown): boolean {
  return err instanceof PanosApiError && err.lines.some((l) => /not connected/i.test(l));
}

/** `job N not found`. */
export function isJobNotFoundError(err: unknown): boolean {
  return err instanceof PanosApiError && err.lines.some((l) => /^job \S+ not found/.test(l.trim()));
}
