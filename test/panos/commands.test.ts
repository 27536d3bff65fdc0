import test from 'ava';
import {
  MAX_CMD_LENGTH,
  OP_COMMAND_KINDS,
  PANORAMA_ONLY_KINDS,
  isOpError,
  parseOpCommand,
  renderOpCommand,
  type OpCommand,
} from '../../panos/index.ts';

const ok: [string, string, OpCommand][] = [
  ['show system info (open/close, pan-python cmd_xml)', '<show><system><info></info></system></show>', { kind: 'show.system.info' }],
  ['show system info (string_to_xml)', '<show><system><info /></system></show>', { kind: 'show.system.info' }],
  ['show system info (self-closing, no space)', '<show><system><info/></system></show>', { kind: 'show.system.info' }],
  ['show system disk-space', '<show><system><disk-space></disk-space></system></show>', { kind: 'show.system.disk-space' }],
  ['show system software status', '<show><system><software><status/></software></system></show>', { kind: 'show.system.software.status' }],
  ['show high-availability state', '<show><high-availability><state></state></high-availability></show>', { kind: 'show.high-availability.state' }],
  [
    'request high-availability state suspend',
    '<request><high-availability><state><suspend></suspend></state></high-availability></request>',
    { kind: 'request.high-availability.state.suspend' },
  ],
  [
    'request high-availability state functional',
    '<request><high-availability><state><functional/></state></high-availability></request>',
    { kind: 'request.high-availability.state.functional' },
  ],
  ['show session info', '<show><session><info></info></session></show>', { kind: 'show.session.info' }],
  ['show routing route', '<show><routing><route></route></routing></show>', { kind: 'show.routing.route' }],
  [
    'show routing route with a virtual-router filter',
    '<show><routing><route><virtual-router>default</virtual-router></route></routing></show>',
    { kind: 'show.routing.route', virtualRouter: 'default' },
  ],
  [
    'show routing route with type and virtual-router',
    '<show><routing><route><type>static</type><virtual-router>vr1</virtual-router></route></routing></show>',
    { kind: 'show.routing.route', virtualRouter: 'vr1', type: 'static' },
  ],
  ['show routing summary', '<show><routing><summary/></routing></show>', { kind: 'show.routing.summary' }],
  ['show arp (PUA form with spaces and single quotes)', "<show><arp><entry name = 'all'/></arp></show>", { kind: 'show.arp.entry', name: 'all' }],
  ['show arp (compact single quotes)', "<show><arp><entry name='all'/></arp></show>", { kind: 'show.arp.entry', name: 'all' }],
  ['show arp (double quotes, interface)', '<show><arp><entry name="ethernet1/1"></entry></arp></show>', { kind: 'show.arp.entry', name: 'ethernet1/1' }],
  ['request system software check', '<request><system><software><check></check></software></system></request>', { kind: 'request.system.software.check' }],
  ['request system software info', '<request><system><software><info/></software></system></request>', { kind: 'request.system.software.info' }],
  [
    'download without sync-to-peer',
    '<request><system><software><download><version>10.1.0</version></download></software></system></request>',
    { kind: 'request.system.software.download', version: '10.1.0', syncToPeer: false },
  ],
  [
    'download (string_to_xml, sync-to-peer yes)',
    '<request><system><software><download><sync-to-peer>yes</sync-to-peer><version>10.1.0</version></download></software></system></request>',
    { kind: 'request.system.software.download', version: '10.1.0', syncToPeer: true },
  ],
  [
    'download with sync-to-peer no and a hotfix version',
    '<request><system><software><download><version>10.1.10-h2</version><sync-to-peer>no</sync-to-peer></download></software></system></request>',
    { kind: 'request.system.software.download', version: '10.1.10-h2', syncToPeer: false },
  ],
  [
    'install (string_to_xml)',
    '<request><system><software><install><version>10.1.5</version></install></software></system></request>',
    { kind: 'request.system.software.install', version: '10.1.5' },
  ],
  [
    'install with load-config',
    '<request><system><software><install><load-config>saved.xml</load-config><version>10.1.5</version></install></software></system></request>',
    { kind: 'request.system.software.install', version: '10.1.5', loadConfig: 'saved.xml' },
  ],
  ['show jobs id (string_to_xml)', '<show><jobs><id>42</id></jobs></show>', { kind: 'show.jobs.id', id: 42 }],
  ['show jobs id 4294967295', '<show><jobs><id>4294967295</id></jobs></show>', { kind: 'show.jobs.id', id: 4294967295 }],
  ['show jobs id -1', '<show><jobs><id>-1</id></jobs></show>', { kind: 'show.jobs.id', id: -1 }],
  ['show jobs id with padding', '<show><jobs><id> 7 </id></jobs></show>', { kind: 'show.jobs.id', id: 7 }],
  ['show jobs all', '<show><jobs><all></all></jobs></show>', { kind: 'show.jobs.all' }],
  ['request restart system (string_to_xml)', '<request><restart><system /></restart></request>', { kind: 'request.restart.system' }],
  ['request restart system (open/close)', '<request><restart><system></system></restart></request>', { kind: 'request.restart.system' }],
  ['show chassis-ready (string_to_xml)', '<show><chassis-ready /></show>', { kind: 'show.chassis-ready' }],
  ['show chassis-ready (open/close)', '<show><chassis-ready></chassis-ready></show>', { kind: 'show.chassis-ready' }],
  ['request content upgrade check', '<request><content><upgrade><check/></upgrade></content></request>', { kind: 'request.content.upgrade.check' }],
  ['request content upgrade info', '<request><content><upgrade><info></info></upgrade></content></request>', { kind: 'request.content.upgrade.info' }],
  [
    'content download latest (DOC91)',
    '<request><content><upgrade><download><latest/></download></upgrade></content></request>',
    { kind: 'request.content.upgrade.download' },
  ],
  [
    'content download latest "" sync-to-peer "yes" (pan-os-python)',
    '<request><content><upgrade><download><latest></latest><sync-to-peer>yes</sync-to-peer></download></upgrade></content></request>',
    { kind: 'request.content.upgrade.download', syncToPeer: true },
  ],
  [
    'content install version latest (DOC91)',
    '<request><content><upgrade><install><version>latest</version></install></upgrade></content></request>',
    { kind: 'request.content.upgrade.install', version: 'latest', commit: true, syncToPeer: false },
  ],
  [
    'content install commit "yes" sync-to-peer "yes" version "latest" (pan-os-python)',
    '<request><content><upgrade><install><commit>yes</commit><sync-to-peer>yes</sync-to-peer><version>latest</version></install></upgrade></content></request>',
    { kind: 'request.content.upgrade.install', version: 'latest', commit: true, syncToPeer: true },
  ],
  [
    'content install of a specific version without commit',
    '<request><content><upgrade><install><commit>no</commit><version>8799-8509</version></install></upgrade></content></request>',
    { kind: 'request.content.upgrade.install', version: '8799-8509', commit: false, syncToPeer: false },
  ],
  ['show devices connected (string_to_xml)', '<show><devices><connected /></devices></show>', { kind: 'show.devices.connected' }],
  ['show devices all', '<show><devices><all></all></devices></show>', { kind: 'show.devices.all' }],
  ['show clock', '<show><clock></clock></show>', { kind: 'show.clock', more: false }],
  ['show clock more', '<show><clock><more/></clock></show>', { kind: 'show.clock', more: true }],
  [
    'whitespace and newlines between elements',
    '\n  <show>\n    <system>\n      <info />\n    </system>\n  </show>\n',
    { kind: 'show.system.info' },
  ],
  ['an XML declaration before the command', '<?xml version="1.0"?><show><chassis-ready/></show>', { kind: 'show.chassis-ready' }],
];

for (const [name, cmd, expected] of ok) {
  test(`parseOpCommand: when given ${name} then it returns ${expected.kind}`, (t) => {
    t.deepEqual(parseOpCommand(cmd), expected);
  });
}

const errors: [string, string, string, string[]][] = [
  ['an unknown element under show', '<show><foo/></show>', '17', [' show -> foo  is unexpected']],
  ['a bare CLI string instead of XML', 'show system info', '17', ['  is unexpected']],
  ['an empty string', '', '17', ['  is unexpected']],
  ['an unknown top-level element', '<set><deviceconfig/></set>', '17', [' set  is unexpected']],
  ['an unknown leaf deep in the tree', '<show><system><info><bogus/></info></system></show>', '17', [' show -> system -> info -> bogus  is unexpected']],
  ['two sub-commands at one level', '<show><system><info/><disk-space/></system></show>', '17', [' show -> system -> disk-space  is unexpected']],
  [
    'an unknown parameter of download',
    '<request><system><software><download><version>10.1.0</version><force>yes</force></download></software></system></request>',
    '17',
    [' request -> system -> software -> download -> force  is unexpected'],
  ],
  [
    'download without a version',
    '<request><system><software><download><sync-to-peer>yes</sync-to-peer></download></software></system></request>',
    '17',
    [" request -> system -> software -> download  is missing 'version'"],
  ],
  [
    'download with an empty version',
    '<request><system><software><download><version></version></download></software></system></request>',
    '17',
    [' request -> system -> software -> download -> version is invalid'],
  ],
  [
    'download with sync-to-peer maybe',
    '<request><system><software><download><sync-to-peer>maybe</sync-to-peer><version>10.1.0</version></download></software></system></request>',
    '17',
    [' request -> system -> software -> download -> sync-to-peer is invalid'],
  ],
  [
    'install without a version',
    '<request><system><software><install/></software></system></request>',
    '17',
    [" request -> system -> software -> install  is missing 'version'"],
  ],
  ['show jobs id with an empty id', '<show><jobs><id></id></jobs></show>', '17', [' show -> jobs -> id is invalid']],
  ['show jobs id with a non-numeric id', '<show><jobs><id>abc</id></jobs></show>', '17', [' show -> jobs -> id is invalid']],
  ['show jobs without id or all', '<show><jobs/></show>', '17', [' show -> jobs  is incomplete']],
  ['show system without a sub-command', '<show><system></system></show>', '17', [' show -> system  is incomplete']],
  ['show arp entry without a name', '<show><arp><entry/></arp></show>', '17', [" show -> arp -> entry  is missing 'name'"]],
  [
    'content install with a bad version',
    '<request><content><upgrade><install><version>newest</version></install></upgrade></content></request>',
    '17',
    [' request -> content -> upgrade -> install -> version is invalid'],
  ],
  [
    'content download without latest',
    '<request><content><upgrade><download></download></upgrade></content></request>',
    '17',
    [" request -> content -> upgrade -> download  is missing 'latest'"],
  ],
  ['an unclosed element', '<show><system><info></system></show>', '18', ['Malformed command']],
  ['a truncated document', '<show><system', '18', ['Malformed command']],
  ['two root elements', '<show><clock/></show><show><clock/></show>', '18', ['Malformed command']],
  ['an attribute without a value', '<show><arp><entry name=all/></arp></show>', '18', ['Malformed command']],
];

for (const [name, cmd, code, lines] of errors) {
  test(`parseOpCommand: when given ${name} then it returns code ${code} with the PAN-OS line`, (t) => {
    t.deepEqual(parseOpCommand(cmd), { error: { code, lines } });
  });
}

test('parseOpCommand: when cmd is larger than MAX_CMD_LENGTH then it refuses it with code 400 without parsing', (t) => {
  // a valid command with trailing blanks: parsed, it would be `show system info`, so the 400 shows it was not
  // parsed (no clock here: a timed bound only measures how loaded the machine is)
  const huge = `<show><system><info/></system></show>${' '.repeat(MAX_CMD_LENGTH)}`;
  const r = parseOpCommand(huge);
  t.true(isOpError(r));
  t.deepEqual(r, { error: { code: '400', lines: ['Illegal value for parameter "cmd".'] } });
  t.false(isOpError(parseOpCommand(`<show><system><info/></system></show>${' '.repeat(64)}`)));
});

test('parseOpCommand: when cmd is just under the limit with many elements then it answers quickly', (t) => {
  const body = '<x/>'.repeat(Math.floor((MAX_CMD_LENGTH - 40) / 4));
  const started = performance.now();
  const r = parseOpCommand(`<show>${body}</show>`);
  const elapsed = performance.now() - started;
  t.deepEqual(r, { error: { code: '17', lines: [' show -> x  is unexpected'] } });
  t.true(elapsed < 2000, `took ${elapsed} ms`);
});

test('parseOpCommand: when an element is a JavaScript reserved name then it answers malformed instead of throwing', (t) => {
  t.deepEqual(parseOpCommand('<show><constructor/></show>'), { error: { code: '18', lines: ['Malformed command'] } });
});

test('isOpError: when given a command then false, when given an error then true', (t) => {
  t.false(isOpError({ kind: 'show.jobs.all' }));
  t.true(isOpError({ error: { code: '17', lines: [] } }));
});

const samples: OpCommand[] = [
  { kind: 'show.system.info' },
  { kind: 'show.system.disk-space' },
  { kind: 'show.system.software.status' },
  { kind: 'show.high-availability.state' },
  { kind: 'request.high-availability.state.suspend' },
  { kind: 'request.high-availability.state.functional' },
  { kind: 'show.session.info' },
  { kind: 'show.routing.route' },
  { kind: 'show.routing.route', virtualRouter: 'default', type: 'static' },
  { kind: 'show.routing.summary' },
  { kind: 'show.arp.entry', name: 'all' },
  { kind: 'show.arp.entry', name: "it's" },
  { kind: 'request.system.software.check' },
  { kind: 'request.system.software.info' },
  { kind: 'request.system.software.download', version: '11.0.1', syncToPeer: true },
  { kind: 'request.system.software.download', version: '11.0.1', syncToPeer: false },
  { kind: 'request.system.software.install', version: '11.0.1' },
  { kind: 'request.system.software.install', version: '11.0.1', loadConfig: 'a&b.xml' },
  { kind: 'show.jobs.id', id: 12 },
  { kind: 'show.jobs.all' },
  { kind: 'request.restart.system' },
  { kind: 'show.chassis-ready' },
  { kind: 'request.content.upgrade.check' },
  { kind: 'request.content.upgrade.info' },
  { kind: 'request.content.upgrade.download' },
  { kind: 'request.content.upgrade.download', syncToPeer: true },
  { kind: 'request.content.upgrade.install', version: 'latest', commit: true, syncToPeer: true },
  { kind: 'request.content.upgrade.install', version: '8800-8510', commit: false, syncToPeer: false },
  { kind: 'show.devices.connected' },
  { kind: 'show.devices.all' },
  { kind: 'show.clock', more: false },
  { kind: 'show.clock', more: true },
  // The read-only commands of readiness tooling (commands-readiness.ts).
  { kind: 'show.panorama-status' },
  { kind: 'show.ntp' },
  { kind: 'check.full-commit-required' },
  { kind: 'check.pending-changes' },
  { kind: 'request.license.info' },
  { kind: 'request.support.check' },
  { kind: 'show.session.all' },
  { kind: 'show.session.all', filter: { source: '10.1.2.3', destinationPort: 443, protocol: 6, count: true } },
  { kind: 'show.running.tunnel.flow.all' },
  { kind: 'show.config.running' },
  { kind: 'show.config.candidate' },
  { kind: 'show.system.setting.jumbo-frame' },
  { kind: 'show.system.environmentals' },
  { kind: 'show.running.resource-monitor', period: 'minute', last: 5 },
  { kind: 'show.running.resource-monitor', period: 'hour' },
  { kind: 'show.system.state', filter: 'sys.monitor.*.mp.exports' },
  { kind: 'show.system.state' },
  { kind: 'show.system.resources' },
  { kind: 'show.config-locks', vsys: 'all' },
  { kind: 'show.commit-locks' },
  { kind: 'show.redistribution.service.client.all' },
  { kind: 'show.redistribution.service.agent.all' },
  { kind: 'show.user.user-id-service.status' },
  { kind: 'show.interface', name: 'hardware' },
  { kind: 'show.interface', name: 'ethernet1/1.100' },
  { kind: 'show.routing.protocol.bgp.peer' },
  { kind: 'show.routing.protocol.bgp.peer', peer: 'peer-1', virtualRouter: 'default' },
  { kind: 'show.routing.fib' },
  { kind: 'show.routing.fib', virtualRouter: 'vr-2' },
  { kind: 'show.advanced-routing.route' },
  { kind: 'show.advanced-routing.fib' },
  { kind: 'show.devicegroups' },
  { kind: 'show.devicegroups', name: 'branches' },
  { kind: 'show.templates' },
];

for (const cmd of samples) {
  test(`renderOpCommand: when ${JSON.stringify(cmd)} is rendered then parseOpCommand returns it unchanged`, (t) => {
    t.deepEqual(parseOpCommand(renderOpCommand(cmd)), cmd);
  });
}

test('renderOpCommand: when rendering the commands pan-os-python sends then the XML matches string_to_xml structure', (t) => {
  t.is(renderOpCommand({ kind: 'show.system.info' }), '<show><system><info/></system></show>');
  t.is(
    renderOpCommand({ kind: 'request.system.software.download', version: '10.1.0', syncToPeer: true }),
    '<request><system><software><download><sync-to-peer>yes</sync-to-peer><version>10.1.0</version></download></software></system></request>',
  );
  t.is(renderOpCommand({ kind: 'show.jobs.id', id: 42 }), '<show><jobs><id>42</id></jobs></show>');
  t.is(renderOpCommand({ kind: 'request.restart.system' }), '<request><restart><system/></restart></request>');
  t.is(renderOpCommand({ kind: 'show.arp.entry', name: 'all' }), "<show><arp><entry name='all'/></arp></show>");
});

test('OP_COMMAND_KINDS: when every sample is rendered then each kind is covered and Panorama-only kinds are listed', (t) => {
  t.deepEqual(new Set(samples.map((s) => s.kind)), new Set(OP_COMMAND_KINDS));
  t.deepEqual([...PANORAMA_ONLY_KINDS].sort(), ['show.devicegroups', 'show.devices.all', 'show.devices.connected', 'show.templates']);
});
