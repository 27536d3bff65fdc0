import type { JobSnapshot } from '../machines/upgrade-job.events.ts';
import type { EventEnvelope } from '../eventstore/index.ts';
import { Document } from 'yaml';
import { isIP } from 'node:net';
import { API_CALL_RECORDED, API_CALLS_RECORDED } from '../eventstore/index.ts';
import {
  parseArp,
  parseChassisReady,
  parseContentInfo,
  parseDevices,
  parseDiskSpace,
  parseHaState,
  parseJob,
  parseJobEnqueued,
  parseJobsAll,
  parseResponse,
  parseRoutes,
  parseSessionInfo,
  parseSoftwareInfo,
  parseSystemInfo,
  type ParsedJob,
} from '../panos/parsers.ts';
import { PanosUpgradeError } from '../panos/errors.ts';
import { rebootBudgetFor } from '../panos/reboot-wait.ts';
import type { DiscoveredDevice } from '../actors/inventory.ts';
import { parseScenario } from '../scenarios/index.ts';
import { commandOf, requireRun, type ReplaySource } from './replay.ts';

/** The api key written into a recorded scenario: recordings never hold secrets. */
export const API_KEY_PLACEHOLDER = 'REPLACE-WITH-YOUR-LAB-KEY';

export class NothingRecordedError extends PanosUpgradeError {
  constructor(
    readonly runId: string,
    /** The run's role (`simulator`, `chaos`…) when it is not a daemon's. */
    role?: string,
  ) {
    super(
      'NOTHING_RECORDED',
      `run ${runId}${role && role !== 'daemon' ? ` is a ${role} run: it` : ''} has no API calls recorded by a daemon (${API_CALLS_RECORDED} events): record a daemon run against the devices first, and give its run id (panos-upgrade replay list shows each run's role)`,
    );
  }
}

/** One call of an `api.calls.recorded` batch (the XML client's record, without secrets). */
interface Call {
  at: number;
  host: string;
  target?: string;
  command: string;
  durationMs: number;
  outcome: string;
  response?: string;
  kind: string | null;
  version: string | null;
  jobId: number | null;
}

interface Observed {
  serial: string;
  hostname?: string;
  model?: string;
  mgmtIp?: string;
  swVersion?: string;
  connected?: boolean;
  contentVersion?: string;
  availableContent?: string[];
  /** First software list seen: versions offered, and which were downloaded. */
  software?: Array<{ version: string; sizeMb: number; releasedOn: string; downloaded: boolean; current: boolean }>;
  softwareAt?: number;
  tcpSessions?: number;
  udpSessions?: number;
  routes?: number;
  arpEntries?: number;
  disk?: { totalMb: number; availMb: number };
  ha?: { state: string; priority?: number; preemptive?: boolean; peerSerial?: string; peerIp?: string };
}

interface JobSeen {
  serial: string;
  jobId: number;
  /** What was asked: `download`, `install`, `content_download`, `content_install`. */
  operation: string;
  version: string | null;
  enqueuedAt: number;
  /** A download with `sync-to-peer yes`: the HA peer gets the image too. */
  syncToPeer: boolean;
  finishedAt?: number;
  ok?: boolean;
  details?: string[];
}

interface RebootSeen {
  serial: string;
  requestedAt: number;
  expected: string | null;
  /** The uptime (and version) last seen before the restart, and when. */
  before?: { uptimeMs: number; at: number; version?: string };
  /**
   * Seen down: a call failed, Panorama said not connected, the uptime went back, or the version changed
   * (PAN-OS changes it only by booting; a wait that looks only when the device should be back sees that).
   */
  wentDown: boolean;
  /** The first answer after it went down (the version it booted). */
  answeredAt?: number;
  version?: string;
  backAt?: number;
}

const ENQUEUES: Record<string, string> = {
  'request.system.software.download': 'download',
  'request.system.software.install': 'install',
  'request.content.upgrade.download': 'content_download',
  'request.content.upgrade.install': 'content_install',
};

const BUSY = /software manager is currently in use/i;
const DISK = /disk space|no space left/i;
const INSTALL_BOILERPLATE = /^(Failed to install \S+ with the following errors\.|SW version is \S+|Failed to install\s+version\s+\S+\s+type\s+\S+)$/;

function answered(c: Call): boolean {
  return (c.outcome === 'ok' || c.outcome === 'api-error') && typeof c.response === 'string';
}

function tryParse<T>(parse: (xml: string) => T, xml: string | undefined): T | undefined {
  if (xml === undefined) return undefined;
  try {
    return parse(xml);
  } catch {
    return undefined;
  }
}

/**
 * A response the recorder cut at 4000 characters, closed after its last complete `<entry>` so that the
 * parsers read the entries it does hold (and the fields before them, such as ARP's `<total>`).
 */
export function repairTruncatedXml(xml: string): string | undefined {
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)\b[^<>]*?(\/?)>|<!\[CDATA\[[\s\S]*?\]\]>/g;
  const stack: string[] = [];
  let cut: { at: number; open: string[] } | undefined;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    if (m[0].startsWith('<![CDATA[')) continue;
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) {
      if (stack.at(-1) === name) stack.pop();
      if (name === 'entry') cut = { at: m.index + m[0].length, open: [...stack] };
    } else if (!name!.startsWith('?')) {
      stack.push(name!);
    }
  }
  if (stack.length === 0 || !cut) return undefined;
  return xml.slice(0, cut.at) + cut.open.reverse().map((n) => `</${n}>`).join('');
}

/** Parse, and when the body was cut by the recorder, parse what it holds; `truncated` says which. */
function parseLenient<T>(parse: (xml: string) => T, xml: string | undefined): { value: T; truncated: boolean } | undefined {
  const whole = tryParse(parse, xml);
  if (whole !== undefined) return { value: whole, truncated: false };
  const repaired = xml === undefined ? undefined : repairTruncatedXml(xml);
  const part = tryParse(parse, repaired);
  return part === undefined ? undefined : { value: part, truncated: true };
}

function hostIp(host: string): string {
  return host.replace(/^\[/, '').replace(/\](:\d+)?$/, '').replace(/:\d+$/, '');
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

function range(values: readonly number[]): [number, number] | undefined {
  if (values.length === 0) return undefined;
  return [seconds(Math.min(...values)), seconds(Math.max(...values))];
}

/** The reason in a FAIL job's details, without PAN-OS's install boilerplate. */
function failureText(details: readonly string[]): string {
  const lines = details.filter((l) => !INSTALL_BOILERPLATE.test(l.trim()));
  return (lines.length > 0 ? lines : details).join(' ').trim() || 'failed';
}

/** When each device's job failed at its reboot step in this run (job streams the run wrote to). */
function rebootFailuresOf(src: ReplaySource, events: readonly EventEnvelope[]): Map<string, number[]> {
  const failed = new Map<string, number[]>();
  const serialOf = new Map<string, string | undefined>();
  for (const e of events) {
    if (!e.stream.startsWith('job:')) continue;
    const step = (e.data as { step?: unknown } | undefined)?.step;
    if ((e.type !== 'job.step.failed' && e.type !== 'job.failed') || step !== 'reboot') continue;
    if (!serialOf.has(e.stream)) {
      const submitted = src.readStream(e.stream, { toSeq: 1 })[0];
      serialOf.set(e.stream, submitted?.type === 'job.submitted' ? (submitted.data as { device?: { serial?: string } }).device?.serial : undefined);
    }
    const serial = serialOf.get(e.stream);
    if (!serial) continue;
    failed.set(serial, [...(failed.get(serial) ?? []), Date.parse(e.at)]);
  }
  return failed;
}

export interface RecordedScenario {
  /** The scenario in the YAML shape the loader reads (snake_case). */
  document: Record<string, unknown>;
  yaml: string;
  devices: number;
  notes: string[];
}

/**
 * Turn the API calls a run recorded against real devices into a scenario the simulator loads: each
 * device as first seen (version, software list and downloaded images, content, metrics, disk, HA role
 * and peer), the timings observed (download and install jobs from enqueue to FIN, reboots from the
 * restart to the device being back), and the failures observed (FAIL jobs with their error text, busy
 * refusals, reboots that never came back or came back on another version). The API key is a placeholder.
 */
export function recordScenario(src: ReplaySource, runId: string, options: { name?: string; seed?: number } = {}): RecordedScenario {
  const events = requireRun(src, runId);
  const calls: Call[] = events
    .filter((e) => e.type === API_CALL_RECORDED)
    .map((e) => {
      const d = e.data as { at?: string; host: string; target?: string; command: string; durationMs?: number; outcome: string; response?: string };
      const parsed = commandOf(d.command);
      return {
        at: Date.parse(d.at ?? e.at),
        host: d.host,
        ...(d.target ? { target: d.target } : {}),
        command: d.command,
        durationMs: d.durationMs ?? 0,
        outcome: d.outcome,
        ...(d.response !== undefined ? { response: d.response } : {}),
        ...parsed,
      };
    })
    .sort((a, b) => a.at - b.at);
  if (calls.length === 0) {
    const started = events.find((e) => e.stream === `run:${runId}` && e.type === 'run.started');
    throw new NothingRecordedError(runId, (started?.data as { role?: string } | undefined)?.role);
  }
  const notes: string[] = [];
  const devices = new Map<string, Observed>();
  const device = (serial: string): Observed => {
    let d = devices.get(serial);
    if (!d) {
      d = { serial };
      devices.set(serial, d);
    }
    return d;
  };
  const panoramaHosts = new Set(calls.filter((c) => c.kind === 'show.devices.connected' || c.kind === 'show.devices.all' || c.target).map((c) => c.host));
  const serialByIp = new Map<string, string>();
  const identify = (m: { serial: string; hostname?: string; model?: string; ipAddress?: string; swVersion?: string; connected?: boolean; appVersion?: string; haState?: string | null; haPeerSerial?: string | null }): void => {
    const d = device(m.serial);
    if (m.hostname) d.hostname ??= m.hostname;
    if (m.model) d.model ??= m.model;
    if (m.ipAddress) d.mgmtIp ??= m.ipAddress;
    if (m.swVersion) d.swVersion ??= m.swVersion;
    if (m.connected !== undefined) d.connected ??= m.connected;
    if (m.appVersion) d.contentVersion ??= m.appVersion;
    if (m.haState && m.haPeerSerial) d.ha ??= { state: m.haState, peerSerial: m.haPeerSerial };
    if (m.ipAddress) serialByIp.set(m.ipAddress, m.serial);
  };
  // What discovery found, as the daemon logged it (`device.discovered` on `device:<serial>`): whole, where
  // its API-call record of Panorama's device list is cut at 4000 characters.
  const discovered = events
    .filter((e) => e.type === 'device.discovered' && e.stream.startsWith('device:'))
    .map((e) => ({ at: Date.parse(e.at), device: e.data as DiscoveredDevice }))
    .filter((f) => typeof f.device?.serial === 'string');
  const cutLists: number[] = [];
  // Identities first (discovery, system info), so that direct calls can be attributed by address; in the
  // order they were seen, a call before the facts it led to.
  const identities: Array<{ at: number; call?: Call; fact?: DiscoveredDevice }> = [
    ...calls.filter(answered).map((c): { at: number; call?: Call; fact?: DiscoveredDevice } => ({ at: c.at, call: c })),
    ...discovered.map((f): { at: number; call?: Call; fact?: DiscoveredDevice } => ({ at: f.at, fact: f.device })),
  ].sort((a, b) => a.at - b.at || (a.call ? -1 : 1) - (b.call ? -1 : 1));
  for (const { call: c, fact } of identities) {
    if (fact) {
      identify({ serial: fact.serial, hostname: fact.hostname, model: fact.model, ipAddress: fact.mgmtIp, swVersion: fact.swVersion, connected: fact.connected, appVersion: fact.appVersion, haState: fact.haState, haPeerSerial: fact.haPeer });
      continue;
    }
    if (!c) continue;
    if ((c.kind === 'show.devices.connected' || c.kind === 'show.devices.all') && !c.target) {
      const list = parseLenient(parseDevices, c.response);
      for (const m of list?.value ?? []) identify(m);
      if (list?.truncated) cutLists.push(list.value.length);
    }
    if (c.kind === 'show.system.info' && c.target) {
      const s = tryParse(parseSystemInfo, c.response);
      if (s?.ipAddress) serialByIp.set(s.ipAddress, c.target);
    }
  }
  if (cutLists.length > 0) {
    const inList = Math.max(...cutLists);
    const fromFacts = new Set(discovered.map((f) => f.device.serial)).size;
    notes.push(
      fromFacts > inList
        ? `the recorder cut Panorama's device list at 4000 characters after ${inList} device(s); the ${fromFacts} device(s) discovery found are taken from the daemon's device.discovered facts (device:<serial> streams)`
        : discovered.length > 0
          ? `the recorder cut Panorama's device list at 4000 characters after ${inList} device(s); the daemon's device.discovered facts name no more`
          : `the recorder cut Panorama's device list at 4000 characters after ${inList} device(s), and this run logged no device.discovered facts: devices past the cut are not recorded unless the run called them`,
    );
  }
  const serialOf = (c: Call): string | undefined => c.target ?? (panoramaHosts.has(c.host) ? undefined : serialByIp.get(hostIp(c.host)));
  const jobs = new Map<string, JobSeen>();
  const reboots: RebootSeen[] = [];
  const lastInstalled = new Map<string, string>();
  const busy = new Map<string, { refused: number; attempts: number }>();
  const attempts = (serial: string): { refused: number; attempts: number } => {
    let b = busy.get(serial);
    if (!b) busy.set(serial, (b = { refused: 0, attempts: 0 }));
    return b;
  };
  const autoCommit = new Map<string, { failed: number; seen: Set<number>; error: string }>();
  /** Devices whose software list the recorder cut at 4000 characters. */
  const cut: string[] = [];
  const lastUptime = new Map<string, { uptimeMs: number; at: number; version?: string }>();
  /** The latest restart of each device. */
  const current = new Map<string, RebootSeen>();
  for (const c of calls) {
    const serial = serialOf(c);
    if (!serial) continue;
    const d = device(serial);
    const res = answered(c) ? tryParse(parseResponse, c.response) : undefined;
    // A reboot counts once the device was seen down, as the reboot wait does; it is back at chassis-ready.
    const reboot = current.get(serial);
    if (reboot && !reboot.wentDown && (!answered(c) || c.outcome === 'auth-error' || /not connected/i.test(res?.lines.join(' ') ?? ''))) reboot.wentDown = true;
    if (!answered(c)) continue;
    switch (c.kind) {
      case 'show.system.info': {
        const s = tryParse(parseSystemInfo, c.response);
        if (!s) break;
        d.hostname ??= s.hostname;
        d.model ??= s.model;
        d.mgmtIp ??= s.ipAddress;
        d.swVersion ??= s.swVersion;
        if (s.appVersion) d.contentVersion ??= s.appVersion;
        if (s.uptimeSeconds === undefined) break;
        const uptimeMs = s.uptimeSeconds * 1000;
        if (reboot && !reboot.wentDown && reboot.before && uptimeMs + 2000 < reboot.before.uptimeMs + (c.at - reboot.before.at)) reboot.wentDown = true;
        if (reboot && !reboot.wentDown && reboot.before?.version && s.swVersion && s.swVersion !== reboot.before.version) reboot.wentDown = true;
        if (reboot?.wentDown && reboot.version === undefined) {
          reboot.answeredAt = c.at;
          reboot.version = s.swVersion;
        }
        lastUptime.set(serial, { uptimeMs, at: c.at, ...(s.swVersion ? { version: s.swVersion } : {}) });
        break;
      }
      case 'show.chassis-ready':
        if (reboot?.wentDown && reboot.backAt === undefined && tryParse(parseChassisReady, c.response) === true) reboot.backAt = c.at;
        break;
      case 'request.system.software.info':
      case 'request.system.software.check': {
        const sw = parseLenient(parseSoftwareInfo, c.response);
        if (sw && !d.software) {
          d.softwareAt = c.at;
          d.software = sw.value.entries.map((e) => ({ version: e.version, sizeMb: e.sizeMb, releasedOn: e.releasedOn, downloaded: e.downloaded, current: e.current }));
          if (sw.truncated) cut.push(serial);
        }
        break;
      }
      case 'request.content.upgrade.info':
      case 'request.content.upgrade.check': {
        const content = parseLenient(parseContentInfo, c.response)?.value;
        if (content && d.availableContent === undefined) {
          if (content.current) d.contentVersion = content.current;
          d.availableContent = content.entries.map((e) => e.version).filter((v) => v !== content.current);
        }
        break;
      }
      case 'show.session.info': {
        const s = tryParse(parseSessionInfo, c.response);
        if (s && d.tcpSessions === undefined) {
          d.tcpSessions = s.numTcp;
          d.udpSessions = s.numUdp;
        }
        break;
      }
      case 'show.routing.route': {
        // A cut list undercounts: the job's snapshot has the count then.
        const r = tryParse(parseRoutes, c.response);
        if (r) d.routes ??= r.count;
        break;
      }
      case 'show.arp.entry': {
        // `<total>` comes before the entries, so a cut answer still has it.
        const a = parseLenient(parseArp, c.response)?.value;
        if (a) d.arpEntries ??= a.total;
        break;
      }
      case 'show.system.disk-space': {
        const row = tryParse(parseDiskSpace, c.response)?.find((r) => r.mount === '/opt/panrepo');
        if (row) d.disk ??= { totalMb: row.sizeMb, availMb: row.availMb };
        break;
      }
      case 'show.high-availability.state': {
        const h = tryParse(parseHaState, c.response);
        if (h?.enabled && h.local) {
          const peerIp = h.peer?.mgmtIp?.replace(/\/\d+$/, '');
          d.ha = {
            ...d.ha,
            state: d.ha?.state ?? h.local.state,
            ...(h.local.priority !== undefined && d.ha?.priority === undefined ? { priority: h.local.priority } : {}),
            ...(h.local.preemptive !== undefined && d.ha?.preemptive === undefined ? { preemptive: h.local.preemptive } : {}),
            ...(peerIp && !d.ha?.peerIp ? { peerIp } : {}),
          };
        }
        break;
      }
      case 'request.system.software.download':
      case 'request.system.software.install':
      case 'request.content.upgrade.download':
      case 'request.content.upgrade.install': {
        const operation = ENQUEUES[c.kind]!;
        if (operation === 'download' || operation === 'install') attempts(serial).attempts++;
        if (res?.status !== 'success') {
          if (BUSY.test(res?.lines.join(' ') ?? '')) attempts(serial).refused++;
          break;
        }
        const enq = tryParse(parseJobEnqueued, c.response);
        if (!enq) break;
        const syncToPeer = /<sync-to-peer>\s*yes\s*<\/sync-to-peer>/.test(c.command);
        jobs.set(`${serial}#${enq.jobId}`, { serial, jobId: enq.jobId, operation, version: c.version, enqueuedAt: c.at, syncToPeer });
        if (operation === 'install' && c.version) lastInstalled.set(serial, c.version);
        break;
      }
      case 'show.jobs.id': {
        const j = tryParse(parseJob, c.response);
        const seen = j?.id !== undefined ? jobs.get(`${serial}#${j.id}`) : undefined;
        if (j && seen && j.finished && seen.finishedAt === undefined) {
          seen.finishedAt = c.at;
          seen.ok = j.ok;
          seen.details = j.details;
        }
        break;
      }
      case 'show.jobs.all': {
        for (const j of parseLenient(parseJobsAll, c.response)?.value ?? ([] as ParsedJob[])) {
          if (j.type !== 'AutoCom' || !j.finished || j.id === undefined) continue;
          let a = autoCommit.get(serial);
          if (!a) autoCommit.set(serial, (a = { failed: 0, seen: new Set(), error: '' }));
          if (a.seen.has(j.id)) continue;
          a.seen.add(j.id);
          if (!j.ok) {
            a.failed++;
            a.error = failureText(j.details) || 'Auto-commit failed';
          }
        }
        break;
      }
      case 'request.restart.system': {
        const before = lastUptime.get(serial);
        const r: RebootSeen = { serial, requestedAt: c.at, expected: lastInstalled.get(serial) ?? null, wentDown: false, ...(before ? { before } : {}) };
        reboots.push(r);
        current.set(serial, r);
        break;
      }
    }
  }

  for (const r of reboots) if (r.backAt === undefined && r.answeredAt !== undefined) r.backAt = r.answeredAt;
  if (cut.length > 0) notes.push(`the recorder cut the software list of ${cut.length} device(s) at 4000 characters; their oldest versions may be missing (${cut.join(', ')})`);
  // Timings: enqueue → FIN of successful jobs, restart → back.
  const finished = [...jobs.values()].filter((j) => j.finishedAt !== undefined);
  const durations = (op: string): number[] => finished.filter((j) => j.operation === op && j.ok).map((j) => j.finishedAt! - j.enqueuedAt);
  const timing: Record<string, unknown> = { mode: 'fast' };
  const put = (key: string, values: number[]): void => {
    const r = range(values);
    if (r) timing[key] = r[0] === r[1] ? r[0] : r;
  };
  put('download_duration', durations('download'));
  put('install_duration', durations('install'));
  put('content_download_duration', durations('content_download'));
  put('content_install_duration', durations('content_install'));
  put('reboot_duration', reboots.filter((r) => r.backAt !== undefined).map((r) => r.backAt! - r.requestedAt));
  if (Object.keys(timing).length === 1) notes.push('no job or reboot finished in the recording: timings are the fast mode defaults');

  // Failures: FAIL jobs per device and operation, busy refusals, reboots that did not come back right.
  const failures: Array<Record<string, unknown>> = [];
  const bySerialOp = new Map<string, { serial: string; operation: string; mode?: string; failed: number; total: number; error: string }>();
  for (const j of finished) {
    const text = failureText(j.details ?? []);
    const isBusy = !j.ok && BUSY.test(text);
    if (isBusy) {
      attempts(j.serial).refused++;
      continue;
    }
    const mode = !j.ok && j.operation === 'download' && DISK.test(text) ? 'disk_full' : undefined;
    const key = `${j.serial} ${j.operation}`;
    let f = bySerialOp.get(key);
    if (!f) bySerialOp.set(key, (f = { serial: j.serial, operation: j.operation, failed: 0, total: 0, error: '' }));
    f.total++;
    if (!j.ok) {
      f.failed++;
      f.error ||= text;
      if (mode) f.mode = mode;
    }
  }
  const rate = (failed: number, total: number): number => Math.min(1, Math.round((failed / Math.max(1, total)) * 100) / 100);
  for (const f of bySerialOp.values()) {
    if (f.failed === 0) continue;
    failures.push({ device: f.serial, operation: f.operation, failure_rate: rate(f.failed, f.total), error: f.error, ...(f.mode ? { mode: f.mode } : {}) });
  }
  for (const [serial, b] of busy) {
    if (b.refused > 0) failures.push({ device: serial, operation: 'busy', failure_rate: rate(b.refused, b.attempts) });
  }
  for (const [serial, a] of autoCommit) {
    if (a.failed > 0) failures.push({ device: serial, operation: 'autocommit', failure_rate: rate(a.failed, a.seen.size), error: a.error });
  }
  // A reboot not seen back never returned only when the run saw its job fail at the reboot step, or watched
  // it past the model's reboot budget; one still under way when the run's records end (the daemon was
  // stopped or killed meanwhile) is no failure.
  const rebootFailures = rebootFailuresOf(src, events);
  let lastAt = calls.at(-1)!.at;
  for (const e of events) {
    const at = Date.parse(e.at);
    if (at > lastAt) lastAt = at;
  }
  const unfinished: RebootSeen[] = [];
  const lostReboot = (r: RebootSeen): boolean => {
    const next = reboots.find((o) => o.serial === r.serial && o.requestedAt > r.requestedAt)?.requestedAt ?? Infinity;
    if ((rebootFailures.get(r.serial) ?? []).some((at) => at >= r.requestedAt && at < next)) return true;
    return lastAt - r.requestedAt >= rebootBudgetFor(devices.get(r.serial)?.model ?? '');
  };
  for (const serial of new Set(reboots.map((r) => r.serial))) {
    const mine = reboots.filter((r) => r.serial === serial);
    const notBack = mine.filter((r) => r.backAt === undefined);
    const lost = notBack.filter(lostReboot).length;
    unfinished.push(...notBack.filter((r) => !lostReboot(r)));
    const decided = mine.length - (notBack.length - lost);
    const wrong = mine.filter((r) => r.backAt !== undefined && r.expected !== null && r.version !== r.expected).length;
    if (lost > 0) failures.push({ device: serial, operation: 'reboot', mode: 'never_returns', failure_rate: rate(lost, decided), error: 'Device did not come back after reboot' });
    else if (wrong > 0) failures.push({ device: serial, operation: 'reboot', mode: 'wrong_version', failure_rate: rate(wrong, decided), error: 'Device came back on the version it left' });
  }
  if (unfinished.length > 0) {
    notes.push(
      `${unfinished.length} reboot(s) were still under way when the run's records end (${new Date(lastAt).toISOString()}), neither back nor failed: not recorded as failures (${unfinished
        .map((r) => `${r.serial} restarted at ${new Date(r.requestedAt).toISOString()}`)
        .join(', ')})`,
    );
  }

  // The jobs' own pre-upgrade snapshots: the metrics where an answer was cut by the recorder.
  for (const e of events) {
    if (e.type !== 'job.submitted') continue;
    const serial = (e.data as { device: { serial: string } }).device.serial;
    const pre = src.readStream(e.stream).find((f) => f.type === 'job.snapshot.taken' && (f.data as { phase: string }).phase === 'pre');
    const d = devices.get(serial);
    if (!pre || !d) continue;
    const areas = (pre.data as { snapshot?: JobSnapshot }).snapshot?.areas;
    if (!areas) continue;
    const tcp = Number(areas.sessions?.entries.totals?.tcp);
    if (Number.isFinite(tcp)) d.tcpSessions ??= tcp;
    if (areas.routes) d.routes ??= areas.routes.count;
    if (areas.arp) d.arpEntries ??= areas.arp.count;
  }

  // Images the run itself put on a device (or on its peer with sync-to-peer) before its software list was
  // first read were not there at the start.
  for (const d of devices.values()) {
    if (!d.software || d.softwareAt === undefined) continue;
    const peers = new Set([d.ha?.peerSerial, d.ha?.peerIp ? serialByIp.get(d.ha.peerIp) : undefined].filter((p): p is string => p !== undefined));
    const fetched = new Set(
      finished
        .filter((j) => j.ok && j.operation === 'download' && j.version && j.finishedAt! <= d.softwareAt! && (j.serial === d.serial || (j.syncToPeer && peers.has(j.serial))))
        .map((j) => j.version!),
    );
    if (fetched.size === 0) continue;
    d.software = d.software.map((e) => (fetched.has(e.version) && !e.current ? { ...e, downloaded: false } : e));
    notes.push(`device ${d.serial}: ${[...fetched].join(', ')} arrived during the run before its software list was read; written as not downloaded`);
  }

  // Devices, as first seen.
  const catalogue = new Map<string, { size_mb: number; released_on: string }>();
  const known = [...devices.values()].filter((d) => d.swVersion && d.hostname);
  for (const d of devices.values()) if (!known.includes(d)) notes.push(`device ${d.serial} left out: its version or hostname was never seen`);
  const bySerial = new Map(known.map((d) => [d.serial, d]));
  const ipToSerial = new Map(known.filter((d) => d.mgmtIp).map((d) => [d.mgmtIp!, d.serial]));
  const entries = known.map((d) => {
    const entry: Record<string, unknown> = { serial: d.serial, hostname: d.hostname };
    if (d.model) entry.model = d.model;
    if (d.mgmtIp) entry.mgmt_ip = d.mgmtIp;
    entry.current_version = d.swVersion;
    if (d.software) {
      entry.available_versions = d.software.map((e) => e.version);
      entry.downloaded_versions = d.software.filter((e) => e.downloaded && !e.current && e.version !== d.swVersion).map((e) => e.version);
      for (const e of d.software) {
        if (!catalogue.has(e.version) && e.sizeMb >= 1 && /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/.test(e.releasedOn)) {
          catalogue.set(e.version, { size_mb: e.sizeMb, released_on: e.releasedOn });
        }
      }
    } else {
      notes.push(`device ${d.serial}: its software list was never read; it is offered only its current version`);
    }
    if (d.contentVersion && /^\d+-\d+$/.test(d.contentVersion)) entry.content_version = d.contentVersion;
    if (d.availableContent) entry.available_content = d.availableContent.filter((v) => /^\d+-\d+$/.test(v));
    if (d.connected !== undefined) entry.connected = d.connected;
    const metrics: Record<string, number> = {};
    if (d.tcpSessions !== undefined) metrics.tcp_sessions = d.tcpSessions;
    if (d.udpSessions !== undefined) metrics.udp_sessions = d.udpSessions;
    if (d.routes !== undefined) metrics.route_count = d.routes;
    if (d.arpEntries !== undefined) metrics.arp_count = d.arpEntries;
    if (d.disk) {
      const imagesMb = (entry.downloaded_versions as string[] | undefined ?? []).reduce((sum, v) => sum + (d.software?.find((e) => e.version === v)?.sizeMb ?? 0), 0);
      metrics.disk_space_gb = Math.round((d.disk.availMb / 1024) * 100) / 100;
      // df rounds: never give a total smaller than the free space plus the images it holds.
      metrics.disk_total_gb = Math.ceil((Math.max(d.disk.totalMb, d.disk.availMb + imagesMb) / 1024) * 100) / 100;
    }
    if (Object.keys(metrics).length > 0) entry.metrics = metrics;
    return entry;
  });
  // HA: both peers must be in the scenario and name each other.
  for (const entry of entries) {
    const d = bySerial.get(entry.serial as string)!;
    const peer = d.ha?.peerSerial ?? (d.ha?.peerIp ? ipToSerial.get(d.ha.peerIp) : undefined);
    if (!d.ha || !peer) continue;
    const other = bySerial.get(peer);
    const back = other?.ha?.peerSerial ?? (other?.ha?.peerIp ? ipToSerial.get(other.ha.peerIp) : undefined);
    if (!other || back !== d.serial) {
      notes.push(`device ${d.serial}: HA peer ${peer} was not recorded; written without HA`);
      continue;
    }
    const state = ['active', 'passive', 'suspended', 'non-functional', 'initial', 'tentative'].includes(d.ha.state) ? d.ha.state : undefined;
    entry.ha = {
      peer,
      ...(d.ha.priority !== undefined ? { priority: d.ha.priority } : {}),
      ...(d.ha.preemptive !== undefined ? { preemptive: d.ha.preemptive } : {}),
      ...(state ? { state } : {}),
    };
  }
  // Two peers both recorded active (a failover mid-recording) cannot load: keep the first.
  for (const entry of entries) {
    const ha = entry.ha as { peer: string; state?: string } | undefined;
    const peerHa = entries.find((e) => e.serial === ha?.peer)?.ha as { state?: string } | undefined;
    if (ha?.state === 'active' && peerHa?.state === 'active') peerHa.state = 'passive';
  }

  const paths: Record<string, string[]> = {};
  for (const e of events) {
    if (e.type !== 'job.submitted') continue;
    const s = e.data as { device: { swVersion: string }; plan: Array<{ version: string; action: string }> };
    const hops = s.plan.filter((h) => h.action === 'install').map((h) => h.version);
    if (hops.length > 0) paths[s.device.swVersion] ??= hops;
  }

  // A failure can only name a device the scenario has.
  const kept = failures.filter((f) => bySerial.has(f.device as string));
  for (const f of failures) if (!kept.includes(f)) notes.push(`device ${String(f.device)}: its ${String(f.operation)} failure is left out with the device`);

  const panoramaHost = [...panoramaHosts][0];
  const panoramaIp = panoramaHost ? hostIp(panoramaHost) : undefined;
  const document: Record<string, unknown> = {
    name: options.name ?? `recorded-${runId}`,
    description: `Recorded from run ${runId}: ${entries.length} device(s) as first seen, with the timings and failures observed.`,
    seed: options.seed ?? 1,
    api_key: API_KEY_PLACEHOLDER,
    timing,
    ...(panoramaIp && isIP(panoramaIp) !== 0 && !ipToSerial.has(panoramaIp) ? { panorama: { mgmt_ip: panoramaIp } } : {}),
    ...(catalogue.size > 0 ? { images: [...catalogue.entries()].map(([version, c]) => ({ version, ...c })) } : {}),
    devices: entries,
    ...(kept.length > 0 ? { failures: kept } : {}),
    ...(Object.keys(paths).length > 0 ? { upgrade_paths: paths } : {}),
  };
  const doc = new Document(document);
  doc.commentBefore = [
    ` Scenario recorded from run ${runId} (${new Date(calls[0]!.at).toISOString()} to ${new Date(calls.at(-1)!.at).toISOString()}, ${calls.length} API calls).`,
    ` The API key is a placeholder: recordings never hold secrets. Set api_key to the key your lab clients use.`,
    ` Durations are the ones observed, in seconds (time_scale 1); each device is written as it was first seen.`,
    ...notes.map((n) => ` note: ${n}`),
  ].join('\n');
  const yaml = doc.toString({ lineWidth: 0 });
  // The loader must accept what we write.
  parseScenario(yaml, `recorded-${runId}.yaml`, { env: {} });
  return { document, yaml, devices: entries.length, notes };
}
