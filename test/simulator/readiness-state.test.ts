import test from 'ava';
import type { FirewallRecord } from '../../panos/model.ts';
import type { ReadinessFaults, ReadinessSpec } from '../../panos/readiness-model.ts';
import { DeviceReadiness, SESSION_LIST_LIMIT } from '../../simulator/readiness-state.ts';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

function record(over: Partial<FirewallRecord> = {}): FirewallRecord {
  return {
    serial: '015500000001',
    hostname: 'fw-lon-01',
    model: 'PA-3220',
    family: '3200',
    mgmtIp: '127.0.15.1',
    netmask: '255.255.255.0',
    defaultGateway: '127.0.15.254',
    macAddress: '00:1b:17:00:00:01',
    swVersion: '10.1.0',
    bootedAt: NOW - 86_400_000,
    multiVsys: false,
    images: [],
    downloaded: [],
    content: { installed: '8700-7000', available: [], downloaded: [] },
    avVersion: '0',
    metrics: { tcpSessions: 900, udpSessions: 100, routes: 300, arpEntries: 250 },
    disk: { panrepoTotalMb: 20_000, panrepoUsedMb: 4_000 },
    jobs: [],
    nextJobId: 1,
    ...over,
  };
}

const view = (rec: FirewallRecord, spec?: ReadinessSpec, faults?: ReadinessFaults) =>
  new DeviceReadiness({ record: rec, spec, faults, now: NOW, panoramaConnected: true, panoramaIp: '127.0.0.1' });

const routeKey = (r: { virtualRouter: string; destination: string; interface: string; nexthop: string }) => `${r.virtualRouter}_${r.destination}_${r.interface}_${r.nexthop}`;

for (const routes of [0, 1, 5, 30, 300, 5000]) {
  test(`readiness state: when metrics.routes is ${routes} then the route table holds that many distinct routes`, (t) => {
    const r = view(record({ metrics: { tcpSessions: 10, udpSessions: 0, routes, arpEntries: 10 } }));
    t.is(r.routes.length, routes);
    t.is(new Set(r.routes.map(routeKey)).size, routes, 'no route twice');
  });
}

test('readiness state: when a BGP peer goes down then exactly its prefixes leave and every other route keeps its place', (t) => {
  const rec = record();
  const up = view(rec);
  const peer = up.bgpPeers[1]!;
  const down = view(rec, undefined, { bgpPeerDown: peer.name });
  t.false(down.bgpPeers[1]!.established);
  t.is(down.bgpPeers[1]!.prefixes, 0);
  const learned = up.routes.filter((r) => r.nexthop === peer.peerIp && r.protocol === 'bgp');
  t.is(learned.length, peer.prefixes);
  t.deepEqual(down.routes.map(routeKey), up.routes.filter((r) => !learned.includes(r)).map(routeKey));
});

test('readiness state: when the ARP table is built then every entry lies in a subnet of its interface and peers are neighbours', (t) => {
  const r = view(record());
  t.is(r.arp.length, 250);
  t.is(new Set(r.arp.map((e) => e.ip)).size, 250);
  const ifs = new Map(r.interfaces.map((i) => [i.name, i]));
  const inSubnet = (ip: string, cidr: string) => {
    const [net, len] = cidr.split('/') as [string, string];
    const n = (a: string) => a.split('.').reduce((x, o) => (x << 8) | Number(o), 0) >>> 0;
    const mask = (0xffffffff << (32 - Number(len))) >>> 0;
    return (n(ip) & mask) === (n(net) & mask);
  };
  for (const e of r.arp) t.true(inSubnet(e.ip, ifs.get(e.interface)!.cidr!), `${e.ip} on ${e.interface}`);
  const ips = new Set(r.arp.map((e) => e.ip));
  for (const p of r.bgpPeers) t.true(ips.has(p.peerIp));
});

test('readiness state: when the counts drift after a reboot then the entries that still fit are the same ones', (t) => {
  const before = view(record());
  const after = view(record({ bootedAt: NOW - 60_000, metrics: { tcpSessions: 880, udpSessions: 104, routes: 300, arpEntries: 249 } }));
  t.deepEqual(after.routes.map(routeKey), before.routes.map(routeKey));
  t.deepEqual(after.arp.map((e) => e.ip), before.arp.slice(0, 249).map((e) => e.ip));
  t.deepEqual(after.interfaces, before.interfaces);
  t.deepEqual(after.licenses, before.licenses, 'licenses do not change with a reboot');
});

test('readiness state: when there is one virtual router then the FIB still has two tables, and every router has both families', (t) => {
  const r = view(record(), { virtualRouters: 1 });
  t.deepEqual(r.virtualRouters, ['default']);
  t.true(r.routes.every((x) => x.virtualRouter === 'default'));
  const three = view(record(), { virtualRouters: 3 });
  t.deepEqual(three.virtualRouters, ['default', 'vr-2', 'vr-3']);
  for (const vr of three.virtualRouters) t.true(three.interfaces.some((i) => i.virtualRouter === vr), `${vr} has an interface`);
});

test('readiness state: when sessions are enumerated then critical ones come first, TCP count matches and start times stay put', (t) => {
  const spec: ReadinessSpec = { criticalSessions: [{ source: '10.1.1.1', destination: '192.0.2.1', port: 9443 }] };
  const r = view(record(), spec);
  t.like(r.session(0), { source: '10.1.1.1', destination: '192.0.2.1', dport: 9443, protocol: 6 });
  const n = r.sessionCounts.active;
  let tcp = 0;
  for (let i = 0; i < n; i++) if (r.session(i).protocol === 6) tcp++;
  t.is(tcp, r.sessionCounts.tcp);
  const later = new DeviceReadiness({ record: record(), spec, faults: undefined, now: NOW + 3_600_000, panoramaConnected: true, panoramaIp: '127.0.0.1' });
  t.deepEqual(later.session(7), r.session(7));
  t.true(SESSION_LIST_LIMIT >= 100);
});

test('readiness state: when faults are set then each area reads as failing, and without them as healthy', (t) => {
  const healthy = view(record());
  t.true(healthy.ntpSynced);
  t.false(healthy.licenses.some((l) => l.expired));
  t.false(healthy.support.expired);
  t.deepEqual(healthy.configLocks, []);
  t.false(healthy.environmentals.some((e) => e.alarm));
  t.is(healthy.dpClock, NOW);
  const bad = view(record(), undefined, { ntpUnsynced: true, licenseExpired: 'WildFire License', supportExpired: true, configLock: true, environmentalAlarm: 'thermal', clockSkewSeconds: -12, lowDisk: 800, highDpCpu: 97 });
  t.false(bad.ntpSynced);
  t.deepEqual(bad.licenses.filter((l) => l.expired).map((l) => l.feature), ['WildFire License', 'Premium']);
  t.deepEqual(bad.configLocks.map((l) => l.admin), ['admin']);
  t.deepEqual(bad.environmentals.filter((e) => e.alarm).map((e) => e.component), ['thermal']);
  t.is(bad.dpClock, NOW - 12_000);
  t.is(bad.panrepoFreeMb(16_000), 800);
  t.true(bad.dpCpu(0, 0) >= 94);
  t.deepEqual(view(record({ family: 'vm', model: 'PA-VM' })).environmentals, [], 'a VM has no environmentals');
});
