/**
 * Renders every PAN-OS XML API answer the simulator gives, from the records in model.ts.
 * Pure: `now` (ms since the epoch) is passed in wherever time shows. Shapes follow
 * docs/panos-xml-api.md (section numbers in comments); free choices are marked [unconfirmed].
 */
import {
  formatUptime,
  jobProgress,
  compareContentVersions,
  type FirewallRecord,
  type PanoramaRecord,
  type PanosJob,
  type ManagedDeviceView,
  type SoftwareImage,
  type ContentPackage,
} from './model.ts';
import { compareVersions, parseVersion } from './version.ts';
import { cdata, el, elCdata, elXml, escapeXml, flattened, yesNo } from './xml.ts';
import { formatAsctime, formatClock, formatPanosTime, formatTimeOfDay } from './time.ts';
import type { OpError } from './commands.ts';

// ---- envelopes ----

/** `<response status="success" [code]><result>inner</result></response>`; `<result/>` when inner is empty. */
export function successXml(resultInner: string, code?: string): string {
  return `<response status="success"${code ? ` code="${escapeXml(code)}"` : ''}>${elXml('result', resultInner)}</response>`;
}

export interface ErrorXmlOptions {
  /** Wrap each line in CDATA, as op-command diagnostics are (§14). */
  cdata?: boolean;
  /** `msg-line` (default): `<msg><line>…</line></msg>`; `result-msg`: `<result><msg>…</msg></result>` (one message). */
  form?: 'msg-line' | 'result-msg';
}

/** `<response status="error" code="17"><msg><line>…</line></msg></response>`. */
export function errorXml(code: string | undefined, lines: readonly string[], options: ErrorXmlOptions = {}): string {
  const text = (s: string) => (options.cdata ? cdata(s) : escapeXml(s));
  const open = `<response status="error"${code ? ` code="${escapeXml(code)}"` : ''}>`;
  if (options.form === 'result-msg') return `${open}<result><msg>${text(lines.join('\n'))}</msg></result></response>`;
  return `${open}<msg>${lines.map((l) => `<line>${text(l)}</line>`).join('')}</msg></response>`;
}

/** An op-command parse error, CDATA lines as PAN-OS prints them (§14). */
export function opErrorXml(err: OpError): string {
  return errorXml(err.code, err.lines, { cdata: true });
}

/** The exact 97-byte body behind `HTTP 403 Invalid Credential` (§1), single quotes and spaces included. */
export function authErrorXml(): string {
  return `<response status = 'error' code = '403'><result><msg>Invalid Credential</msg></result></response>`;
}

/** Keygen success, in the single-quoted form keygen answers use (§0). */
export function keygenXml(key: string): string {
  return `<response status = 'success'><result><key>${escapeXml(key)}</key></result></response>`;
}

/** `type=version` short form (§2). */
export function versionXml(rec: FirewallRecord): string {
  return successXml(
    el('sw-version', rec.swVersion) + el('multi-vsys', rec.multiVsys ? 'on' : 'off') + el('model', rec.model) + el('serial', rec.serial),
  );
}

// ---- deterministic detail derived from the serial ----

/** FNV-1a: a stable seed per serial, so generated tables are the same on every render. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width);
}

function pseudoHex(seed: string, length: number): string {
  let out = '';
  let h = hash(seed);
  while (out.length < length) {
    h = hash(`${h}:${seed}`);
    out += hex(h, 8);
  }
  return out.slice(0, length);
}

function prefixLength(netmask: string): number {
  return netmask
    .split('.')
    .map((o) => Number(o) >>> 0)
    .reduce((n, o) => n + (o.toString(2).match(/1/g)?.length ?? 0), 0);
}

/** EUI-64 link-local address from the MAC, as PAN-OS shows `ipv6-link-local-address`. */
function linkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16) || 0);
  while (b.length < 6) b.push(0);
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0] = b;
  const g = (x: number, y: number) => ((x << 8) | y).toString(16);
  return `fe80::${g(b0 ^ 2, b1)}:${g(b2, 0xff)}:${g(0xfe, b3)}:${g(b4, b5)}/64`;
}

const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000));
const uptimeText = (bootedAt: number, now: number) => formatUptime(seconds(now - bootedAt));

function contentReleaseDate(rec: FirewallRecord): string {
  const pkg = rec.content.available.find((c) => c.version === rec.content.installed);
  return pkg ? `${pkg.releasedOn} UTC` : 'unknown';
}

function logdbVersion(sw: string): string {
  const v = parseVersion(sw);
  return v ? `${v.major}.${v.minor}.0` : sw;
}

// ---- §2 show system info ----

/**
 * The parts of a firewall's `show system info` that do not move with the clock, made once per record:
 * a running device's record is replaced, never edited, when its state changes (machines/firewall.logic.ts),
 * so a record seen again has the same parts. Only the time, the uptime and the URL database version are
 * made per call.
 */
const systemInfoParts = new WeakMap<FirewallRecord, readonly [string, string, string]>();

/**
 * The answers made in the current second, per record: every clock-dependent element is shown to the
 * second, and a busy device is asked many times a second (a gateway at 10,000 calls a second over 1,000
 * firewalls). Forgotten when the second turns, and when full, so they hold at most a second's answers.
 */
const answeredThisSecond = { second: Number.NaN, texts: new Map<FirewallRecord, { up: number; text: string }>() };
const MAX_ANSWERS_KEPT = 4096;

export function systemInfoXml(rec: FirewallRecord, now: number): string {
  const second = Math.floor(now / 1000);
  const up = seconds(now - rec.bootedAt);
  const kept = answeredThisSecond;
  if (kept.second !== second || kept.texts.size >= MAX_ANSWERS_KEPT) {
    kept.second = second;
    kept.texts.clear();
  }
  const last = kept.texts.get(rec);
  if (last !== undefined && last.up === up) return last.text;
  let parts = systemInfoParts.get(rec);
  if (parts === undefined) {
    const [head, middle, tail] = systemInfoPartsOf(rec);
    parts = [flattened(head), flattened(middle), flattened(tail)];
    systemInfoParts.set(rec, parts);
  }
  const d = new Date(now);
  const urlVersion = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}.20005`;
  const text = flattened(parts[0] + el('time', formatAsctime(now)) + el('uptime', formatUptime(up)) + parts[1] + el('url-filtering-version', urlVersion) + parts[2]);
  kept.texts.set(rec, { up, text });
  return text;
}

/** `successXml(elXml('system', …))` of systemInfoXml, cut around its three clock-dependent elements. */
function systemInfoPartsOf(rec: FirewallRecord): readonly [string, string, string] {
  const vm = rec.family === 'vm';
  const contentDate = contentReleaseDate(rec);
  const vmFields = vm
    ? el('vm-mac-base', rec.macAddress.toUpperCase().replace(/..$/, '00')) +
      el('vm-mac-count', 255) +
      el('vm-uuid', uuidFrom(rec.serial)) +
      el('vm-cpuid', `KVM:${pseudoHex(`cpu:${rec.serial}`, 16).toUpperCase()}`) +
      el('vm-license', 'VM-300') +
      el('vm-mode', 'KVM')
    : '';
  const [open, close] = successXml(elXml('system', '\0')).split('\0') as [string, string];
  return [
    open +
      el('hostname', rec.hostname) +
      el('ip-address', rec.mgmtIp) +
      el('public-ip-address', 'unknown') +
      el('netmask', rec.netmask) +
      el('default-gateway', rec.defaultGateway) +
      el('is-dhcp', 'no') +
      el('ipv6-address', 'unknown') +
      el('ipv6-link-local-address', linkLocal(rec.macAddress)) +
      el('ipv6-default-gateway') +
      el('mac-address', rec.macAddress),
    el('devicename', rec.hostname) +
      el('family', rec.family) +
      el('model', rec.model) +
      el('serial', rec.serial) +
      vmFields +
      el('cloud-mode', 'non-cloud') +
      el('sw-version', rec.swVersion) +
      el('global-protect-client-package-version', '0.0.0') +
      el('app-version', rec.content.installed) +
      el('app-release-date', contentDate) +
      el('av-version', rec.avVersion) +
      el('av-release-date', contentDate) +
      el('threat-version', rec.content.installed) +
      el('threat-release-date', contentDate) +
      el('wf-private-version', 0) +
      el('wf-private-release-date', 'unknown') +
      el('url-db', 'paloaltonetworks') +
      el('wildfire-version', 0) +
      el('wildfire-release-date'),
    el('global-protect-datafile-version', 'unknown') +
      el('global-protect-datafile-release-date', 'unknown') +
      el('global-protect-clientless-vpn-version', 0) +
      el('global-protect-clientless-vpn-release-date') +
      el('logdb-version', logdbVersion(rec.swVersion)) +
      el('platform-family', rec.family) +
      el('vpn-disable-mode', 'off') +
      el('multi-vsys', rec.multiVsys ? 'on' : 'off') +
      el('operational-mode', 'normal') +
      el('advanced-routing', 'off') +
      el('device-certificate-status', 'Valid') +
      close,
  ];
}

function uuidFrom(seed: string): string {
  const h = pseudoHex(`uuid:${seed}`, 32).toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Panorama's own `show system info`: same `<system>` shape, model `Panorama` or `M-*`. */
export function panoramaSystemInfoXml(p: PanoramaRecord, now: number): string {
  // [unconfirmed] family `pc` for virtual Panorama; `m` is captured for M-600.
  const family = p.model.startsWith('M-') ? 'm' : 'pc';
  return successXml(
    elXml(
      'system',
      el('hostname', p.hostname) +
        el('ip-address', p.mgmtIp) +
        el('public-ip-address', 'unknown') +
        el('ipv6-address', 'unknown') +
        el('time', formatAsctime(now)) +
        el('uptime', uptimeText(p.bootedAt, now)) +
        el('devicename', p.hostname) +
        el('family', family) +
        el('model', p.model) +
        el('serial', p.serial) +
        el('cloud-mode', 'non-cloud') +
        el('sw-version', p.swVersion) +
        el('logdb-version', logdbVersion(p.swVersion)) +
        el('system-mode', 'panorama') +
        el('multi-vsys', 'off') +
        el('operational-mode', 'normal') +
        el('device-certificate-status', 'None'),
    ),
  );
}

// ---- §3 high availability ----

function compat(a: string | undefined, b: string | undefined): string {
  // [unconfirmed] `Unknown` while the peer is unreachable.
  if (a === undefined || b === undefined) return 'Unknown';
  return a === b ? 'Match' : 'Mismatch';
}

function connBlock(name: string, up: boolean, desc: string, extra = ''): string {
  return elXml(name, el('conn-status', up ? 'up' : 'down') + el('conn-primary', 'yes') + el('conn-desc', desc) + extra);
}

/**
 * `show high-availability state` for `local`. `peer` is the peer's record when the simulator knows it;
 * with `peerReachable` false the peer shows `conn-status` down and state `unknown` [unconfirmed].
 */
export function haStateXml(local: FirewallRecord, peer: FirewallRecord | undefined, now: number, peerReachable: boolean): string {
  const ha = local.ha;
  if (!ha) return successXml(el('enabled', 'no'));
  const cfg = ha.config;
  const prefix = prefixLength(local.netmask);
  const known = peerReachable && peer !== undefined;
  const peerHa = peer?.ha;
  const localInfo =
    el('version', 1) +
    el('state', ha.state) +
    el('state-duration', seconds(now - ha.stateSince)) +
    el('mgmt-ip', `${local.mgmtIp}/${prefix}`) +
    el('mgmt-ipv6') +
    el('preemptive', yesNo(cfg.preemptive)) +
    el('priority', cfg.priority) +
    el('promotion-hold', 2000) +
    el('hello-interval', 8000) +
    el('heartbeat-interval', 2000) +
    el('preempt-hold', 1) +
    el('monitor-fail-holdup', 0) +
    el('addon-master-holdup', 500) +
    el('max-flaps', 3) +
    el('preempt-flap-cnt', 0) +
    el('nonfunc-flap-cnt', 0) +
    el('ha1-ipaddr', `${local.mgmtIp}/${prefix}`) +
    el('ha1-macaddr', local.macAddress) +
    el('ha1-port', 'management') +
    el('ha1-gateway', local.defaultGateway) +
    el('ha1-encrypt-enable', 'no') +
    el('ha1-encrypt-imported', 'no') +
    el('ha1-link-mon-intv', 3000) +
    el('state-sync', ha.stateSync) +
    el('state-sync-type', 'ip') +
    elXml('active-passive', el('passive-link-state', 'shutdown') + el('monitor-fail-holddown', 1)) +
    el('platform-model', local.model) +
    el('build-rel', local.swVersion) +
    el('build-compat', compat(local.swVersion, known ? peer.swVersion : undefined)) +
    el('app-version', local.content.installed) +
    el('app-compat', compat(local.content.installed, known ? peer.content.installed : undefined)) +
    el('threat-version', local.content.installed) +
    el('threat-compat', compat(local.content.installed, known ? peer.content.installed : undefined)) +
    el('av-version', local.avVersion) +
    el('av-compat', compat(local.avVersion, known ? peer.avVersion : undefined)) +
    el('gpclient-version', 'Not Installed') +
    el('gpclient-compat', 'Match') +
    el('vpnclient-version', 'Not Installed') +
    el('vpnclient-compat', 'Match');
  let peerInfo =
    connBlock('conn-ha1', known, 'heartbeat status') +
    connBlock('conn-ha2', known, 'link status', el('conn-ka-enbled', 'no')) +
    el('conn-status', known ? 'up' : 'down') +
    el('version', 1) +
    el('state', known && peerHa ? peerHa.state : 'unknown');
  if (known && peerHa) peerInfo += el('state-duration', seconds(now - peerHa.stateSince));
  if (peer) {
    const peerPrefix = prefixLength(peer.netmask);
    peerInfo +=
      el('mgmt-ip', `${peer.mgmtIp}/${peerPrefix}`) +
      el('mgmt-ipv6') +
      el('preemptive', yesNo(peerHa?.config.preemptive ?? cfg.preemptive)) +
      el('priority', peerHa?.config.priority ?? '') +
      el('mode', cfg.mode) +
      el('platform-model', peer.model) +
      el('ha1-ipaddr', peer.mgmtIp) +
      el('ha1-macaddr') +
      el('build-rel', peer.swVersion) +
      el('app-version', peer.content.installed) +
      el('threat-version', peer.content.installed) +
      el('av-version', peer.avVersion);
  }
  if (peerHa?.lastErrorReason !== undefined) peerInfo += el('last-error-reason', peerHa.lastErrorReason);
  if (peerHa?.lastErrorState !== undefined) peerInfo += el('last-error-state', peerHa.lastErrorState);
  return successXml(
    el('enabled', 'yes') +
      elXml(
        'group',
        el('mode', cfg.mode) +
          elXml('local-info', localInfo) +
          elXml('peer-info', peerInfo) +
          elXml('link-monitoring', el('enabled', 'yes') + el('failure-condition', 'any') + el('groups')) +
          elXml(
            'path-monitoring',
            el('enabled', 'yes') + el('failure-condition', 'any') + el('virtual-router') + el('virtual-wire') + el('vlan'),
          ) +
          el('running-sync', ha.runningSync) +
          el('running-sync-enabled', 'yes'),
      ),
  );
}

export function haSuspendXml(): string {
  return successXml(escapeXml('Successfully changed HA state to suspended'));
}

export function haFunctionalXml(): string {
  return successXml(escapeXml('Successfully changed HA state to functional'));
}

// ---- §4 session info ----

export function sessionInfoXml(rec: FirewallRecord): string {
  const { tcpSessions: tcp, udpSessions: udp } = rec.metrics;
  const active = tcp + udp;
  // [unconfirmed] capacity per platform: only the PA-VM figure is captured.
  const max = rec.family === 'vm' ? 819200 : 2_000_000;
  const n = (name: string, v: number) => el(name, v);
  return successXml(
    n('tmo-tcp', 3600) +
      n('tmo-udp', 30) +
      n('tmo-icmp', 6) +
      n('tmo-def', 30) +
      n('num-max', max) +
      n('num-active', active) +
      n('num-tcp', tcp) +
      n('num-udp', udp) +
      n('num-icmp', 0) +
      n('num-mcast', 0) +
      n('num-bcast', 0) +
      n('num-predict', 0) +
      n('num-installed', active * 7 + (hash(rec.serial) % 1000)) +
      n('num-gtpc', 0) +
      n('num-gtpu-active', 0) +
      n('num-gtpu-pending', 0) +
      n('num-sctp-assoc', 0) +
      n('num-sctp-sess', 0) +
      n('num-imsi', 0) +
      n('num-pfcpc', 0) +
      n('num-http2-5gc', 0) +
      n('cps', Math.floor(active / 60)) +
      n('kbps', active * 3) +
      n('pps', active * 2) +
      el('age-accel-en', 'True') +
      n('age-accel-thresh', 80) +
      el('hw-offload', 'True') +
      el('ipv6-fw', 'True') +
      el('oor-action', 'drop') +
      el('tcp-nonsyn-rej', 'True') +
      el('strict-checksum', 'True') +
      n('vardata-rate', 10485760) +
      n('icmp-unreachable-rate', 200) +
      el('dp', '*.dp0'),
  );
}

// ---- §5 routes and ARP ----

export interface GeneratedRoute {
  destination: string;
  nexthop: string;
  metric: number | undefined;
  flags: string;
  interface: string;
  kind: 'static' | 'connect';
}

/** `metrics.routes` routes, the same on every call for a serial: a default route, then connected and static /24s. */
export function generatedRoutes(rec: FirewallRecord): GeneratedRoute[] {
  const count = Math.max(0, Math.floor(rec.metrics.routes));
  const base = hash(rec.serial) % 200;
  const routes: GeneratedRoute[] = [];
  for (let i = 0; i < count; i++) {
    if (i === 0) {
      routes.push({ destination: '0.0.0.0/0', nexthop: rec.defaultGateway, metric: 10, flags: 'A S ', interface: 'ethernet1/1', kind: 'static' });
      continue;
    }
    const net = `10.${(base + Math.floor(i / 256)) % 256}.${i % 256}`;
    if (i % 3 === 1) {
      routes.push({ destination: `${net}.0/24`, nexthop: '0.0.0.0', metric: 0, flags: 'A C ', interface: `ethernet1/${(i % 4) + 1}`, kind: 'connect' });
    } else {
      routes.push({ destination: `${net}.0/24`, nexthop: `10.${base}.0.1`, metric: 10, flags: 'A S ', interface: 'ethernet1/2', kind: 'static' });
    }
  }
  return routes;
}

const ROUTE_FLAGS =
  'flags: A:active, ?:loose, C:connect, H:host, S:static, ~:internal, R:rip, O:ospf, B:bgp, Oi:ospf intra-area, Oo:ospf inter-area, O1:ospf ext-type-1, O2:ospf ext-type-2, E:ecmp, M:multicast';

/** §5a `show routing route`: one `<entry>` per generated route in virtual router `default`. */
export function routingRouteXml(rec: FirewallRecord): string {
  const entries = generatedRoutes(rec)
    .map((r) =>
      elXml(
        'entry',
        el('virtual-router', 'default') +
          el('destination', r.destination) +
          el('nexthop', r.nexthop) +
          el('metric', r.metric) +
          el('flags', r.flags) +
          el('age') +
          el('interface', r.interface) +
          el('route-table', 'unicast'),
      ),
    )
    .join('');
  return successXml(el('flags', ROUTE_FLAGS) + entries);
}

const ROUTE_LIMIT = 20000;

/** §5b `show routing summary`: global totals in an unnamed `<entry>`, then `<entry name="default">` [unconfirmed child set]. */
export function routingSummaryXml(rec: FirewallRecord): string {
  const routes = generatedRoutes(rec);
  const statics = routes.filter((r) => r.kind === 'static').length;
  const connects = routes.length - statics;
  const block = (name: string, total: number, limit?: number) =>
    elXml(name, el('total', total) + (limit !== undefined ? el('limit', limit) : '') + el('active', total));
  const totals =
    block('All-Routes', routes.length, ROUTE_LIMIT) +
    block('Static-Routes', statics) +
    block('Connect-Routes', connects) +
    block('OSPF-Routes', 0) +
    block('BGP-Routes', 0) +
    block('RIP-Routes', 0);
  return successXml(elXml('entry', totals) + elXml('entry', totals, { name: 'default' }));
}

/** §5d `show arp entry name='all'`: `metrics.arpEntries` entries, element order dp, timeout, total, entries, max. */
export function arpXml(rec: FirewallRecord): string {
  const count = Math.max(0, Math.floor(rec.metrics.arpEntries));
  const base = hash(rec.serial);
  let entries = '';
  for (let i = 0; i < count; i++) {
    const ifname = `ethernet1/${(i % 4) + 1}`;
    const mac = `00:1b:17:${hex((base >>> 8) & 0xff, 2)}:${hex((i >> 8) & 0xff, 2)}:${hex(i & 0xff, 2)}`;
    entries += elXml(
      'entry',
      el('interface', ifname) +
        el('ip', `10.${((base % 200) + Math.floor(i / (253 * 256))) % 256}.${Math.floor(i / 253) % 256}.${(i % 253) + 1}`) +
        el('mac', mac) +
        el('port', ifname) +
        el('status', ' c ') +
        el('ttl', 1800 - (i % 1800)),
    );
  }
  return successXml(el('dp', 'dp0') + el('timeout', 1800) + el('total', count) + elXml('entries', entries) + el('max', 32000));
}

// ---- §6 disk space ----

/** A size in MB as `df -h` prints it: `7.9G`, `14G`, `63M`, `76K`, `0`. */
export function formatDfSize(mb: number): string {
  if (mb <= 0) return '0';
  const units: [string, number][] = [
    ['T', 1024 * 1024],
    ['G', 1024],
    ['M', 1],
    ['K', 1 / 1024],
  ];
  for (const [suffix, scale] of units) {
    const v = mb / scale;
    if (v >= 1 || suffix === 'K') {
      // df rounds up, with one decimal below 10.
      return v < 10 ? `${(Math.ceil(v * 10) / 10).toFixed(1)}${suffix}` : `${Math.ceil(v)}${suffix}`;
    }
  }
  return '0';
}

export function diskSpaceXml(rec: FirewallRecord): string {
  const total = rec.disk.panrepoTotalMb;
  const used = Math.min(rec.disk.panrepoUsedMb, total);
  const pct = total > 0 ? Math.ceil((100 * used) / total) : 0;
  const row = (fs: string, size: string, usedS: string, avail: string, use: string, mount: string) =>
    `${fs.padEnd(15)} ${size.padStart(4)} ${usedS.padStart(5)} ${avail.padStart(5)} ${use.padStart(4)} ${mount}\n`;
  const text =
    'Filesystem      Size  Used Avail Use% Mounted on\n' +
    row('/dev/root', '6.9G', '5.1G', '1.5G', '78%', '/') +
    row('none', '7.9G', '76K', '7.9G', '1%', '/dev') +
    row('/dev/sda5', '16G', '1.2G', '14G', '8%', '/opt/pancfg') +
    row('/dev/sda6', formatDfSize(total), formatDfSize(used), formatDfSize(total - used), `${pct}%`, '/opt/panrepo') +
    row('tmpfs', '12G', '8.4G', '3.0G', '74%', '/dev/shm') +
    row('cgroup_root', '7.9G', '0', '7.9G', '0%', '/cgroup') +
    row('/dev/sda8', '21G', '63M', '20G', '1%', '/opt/panlogs') +
    row('tmpfs', '12M', '0', '12M', '0%', '/opt/pancfg/mgmt/lcaas/ssl/private');
  return successXml(cdata(text));
}

// ---- §7 software and content lists ----

function releaseNotesUrl(version: string): string {
  const v = parseVersion(version);
  const train = v ? `${v.major}-${v.minor}` : version;
  return ` https://www.paloaltonetworks.com/documentation/${train}/pan-os/pan-os-release-notes `;
}

/**
 * §7 `request system software check|info`: newest first, exactly one `current=yes` (the running
 * version; synthesized if the list lacks it, a simulator choice) and `latest=yes` on the highest.
 */
export function softwareInfoXml(rec: FirewallRecord, now?: number): string {
  const images: SoftwareImage[] = [...rec.images];
  if (!images.some((i) => i.version === rec.swVersion)) {
    images.push({ version: rec.swVersion, sizeMb: 0, releasedOn: formatPanosTime(rec.bootedAt) });
  }
  images.sort((a, b) => compareVersions(b.version, a.version));
  const latest = images[0]?.version;
  const downloaded = new Set(rec.downloaded);
  const entries = images
    .map((img) =>
      elXml(
        'entry',
        el('version', img.version) +
          el('filename', `PanOS_${rec.family}-${img.version}`) +
          el('size', img.sizeMb) +
          el('size-kb', Math.round(img.sizeMb * 1024)) +
          el('released-on', img.releasedOn) +
          elCdata('release-notes', releaseNotesUrl(img.version)) +
          el('downloaded', yesNo(downloaded.has(img.version) || img.version === rec.swVersion)) +
          el('current', yesNo(img.version === rec.swVersion)) +
          el('latest', yesNo(img.version === latest)) +
          el('uploaded', 'no'),
      ),
    )
    .join('');
  const attrs = now !== undefined ? { 'last-updated-at': formatPanosTime(now) } : undefined;
  return successXml(elXml('sw-updates', el('msg') + elXml('versions', entries), attrs));
}

/** §7 `request content upgrade check|info`: `<content-updates>` with entries directly inside, newest first. */
export function contentInfoXml(rec: FirewallRecord, now?: number): string {
  const pkgs: ContentPackage[] = [...rec.content.available];
  if (!pkgs.some((p) => p.version === rec.content.installed)) {
    pkgs.push({ version: rec.content.installed, sizeMb: 0, releasedOn: formatPanosTime(rec.bootedAt) });
  }
  pkgs.sort((a, b) => compareContentVersions(b.version, a.version));
  const downloaded = new Set(rec.content.downloaded);
  const entries = pkgs
    .map((p) =>
      elXml(
        'entry',
        el('version', p.version) +
          el('app-version', p.version) +
          el('filename', `panupv2-all-contents-${p.version}`) +
          el('size', p.sizeMb) +
          el('size-kb', Math.round(p.sizeMb * 1024)) +
          el('released-on', p.releasedOn) +
          elCdata('release-notes', ` https://proditpdownloads.paloaltonetworks.com/content/${p.version} `) +
          el('downloaded', yesNo(downloaded.has(p.version) || p.version === rec.content.installed)) +
          el('current', yesNo(p.version === rec.content.installed)) +
          el('previous', 'no') +
          el('installing', 'no') +
          el('features', 'contents') +
          el('update-type', 'Full') +
          el('feature-desc', 'Unknown') +
          el('sha256', pseudoHex(`content:${p.version}`, 64)),
      ),
    )
    .join('');
  const attrs = now !== undefined ? { 'last-updated-at': formatPanosTime(now) } : undefined;
  return successXml(elXml('content-updates', entries, attrs));
}

// ---- §8, §9, §13 job enqueued ----

function enqueued(text: string, jobId: number): string {
  return successXml(`<msg><line>${escapeXml(text)}</line></msg>${el('job', jobId)}`, '19');
}

export function downloadEnqueuedXml(jobId: number): string {
  return enqueued(`Download job enqueued with jobid ${jobId}`, jobId);
}

/** §9; one line, as pypanco printed it from a device (the doc's wrap is taken as a PDF artifact). */
export function installEnqueuedXml(jobId: number): string {
  return enqueued(
    `Software install job enqueued with jobid ${jobId}. Run 'show jobs id ${jobId}' to monitor its status. Please reboot the device after the installation is done.`,
    jobId,
  );
}

export function contentDownloadEnqueuedXml(jobId: number): string {
  return enqueued(`Download job enqueued with jobid ${jobId}`, jobId);
}

export function contentInstallEnqueuedXml(jobId: number): string {
  return enqueued(`Content install job enqueued with jobid ${jobId}`, jobId);
}

// ---- §10 jobs ----

function linesXml(name: string, lines: readonly string[]): string {
  return elXml(name, lines.map((l) => el('line', l)).join(''));
}

/** One `<job>` element (no envelope). */
export function jobElementXml(job: PanosJob, now: number): string {
  const active = job.status !== 'FIN';
  let progress: string;
  if (active) progress = String(job.status === 'PEND' ? 0 : jobProgress(job, now));
  // Captured: finished Downld/SWInstall show a timestamp, system jobs (AutoCom) show 100.
  else progress = job.type === 'AutoCom' ? '100' : formatPanosTime(job.finishedAt ?? job.endsAt);
  return elXml(
    'job',
    el('tenq', formatPanosTime(job.enqueuedAt)) +
      el('tdeq', formatTimeOfDay(job.startedAt)) +
      el('id', job.id) +
      el('user', job.user) +
      el('type', job.type) +
      el('status', job.status) +
      el('queued', job.status === 'PEND' ? 'YES' : 'NO') +
      el('stoppable', yesNo(job.status === 'ACT' && job.type === 'Downld')) +
      el('result', active ? 'PEND' : job.result) +
      el('tfin', active ? 'Still Active' : formatPanosTime(job.finishedAt ?? job.endsAt)) +
      el('description', job.description) +
      el('positionInQ', 0) +
      el('progress', progress) +
      linesXml('details', job.details) +
      linesXml('warnings', job.warnings),
  );
}

export function jobXml(job: PanosJob, now: number): string {
  return successXml(jobElementXml(job, now));
}

/** `show jobs all`: newest first; `<result/>` when there are none. */
export function jobsAllXml(jobs: readonly PanosJob[], now: number): string {
  const sorted = [...jobs].sort((a, b) => b.id - a.id);
  return successXml(sorted.map((j) => jobElementXml(j, now)).join(''));
}

export function jobNotFoundXml(id: number | string): string {
  return errorXml(undefined, [`job ${id} not found`]);
}

// ---- §11 restart and readiness ----

/** The success form a 10.2 lab logged; clients must also accept the older status="error" form. */
export function restartXml(): string {
  return successXml(escapeXml('Command succeeded with no output'));
}

export function chassisReadyXml(ready: boolean): string {
  return successXml(cdata(yesNo(ready)));
}

/** [unconfirmed] `show clock`: the `date`-style line as plain result text. */
export function clockXml(now: number): string {
  return successXml(escapeXml(`${formatClock(now)}\n`));
}

/**
 * [unconfirmed] `show system software status`: process lines; paloversion only looks for
 * "Process … not running" lines, so the layout is a simulator choice.
 */
export function softwareStatusXml(notRunning: readonly string[] = []): string {
  const processes = ['all_pktproc_1', 'authd', 'configd', 'devsrvr', 'logrcvr', 'mgmtsrvr', 'useridd', 'sysd'];
  const down = new Set(notRunning);
  const all = [...new Set([...processes, ...notRunning])];
  const lines = all.map((p) => `Process ${p.padEnd(28)} ${down.has(p) ? 'not running' : `running   (pid: ${1000 + (hash(p) % 9000)})`}`);
  return successXml(cdata(`Slot 1, Role mp\n${'-'.repeat(70)}\n${lines.join('\n')}\n`));
}

// ---- §12 Panorama ----

export function devicesXml(views: readonly ManagedDeviceView[], now: number): string {
  const entries = views
    .map(({ record: r, connected, haState }) => {
      const ha =
        haState !== undefined
          ? elXml('ha', el('state', haState) + (r.ha ? elXml('peer', el('serial', r.ha.config.peerSerial)) : ''))
          : '';
      return elXml(
        'entry',
        el('serial', r.serial) +
          el('connected', yesNo(connected)) +
          el('unsupported-version', 'no') +
          el('wildfire-rt', 'no') +
          el('deactivated', 'no') +
          el('hostname', r.hostname) +
          el('ip-address', r.mgmtIp) +
          el('ipv6-address', 'unknown') +
          el('mac-addr') +
          el('uptime', connected ? uptimeText(r.bootedAt, now) : '') +
          el('family', r.family) +
          el('model', r.model) +
          el('sw-version', r.swVersion) +
          el('app-version', r.content.installed) +
          el('av-version', r.avVersion) +
          el('wildfire-version', 0) +
          el('threat-version', r.content.installed) +
          el('url-db', 'paloaltonetworks') +
          el('logdb-version', logdbVersion(r.swVersion)) +
          el('vpnclient-package-version') +
          el('global-protect-client-package-version', '0.0.0') +
          el('domain') +
          el('slot-count', 1) +
          el('type') +
          el('tag') +
          ha +
          el('vpn-disable-mode', 'no') +
          el('operational-mode', 'normal') +
          el('certificate-status') +
          el('connected-at', connected ? formatPanosTime(r.bootedAt) : '') +
          el('custom-certificate-usage', 'no') +
          el('multi-vsys', yesNo(r.multiVsys)) +
          elXml(
            'vsys',
            elXml(
              'entry',
              el('display-name', 'vsys1') + el('shared-policy-status') + el('shared-policy-md5sum', pseudoHex(`md5:${r.serial}`, 32)),
              { name: 'vsys1' },
            ),
          ) +
          el('express-mode', 'no') +
          el('device-cert-present', 'Valid'),
        { name: r.serial },
      );
    })
    .join('');
  return successXml(elXml('devices', entries));
}

/**
 * [unconfirmed] Panorama's answer when `target=` names a device that is unknown or not connected.
 * No capture exists (§12, §17.1); this wording is a simulator choice modelled on pan-os-python's
 * client-side check ("…attached and connected to Panorama").
 */
export function notConnectedXml(serial: string): string {
  return errorXml(undefined, [`Device ${serial} is not connected to Panorama`]);
}
