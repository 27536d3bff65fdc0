import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { at, attrOf, children, parseXml, textAt, textOf, type XmlValue } from '../../panos/xml.ts';
import { parseClockText } from '../../panos/time.ts';
import { startTestNats } from '../helpers/index.ts';
import { answered, form, http, startLab, type Lab } from '../gateway/gateway-fixture.ts';

// Each test reads an answer the way pan-os-upgrade-assurance's FirewallProxy getter of the same name does
// (firewall_proxy.py), so that a change of shape that would break the client breaks here first.

const nats = startTestNats(test);
const KEY = 'fields-key';
const HW = '016600000001';
const VM = '016600000002';
const YAML = `
name: client-fields
api_key: "${KEY}"
panorama: { serial: "000702199016", hostname: pano-f, version: "11.1.0", mgmt_ip: 127.0.0.1 }
defaults: { current_version: "10.2.4", available_versions: ["10.2.0", "10.2.4", "11.1.0"] }
devices:
  - { serial: "${HW}", hostname: fw-f-01, model: PA-5220, mgmt_ip: 127.0.16.1, readiness: { jumbo_frame: true, user_id_service: true, redistribution_clients: 2 } }
  - { serial: "${VM}", hostname: fw-f-02, model: PA-VM, mgmt_ip: 127.0.16.2, readiness: { panorama: false } }
`;

async function result(lab: Lab, cmd: string, serial = HW): Promise<XmlValue | undefined> {
  const body = form({ type: 'op', cmd, target: serial, key: KEY });
  const r = answered(await http(lab.gw.panoramaUrl, `/api/?${body}`));
  const resp = parseXml(r.body)['response'];
  if (attrOf(resp, 'status') !== 'success') throw new Error(`${cmd}: ${r.body.slice(0, 300)}`);
  return at(resp, 'result');
}
const text = (v: XmlValue | undefined) => textOf(v);

test('client fields: panorama status, jumbo frame, user-id service and redistribution read as the getters read them', async (t) => {
  const lab = await startLab(t, nats, YAML);
  t.regex(text(await result(lab, '<show><panorama-status></panorama-status></show>')), /connected\s*:\s*yes/i);
  t.is(text(await result(lab, '<show><panorama-status/></show>', VM)).trim(), '', 'no Panorama configured: an empty result');
  t.is(text(await result(lab, '<show><system><setting><jumbo-frame/></setting></system></show>')).trim(), 'on');
  t.is(text(await result(lab, '<show><system><setting><jumbo-frame/></setting></system></show>', VM)).trim(), 'off');
  t.regex(text(await result(lab, '<show><user><user-id-service><status/></user-id-service></user></show>')), /User id service:\s+up/);
  t.regex(text(await result(lab, '<show><user><user-id-service><status/></user-id-service></user></show>', VM)), /User id service:\s+down/);
  const clients = children(await result(lab, '<show><redistribution><service><client><all/></client></service></redistribution></show>'), 'entry');
  t.deepEqual(clients.map((c) => textAt(c, 'port')), ['34518', '34519']);
  const none = await result(lab, '<show><redistribution><service><client><all/></client></service></redistribution></show>', VM);
  t.true(at(none, 'entry') !== undefined && text(at(none, 'entry')).trim() === '', 'an empty entry, as the PUA fixture shows');
});

test('client fields: CPU, memory and interface state texts match the regular expressions of the getters', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const mp = text(await result(lab, '<show><system><state><filter>sys.monitor.*.mp.exports</filter></state></system></show>'));
  const cpu = /'cpu':\s*(\{.*?\})/.exec(mp);
  t.truthy(cpu);
  t.regex(cpu![1]!, /'1minavg': \d+,/);
  const mtu = text(await result(lab, '<show><system><state><filter>sw.dev.interface.config</filter></state></system></show>'));
  const body = /sw\.dev\.interface\.config:\s*(\{.*\})/.exec(mtu)?.[1] ?? '';
  t.regex(body, /'ethernet1\/1': \{ 'hwaddr': [0-9a-f:]{17}, 'mtu': 9192, \}/, 'jumbo frames raise the MTU');
  const mem = text(await result(lab, '<show><system><resources/></system></show>'));
  const line = mem.split('\n').find((l) => l.toLowerCase().includes('mib mem'))!;
  const values = Object.fromEntries(['total', 'free', 'used', 'buff/cache'].map((k) => [k, Number(new RegExp(`([0-9.]+)\\s+${k.replace('/', '\\/')}`).exec(line)?.[1])]));
  t.true(values.total! > 0 && Math.abs(values.total! - values.free! - values.used! - values['buff/cache']!) < 1, JSON.stringify(values));
  const rm = await result(lab, '<show><running><resource-monitor><minute><last>7</last></minute></resource-monitor></running></show>');
  t.deepEqual(Object.keys(at(rm, 'resource-monitor', 'data-processors') as object), ['dp0', 'dp1', 'dp2'], 'one per data plane');
  const cores = children(at(rm, 'resource-monitor', 'data-processors', 'dp2', 'minute', 'cpu-load-average'), 'entry');
  t.true(cores.length > 1);
  for (const c of cores) t.is((textAt(c, 'value') ?? '').split(',').map(Number).filter(Number.isInteger).length, 7);
  const detail = await result(lab, '<show><interface>ethernet1/3</interface></show>');
  t.is(textAt(detail, 'ifnet', 'mtu'), '9192');
  t.is(textAt(await result(lab, '<show><interface>ethernet1/99</interface></show>'), 'error'), "Interface 'ethernet1/99' not found");
});

test('client fields: licenses, support, clocks, certificates and jobs parse with the formats the getters use', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const months = 'January|February|March|April|May|June|July|August|September|October|November|December';
  const lic = children(at(await result(lab, '<request><license><info/></license></request>'), 'licenses'), 'entry');
  t.true(lic.length >= 4);
  for (const l of lic) {
    t.regex(textAt(l, 'expires') ?? '', new RegExp(`^((${months}) \\d{2}, \\d{4}|Never)$`));
    t.regex(textAt(l, 'expired') ?? '', /^(yes|no)$/);
  }
  const support = await result(lab, '<request><support><check/></support></request>');
  t.regex(textAt(support, 'SupportInfoResponse', 'Support', 'ExpiryDate') ?? '', new RegExp(`^(${months}) \\d{2}, \\d{4}$`));
  const mp = text(await result(lab, '<show><clock/></show>')).split(/\s+/).filter(Boolean);
  t.is(mp.length, 6, 'day-of-week month day time zone year');
  const dp = text(at(await result(lab, '<show><clock><more/></clock></show>'), 'member')).split('\n').filter((l) => l.toLowerCase().includes('dataplane time'));
  t.is(dp.length, 3, 'a PA-5220 has three data planes, each in its DP block');
  const mpAt = parseClockText(mp.join(' '))!;
  for (const line of dp) {
    const parts = line.split(/\s+/).filter(Boolean);
    t.is(parts.length, 8, 'dataplane time: day month date time zone year');
    // Read a moment after `show clock`: within a couple of seconds of it.
    t.true(Math.abs(parseClockText(parts.slice(2).join(' '))! - mpAt) <= 2_000, line);
  }
  await lab.ctl(HW, 'faults', { faults: { readiness: { clockSkewSeconds: 3600 } } });
  const skewed = text(at(await result(lab, '<show><clock><more/></clock></show>'), 'member')).split('\n').filter((l) => l.includes('dataplane time'));
  t.is(new Set(skewed).size, 2, 'the last data plane runs an hour off the others');
  const single = text(at(await result(lab, '<show><clock><more/></clock></show>', VM), 'member'));
  t.regex(single, /^dataplane time: \w{3} \w{3} [ \d]\d \d{2}:\d{2}:\d{2} UTC \d{4} ?$/, 'one data plane: the single-line form');
  const certs = children(at(await result(lab, '<show><config><running/></config></show>'), 'config', 'shared', 'certificate'), 'entry');
  t.true(certs.length >= 2);
  for (const c of certs) {
    const x = new X509Certificate(textAt(c, 'public-key') ?? '');
    const alg = textAt(c, 'algorithm');
    t.true(alg === 'RSA' || alg === 'EC');
    t.is(x.publicKey.asymmetricKeyType, alg === 'RSA' ? 'rsa' : 'ec');
    t.is(attrOf(c, 'name') !== undefined, true);
    t.is(at(c, 'private-key'), undefined, 'no private key is ever shown');
  }
  const jobs = children(await result(lab, '<show><jobs><all/></jobs></show>'), 'job');
  t.true(jobs.length >= 1 && jobs.every((j) => textAt(j, 'status') === 'FIN' && textAt(j, 'id') !== undefined));
  const disk = text(await result(lab, '<show><system><disk-space/></system></show>')).split('\n');
  const panrepo = disk.find((l) => l.trim().endsWith('/opt/panrepo'))!.trim().split(/\s+/);
  t.regex(panrepo[3]!, /^\d+(\.\d)?[TGMK]$/);
});

test('client fields: BGP peers, tunnels, sessions and FIB carry the keys the getters build their maps from', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const peers = children(await result(lab, '<show><routing><protocol><bgp><peer/></bgp></protocol></routing></show>'), 'entry');
  for (const p of peers) {
    t.truthy(attrOf(p, 'peer'));
    t.truthy(attrOf(p, 'vr'));
    t.truthy(textAt(p, 'peer-group'));
  }
  const flow = await result(lab, '<show><running><tunnel><flow><all/></flow></tunnel></running></show>');
  for (const key of ['IPSec', 'SSL-VPN', 'GlobalProtect-Gateway', 'GlobalProtect-site-to-site', 'hop']) t.not(at(flow, key), undefined, key);
  t.true(children(at(flow, 'IPSec'), 'entry').every((e) => textAt(e, 'name') !== undefined && ['active', 'init'].includes(textAt(e, 'state') ?? '')));
  const sessions = children(await result(lab, '<show><session><all/></session></show>'), 'entry');
  t.true(sessions.length > 0);
  for (const s of sessions.slice(0, 20)) for (const k of ['source', 'xdst', 'dport']) t.truthy(textAt(s, k), k);
  const info = await result(lab, '<show><session><info/></session></show>');
  t.regex(textAt(info, 'num-active') ?? '', /^\d+$/);
  const fibs = children(at(await result(lab, '<show><routing><fib/></routing></show>'), 'fibs'), 'entry');
  t.true(fibs.length > 1, 'never a single table');
  for (const f of fibs) for (const e of children(at(f, 'entries'), 'entry').slice(0, 10)) for (const k of ['dst', 'interface', 'nexthop', 'nh_type', 'flags', 'mtu']) t.truthy(textAt(e, k), k);
});
