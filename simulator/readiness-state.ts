/**
 * The readiness state of one simulated firewall, derived on demand (nothing is stored per device): from the
 * record (serial, family, metrics, disk, HA), the scenario's readiness fields and the live readiness faults.
 * Every table comes from one topology, so the answers agree with each other:
 *
 * - interfaces carry the subnets; connected routes, ARP entries, BGP peers and session endpoints lie in them;
 * - the route table holds `metrics.routes` routes while every BGP peer is up; a peer that is down takes its
 *   prefixes out of the route table, the FIB and the routing summary;
 * - the FIB is the active routes of each virtual router, one IPv4 and one IPv6 table per router;
 * - listed sessions are the first of the `num-active` sessions `show session info` counts;
 * - tables are built by index from the serial, so a reboot (which drifts the counts a little) keeps every
 *   route and every entry that still fits the new count.
 */
import type { FirewallRecord } from '../panos/model.ts';
import type {
  ReadinessFaults,
  ReadinessSpec,
  SimArpEntry,
  SimBgpPeer,
  SimEnvEntry,
  SimInterface,
  SimLicense,
  SimLock,
  SimRoute,
  SimSession,
  SimTunnel,
} from '../panos/readiness-model.ts';
import { panrepoFreeAfterFaults, parseSchedule } from '../panos/readiness-model.ts';
import { SIM_CERTIFICATES, type SimCertificate } from './readiness-certificates.ts';

/** FNV-1a, as everywhere in the simulator: stable per text. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A number in [0, 1) from `text`, with the bits mixed (murmur3's finalizer) so that near texts differ. */
const unit = (text: string): number => {
  let h = hash(text);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
};

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `December 31, 2027`, as `request license info` and `request support check` print dates. */
export function licenseDate(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')}, ${d.getUTCFullYear()}`;
}

function parseIsoDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
}

function ipOf(a: number, b: number, c: number, d: number): string {
  return `${a & 255}.${b & 255}.${c & 255}.${d & 255}`;
}

/** Pick a number from a fault value: `true` gives `dflt`, a number gives itself. */
function level(v: boolean | number | undefined, dflt: number): number | undefined {
  if (v === undefined || v === false) return undefined;
  return v === true ? dflt : v;
}

/** The most sessions `show session all` lists in one answer [unconfirmed: the limit of a real device is not known]. */
export const SESSION_LIST_LIMIT = 500;

/** Sessions a filtered count examines at most (the generated population is walked by index). */
const SESSION_COUNT_SCAN_LIMIT = 2_000_000;

const APPS: ReadonlyArray<[number, number, string]> = [
  [6, 443, 'ssl'],
  [6, 443, 'web-browsing'],
  [6, 80, 'web-browsing'],
  [17, 53, 'dns'],
  [6, 22, 'ssh'],
  [17, 123, 'ntp'],
  [6, 8443, 'ssl'],
];

const TCP_APPS = APPS.filter(([proto]) => proto === 6);
const UDP_APPS = APPS.filter(([proto]) => proto === 17);

export interface ReadinessInput {
  record: FirewallRecord;
  spec: ReadinessSpec | undefined;
  faults: ReadinessFaults | undefined;
  now: number;
  /** Whether Panorama sees the device connected. */
  panoramaConnected: boolean;
  panoramaIp: string;
}

/** Derived on each request; fields are computed when first read. */
export class DeviceReadiness {
  readonly rec: FirewallRecord;
  readonly spec: ReadinessSpec;
  readonly faults: ReadinessFaults;
  readonly now: number;
  readonly panoramaConnected: boolean;
  readonly panoramaIp: string;
  private readonly h: number;
  private cache = new Map<string, unknown>();

  constructor(input: ReadinessInput) {
    this.rec = input.record;
    this.spec = input.spec ?? {};
    this.faults = input.faults ?? {};
    this.now = input.now;
    this.panoramaConnected = input.panoramaConnected;
    this.panoramaIp = input.panoramaIp;
    this.h = hash(this.rec.serial);
  }

  private memo<T>(key: string, make: () => T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const v = make();
    this.cache.set(key, v);
    return v;
  }

  get isVm(): boolean {
    return this.rec.family === 'vm';
  }

  /** Branch-class platforms (PA-200…800 and VMs) have fewer peers and routers than data-centre ones. */
  get isBranch(): boolean {
    return ['200', '400', '800', 'vm'].includes(this.rec.family);
  }

  /** The site of a fleet hostname (`fw-<site>-NN`), if it has one. */
  private get site_(): string | undefined {
    return /^fw-([a-z0-9]+)-\d+$/i.exec(this.rec.hostname)?.[1]?.toLowerCase();
  }

  /** Second octet of the device's private space, 16…215. */
  private get site(): number {
    return 16 + (this.h % 200);
  }

  get virtualRouters(): string[] {
    return this.memo('vrs', () => {
      const n = Math.max(1, Math.min(8, this.spec.virtualRouters ?? (this.isBranch ? 2 : 3)));
      return ['default', ...Array.from({ length: n - 1 }, (_, i) => `vr-${i + 2}`)];
    });
  }

  /** ethernet1/1 faces the outside (untrust); the others are inside /22s; the last ones serve the extra routers. */
  get interfaces(): SimInterface[] {
    return this.memo('ifs', () => {
      const vrs = this.virtualRouters;
      const n = Math.max(vrs.length + 1, Math.min(32, this.spec.interfaces ?? (this.isVm ? 4 : 8)));
      const mtu = this.spec.jumboFrame ? 9192 : 1500;
      const out: SimInterface[] = [];
      for (let i = 1; i <= n; i++) {
        const extraVr = i > n - (vrs.length - 1) ? vrs[i - (n - (vrs.length - 1))] : undefined;
        const cidr = i === 1 ? `${ipOf(198, 18, this.h >> 8, 1)}/24` : `${ipOf(10, this.site, (i - 2) * 4, 1)}/22`;
        out.push({
          name: `ethernet1/${i}`,
          id: 15 + i,
          cidr,
          zone: i === 1 ? 'untrust' : extraVr ? `zone-${extraVr}` : 'trust',
          virtualRouter: extraVr ?? 'default',
          mac: this.mac(i),
          mtu,
          up: true,
          kind: 'ethernet',
        });
      }
      out.push({ name: 'loopback.1', id: 256, cidr: `${ipOf(10, 255, this.site, 1)}/32`, zone: 'trust', virtualRouter: 'default', mac: this.mac(0xf0), mtu: 1500, up: true, kind: 'loopback' });
      for (const t of this.tunnelSpecs) {
        out.push({ name: t.innerIf, id: 300 + t.id, zone: 'vpn', virtualRouter: 'default', mac: this.mac(0xe0 + t.id), mtu: 1500, up: true, kind: 'tunnel' });
      }
      return out;
    });
  }

  private mac(i: number): string {
    const b = [0x00, 0x1b, 0x17, (this.h >>> 16) & 0xff, (this.h >>> 8) & 0xff, i & 0xff];
    return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
  }

  /** Inside interfaces of the default router with a /22: where hosts, peers and sessions live. */
  private get insideIfs(): SimInterface[] {
    return this.memo('inside', () => this.interfaces.filter((i) => i.kind === 'ethernet' && i.name !== 'ethernet1/1' && i.virtualRouter === 'default'));
  }

  /** Address number `n` (2…1022) in an inside interface's /22. */
  private hostIp(iface: SimInterface, n: number): string {
    const [a, b, c] = (iface.cidr ?? '0.0.0.0/0').split('/')[0]!.split('.').map(Number) as [number, number, number];
    return ipOf(a, b, c + Math.floor(n / 256), n % 256);
  }

  private get untrustGateway(): string {
    return ipOf(198, 18, this.h >> 8, 254);
  }

  private get untrustIp(): string {
    return ipOf(198, 18, this.h >> 8, 1);
  }

  get bgpPeers(): SimBgpPeer[] {
    return this.memo('bgp', () => {
      const n = Math.max(0, Math.min(16, this.spec.bgpPeers ?? (this.isBranch ? 2 : 4)));
      const inside = this.insideIfs;
      const down = this.faults.bgpPeerDown;
      const peers: SimBgpPeer[] = [];
      for (let p = 0; p < n; p++) {
        const iface = inside[p % Math.max(1, inside.length)] ?? this.interfaces[0]!;
        const name = `peer-${p + 1}`;
        const isDown = down === true ? p === 0 : typeof down === 'string' ? down === name : false;
        const established = !isDown;
        const sinceBoot = Math.max(0, Math.floor((this.now - this.rec.bootedAt) / 1000));
        peers.push({
          name,
          group: p % 2 === 0 ? 'pg-core' : 'pg-edge',
          virtualRouter: iface.virtualRouter,
          peerIp: this.hostIp(iface, 1021 - p),
          localIp: (iface.cidr ?? '').split('/')[0]!,
          remoteAs: 64600 + p,
          interface: iface.name,
          established,
          stateSeconds: established ? Math.max(0, sinceBoot - 40 - p * 3) : 30 + (this.h % 600),
          prefixes: 0,
          flaps: established ? 1 : 2,
        });
      }
      const perPeer = this.bgpPrefixesPerPeer(n);
      for (const p of peers) p.prefixes = p.established ? perPeer : 0;
      return peers;
    });
  }

  private bgpPrefixesPerPeer(peers: number): number {
    if (peers === 0) return 0;
    return Math.max(1, Math.min(1000, Math.floor((this.rec.metrics.routes * 0.2) / peers)));
  }

  private get tunnelSpecs(): SimTunnel[] {
    return this.memo('tun', () => {
      const n = Math.max(0, Math.min(64, this.spec.ipsecTunnels ?? (this.isBranch ? 2 : 4)));
      const down = this.faults.tunnelDown;
      return Array.from({ length: n }, (_, t) => {
        const name = `tun-site-${t + 1}`;
        const isDown = down === true ? t === 0 : typeof down === 'string' ? down === name : false;
        return {
          name,
          id: t + 1,
          gwid: t + 1,
          innerIf: `tunnel.${t + 1}`,
          outerIf: 'ethernet1/1',
          localIp: this.untrustIp,
          peerIp: ipOf(203, 0, 113, 10 + ((this.h + t * 7) % 200)),
          active: !isDown,
        };
      });
    });
  }

  get tunnels(): SimTunnel[] {
    return this.tunnelSpecs;
  }

  /**
   * Every route, BGP routes of established peers included. With all peers up the table holds exactly
   * `metrics.routes` routes (fewer only when that is below the structural routes: defaults and connected).
   */
  get routes(): SimRoute[] {
    return this.memo('routes', () => {
      const target = Math.max(0, Math.floor(this.rec.metrics.routes));
      const out: SimRoute[] = [];
      const structural: SimRoute[] = [];
      structural.push({ virtualRouter: 'default', destination: '0.0.0.0/0', nexthop: this.untrustGateway, metric: 10, flags: 'A S ', interface: 'ethernet1/1', protocol: 'static' });
      for (const vr of this.virtualRouters.slice(1)) {
        structural.push({ virtualRouter: vr, destination: '0.0.0.0/0', nexthop: 'default', metric: 10, flags: 'A S ', interface: '', protocol: 'static' });
      }
      for (const i of this.interfaces) {
        if (!i.cidr || !i.up) continue;
        const [addr, len] = i.cidr.split('/') as [string, string];
        const net = networkOf(addr, Number(len));
        structural.push({ virtualRouter: i.virtualRouter, destination: `${net}/${len}`, nexthop: '0.0.0.0', metric: 0, flags: i.kind === 'loopback' ? 'A H ' : 'A C ', interface: i.name, protocol: i.kind === 'loopback' ? 'host' : 'connect' });
      }
      for (const t of this.tunnelSpecs) {
        structural.push({ virtualRouter: 'default', destination: `${ipOf(192, 168, t.id, 0)}/24`, nexthop: '0.0.0.0', metric: 10, flags: 'A S ', interface: t.innerIf, protocol: 'static' });
      }
      for (const r of structural) if (out.length < target) out.push(r);
      const peers = this.bgpPeers;
      const perPeer = this.bgpPrefixesPerPeer(peers.length);
      // BGP prefixes are counted whether or not the peer is up, so a peer coming back restores exactly its own.
      peers.forEach((p, pi) => {
        for (let j = 0; j < perPeer && out.length < target; j++) {
          const route: SimRoute = { virtualRouter: p.virtualRouter, destination: `${ipOf(172, 16 + pi * 4 + (j >> 8), j & 255, 0)}/24`, nexthop: p.peerIp, metric: 0, flags: 'A B ', interface: p.interface, protocol: 'bgp' };
          if (p.established) out.push(route);
          else out.push({ ...route, flags: '' });
        }
      });
      const inside = this.insideIfs[0];
      let k = 0;
      while (out.length < target) {
        out.push({ virtualRouter: 'default', destination: `${ipOf(10, this.site + 1 + Math.floor(k / 256), k % 256, 0)}/24`, nexthop: inside ? this.hostIp(inside, 1000) : this.untrustGateway, metric: 10, flags: 'A S ', interface: inside?.name ?? 'ethernet1/1', protocol: 'static' });
        k++;
      }
      // Routes of a peer that is down are placeholders (empty flags) so that the others keep their places: drop them now.
      return out.filter((r) => r.flags !== '');
    });
  }

  /** ARP: the untrust gateway, the BGP peers, then hosts spread over the inside interfaces; `metrics.arpEntries` in all. */
  get arp(): SimArpEntry[] {
    return this.memo('arp', () => {
      const target = Math.max(0, Math.floor(this.rec.metrics.arpEntries));
      const out: SimArpEntry[] = [];
      const push = (iface: string, ip: string, n: number) =>
        out.push({ interface: iface, ip, mac: `00:50:56:${((this.h >>> 4) & 0xff).toString(16).padStart(2, '0')}:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`, ttl: 1800 - ((n * 37) % 1800) });
      if (out.length < target) push('ethernet1/1', this.untrustGateway, 0);
      this.bgpPeers.forEach((p, i) => {
        if (out.length < target) push(p.interface, p.peerIp, 1 + i);
      });
      const inside = this.insideIfs;
      const capacity = inside.length * 1000;
      for (let i = 0; out.length < target && i < capacity; i++) {
        const iface = inside[i % inside.length]!;
        push(iface.name, this.hostIp(iface, 2 + Math.floor(i / inside.length)), 100 + i);
      }
      return out;
    });
  }

  get sessionCounts(): { tcp: number; udp: number; active: number } {
    const { tcpSessions: tcp, udpSessions: udp } = this.rec.metrics;
    return { tcp, udp, active: tcp + udp };
  }

  /** Session `i` of the `num-active` population (0-based); critical sessions of the scenario come first. */
  session(i: number): SimSession {
    const crit = this.spec.criticalSessions ?? [];
    const { tcpSessions: tcp, udpSessions: udp } = this.rec.metrics;
    const active = tcp + udp;
    const arp = this.memo('hosts', () => this.arp.filter((e) => e.interface !== 'ethernet1/1'));
    const host = arp.length > 0 ? arp[i % arp.length]! : { interface: this.insideIfs[0]?.name ?? 'ethernet1/2', ip: this.hostIp(this.insideIfs[0] ?? this.interfaces[0]!, 2) };
    const c = crit[i];
    const wantTcp = c ? (c.protocol ?? 6) === 6 : i < Math.round((tcp * Math.min(active, SESSION_COUNT_SCAN_LIMIT)) / Math.max(1, active));
    const choices = wantTcp ? TCP_APPS : UDP_APPS;
    const [proto, port, app] = choices[(i + this.h) % choices.length]!;
    const sport = 1024 + ((i * 7919 + this.h) % 60000);
    return {
      idx: 1000 + i,
      source: c?.source ?? host.ip,
      destination: c?.destination ?? ipOf(198, 51, 100, 1 + ((i * 13) % 250)),
      xsource: this.untrustIp,
      sport,
      dport: c?.port ?? port,
      xsport: 20000 + (sport % 40000),
      protocol: c ? (c.protocol ?? 6) : proto,
      application: c ? (c.port === 443 ? 'ssl' : 'web-browsing') : app,
      from: 'trust',
      to: 'untrust',
      ingress: host.interface,
      egress: 'ethernet1/1',
      // Fixed per boot: a session keeps its start time from one answer to the next.
      startTime: this.rec.bootedAt + 1000 * (90 + ((i * 31) % 3600)),
      bytes: 64 + ((i * 1543 + this.h) % 900_000),
      rule: c ? 'allow-critical' : app === 'dns' || app === 'ntp' ? 'allow-infra' : 'allow-outbound',
    };
  }

  get licenses(): SimLicense[] {
    return this.memo('lic', () => {
      const year = new Date(this.now).getUTCFullYear();
      const m = this.h % 12;
      const d = 1 + (this.h % 28);
      const future = parseIsoDate(this.spec.licenseExpires) ?? Date.UTC(year + 1, m, d);
      const past = Date.UTC(year - 1, m, d);
      const issued = Date.UTC(year - 2, m, d);
      const expiredFeature = this.faults.licenseExpired === true ? 'Threat Prevention' : typeof this.faults.licenseExpired === 'string' ? this.faults.licenseExpired : undefined;
      const features: [string, string][] = [
        ['Threat Prevention', 'Threat Prevention'],
        ['PAN-DB URL Filtering', 'Palo Alto Networks URL Filtering License'],
        ['WildFire License', 'WildFire signature feed, integrated WildFire logs, WildFire API'],
        ['GlobalProtect Gateway', 'GlobalProtect Gateway License'],
      ];
      const out: SimLicense[] = [];
      if (this.isVm) out.push({ feature: 'PA-VM', description: 'Standard VM-300', issued: licenseDate(issued), expires: 'Never', expired: false, authcode: `I${this.h % 10_000_000}` });
      for (const [feature, description] of features) {
        const expired = feature === expiredFeature;
        const lic: SimLicense = { feature, description, issued: licenseDate(issued), expires: licenseDate(expired ? past : future), expired };
        if (this.isVm) lic.baseLicenseName = 'PA-VM';
        out.push(lic);
      }
      const support = this.support;
      out.push({ feature: support.level, description: '24 x 7 phone support; advanced replacement hardware service', issued: licenseDate(issued), expires: support.expires, expired: support.expired, authcode: String(10_000_000 + (this.h % 89_999_999)) });
      return out;
    });
  }

  get support(): { level: string; expires: string; expired: boolean } {
    const year = new Date(this.now).getUTCFullYear();
    const m = (this.h >> 4) % 12;
    const d = 1 + ((this.h >> 4) % 28);
    const expired = this.faults.supportExpired === true;
    const at = expired ? Date.UTC(year - 1, m, d) : (parseIsoDate(this.spec.supportExpires) ?? Date.UTC(year + 2, m, d));
    return { level: this.spec.supportLevel ?? 'Premium', expires: licenseDate(at), expired: expired || at < this.now };
  }

  get ntpServers(): string[] {
    return this.spec.ntpServers ?? ['0.pool.ntp.org', '1.pool.ntp.org'];
  }

  get ntpSynced(): boolean {
    return this.faults.ntpUnsynced !== true && this.ntpServers.length > 0;
  }

  get dpClock(): number {
    return this.now + Math.round((this.faults.clockSkewSeconds ?? 0) * 1000);
  }

  get pendingChanges(): boolean {
    return this.faults.pendingChanges === true;
  }

  get fullCommitRequired(): boolean {
    return this.faults.fullCommitRequired === true;
  }

  private lock(v: boolean | string | undefined, comment: string): SimLock[] {
    if (v === undefined || v === false) return [];
    return [{ admin: v === true ? 'admin' : v, created: this.now - 600_000, comment }];
  }

  get configLocks(): SimLock[] {
    return this.lock(this.faults.configLock, 'maintenance in progress');
  }

  get commitLocks(): SimLock[] {
    return this.lock(this.faults.commitLock, 'change freeze');
  }

  /** Free MB on /opt/panrepo after the low-disk fault. */
  panrepoFreeMb(actualFreeMb: number): number {
    return panrepoFreeAfterFaults(actualFreeMb, this.faults);
  }

  /** CPU load of data-plane core `core` in minute `minute` (0 = the current one), percent. */
  dpCpu(core: number, minute: number): number {
    const high = level(this.faults.highDpCpu, 95);
    const base = high ?? this.spec.dpCpuPct ?? 4 + (this.h % 25);
    const wobble = Math.floor(unit(`${this.rec.serial}:${core}:${Math.floor(this.now / 60_000) - minute}`) * 7) - 3;
    return Math.max(0, Math.min(100, Math.round(base + wobble)));
  }

  /** Data planes: three on PA-5200/5400, two on PA-7000, one elsewhere. A clock skew shows on the last one. */
  get dataPlanes(): number {
    return ['5200', '5400'].includes(this.rec.family) ? 3 : this.rec.family === '7000' ? 2 : 1;
  }

  get dpCores(): number {
    return this.isVm ? 4 : 12;
  }

  get mpCpu(): number {
    return level(this.faults.highMpCpu, 96) ?? this.spec.mpCpuPct ?? 2 + (this.h % 12);
  }

  get mpMemory(): { totalMib: number; usedMib: number; freeMib: number; cacheMib: number } {
    const totalMib = this.isVm ? 15_883.4 : 63_739.8;
    const pct = level(this.faults.highMemory, 96) ?? this.spec.mpMemoryPct ?? 35 + (this.h % 25);
    const usedMib = Math.round(totalMib * pct) / 100;
    const cacheMib = Math.round(totalMib * Math.min(100 - pct, 10)) / 100;
    const freeMib = Math.round((totalMib - usedMib - cacheMib) * 10) / 10;
    return { totalMib, usedMib, freeMib, cacheMib };
  }

  /** Hardware only: a VM answers no environmentals. */
  get environmentals(): SimEnvEntry[] {
    if (this.isVm) return [];
    const alarm = this.faults.environmentalAlarm === true ? 'power-supply' : this.faults.environmentalAlarm || undefined;
    const t = 30 + (this.h % 12);
    const rows: SimEnvEntry[] = [
      { component: 'thermal', slot: 1, description: 'Temperature near (Jumbo) FPGA', alarm: false, fields: [['DegreesC', String(t)], ['min', '5.0'], ['max', '60.0']] },
      { component: 'thermal', slot: 1, description: 'Temperature @ Dataplane CPU', alarm: false, fields: [['DegreesC', String(t + 14)], ['min', '5.0'], ['max', '80.0']] },
      { component: 'fantray', slot: 1, description: 'Fan Tray', alarm: false, fields: [['Inserted', 'True'], ['min', '1']] },
      { component: 'fan', slot: 1, description: 'Fan #1 RPM', alarm: false, fields: [['RPMs', String(3000 + (this.h % 900))], ['min', '1000']] },
      { component: 'fan', slot: 1, description: 'Fan #2 RPM', alarm: false, fields: [['RPMs', String(3100 + (this.h % 800))], ['min', '1000']] },
      { component: 'power', slot: 1, description: 'Power: 1.0V Core', alarm: false, fields: [['Volts', '1.008'], ['min', '0.9'], ['max', '1.1']] },
      { component: 'power-supply', slot: 1, description: 'Power Supply #1 (left)', alarm: false, fields: [['Inserted', 'True'], ['min', 'True']] },
      { component: 'power-supply', slot: 1, description: 'Power Supply #2 (right)', alarm: false, fields: [['Inserted', 'True'], ['min', 'True']] },
    ];
    if (alarm) {
      const row = [...rows].reverse().find((r) => r.component === alarm);
      if (row) {
        row.alarm = true;
        if (row.component === 'power-supply' || row.component === 'fantray') row.fields[0] = ['Inserted', 'False'];
        if (row.component === 'fan') row.fields[0] = ['RPMs', '0'];
        if (row.component === 'thermal') row.fields[0] = ['DegreesC', '91.0'];
        if (row.component === 'power') row.fields[0] = ['Volts', '0.712'];
      }
    }
    return rows;
  }

  get certificates(): SimCertificate[] {
    const certs = [SIM_CERTIFICATES.ca, SIM_CERTIFICATES.ec];
    if (this.faults.weakCertificate) certs.push(SIM_CERTIFICATES.weak);
    return certs;
  }

  get deviceGroup(): string {
    // Fleets group by site (`fw-dc1-01` → dg-dc1); other names by platform class.
    const site = this.site_;
    return this.spec.deviceGroup ?? (site ? `dg-${site}` : this.isBranch ? 'branches' : 'datacenter');
  }

  get templateStack(): string {
    return this.spec.templateStack ?? `ts-${this.deviceGroup}`;
  }

  get panoramaConfigured(): boolean {
    return this.spec.panorama ?? true;
  }

  get redistributionClients(): number {
    return Math.max(0, this.spec.redistributionClients ?? 0);
  }

  get userIdService(): boolean {
    return this.spec.userIdService ?? this.redistributionClients > 0;
  }

  /**
   * Schedules as [type, recurring element name, fields]. The defaults run half a day (anti-virus, daily)
   * and three and a half days (threats, weekly) after the device's boot time of day (UTC, as the check
   * reads them), so that a healthy device has none in the next hours whatever the hour a run starts: a
   * fixed time (it was daily 03:xx) failed `dynamic_updates` on a healthy device for an hour each day.
   */
  get updateSchedules(): Array<{ name: string; recurring: string; fields: [string, string][] }> {
    const s = this.spec.updateSchedules ?? {};
    const hhmm = (d: Date): string => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const daily = new Date(this.rec.bootedAt + 12 * 3_600_000);
    const weekly = new Date(this.rec.bootedAt + 84 * 3_600_000);
    const day = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][weekly.getUTCDay()]!;
    const entries: [string, string][] = [
      ['threats', s.threats ?? `weekly ${day} ${hhmm(weekly)}`],
      ['anti-virus', s.antivirus ?? `daily ${hhmm(daily)}`],
      ['wildfire', s.wildfire ?? 'none'],
    ];
    return entries.map(([name, text]) => ({ name, ...parseSchedule(text) }));
  }
}

function networkOf(addr: string, len: number): string {
  const n = addr.split('.').reduce((acc, o) => (acc << 8) | (Number(o) & 255), 0) >>> 0;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const net = (n & mask) >>> 0;
  return [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
}
