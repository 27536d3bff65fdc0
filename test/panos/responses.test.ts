import test from 'ava';
import {
  authErrorXml,
  cdata,
  chassisReadyXml,
  clockXml,
  contentInfoXml,
  devicesXml,
  diskSpaceXml,
  downloadEnqueuedXml,
  el,
  elXml,
  errorXml,
  escapeXml,
  flattened,
  formatDfSize,
  formatPanosTime,
  generatedRoutes,
  haFunctionalXml,
  haStateXml,
  haSuspendXml,
  installEnqueuedXml,
  contentInstallEnqueuedXml,
  jobNotFoundXml,
  jobsAllXml,
  jobXml,
  keygenXml,
  notConnectedXml,
  opErrorXml,
  parseOpCommand,
  parseXml,
  restartXml,
  routingRouteXml,
  softwareInfoXml,
  successXml,
  systemInfoXml,
  textAt,
  textOf,
  children,
  at,
  type HaRecord,
  type PanosJob,
} from '../../panos/index.ts';
import { AUTH_403, T0, firewall } from './samples.ts';

const NOW = T0 + 2 * 86_400_000 + 5 * 3_600_000 + 6 * 60_000 + 7_000;

function ha(overrides: Partial<HaRecord> = {}): HaRecord {
  return {
    config: { peerSerial: '007954000123452', priority: 100, preemptive: false, mode: 'Active-Passive', groupId: 1 },
    state: 'active',
    stateSince: T0,
    runningSync: 'synchronized',
    stateSync: 'Complete',
    ...overrides,
  };
}

function job(overrides: Partial<PanosJob> = {}): PanosJob {
  return {
    id: 7,
    type: 'Downld',
    user: 'admin',
    enqueuedAt: T0,
    startedAt: T0,
    endsAt: T0 + 100_000,
    status: 'ACT',
    result: 'PEND',
    details: [],
    warnings: [],
    description: '',
    version: '10.2.0',
    ...overrides,
  };
}

test('authErrorXml: when rendered then it is the captured 97-byte single-quoted body', (t) => {
  t.is(authErrorXml(), AUTH_403);
  t.is(Buffer.byteLength(authErrorXml()), 97);
});

test('keygenXml: when the key contains = and + then it is kept verbatim in <result><key>', (t) => {
  t.is(keygenXml('LUFRPT1+ab=='), `<response status = 'success'><result><key>LUFRPT1+ab==</key></result></response>`);
});

test('successXml: when the inner XML is empty then the result is self-closing, and code is an attribute', (t) => {
  t.is(successXml(''), '<response status="success"><result/></response>');
  t.is(successXml('<job>1</job>', '19'), '<response status="success" code="19"><result><job>1</job></result></response>');
});

test('errorXml: when lines are CDATA then each sits in msg/line with the code attribute', (t) => {
  t.is(
    errorXml('17', [' show -> foo  is unexpected'], { cdata: true }),
    '<response status="error" code="17"><msg><line><![CDATA[ show -> foo  is unexpected]]></line></msg></response>',
  );
  t.is(errorXml(undefined, ['a < b', 'c']), '<response status="error"><msg><line>a &lt; b</line><line>c</line></msg></response>');
  t.is(
    errorXml(undefined, ['Transport endpoint is not connected'], { form: 'result-msg' }),
    '<response status="error"><result><msg>Transport endpoint is not connected</msg></result></response>',
  );
});

test('opErrorXml: when given a parse error then it renders the §14 CDATA form', (t) => {
  const r = parseOpCommand('<show><foo/></show>');
  t.true('error' in r);
  if ('error' in r) {
    t.is(
      opErrorXml(r.error),
      '<response status="error" code="17"><msg><line><![CDATA[ show -> foo  is unexpected]]></line></msg></response>',
    );
  }
});

test('cdata: when the text contains ]]> then the section is split and parses back to the same text', (t) => {
  const text = 'a]]>b]]>';
  const xml = `<r>${cdata(text)}</r>`;
  t.is(xml, '<r><![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]></r>');
  t.is(textOf(parseXml(xml)['r']), text);
});

test('escapeXml: when text has all five special characters then each is escaped', (t) => {
  t.is(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  // Each character alone, and after text that has none (the fast path tests before it replaces).
  for (const [c, e] of [['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;'], ['"', '&quot;'], ["'", '&apos;']]) t.is(escapeXml(`10.1.2.0/24 ${c}`), `10.1.2.0/24 ${e}`);
  t.is(escapeXml('ethernet1/2'), 'ethernet1/2');
  t.is(escapeXml(1800), '1800');
});

test('el and elXml: when content is empty then the tag self-closes, attributes are escaped', (t) => {
  t.is(el('description', ''), '<description/>');
  t.is(el('user'), '<user/>');
  t.is(el('id', 0), '<id>0</id>');
  t.is(elXml('entry', '', { name: 'a"b' }), '<entry name="a&quot;b"/>');
  t.is(elXml('entry', '<x/>', { name: 'v' }), '<entry name="v"><x/></entry>');
});

test('systemInfoXml: when the hostname has markup characters then the XML stays well-formed and the text survives', (t) => {
  const rec = firewall({ hostname: 'fw<&>"\'' });
  const doc = parseXml(systemInfoXml(rec, NOW));
  t.is(textAt(doc, 'response', 'result', 'system', 'hostname'), 'fw<&>"\'');
  t.is(textAt(doc, 'response', 'result', 'system', 'devicename'), 'fw<&>"\'');
});

test('systemInfoXml: when a record is asked many times a second then each answer is the one a fresh rendering gives, the clock and the uptime to the second', (t) => {
  // booted at .400 of a second: the uptime turns over at .400 of each clock second, the time at .000
  const rec = firewall({ bootedAt: NOW - 3_600_000 - 600 });
  const fresh = (now: number): string => systemInfoXml({ ...rec }, now);
  const times = [NOW, NOW + 1, NOW + 399, NOW + 400, NOW + 401, NOW + 999, NOW + 1_000, NOW + 1_000, NOW + 86_400_000, NOW + 5];
  for (const now of times) t.is(systemInfoXml(rec, now), fresh(now), `at +${now - NOW} ms`);
  t.not(systemInfoXml(rec, NOW + 399), systemInfoXml(rec, NOW + 400), 'the uptime turned over');
  t.not(systemInfoXml(rec, NOW + 999), systemInfoXml(rec, NOW + 1_000), 'the clock turned over');
});

test('systemInfoXml: when the same record is rendered again (its cached, flattened parts) then only the clock fields change, and non-ASCII text survives', (t) => {
  const rec = firewall({ hostname: 'fw-zürich-01' });
  const first = systemInfoXml(rec, NOW);
  const again = systemInfoXml(rec, NOW + 61_000);
  const clockless = (xml: string): string => xml.replace(/<(time|uptime)>[^<]*<\/\1>/g, '');
  t.is(clockless(again), clockless(first));
  t.not(again, first);
  t.is(textAt(parseXml(again), 'response', 'result', 'system', 'hostname'), 'fw-zürich-01');
  t.is(flattened('a' + 'é'.repeat(3) + 'b'), 'aéééb');
});

test('systemInfoXml: when rendered at NOW then uptime and time come from bootedAt and now', (t) => {
  const s = at(parseXml(systemInfoXml(firewall(), NOW)), 'response', 'result', 'system');
  t.is(textAt(s, 'uptime'), '2 days, 5:06:07');
  t.is(textAt(s, 'time'), 'Wed Jan  3 05:06:07 2024');
  t.is(textAt(s, 'app-version'), '8799-8509');
  t.is(textAt(s, 'threat-version'), '8799-8509');
  t.is(textAt(s, 'av-version'), '4719-5237');
  t.is(textAt(s, 'vm-license'), 'VM-300');
  t.is(textAt(s, 'multi-vsys'), 'off');
  t.is(textAt(s, 'ipv6-link-local-address'), 'fe80::b8db:eeff:fefb:ad10/64');
});

test('systemInfoXml: when the family is not vm then the VM-only fields are absent', (t) => {
  const s = at(parseXml(systemInfoXml(firewall({ family: '400', model: 'PA-440' }), NOW)), 'response', 'result', 'system');
  t.is(textAt(s, 'vm-license'), undefined);
  t.is(textAt(s, 'model'), 'PA-440');
});

test('haStateXml: when HA is not configured then the minimal disabled form is returned', (t) => {
  t.is(haStateXml(firewall(), undefined, NOW, true), '<response status="success"><result><enabled>no</enabled></result></response>');
});

test('haStateXml: when the peer runs another version then build-compat is Mismatch and peer-info carries its state', (t) => {
  const local = firewall({ ha: ha({ state: 'passive', stateSince: NOW - 3675_000 }) });
  const peer = firewall({
    serial: '007954000123452',
    mgmtIp: '10.0.0.11',
    swVersion: '10.2.0',
    ha: ha({ state: 'active', config: { ...ha().config, peerSerial: local.serial }, lastErrorReason: 'User requested', lastErrorState: 'suspended' }),
  });
  const g = at(parseXml(haStateXml(local, peer, NOW, true)), 'response', 'result', 'group');
  t.is(textAt(g, 'local-info', 'state'), 'passive');
  t.is(textAt(g, 'local-info', 'state-duration'), '3675');
  t.is(textAt(g, 'local-info', 'build-compat'), 'Mismatch');
  t.is(textAt(g, 'local-info', 'mgmt-ip'), '10.0.0.10/24');
  t.is(textAt(g, 'peer-info', 'conn-status'), 'up');
  t.is(textAt(g, 'peer-info', 'state'), 'active');
  t.is(textAt(g, 'peer-info', 'build-rel'), '10.2.0');
  t.is(textAt(g, 'peer-info', 'last-error-reason'), 'User requested');
  t.is(textAt(g, 'peer-info', 'last-error-state'), 'suspended');
  t.is(textAt(g, 'running-sync'), 'synchronized');
});

test('haStateXml: when the peer is unreachable then conn-status is down and the peer state unknown', (t) => {
  const local = firewall({ ha: ha() });
  const peer = firewall({ serial: '007954000123452', ha: ha({ state: 'passive' }) });
  const g = at(parseXml(haStateXml(local, peer, NOW, false)), 'response', 'result', 'group');
  t.is(textAt(g, 'peer-info', 'conn-status'), 'down');
  t.is(textAt(g, 'peer-info', 'conn-ha1', 'conn-status'), 'down');
  t.is(textAt(g, 'peer-info', 'state'), 'unknown');
  t.is(textAt(g, 'local-info', 'build-compat'), 'Unknown');
});

test('haSuspendXml and haFunctionalXml: when rendered then the result text is the captured message', (t) => {
  t.is(haSuspendXml(), '<response status="success"><result>Successfully changed HA state to suspended</result></response>');
  t.is(haFunctionalXml(), '<response status="success"><result>Successfully changed HA state to functional</result></response>');
});

test('softwareInfoXml: when rendered then entries are newest first with one current and latest on the highest', (t) => {
  const doc = parseXml(softwareInfoXml(firewall(), NOW));
  const updates = at(doc, 'response', 'result', 'sw-updates');
  const entries = children(at(updates, 'versions'), 'entry');
  t.deepEqual(
    entries.map((e) => textAt(e, 'version')),
    ['10.2.3', '10.2.0', '10.1.10-h2', '10.1.3'],
  );
  t.deepEqual(
    entries.filter((e) => textAt(e, 'current') === 'yes').map((e) => textAt(e, 'version')),
    ['10.1.3'],
  );
  t.deepEqual(
    entries.filter((e) => textAt(e, 'latest') === 'yes').map((e) => textAt(e, 'version')),
    ['10.2.3'],
  );
  t.is(textAt(entries[1], 'filename'), 'PanOS_vm-10.2.0');
  t.is(textAt(entries[1], 'downloaded'), 'yes');
  t.is(textAt(entries[0], 'downloaded'), 'no');
  t.is(textAt(entries[1], 'size-kb'), String(900 * 1024));
  t.is(textAt(entries[1], 'uploaded'), 'no');
  t.regex(softwareInfoXml(firewall(), NOW), /<release-notes><!\[CDATA\[ https:\/\/www\.paloaltonetworks\.com\/documentation\/10-2\//);
  t.regex(softwareInfoXml(firewall(), NOW), /<sw-updates last-updated-at="2024\/01\/03 05:06:07"><msg\/><versions>/);
});

test('softwareInfoXml: when the running version is not in the offered list then one current entry is added for it', (t) => {
  const doc = parseXml(softwareInfoXml(firewall({ swVersion: '9.1.12-h3' })));
  const entries = children(at(doc, 'response', 'result', 'sw-updates', 'versions'), 'entry');
  const current = entries.filter((e) => textAt(e, 'current') === 'yes');
  t.is(current.length, 1);
  t.is(textAt(current[0], 'version'), '9.1.12-h3');
});

test('contentInfoXml: when rendered then the installed package is current and entries sit directly under content-updates', (t) => {
  const doc = parseXml(contentInfoXml(firewall()));
  const entries = children(at(doc, 'response', 'result', 'content-updates'), 'entry');
  t.deepEqual(
    entries.map((e) => [textAt(e, 'version'), textAt(e, 'current'), textAt(e, 'downloaded')]),
    [
      ['8800-8510', 'no', 'yes'],
      ['8799-8509', 'yes', 'yes'],
    ],
  );
  t.is(textAt(entries[0], 'filename'), 'panupv2-all-contents-8800-8510');
});

test('downloadEnqueuedXml and installEnqueuedXml: when rendered then they carry code 19, the message and result/job', (t) => {
  t.is(
    downloadEnqueuedXml(3448),
    '<response status="success" code="19"><result><msg><line>Download job enqueued with jobid 3448</line></msg><job>3448</job></result></response>',
  );
  t.is(
    installEnqueuedXml(3453),
    `<response status="success" code="19"><result><msg><line>Software install job enqueued with jobid 3453. Run &apos;show jobs id 3453&apos; to monitor its status. Please reboot the device after the installation is done.</line></msg><job>3453</job></result></response>`,
  );
  t.regex(contentInstallEnqueuedXml(9), /<line>Content install job enqueued with jobid 9<\/line><\/msg><job>9<\/job>/);
});

test('jobXml: when a download is active then it is stoppable, PEND, Still Active, with percent progress', (t) => {
  const j = at(parseXml(jobXml(job(), T0 + 13_500)), 'response', 'result', 'job');
  t.is(textAt(j, 'status'), 'ACT');
  t.is(textAt(j, 'stoppable'), 'yes');
  t.is(textAt(j, 'result'), 'PEND');
  t.is(textAt(j, 'tfin'), 'Still Active');
  t.is(textAt(j, 'progress'), '13');
  t.is(textAt(j, 'tenq'), '2024/01/01 00:00:00');
  t.is(textAt(j, 'tdeq'), '00:00:00');
  t.regex(jobXml(job(), T0), /<description\/><positionInQ>0<\/positionInQ><progress>0<\/progress><details\/><warnings\/>/);
});

test('jobXml: when an install is finished then tfin and progress are timestamps and details are lines', (t) => {
  const fin = job({ type: 'SWInstall', status: 'FIN', result: 'FAIL', finishedAt: T0 + 60_000, details: ['Failed to install 10.2.0 with the following errors.', 'x < y'] });
  const xml = jobXml(fin, NOW);
  const j = at(parseXml(xml), 'response', 'result', 'job');
  t.is(textAt(j, 'stoppable'), 'no');
  t.is(textAt(j, 'result'), 'FAIL');
  t.is(textAt(j, 'tfin'), '2024/01/01 00:01:00');
  t.is(textAt(j, 'progress'), '2024/01/01 00:01:00');
  t.regex(xml, /<details><line>Failed to install 10\.2\.0 with the following errors\.<\/line><line>x &lt; y<\/line><\/details>/);
});

test('jobXml: when an AutoCom job is finished then progress is 100 and the user is empty', (t) => {
  const xml = jobXml(job({ type: 'AutoCom', user: '', status: 'FIN', result: 'OK', finishedAt: T0 + 5000 }), NOW);
  t.regex(xml, /<user\/>/);
  t.regex(xml, /<progress>100<\/progress>/);
});

test('jobsAllXml: when jobs are given oldest first then they are rendered newest first, and none gives <result/>', (t) => {
  const xml = jobsAllXml([job({ id: 1 }), job({ id: 3 }), job({ id: 2 })], NOW);
  const ids = children(at(parseXml(xml), 'response', 'result'), 'job').map((j) => textAt(j, 'id'));
  t.deepEqual(ids, ['3', '2', '1']);
  t.is(jobsAllXml([], NOW), '<response status="success"><result/></response>');
});

test('jobNotFoundXml: when rendered then it is the captured error without a code', (t) => {
  t.is(jobNotFoundXml(4294967295), '<response status="error"><msg><line>job 4294967295 not found</line></msg></response>');
});

test('restartXml and chassisReadyXml: when rendered then they use the captured success forms', (t) => {
  t.is(restartXml(), '<response status="success"><result>Command succeeded with no output</result></response>');
  t.is(chassisReadyXml(true), '<response status="success"><result><![CDATA[yes]]></result></response>');
  t.is(chassisReadyXml(false), '<response status="success"><result><![CDATA[no]]></result></response>');
});

test('clockXml: when rendered then the date line has the shape pan-os-upgrade-assurance splits', (t) => {
  const text = textAt(parseXml(clockXml(NOW)), 'response', 'result') ?? '';
  t.is(text, 'Wed Jan  3 05:06:07 UTC 2024');
  t.deepEqual(text.split(/\s+/), ['Wed', 'Jan', '3', '05:06:07', 'UTC', '2024']);
});

test('routingRouteXml: when rendered twice for a serial then entries are identical and number metrics.routes', (t) => {
  const rec = firewall({ metrics: { tcpSessions: 0, udpSessions: 0, routes: 600, arpEntries: 0 } });
  const a = routingRouteXml(rec);
  t.is(a, routingRouteXml(structuredClone(rec)));
  const entries = children(at(parseXml(a), 'response', 'result'), 'entry');
  t.is(entries.length, 600);
  t.is(new Set(entries.map((e) => textAt(e, 'destination'))).size, 600);
  t.is(textAt(entries[0], 'destination'), '0.0.0.0/0');
  t.is(textAt(entries[0], 'nexthop'), rec.defaultGateway);
  t.regex(a, /<flags>A S <\/flags>/);
  t.not(routingRouteXml(firewall({ serial: 'other', metrics: rec.metrics })), a);
  t.is(generatedRoutes(firewall({ metrics: { ...rec.metrics, routes: 0 } })).length, 0);
});

test('diskSpaceXml: when rendered then /opt/panrepo shows the record sizes in df -h form inside CDATA', (t) => {
  const xml = diskSpaceXml(firewall({ disk: { panrepoTotalMb: 16 * 1024, panrepoUsedMb: 4 * 1024 } }));
  t.regex(xml, /^<response status="success"><result><!\[CDATA\[Filesystem {6}Size {2}Used Avail Use% Mounted on\n/);
  t.regex(xml, /\n\/dev\/sda6 +16G +4\.0G +12G +25% \/opt\/panrepo\n/);
  t.regex(xml, /\n\/dev\/sda8 +21G +63M +20G +1% \/opt\/panlogs\n/);
});

test('formatDfSize: when given MB then it prints df -h units rounding up with one decimal below 10', (t) => {
  t.is(formatDfSize(0), '0');
  t.is(formatDfSize(0.07421875), '76K');
  t.is(formatDfSize(63), '63M');
  t.is(formatDfSize(1638), '1.6G');
  t.is(formatDfSize(8089), '7.9G');
  t.is(formatDfSize(8090), '8.0G');
  t.is(formatDfSize(14336), '14G');
  t.is(formatDfSize(2 * 1024 * 1024), '2.0T');
});

test('devicesXml: when a connected HA member is rendered then ha/peer/serial is a sibling of ha/state', (t) => {
  const rec = firewall({ ha: ha() });
  const xml = devicesXml([{ record: rec, connected: true, haState: 'active' }, { record: firewall({ serial: '2' }), connected: false }], NOW);
  const entries = children(at(parseXml(xml), 'response', 'result', 'devices'), 'entry');
  t.is(entries.length, 2);
  t.regex(xml, /<entry name="007954000123451"><serial>007954000123451<\/serial><connected>yes<\/connected>/);
  t.regex(xml, /<ha><state>active<\/state><peer><serial>007954000123452<\/serial><\/peer><\/ha>/);
  t.is(textAt(entries[0], 'uptime'), '2 days, 5:06:07');
  t.is(textAt(entries[1], 'connected'), 'no');
  t.is(textAt(entries[1], 'ha'), undefined);
});

test('notConnectedXml: when rendered then it is an error naming the serial', (t) => {
  t.is(notConnectedXml('0079'), '<response status="error"><msg><line>Device 0079 is not connected to Panorama</line></msg></response>');
});

test('formatPanosTime: when given ms then it prints YYYY/MM/DD HH:MM:SS in UTC', (t) => {
  t.is(formatPanosTime(Date.UTC(2023, 7, 7, 4, 0, 45)), '2023/08/07 04:00:45');
});

test('systemInfoXml: when one record is rendered again later or replaced by a changed one then the clock fields and the change show', (t) => {
  const rec = firewall();
  const first = at(parseXml(systemInfoXml(rec, NOW)), 'response', 'result', 'system');
  const later = at(parseXml(systemInfoXml(rec, NOW + 86_400_000 + 61_000)), 'response', 'result', 'system');
  t.is(textAt(first, 'uptime'), '2 days, 5:06:07');
  t.is(textAt(later, 'uptime'), '3 days, 5:07:08');
  t.is(textAt(later, 'time'), 'Thu Jan  4 05:07:08 2024');
  t.not(textAt(later, 'url-filtering-version'), textAt(first, 'url-filtering-version'));
  const upgraded = at(parseXml(systemInfoXml({ ...rec, swVersion: '11.1.0' }, NOW)), 'response', 'result', 'system');
  t.is(textAt(upgraded, 'sw-version'), '11.1.0');
  t.is(textAt(at(parseXml(systemInfoXml(rec, NOW)), 'response', 'result', 'system'), 'sw-version'), textAt(first, 'sw-version'));
});
