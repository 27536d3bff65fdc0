import test from 'ava';
import { compareSnapshots, defaultReadinessPolicy, describeRegressions, formatComparison, policyFromObject, takeSnapshot, type ReadingValues, type Readings } from '../../checks/index.ts';
import { healthy } from './healthy-device.ts';

function device(v: Partial<ReadingValues> = {}): Readings {
  const base: ReadingValues = {
    ...healthy(),
    routes: Array.from({ length: 100 }, (_, i) => ({ virtualRouter: 'default', destination: `10.${i}.0.0/16`, nexthop: '10.0.0.254', flags: 'A S', interface: 'ethernet1/1', routeTable: 'unicast' })),
    fib: [{ virtualRouter: 'default', destination: '0.0.0.0/0', interface: 'ethernet1/1', nexthop: '10.0.0.254', flags: 'ug', mtu: 1500 }],
    interfaces: [
      { name: 'ethernet1/1', state: 'up', speed: '10000' },
      { name: 'ethernet1/2', state: 'up', speed: '10000' },
    ],
    interfaceMtus: { 'ethernet1/1': 1500, 'ethernet1/2': 9000 },
    sessionInfo: { ...healthy().sessionInfo, numActive: 1000, numTcp: 800, numUdp: 200 },
    bgpPeers: [
      { virtualRouter: 'default', peer: 'isp1', group: 'g', status: 'Established', peerAddress: '192.0.2.1:179', remoteAs: '1', key: 'default_g_isp1' },
      { virtualRouter: 'default', peer: 'isp2', group: 'g', status: 'Established', peerAddress: '192.0.2.2:179', remoteAs: '2', key: 'default_g_isp2' },
    ],
    ...v,
  };
  return Object.fromEntries(Object.entries(base).map(([k, value]) => [k, { ok: true, value }])) as Readings;
}

const rules = defaultReadinessPolicy().snapshots;

test('snapshot: the same device before and after compares clean in every area', (t) => {
  const c = compareSnapshots(takeSnapshot(device()), takeSnapshot(device()), rules);
  t.true(c.ok);
  t.deepEqual(c.areas.filter((a) => !a.ok), []);
  t.is(c.areas.find((a) => a.area === 'routes')?.before, 100);
});

test('snapshot: a BGP peer lost after the reboot fails with the peer named and its state change', (t) => {
  const after = device({ bgpPeers: [{ ...healthy().bgpPeers[0]!, peer: 'isp1', key: 'default_g_isp1', status: 'Established', peerAddress: '192.0.2.1:179' }, { virtualRouter: 'default', peer: 'isp2', group: 'g', status: 'Active', peerAddress: '192.0.2.2:179', remoteAs: '2', key: 'default_g_isp2' }] });
  const c = compareSnapshots(takeSnapshot(device()), takeSnapshot(after), rules);
  t.false(c.ok);
  const bgp = c.areas.find((a) => a.area === 'bgp_peers');
  t.deepEqual(bgp?.changed, [{ key: 'default_g_isp2', field: 'status', before: 'Established', after: 'Active' }]);
  t.regex(describeRegressions(c), /bgp peers: 1 state change: default_g_isp2 status Established → Active/);
  const gone = compareSnapshots(takeSnapshot(device()), takeSnapshot(device({ bgpPeers: healthy().bgpPeers.slice(0, 0) })), rules);
  t.regex(describeRegressions(gone), /bgp peers: count 2 → 0 .*2 entries disappeared: default_g_isp1, default_g_isp2|bgp peers: 2 entries disappeared/);
});

test('snapshot: routes dropped beyond the threshold fail with how many and which', (t) => {
  const pre = takeSnapshot(device());
  const post = takeSnapshot(device({ routes: (device().routes as { ok: true; value: ReadingValues['routes'] }).value.slice(0, 80) }));
  const c = compareSnapshots(pre, post, rules);
  const routes = c.areas.find((a) => a.area === 'routes');
  t.like(routes, { ok: false, before: 100, after: 80, changePct: -20 });
  t.is(routes?.missing.length, 20);
  t.true(routes?.missing.includes('default 10.99.0.0/16 via 10.0.0.254'));
  t.regex(describeRegressions(c), /routes: count 100 → 80 \(-20, -20%\), allowed ±0%/);
  const text = formatComparison(c).join('\n');
  t.regex(text, /FAIL routes\s+100 → 80 \(-20%\)/);
  t.regex(text, /disappeared: default 10\.80\.0\.0\/16 via 10\.0\.0\.254/);
  // A looser policy lets the same drop through.
  const loose = policyFromObject({ snapshots: { routes: { max_change_pct: 25 } } }).snapshots;
  t.true(compareSnapshots(pre, post, loose).ok);
});

test('snapshot: an interface going down or changing MTU is a state change; sessions within 10% are fine', (t) => {
  const after = device({
    interfaces: [
      { name: 'ethernet1/1', state: 'down', speed: '10000' },
      { name: 'ethernet1/2', state: 'up', speed: '10000' },
    ],
    interfaceMtus: { 'ethernet1/1': 1500, 'ethernet1/2': 1500 },
    sessionInfo: { ...healthy().sessionInfo, numActive: 950 },
  });
  const c = compareSnapshots(takeSnapshot(device()), takeSnapshot(after), rules);
  const i = c.areas.find((a) => a.area === 'interfaces');
  t.deepEqual(i?.changed.map((x) => `${x.key} ${x.field} ${x.before}→${x.after}`), ['ethernet1/1 state up→down', 'ethernet1/2 mtu 9000→1500']);
  t.true(c.areas.find((a) => a.area === 'sessions')?.ok);
  const fewer = compareSnapshots(takeSnapshot(device()), takeSnapshot(device({ sessionInfo: { ...healthy().sessionInfo, numActive: 800 } })), rules);
  t.false(fewer.areas.find((a) => a.area === 'sessions')?.ok);
});

test('snapshot: an area not read before or after is reported as not compared, not as a regression', (t) => {
  const r = device();
  r.bgpPeers = { ok: false, reason: 'PAN-OS error 17: bgp is unexpected' };
  const pre = takeSnapshot(r);
  t.regex(pre.unavailable.bgp_peers ?? '', /error 17/);
  const c = compareSnapshots(pre, takeSnapshot(device()), rules);
  t.true(c.ok);
  t.like(c.areas.find((a) => a.area === 'bgp_peers'), { ok: true, unavailable: 'PAN-OS error 17: bgp is unexpected' });
});

test('snapshot: content versions may change by default, a warn area never fails the job', (t) => {
  const newer = device({ systemInfo: { ...healthy().systemInfo, appVersion: '8999-9000' } });
  const c = compareSnapshots(takeSnapshot(device()), takeSnapshot(newer), rules);
  t.true(c.ok);
  t.deepEqual(c.areas.find((a) => a.area === 'content')?.changed, [{ key: 'app', field: 'version', before: '8900-8000', after: '8999-9000' }]);
  const lic = compareSnapshots(takeSnapshot(device()), takeSnapshot(device({ licenses: [] })), rules);
  t.like(lic.areas.find((a) => a.area === 'licenses'), { ok: false, severity: 'warn' });
  t.true(lic.ok);
});
