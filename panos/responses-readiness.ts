/**
 * Response builders for the read-only commands of readiness tooling. Pure: plain data in, PAN-OS XML out.
 * Shapes follow the fixtures of pan-os-upgrade-assurance's tests (tests/test_firewall_proxy.py, cited
 * below as "PUA fixture") and the parsers of its FirewallProxy; what no primary source shows is marked
 * [unconfirmed].
 */
import type { SimArpEntry, SimBgpPeer, SimEnvEntry, SimInterface, SimLicense, SimLock, SimRoute, SimSession, SimTunnel } from './readiness-model.ts';
import { successXml } from './responses.ts';
import { formatAsctime, formatClock, formatPanosTime } from './time.ts';
import { cdata, el, elXml, escapeXml, yesNo } from './xml.ts';

const rows = <T>(items: readonly T[], f: (x: T) => string): string => items.map(f).join('');

/** `check pending-changes` / `check full-commit-required`: `<result>yes|no</result>` (PUA fixture). */
export function yesNoResultXml(value: boolean): string {
  return successXml(yesNo(value));
}

/** `show system setting jumbo-frame`: `<result>on|off</result>` (PUA fixture). */
export function jumboFrameXml(on: boolean): string {
  return successXml(on ? 'on' : 'off');
}

/**
 * `show panorama-status`: text lines (PUA fixture: `Panorama Server 1 : 1.2.3.4` / `Connected : yes` /
 * `HA state : disconnected`); an empty result when no Panorama is configured (PUA `is_panorama_configured`).
 */
export function panoramaStatusXml(panoramaIp: string | undefined, connected: boolean): string {
  if (panoramaIp === undefined) return successXml('');
  const text = `\nPanorama Server 1 : ${panoramaIp}\n    Connected     : ${yesNo(connected)}\n    HA state      : disconnected\n`;
  return successXml(escapeXml(text));
}

/** `show ntp` (PUA fixture): `ntp-server-N` blocks and `synched` (a server name, or `LOCAL`). */
export function ntpXml(servers: readonly string[], synced: boolean): string {
  const blocks = servers
    .map((name, i) =>
      elXml(
        `ntp-server-${i + 1}`,
        el('authentication-type', 'none') +
          el('name', name) +
          el('reachable', yesNo(synced)) +
          // [unconfirmed] `synched` for the selected server and `rejected` when unreachable; the fixture shows `available`.
          el('status', !synced ? 'rejected' : i === 0 ? 'synched' : 'available'),
      ),
    )
    .join('');
  return successXml(blocks + el('synched', synced && servers[0] !== undefined ? servers[0] : 'LOCAL'));
}

/** `request license info` (PUA fixture). */
export function licenseInfoXml(licenses: readonly SimLicense[], serial: string): string {
  const entries = rows(licenses, (l) =>
    elXml(
      'entry',
      el('feature', l.feature) +
        el('description', l.description) +
        el('serial', serial) +
        el('issued', l.issued) +
        el('expires', l.expires) +
        el('expired', yesNo(l.expired)) +
        (l.baseLicenseName !== undefined ? el('base-license-name', l.baseLicenseName) : '') +
        el('authcode', l.authcode ?? null),
    ),
  );
  return successXml(elXml('licenses', entries));
}

/** `request support check` (PUA fixture: `SupportInfoResponse/Support/ExpiryDate` as `%B %d, %Y`). */
export function supportCheckXml(level: string, expires: string, expired: boolean): string {
  const links =
    elXml('Link', el('Title', 'Contact Us') + el('Url', 'https://www.paloaltonetworks.com/company/contact-us.html')) +
    elXml('Link', el('Title', 'Support Home') + el('Url', 'https://www.paloaltonetworks.com/support/tabs/overview.html'));
  const support =
    el('Contact') +
    el('ExpiryDate', expires) +
    el('SupportLevel', level) +
    // [unconfirmed] description text of an active/expired contract.
    el('SupportDescription', expired ? 'Support has expired' : '24 x 7 phone support; advanced replacement hardware service');
  return successXml(elXml('SupportInfoResponse', elXml('Links', links) + elXml('Support', support)));
}

const PROTO_NAME: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };

/** `show session all` (PUA fixture element order); `<result/>` when nothing matches. */
export function sessionsXml(sessions: readonly SimSession[]): string {
  return successXml(
    rows(sessions, (s) =>
      elXml(
        'entry',
        el('dst', s.destination) +
          el('xsource', s.xsource) +
          el('source', s.source) +
          el('xdst', s.destination) +
          el('xsport', s.xsport) +
          el('xdport', s.dport) +
          el('sport', s.sport) +
          el('dport', s.dport) +
          el('proto', s.protocol) +
          el('from', s.from) +
          el('to', s.to) +
          el('start-time', formatAsctime(s.startTime)) +
          el('nat', 'True') +
          el('srcnat', 'True') +
          el('dstnat', 'False') +
          el('proxy', 'False') +
          el('decrypt-mirror', 'False') +
          el('state', 'ACTIVE') +
          el('type', 'FLOW') +
          el('total-byte-count', s.bytes) +
          el('idx', s.idx) +
          el('vsys-idx', 1) +
          el('vsys', 'vsys1') +
          el('application', s.application) +
          el('security-rule', s.rule) +
          el('ingress', s.ingress) +
          el('egress', s.egress) +
          el('flags', ' '),
      ),
    ),
  );
}

/** [unconfirmed] `show session all filter count yes`: the number of matching sessions. */
export function sessionCountXml(count: number): string {
  return successXml(el('member-count', count));
}

export { PROTO_NAME };

/** `show running tunnel flow all` (PUA fixture); an inactive tunnel shows state `init`. */
export function tunnelFlowXml(tunnels: readonly SimTunnel[]): string {
  const ipsec = rows(tunnels, (t) =>
    elXml(
      'entry',
      el('name', t.name) +
        el('id', t.id) +
        el('gwid', t.gwid) +
        el('inner-if', t.innerIf) +
        el('outer-if', t.outerIf) +
        el('localip', t.localIp) +
        el('peerip', t.peerIp) +
        el('state', t.active ? 'active' : 'init') +
        el('mon', 'off') +
        el('owner', 1),
    ),
  );
  return successXml(
    el('dp', 'dp0') +
      el('num_ipsec', tunnels.length) +
      el('num_sslvpn', 0) +
      el('hop') +
      (ipsec === '' ? el('IPSec') : elXml('IPSec', ipsec)) +
      el('SSL-VPN') +
      el('GlobalProtect-Gateway') +
      el('GlobalProtect-site-to-site') +
      el('total', tunnels.length),
  );
}

/**
 * `show clock more`: one `<member>` with the data-plane time (PUA fixture, single data plane), or with a
 * `DP s1dpN:` block per data plane on multi-data-plane platforms (PUA fixture "alt format").
 */
export function clockMoreXml(dpTimes: readonly number[]): string {
  if (dpTimes.length === 1) return successXml(el('member', `dataplane time: ${formatClock(dpTimes[0]!)} `));
  const blocks = dpTimes.map((t, i) => `DP s1dp${i}:\n\ndataplane time: ${formatClock(t)}`).join('\n\n\n\n');
  return successXml(el('member', blocks));
}

/** `show system environmentals` (PUA fixture): component → `Slot<N>` → entries; empty on a VM. */
export function environmentalsXml(entries: readonly SimEnvEntry[]): string {
  const components = ['thermal', 'fantray', 'fan', 'power', 'power-supply'] as const;
  let inner = '';
  for (const c of components) {
    const mine = entries.filter((e) => e.component === c);
    if (mine.length === 0) continue;
    const slots = [...new Set(mine.map((e) => e.slot))];
    inner += elXml(
      c,
      rows(slots, (slot) =>
        elXml(
          `Slot${slot}`,
          rows(
            mine.filter((e) => e.slot === slot),
            (e) => elXml('entry', el('slot', e.slot) + el('description', e.description) + el('alarm', e.alarm ? 'True' : 'False') + e.fields.map(([k, v]) => el(k, v)).join('')),
          ),
        ),
      ),
    );
  }
  return successXml(inner);
}

/**
 * `show running resource-monitor <period> last N` (PUA fixture): per data processor, per core, N comma-separated
 * loads, newest first. [unconfirmed] the maximum and the resource-utilization blocks.
 */
export function resourceMonitorXml(period: string, dataProcessors: readonly (readonly (readonly number[])[])[]): string {
  const one = (values: readonly (readonly number[])[]) => {
    const avg = values.map((v, core) => elXml('entry', el('coreid', core) + el('value', v.join(',')))).join('');
    const max = values.map((v, core) => elXml('entry', el('coreid', core) + el('value', v.map((x) => Math.min(100, x + 3)).join(',')))).join('');
    const all = values.flat();
    const mean = all.length ? Math.round(all.reduce((a, b) => a + b, 0) / all.length) : 0;
    const util = elXml('entry', el('name', 'session') + el('value', String(Math.max(0, Math.round(mean / 3))))) + elXml('entry', el('name', 'packet buffer') + el('value', '0'));
    return elXml(period, elXml('cpu-load-average', avg) + elXml('cpu-load-maximum', max) + elXml('resource-utilization', util));
  };
  return successXml(elXml('resource-monitor', elXml('data-processors', dataProcessors.map((values, i) => elXml(`dp${i}`, one(values))).join(''))));
}

/** `show system state filter sys.monitor.*.mp.exports` (PUA fixture text in CDATA). */
export function mpExportsXml(slot: number, cpu1min: number): string {
  const disks = [
    ['sda', 'None'],
    ['sda3', '/opt/pancfg'],
    ['sda6', '/opt/panrepo'],
    ['sda8', '/opt/panlogs'],
  ]
    .map(([d, m], i) => `{ 'Drive': ${d}, 'Mount': ${m}, 'Rd ms': ${1000 + i * 377}, 'Wr ms': ${50_000 + i * 9_311}, }`)
    .join(', ');
  return successXml(cdata(` sys.monitor.s${slot}.mp.exports: { 'cpu': { '1minavg': ${cpu1min}, }, 'disks': [ ${disks}, ], 'slot': ${slot}, } `));
}

/** `show system state filter sw.dev.interface.config` (PUA fixture text in CDATA). */
export function interfaceConfigStateXml(interfaces: readonly SimInterface[]): string {
  const body = interfaces.map((i) => (i.kind === 'ethernet' ? `'${i.name}': { 'hwaddr': ${i.mac}, 'mtu': ${i.mtu}, }` : `'${i.name}': { }`)).join(', ');
  return successXml(cdata(` sw.dev.interface.config: { ${body}, } `));
}

/** A `show system state` filter that matches nothing (PUA fixture: `'sys.monitor.*.mp.exports': NO_MATCHES`). */
export function stateNoMatchXml(filter: string): string {
  return successXml(cdata(` '${filter}': NO_MATCHES `));
}

/** `show system resources`: `top` output (PUA fixture; the parser reads the `MiB Mem` line). */
export function systemResourcesXml(now: number, uptimeSeconds: number, mem: { totalMib: number; freeMib: number; usedMib: number; cacheMib: number }, cpuPct: number): string {
  const d = new Date(now);
  const hhmmss = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')}`;
  const days = Math.floor(uptimeSeconds / 86_400);
  const hm = `${Math.floor((uptimeSeconds % 86_400) / 3600)}:${String(Math.floor((uptimeSeconds % 3600) / 60)).padStart(2, '0')}`;
  const up = days > 0 ? `${days} days, ${hm}` : hm;
  const f = (n: number) => n.toFixed(1).padStart(8);
  const idle = Math.max(0, 100 - cpuPct).toFixed(1);
  const text =
    `top - ${hhmmss} up ${up},  0 users,  load average: 0.26, 0.18, 0.19\n` +
    `Tasks: 456 total,   1 running, 452 sleeping,   0 stopped,   3 zombie\n` +
    `%Cpu(s): ${(cpuPct * 0.6).toFixed(1).padStart(4)} us, ${(cpuPct * 0.4).toFixed(1).padStart(4)} sy,  0.0 ni, ${idle.padStart(4)} id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n` +
    `MiB Mem : ${f(mem.totalMib)} total, ${f(mem.freeMib)} free, ${f(mem.usedMib)} used, ${f(mem.cacheMib)} buff/cache\n` +
    `MiB Swap:   1023.9 total,   1023.9 free,      0.0 used. ${f(mem.freeMib + mem.cacheMib)} avail Mem\n` +
    `\n  PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n` +
    `13999       20   0  177396  23916  12740 S   6.2   0.0   0:26.59 packet_pa+\n`;
  return successXml(cdata(text));
}

/** `show config-locks` / `show commit-locks` (PUA fixture for config locks; [unconfirmed] commit-lock children). */
export function locksXml(kind: 'config-locks' | 'commit-locks', locks: readonly SimLock[]): string {
  const entries = rows(locks, (l) =>
    elXml(
      'entry',
      (kind === 'config-locks' ? el('type', 'shared') + el('name', 'shared') : el('vsys', 'shared')) +
        el('created', formatPanosTime(l.created)) +
        el('last-activity', formatPanosTime(l.created)) +
        el('loggedin', 'yes') +
        `<comment>${cdata(l.comment)}</comment>`,
      { name: l.admin },
    ),
  );
  return successXml(entries === '' ? el(kind) : elXml(kind, entries));
}

/**
 * `show redistribution service client all` (PUA fixture). With no client the fixture's form is an empty
 * `<entry>` (an empty `<result/>` would make PUA's `result.get` fail), so that is what the simulator sends.
 */
export function redistributionClientsXml(clients: readonly { host: string; port: number }[]): string {
  if (clients.length === 0) return successXml('<entry></entry>');
  return successXml(
    rows(clients, (c) => elXml('entry', el('host', c.host) + el('port', c.port) + el('vsys', 'vsys1') + el('version', 6) + el('status', 'idle') + el('redistribution', 'I    '))),
  );
}

/** `show redistribution service agent all` (PUA fixture); empty as for clients. */
export function redistributionAgentsXml(): string {
  return successXml('<entry></entry>');
}

/** `show user user-id-service status` (PUA fixture text). */
export function userIdServiceXml(up: boolean, clients: number): string {
  const text = up
    ? `\nUser ID service info:\n    User id service:               up\n    listening port:                5007\n    number of clients:             ${clients}\n`
    : `\nUser ID service info:\n    User id service:               down\n    Reason:                        user_id service is not enabled\n`;
  return successXml(cdata(text));
}

function hwEntry(i: SimInterface): string {
  const up = i.up;
  const speed = i.kind === 'ethernet' ? (up ? '10000' : 'ukn') : '[n/a]';
  const duplex = i.kind === 'ethernet' ? (up ? 'full' : 'ukn') : '[n/a]';
  return elXml(
    'entry',
    el('name', i.name) +
      el('id', i.id) +
      el('type', 0) +
      el('mac', i.mac) +
      el('speed', speed) +
      el('duplex', duplex) +
      el('state', up ? 'up' : 'down') +
      el('mode', '(autoneg)') +
      el('st', `${speed}/${duplex}/${up ? 'up' : 'down'}`),
  );
}

function ifnetEntry(i: SimInterface): string {
  return elXml(
    'entry',
    el('name', i.name) +
      el('zone', i.zone) +
      el('fwd', `vr:${i.virtualRouter}`) +
      el('vsys', 1) +
      el('dyn-addr') +
      el('addr6') +
      el('tag', 0) +
      el('ip', i.cidr ?? 'N/A') +
      el('id', i.id) +
      (i.cidr ? elXml('addr', el('member', i.cidr)) : el('addr')),
  );
}

/** `show interface "hardware"`: `<hw>` entries (PUA fixture; the parser reads name and state). */
export function interfaceHardwareXml(interfaces: readonly SimInterface[]): string {
  return successXml(elXml('hw', rows(interfaces.filter((i) => i.kind === 'ethernet'), hwEntry)));
}

/** [unconfirmed] `show interface all`: `<ifnet>` then `<hw>`, as `show interface` lists them. */
export function interfaceAllXml(interfaces: readonly SimInterface[]): string {
  return successXml(elXml('ifnet', rows(interfaces, ifnetEntry)) + elXml('hw', rows(interfaces, hwEntry)));
}

/** `show interface <name>` (PUA fixture: `dp`, `ifnet` with `mtu`, counters); `error` when it does not exist. */
export function interfaceDetailXml(i: SimInterface | undefined, name: string): string {
  if (!i) return successXml(el('dp', 'dp0') + el('error', `Interface '${name}' not found`));
  const ifnet =
    el('name', i.name) +
    el('id', i.id) +
    el('tag', 0) +
    el('mode', 'layer3') +
    el('fwd_type', 'vr') +
    el('vr', i.virtualRouter) +
    el('mtu', i.mtu) +
    el('df_ignore', 'False') +
    (i.cidr ? elXml('addr', el('member', i.cidr)) : el('addr')) +
    el('dyn-addr') +
    el('addr6') +
    el('mgt_subnet', 'False') +
    el('vsys', 'vsys1') +
    el('zone', i.zone) +
    el('tcpmss', 'False') +
    el('mssadjv4', 0) +
    el('mssadjv6', 0) +
    el('policing', 'False') +
    el('tunnel') +
    el('gre', 'False');
  const counters = elXml(
    'counters',
    elXml('ifnet', elXml('entry', el('name', i.name) + el('ibytes', 0) + el('obytes', 0) + el('ipackets', 0) + el('opackets', 0) + el('ierrors', 0) + el('idrops', 0))),
  );
  return successXml(el('dp', 'dp0') + elXml('ifnet', ifnet + counters) + (i.kind === 'ethernet' ? elXml('hw', hwEntry(i).replace(/^<entry>|<\/entry>$/g, '')) : ''));
}

const ROUTE_FLAGS =
  'flags: A:active, ?:loose, C:connect, H:host, S:static, ~:internal, R:rip, O:ospf, B:bgp, Oi:ospf intra-area, Oo:ospf inter-area, O1:ospf ext-type-1, O2:ospf ext-type-2, E:ecmp, M:multicast';

/** `show routing route` (legacy routing engine; PUA fixture element order). */
export function routeTableXml(routes: readonly SimRoute[]): string {
  const entries = rows(routes, (r) =>
    elXml(
      'entry',
      el('virtual-router', r.virtualRouter) +
        el('destination', r.destination) +
        el('nexthop', r.nexthop) +
        el('metric', r.metric) +
        el('flags', r.flags) +
        // [unconfirmed] age in seconds for BGP routes, empty for the others (the fixture shows a static route).
        el('age', null) +
        el('interface', r.interface) +
        el('route-table', 'unicast'),
    ),
  );
  return successXml(el('flags', ROUTE_FLAGS) + entries);
}

/** `show routing summary` over the same route table (§5b of the API notes; [unconfirmed] child set). */
export function routeSummaryXml(routes: readonly SimRoute[], virtualRouters: readonly string[], limit = 20000): string {
  const block = (name: string, rs: readonly SimRoute[], withLimit: boolean) =>
    elXml(name, el('total', rs.length) + (withLimit ? el('limit', limit) : '') + el('active', rs.length));
  const totals = (rs: readonly SimRoute[]) =>
    block('All-Routes', rs, true) +
    block('Static-Routes', rs.filter((r) => r.protocol === 'static'), false) +
    block('Connect-Routes', rs.filter((r) => r.protocol === 'connect' || r.protocol === 'host'), false) +
    block('OSPF-Routes', [], false) +
    block('BGP-Routes', rs.filter((r) => r.protocol === 'bgp'), false) +
    block('RIP-Routes', [], false);
  return successXml(elXml('entry', totals(routes)) + rows(virtualRouters, (vr) => elXml('entry', totals(routes.filter((r) => r.virtualRouter === vr)), { name: vr })));
}

/**
 * `show routing fib` (PUA fixture): per virtual router one IPv4 table (type 0) and one IPv6 table (type 1),
 * so there are always at least two `fibs/entry` elements (PUA's parser rejects a single one). Flags and
 * next-hop types: `ug`/0 through a gateway, `u`/3 connected, `uh`/3 host [unconfirmed beyond the fixture's].
 */
export function fibXml(routes: readonly SimRoute[], virtualRouters: readonly string[]): string {
  let id = 1;
  let total = 0;
  const tables = virtualRouters
    .map((vr) => {
      const mine = routes.filter((r) => r.virtualRouter === vr && r.interface !== '' && r.flags.startsWith('A'));
      total += mine.length;
      const entries = mine
        .map((r, i) => {
          const gw = r.nexthop !== '0.0.0.0';
          return elXml(
            'entry',
            el('id', i + 1) +
              el('dst', r.destination) +
              el('interface', r.interface) +
              el('nh_type', gw ? 0 : 3) +
              el('flags', gw ? 'ug' : r.protocol === 'host' ? 'uh' : 'u') +
              el('nexthop', r.nexthop) +
              el('mtu', 1500),
          );
        })
        .join('');
      const v4 = elXml('entry', el('id', id++) + el('vr', vr) + el('max', 32768) + el('type', 0) + el('ecmp', 0) + (entries === '' ? el('entries') : elXml('entries', entries)) + el('nentries', mine.length));
      const v6 = elXml('entry', el('id', id++) + el('vr', vr) + el('max', 32768) + el('type', 1) + el('ecmp', 0) + el('entries') + el('nentries', 0));
      return v4 + v6;
    })
    .join('');
  return successXml(el('dp', 'dp0') + el('total', total) + elXml('fibs', tables));
}

/** `show advanced-routing route`: JSON inside `<json>` (PUA fixture; API notes §5c), logical routers keyed by name. */
export function advancedRoutesXml(routes: readonly SimRoute[], uptime: string): string {
  const byLr: Record<string, Record<string, unknown[]>> = {};
  for (const r of routes) {
    if (r.interface === '') continue;
    const lr = (byLr[r.virtualRouter] ??= {});
    const connected = r.nexthop === '0.0.0.0';
    const nexthop: Record<string, unknown> = connected
      ? { flags: '* ', fib: true, directlyConnected: true, interfaceIndex: 16, interfaceName: r.interface, active: true }
      : { flags: '* ', fib: true, ip: r.nexthop, afi: 'ipv4', interfaceIndex: 16, interfaceName: r.interface, active: true, weight: 1 };
    (lr[r.destination] ??= []).push({
      prefix: r.destination,
      protocol: connected ? 'connected' : r.protocol,
      vrfId: 0,
      vrfName: 'default',
      selected: true,
      destSelected: true,
      distance: r.protocol === 'bgp' ? 20 : connected ? 0 : 10,
      metric: r.metric,
      installed: true,
      table: 254,
      internalStatus: 16,
      internalFlags: 8,
      internalNextHopNum: 1,
      internalNextHopActiveNum: 1,
      uptime,
      nexthops: [nexthop],
    });
  }
  return successXml(el('json', JSON.stringify(byLr)));
}

/** `show routing protocol bgp peer` (PUA fixture: entries with `peer` and `vr` attributes). */
export function bgpPeersXml(peers: readonly SimBgpPeer[]): string {
  return successXml(
    rows(peers, (p) =>
      elXml(
        'entry',
        el('peer-group', p.group) +
          el('peer-router-id', p.peerIp) +
          el('remote-as', p.remoteAs) +
          el('status', p.established ? 'Established' : 'Active') +
          el('status-duration', p.stateSeconds) +
          el('password-set', 'no') +
          el('passive', 'no') +
          el('multi-hop-ttl', 1) +
          el('peer-address', `${p.peerIp}:${p.established ? 35355 : 179}`) +
          el('local-address', `${p.localIp}:179`) +
          el('reflector-client', 'not-client') +
          el('same-confederation', 'no') +
          el('aggregate-confed-as', 'yes') +
          el('peering-type', 'Unspecified') +
          el('connect-retry-interval', 15) +
          el('open-delay', 0) +
          el('idle-hold', 15) +
          el('prefix-limit', 5000) +
          el('holdtime', p.established ? 30 : 0) +
          el('holdtime-config', 30) +
          el('keepalive', p.established ? 10 : 0) +
          el('keepalive-config', 10) +
          el('msg-update-in', p.established ? 2 : 0) +
          el('msg-update-out', p.established ? 1 : 0) +
          el('msg-total-in', p.established ? Math.floor(p.stateSeconds / 10) + 3 : 0) +
          el('msg-total-out', p.established ? Math.floor(p.stateSeconds / 10) + 4 : 0) +
          el('last-update-age', 3) +
          el('last-error', p.established ? null : 'Hold Timer Expired') +
          el('status-flap-counts', p.flaps) +
          el('established-counts', p.established ? 1 : 0) +
          el('ORF-entry-received', 0) +
          el('nexthop-self', 'no') +
          el('nexthop-thirdparty', 'yes') +
          el('nexthop-peer', 'no') +
          elXml('config', el('remove-private-as', 'no')) +
          elXml(
            'peer-capability',
            elXml('list', el('capability', 'Multiprotocol Extensions(1)') + el('value', 'IPv4 Unicast')) +
              elXml('list', el('capability', 'Route Refresh(2)') + el('value', 'yes')) +
              elXml('list', el('capability', '4-Byte AS Number(65)') + el('value', p.remoteAs)),
          ) +
          elXml(
            'prefix-counter',
            elXml(
              'entry',
              el('incoming-total', p.prefixes) +
                el('incoming-accepted', p.prefixes) +
                el('incoming-rejected', 0) +
                el('policy-rejected', 0) +
                el('outgoing-total', 0) +
                el('outgoing-advertised', 0),
              { 'afi-safi': 'bgpAfiIpv4-unicast' },
            ),
          ),
        { peer: p.name, vr: p.virtualRouter },
      ),
    ),
  );
}

/** `show arp entry name='all'` over the readiness topology (same shape as arpXml in responses.ts). */
export function arpTableXml(entries: readonly SimArpEntry[]): string {
  const body = rows(entries, (e) =>
    elXml('entry', el('interface', e.interface) + el('ip', e.ip) + el('mac', e.mac) + el('port', e.interface) + el('status', ' c ') + el('ttl', e.ttl)),
  );
  return successXml(el('dp', 'dp0') + el('timeout', 1800) + el('total', entries.length) + elXml('entries', body) + el('max', 32000));
}
