import test from 'ava';
import { parseXml, textAt, at, children, attrOf, textOf, type XmlValue } from '../../panos/xml.ts';
import { parseClockText } from '../../panos/time.ts';
import { startTestNats, waitFor } from '../helpers/index.ts';
import { answered, form, http, startLab, type Lab } from '../gateway/gateway-fixture.ts';

const nats = startTestNats(test);

const KEY = 'readiness-lab-key';
const HQ1 = '014400000001';
const HQ2 = '014400000002';
const BRANCH = '014400000003';
const PANORAMA = '000702199014';
const YAML = `
name: readiness
api_key: "${KEY}"
panorama: { serial: "${PANORAMA}", hostname: pano-r, version: "11.1.0", mgmt_ip: 127.0.0.1 }
defaults:
  current_version: "10.1.0"
  available_versions: ["10.1.0", "10.2.0"]
  readiness: { ntp_servers: [ntp1.corp.example, ntp2.corp.example] }
devices:
  - serial: "${HQ1}"
    hostname: fw-hq-01
    model: PA-3220
    mgmt_ip: 127.0.14.1
    metrics: { tcp_sessions: 30, udp_sessions: 10, route_count: 120, arp_count: 40 }
    readiness:
      critical_sessions: [{ source: 10.9.9.9, destination: 192.0.2.10, port: 9443 }]
      update_schedules: { threats: "weekly wednesday 01:02", antivirus: "daily 00:30", wildfire: "every-15-mins" }
  - { serial: "${HQ2}", hostname: fw-hq-02, model: PA-3220, mgmt_ip: 127.0.14.2, metrics: { tcp_sessions: 30, udp_sessions: 10, route_count: 120, arp_count: 40 } }
  - { serial: "${BRANCH}", hostname: fw-br-01, model: PA-VM, mgmt_ip: 127.0.14.3, readiness: { advanced_routing: true, device_group: branch-east } }
ha_pairs:
  - { active: "${HQ1}", passive: "${HQ2}" }
failures:
  - { device: "${BRANCH}", operation: readiness, mode: ntp_unsynced }
`;

/** pan-python's `cmd_xml`: `show interface "hardware"` → `<show><interface>hardware</interface></show>`, empty words as `<x></x>`. */
function cmdXml(text: string): string {
  const args = text.split(/\s+/).filter((a) => a !== '');
  const walk = (): string => {
    const arg = args.shift();
    if (arg === undefined) return '';
    const quoted = args[0] !== undefined ? /^"(.*)"$/.exec(args[0]) : null;
    if (quoted) {
      args.shift();
      return `<${arg}>${quoted[1]}</${arg}>${walk()}`;
    }
    return `<${arg}>${walk()}</${arg}>`;
  };
  return walk();
}

/** The same command with every empty element written `<x />`, as other clients spell it. */
const selfClosing = (xml: string) => xml.replace(/<([\w-]+)><\/\1>/g, '<$1 />');

type Via = { target?: string; host?: string };

async function call(lab: Lab, params: Record<string, string>, via: Via): Promise<XmlValue> {
  const origin = via.host ? lab.gw.panoramaUrl.replace('127.0.0.1', via.host) : lab.gw.panoramaUrl;
  // pan-python POSTs its query as a form body.
  const body = form({ ...params, ...(via.target ? { target: via.target } : {}), key: KEY });
  const r = answered(await http(origin, '/api/', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
  return parseXml(r.body)['response']!;
}

async function op(lab: Lab, cmd: string, via: Via): Promise<{ status: string; result: XmlValue | undefined; raw: XmlValue }> {
  const resp = await call(lab, { type: 'op', cmd, vsys: 'vsys1' }, via);
  return { status: attrOf(resp, 'status') ?? '', result: at(resp, 'result'), raw: resp };
}

const DIRECT_HQ1: Via = { host: '127.0.14.1' };
const VIA_PANORAMA_HQ1: Via = { target: HQ1 };
const text = (v: XmlValue | undefined) => textOf(v).trim();

/** Every read-only command pan-os-upgrade-assurance's FirewallProxy sends, as it spells them. */
const PUA_SEQUENCE = [
  'check pending-changes',
  'check full-commit-required',
  'show panorama-status',
  'show system setting jumbo-frame',
  'show high-availability state',
  'show interface "hardware"',
  'request license info',
  'request support check',
  'show routing route',
  'show routing protocol bgp peer',
  'show session all',
  'show session info',
  'show running tunnel flow all',
  'request content upgrade check',
  'show system info',
  'show ntp',
  'show system disk-space',
  'request system software check',
  'show clock',
  'show clock more',
  'show config running',
  'show jobs all',
  'show user user-id-service status',
  'show redistribution service client all',
  'show redistribution service agent all',
  'show routing fib',
  'show system environmentals',
  'show system resources',
];
const PUA_XML_SEQUENCE = [
  "<show><arp><entry name = 'all'/></arp></show>",
  '<show><running><resource-monitor><minute><last>5</last></minute></resource-monitor></running></show>',
  '<show><system><state><filter>sys.monitor.*.mp.exports</filter></state></system></show>',
  '<show><system><state><filter>sw.dev.interface.config</filter></state></system></show>',
  '<show><interface>ethernet1/2</interface></show>',
  '<show><config-locks><vsys>all</vsys></config-locks></show>',
  '<show><commit-locks><vsys>all</vsys></commit-locks></show>',
];

test('readiness: when the whole read-only sequence of a readiness run is sent directly and through Panorama then every answer is a success, in both spellings of empty elements', async (t) => {
  const lab = await startLab(t, nats, YAML, { protocol: 'https' });
  for (const via of [DIRECT_HQ1, VIA_PANORAMA_HQ1]) {
    for (const cli of PUA_SEQUENCE) {
      for (const cmd of [cmdXml(cli), selfClosing(cmdXml(cli))]) {
        const r = await op(lab, cmd, via);
        t.is(r.status, 'success', `${cmd} ${JSON.stringify(via)}: ${JSON.stringify(r.raw).slice(0, 300)}`);
      }
    }
    for (const cmd of PUA_XML_SEQUENCE) t.is((await op(lab, cmd, via)).status, 'success', cmd);
    const schedule = await call(lab, { type: 'config', action: 'get', xpath: "/config/devices/entry[@name='localhost.localdomain']/deviceconfig/system/update-schedule" }, via);
    t.is(attrOf(schedule, 'status'), 'success');
    t.is(attrOf(schedule, 'code'), '19');
    t.is(textAt(schedule, 'result', 'update-schedule', 'threats', 'recurring', 'weekly', 'day-of-week'), 'wednesday');
    t.is(textAt(schedule, 'result', 'update-schedule', 'anti-virus', 'recurring', 'daily', 'at'), '00:30');
    t.truthy(at(schedule, 'result', 'update-schedule', 'wildfire', 'recurring', 'every-15-mins'));
  }
});

test('readiness: when a device is asked directly and through Panorama then both answer the same state', async (t) => {
  const lab = await startLab(t, nats, YAML);
  for (const cli of ['request license info', 'show routing route', 'show routing fib', 'show ntp', 'show interface "hardware"', 'show session all', 'show running tunnel flow all']) {
    const direct = await op(lab, cmdXml(cli), DIRECT_HQ1);
    const proxied = await op(lab, cmdXml(cli), VIA_PANORAMA_HQ1);
    t.deepEqual(proxied.result, direct.result, cli);
  }
});

test('readiness: when the topology is read then sessions, ARP, interfaces, routes, FIB and BGP agree with each other and with the counts', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const v = DIRECT_HQ1;
  const info = (await op(lab, cmdXml('show session info'), v)).result;
  const sessions = children((await op(lab, cmdXml('show session all'), v)).result, 'entry');
  t.is(Number(textAt(info, 'num-active')), 40);
  t.is(sessions.length, 40, 'every active session is listed');
  t.is(sessions.filter((s) => textAt(s, 'proto') === '6').length, Number(textAt(info, 'num-tcp')));
  t.truthy(sessions.find((s) => textAt(s, 'source') === '10.9.9.9' && textAt(s, 'xdst') === '192.0.2.10' && textAt(s, 'dport') === '9443'), 'the critical session');
  const counted = await op(lab, '<show><session><all><filter><count>yes</count></filter></all></session></show>', v);
  t.is(textAt(counted.result, 'member-count'), '40');
  const filtered = await op(lab, '<show><session><all><filter><destination-port>9443</destination-port><count>yes</count></filter></all></session></show>', v);
  t.is(textAt(filtered.result, 'member-count'), '1');

  const hw = children(at((await op(lab, cmdXml('show interface "hardware"'), v)).result, 'hw'), 'entry').map((e) => textAt(e, 'name'));
  const arp = children(at((await op(lab, "<show><arp><entry name='all'/></arp></show>", v)).result, 'entries'), 'entry');
  t.is(arp.length, 40);
  for (const e of arp) t.true(hw.includes(textAt(e, 'interface')), `ARP on a known interface: ${textAt(e, 'interface')}`);
  const arpIps = new Set(arp.map((e) => textAt(e, 'ip')));
  for (const s of sessions.filter((s) => textAt(s, 'source') !== '10.9.9.9')) t.true(arpIps.has(textAt(s, 'source')), 'session sources are hosts in the ARP table');

  const routes = children((await op(lab, cmdXml('show routing route'), v)).result, 'entry');
  t.is(routes.length, 120, 'metrics.routes routes');
  const summary = (await op(lab, cmdXml('show routing summary'), v)).result;
  t.is(textAt(children(summary, 'entry')[0], 'All-Routes', 'total'), '120');
  const fib = children(at((await op(lab, cmdXml('show routing fib'), v)).result, 'fibs'), 'entry');
  t.true(fib.length >= 2, 'more than one FIB table (one per router and family)');
  t.deepEqual([...new Set(fib.map((f) => textAt(f, 'vr')))], [...new Set(routes.map((r) => textAt(r, 'virtual-router')))]);
  const fibKeys = new Set(fib.flatMap((f) => children(at(f, 'entries'), 'entry').map((e) => `${textAt(e, 'dst')}_${textAt(e, 'interface')}_${textAt(e, 'nexthop')}`)));
  const routeKeys = routes.filter((r) => textAt(r, 'interface') !== '').map((r) => `${textAt(r, 'destination')}_${textAt(r, 'interface')}_${textAt(r, 'nexthop')}`);
  t.deepEqual([...new Set(routeKeys)].sort(), [...fibKeys].sort(), 'the FIB holds the active routes with an interface');

  const peers = children((await op(lab, cmdXml('show routing protocol bgp peer'), v)).result, 'entry');
  t.true(peers.length >= 2);
  for (const p of peers) {
    t.is(textAt(p, 'status'), 'Established');
    const ip = textAt(p, 'peer-router-id');
    t.true(arpIps.has(ip), 'a BGP peer is an ARP neighbour');
    const learned = routes.filter((r) => textAt(r, 'nexthop') === ip && (textAt(r, 'flags') ?? '').includes('B'));
    t.is(learned.length, Number(textAt(p, 'prefix-counter', 'entry', 'incoming-accepted')), 'its accepted prefixes are in the route table');
  }
});

test('readiness: when each readiness fault is switched on over panos.sim.ctl then its area fails, and switching it off restores it', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const v = DIRECT_HQ1;
  const routesBefore = children((await op(lab, cmdXml('show routing route'), v)).result, 'entry').length;
  const peersBefore = children((await op(lab, cmdXml('show routing protocol bgp peer'), v)).result, 'entry');
  const downPeerIp = textAt(peersBefore[0], 'peer-router-id');
  const prefixes = Number(textAt(peersBefore[0], 'prefix-counter', 'entry', 'incoming-accepted'));
  const faults = {
    licenseExpired: true,
    supportExpired: true,
    ntpUnsynced: true,
    pendingChanges: true,
    fullCommitRequired: true,
    configLock: 'alice',
    commitLock: true,
    lowDisk: true,
    haNotSynced: true,
    bgpPeerDown: true,
    tunnelDown: true,
    highDpCpu: true,
    highMpCpu: true,
    highMemory: true,
    environmentalAlarm: 'fan',
    clockSkewSeconds: 90,
    weakCertificate: true,
  };
  t.like(await lab.ctl(HQ1, 'faults', { faults: { readiness: faults } }), { ok: true, changed: 1 });

  const lic = children(at((await op(lab, cmdXml('request license info'), v)).result, 'licenses'), 'entry');
  t.is(textAt(lic.find((l) => textAt(l, 'feature') === 'Threat Prevention'), 'expired'), 'yes');
  const support = (await op(lab, cmdXml('request support check'), v)).result;
  const expiry = Date.parse(textAt(support, 'SupportInfoResponse', 'Support', 'ExpiryDate') ?? '');
  t.true(expiry < Date.now(), 'support expired');
  t.is(textAt((await op(lab, cmdXml('show ntp'), v)).result, 'synched'), 'LOCAL');
  t.is(text((await op(lab, cmdXml('check pending-changes'), v)).result), 'yes');
  t.is(text((await op(lab, cmdXml('check full-commit-required'), v)).result), 'yes');
  const cfgLocks = children(at((await op(lab, '<show><config-locks><vsys>all</vsys></config-locks></show>', v)).result, 'config-locks'), 'entry');
  t.deepEqual(cfgLocks.map((e) => attrOf(e, 'name')), ['alice']);
  const commitLocks = children(at((await op(lab, '<show><commit-locks><vsys>all</vsys></commit-locks></show>', v)).result, 'commit-locks'), 'entry');
  t.deepEqual(commitLocks.map((e) => attrOf(e, 'name')), ['admin']);
  const df = text((await op(lab, cmdXml('show system disk-space'), v)).result);
  const panrepo = df.split('\n').find((l) => l.endsWith('/opt/panrepo'))!.split(/\s+/);
  t.is(panrepo[3], '1.2G', 'low free space on /opt/panrepo');
  const enqueued = await op(lab, '<request><system><software><download><version>10.2.0</version></download></software></system></request>', v);
  const jobId = textAt(enqueued.result, 'job');
  const job = (await op(lab, `<show><jobs><id>${jobId}</id></jobs></show>`, v)).result;
  t.is(textAt(job, 'job', 'result'), 'FAIL', 'a download does not fit either');
  t.regex(JSON.stringify(at(job, 'job', 'details')), /not enough free disk space on \/opt\/panrepo \(2048 MB needed, 1200 MB available\)/);
  t.is(textAt((await op(lab, cmdXml('show high-availability state'), v)).result, 'group', 'running-sync'), 'not synchronized');
  const peers = children((await op(lab, cmdXml('show routing protocol bgp peer'), v)).result, 'entry');
  t.not(textAt(peers[0], 'status'), 'Established');
  const routes = children((await op(lab, cmdXml('show routing route'), v)).result, 'entry');
  t.is(routes.length, routesBefore - prefixes, 'the down peer’s prefixes left the route table');
  t.false(routes.some((r) => textAt(r, 'nexthop') === downPeerIp));
  const fibText = JSON.stringify((await op(lab, cmdXml('show routing fib'), v)).result);
  t.false(fibText.includes(`"${downPeerIp}"`), '…and the FIB');
  const tunnels = children(at((await op(lab, cmdXml('show running tunnel flow all'), v)).result, 'IPSec'), 'entry');
  t.is(textAt(tunnels[0], 'state'), 'init');
  const cpu = children(at((await op(lab, '<show><running><resource-monitor><minute><last>5</last></minute></resource-monitor></running></show>', v)).result, 'resource-monitor', 'data-processors', 'dp0', 'minute', 'cpu-load-average'), 'entry');
  const loads = cpu.flatMap((e) => (textAt(e, 'value') ?? '').split(',').map(Number));
  t.true(loads.length > 0 && loads.reduce((a, b) => a + b, 0) / loads.length >= 90, 'high data-plane CPU');
  const mp = text((await op(lab, '<show><system><state><filter>sys.monitor.*.mp.exports</filter></state></system></show>', v)).result);
  t.regex(mp, /'1minavg': 9\d,/);
  const mem = /MiB Mem :\s+([\d.]+) total,\s+([\d.]+) free,\s+([\d.]+) used/.exec(text((await op(lab, cmdXml('show system resources'), v)).result));
  t.true(Number(mem![3]) / Number(mem![1]) >= 0.9);
  const env = (await op(lab, cmdXml('show system environmentals'), v)).result;
  t.true(children(at(env, 'fan', 'Slot1'), 'entry').some((e) => textAt(e, 'alarm') === 'True'));
  t.false(children(at(env, 'power-supply', 'Slot1'), 'entry').some((e) => textAt(e, 'alarm') === 'True'));
  const mpClock = parseClockText(text((await op(lab, cmdXml('show clock'), v)).result))!;
  const dpLine = text(at((await op(lab, cmdXml('show clock more'), v)).result, 'member'));
  const dpClock = parseClockText(dpLine.replace('dataplane time:', ''))!;
  t.true(Math.abs(dpClock - mpClock - 90_000) <= 2_000, `data plane ${dpLine} vs management`);
  const certs = children(at((await op(lab, cmdXml('show config running'), v)).result, 'config', 'shared', 'certificate'), 'entry');
  t.true(certs.some((c) => attrOf(c, 'name') === 'legacy-ssl-decrypt'));

  const off = Object.fromEntries(Object.entries(faults).map(([k, val]) => [k, typeof val === 'number' ? 0 : false]));
  await lab.ctl(HQ1, 'faults', { faults: { readiness: off } });
  t.is(textAt((await op(lab, cmdXml('show ntp'), v)).result, 'synched'), 'ntp1.corp.example');
  t.is(children((await op(lab, cmdXml('show routing route'), v)).result, 'entry').length, routesBefore);
  t.is(text((await op(lab, cmdXml('check pending-changes'), v)).result), 'no');
  t.is(at((await op(lab, '<show><config-locks><vsys>all</vsys></config-locks></show>', v)).result, 'config-locks', 'entry'), undefined);
});

test('readiness: when a readiness fault payload is wrong then the control reply names the field and nothing changes', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const bad = await lab.ctl(HQ1, 'faults', { faults: { readiness: { bgpPeerDown: true, ntpUnsync: true } } }).catch((e: Error) => e);
  t.true(bad instanceof Error);
  t.regex((bad as Error).message, /readiness.*ntpUnsync/);
  const wrongType = await lab.ctl(HQ1, 'faults', { faults: { readiness: { highDpCpu: 'very' } } }).catch((e: Error) => e);
  t.regex((wrongType as Error).message, /readiness\.highDpCpu/);
  const peers = children((await op(lab, cmdXml('show routing protocol bgp peer'), DIRECT_HQ1)).result, 'entry');
  t.true(peers.every((p) => textAt(p, 'status') === 'Established'));
});

test('readiness: when the scenario gives a readiness failure then the device shows it from the start', async (t) => {
  const lab = await startLab(t, nats, YAML);
  t.is(textAt((await op(lab, cmdXml('show ntp'), { host: '127.0.14.3' })).result, 'synched'), 'LOCAL');
  t.is(textAt((await op(lab, cmdXml('show ntp'), DIRECT_HQ1)).result, 'synched'), 'ntp1.corp.example');
  const vm = await op(lab, cmdXml('show system environmentals'), { host: '127.0.14.3' });
  t.is(vm.status, 'success');
  t.is(text(vm.result), '', 'a VM has no environmentals');
  const are = await op(lab, cmdXml('show advanced-routing route'), { host: '127.0.14.3' });
  const json = JSON.parse(textAt(are.result, 'json') ?? '{}') as Record<string, Record<string, unknown[]>>;
  t.truthy(json['default']?.['0.0.0.0/0'], 'advanced routing answers JSON per logical router');
  t.is((await op(lab, cmdXml('show advanced-routing route'), DIRECT_HQ1)).status, 'error', 'a legacy-routing device refuses it');
  t.is(textAt((await op(lab, cmdXml('show system info'), { host: '127.0.14.3' })).result, 'system', 'advanced-routing'), 'on');
  t.is(textAt((await op(lab, cmdXml('show system info'), DIRECT_HQ1)).result, 'system', 'advanced-routing'), 'off');
});

test('readiness: when Panorama is asked for device groups and templates then every firewall is in one group, in the config and in show devicegroups', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const panorama: Via = {};
  const config = await call(lab, { type: 'config', action: 'get', xpath: "/config/devices/entry[@name='localhost.localdomain']/device-group" }, panorama);
  t.is(attrOf(config, 'status'), 'success');
  const groups = children(at(config, 'result', 'device-group'), 'entry');
  const members = groups.flatMap((g) => children(at(g, 'devices'), 'entry').map((e) => [attrOf(g, 'name'), attrOf(e, 'name')]));
  t.deepEqual(members.map(([, s]) => s).sort(), [HQ1, HQ2, BRANCH]);
  t.deepEqual(members.find(([, s]) => s === BRANCH)?.[0], 'branch-east');
  const opGroups = children(at((await op(lab, cmdXml('show devicegroups'), panorama)).result, 'devicegroups'), 'entry');
  for (const g of opGroups) {
    for (const d of children(at(g, 'devices'), 'entry')) {
      t.is(textAt(d, 'shared-policy-status'), 'In Sync');
      t.is(textAt(d, 'connected'), 'yes');
    }
  }
  t.deepEqual(opGroups.map((g) => attrOf(g, 'name')).sort(), groups.map((g) => attrOf(g, 'name')).sort());
  const stacks = await call(lab, { type: 'config', action: 'get', xpath: "/config/devices/entry[@name='localhost.localdomain']/template-stack" }, panorama);
  t.true(children(at(stacks, 'result', 'template-stack'), 'entry').length >= 1);
  const templates = await call(lab, { type: 'config', action: 'show', xpath: '/config/devices/entry/template' }, panorama);
  t.true(children(at(templates, 'result', 'template'), 'entry').length >= 1);
  t.is(attrOf((await op(lab, cmdXml('show devicegroups'), DIRECT_HQ1)).raw, 'status'), 'error', 'a firewall does not know device groups');
});

test('readiness: when config is read then get and show answer the xpath, a missing one is empty, and writes are refused with an error', async (t) => {
  const lab = await startLab(t, nats, YAML);
  for (const via of [DIRECT_HQ1, VIA_PANORAMA_HQ1]) {
    const system = await call(lab, { type: 'config', action: 'get', xpath: '/config/devices/entry/deviceconfig/system' }, via);
    t.is(textAt(system, 'result', 'system', 'hostname'), 'fw-hq-01');
    t.is(textAt(system, 'result', 'system', 'ntp-servers', 'primary-ntp-server', 'ntp-server-address'), 'ntp1.corp.example');
    t.is(attrOf(at(system, 'result'), 'total-count'), '1');
    const missing = await call(lab, { type: 'config', action: 'get', xpath: "/config/devices/entry[@name='localhost.localdomain']/nothing-here" }, via);
    t.is(attrOf(missing, 'status'), 'success');
    t.is(attrOf(missing, 'code'), '7');
    const running = await call(lab, { type: 'config', action: 'show' }, via);
    t.truthy(at(running, 'result', 'config', 'devices'));
    for (const action of ['set', 'edit', 'delete']) {
      const write = await call(lab, { type: 'config', action, xpath: '/config/devices/entry/deviceconfig/system', element: '<hostname>x</hostname>' }, via);
      t.is(attrOf(write, 'status'), 'error', action);
    }
    const after = await call(lab, { type: 'config', action: 'get', xpath: '/config/devices/entry/deviceconfig/system/hostname' }, via);
    t.is(textAt(after, 'result', 'hostname'), 'fw-hq-01', 'nothing was written');
  }
});

test('readiness: when a device reboots then every route comes back and the ARP and session tables keep their entries', async (t) => {
  const lab = await startLab(t, nats, YAML, { timeScale: 0.02 });
  const v = DIRECT_HQ1;
  const key = (r: XmlValue) => `${textAt(r, 'virtual-router')}_${textAt(r, 'destination')}_${textAt(r, 'interface')}_${textAt(r, 'nexthop')}`;
  const routesBefore = children((await op(lab, cmdXml('show routing route'), v)).result, 'entry').map(key);
  const arpBefore = children(at((await op(lab, "<show><arp><entry name='all'/></arp></show>", v)).result, 'entries'), 'entry').map((e) => `${textAt(e, 'interface')}_${textAt(e, 'ip')}`);
  const uptimeBefore = textAt((await op(lab, cmdXml('show system info'), v)).result, 'system', 'uptime');
  t.like(await lab.ctl(HQ1, 'crash', { seconds: 0.5 }), { crashed: true });
  await waitFor(async () => {
    const r = await http(lab.gw.panoramaUrl.replace('127.0.0.1', '127.0.14.1'), `/api/?${form({ type: 'op', cmd: '<show><chassis-ready/></show>', key: KEY })}`);
    if (r.kind !== 'response' || r.status !== 200 || !r.body.includes('yes')) return undefined;
    const info = await op(lab, cmdXml('show system info'), v);
    return textAt(info.result, 'system', 'uptime') !== uptimeBefore ? true : undefined;
  }, 20_000, 50);
  const routesAfter = children((await op(lab, cmdXml('show routing route'), v)).result, 'entry').map(key);
  t.deepEqual(routesAfter, routesBefore, 'the same routes after the reboot');
  const arpAfter = children(at((await op(lab, "<show><arp><entry name='all'/></arp></show>", v)).result, 'entries'), 'entry').map((e) => `${textAt(e, 'interface')}_${textAt(e, 'ip')}`);
  const common = Math.min(arpBefore.length, arpAfter.length);
  t.deepEqual(arpAfter.slice(0, common), arpBefore.slice(0, common), 'ARP entries keep their places; only the drifted tail differs');
  const jobs = children((await op(lab, cmdXml('show jobs all'), v)).result, 'job').filter((j) => textAt(j, 'type') === 'AutoCom');
  t.is(jobs.length, 2, 'the boot-time auto-commit and the one after the reboot');
});
