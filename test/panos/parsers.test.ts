import test from 'ava';
import {
  BadResponseError,
  PanosApiError,
  PanosAuthError,
  arpXml,
  authErrorXml,
  availMb,
  chassisReadyXml,
  clockXml,
  contentDownloadEnqueuedXml,
  contentInfoXml,
  contentInstallEnqueuedXml,
  devicesXml,
  diskSpaceXml,
  downloadEnqueuedXml,
  errorXml,
  expectSuccess,
  haFunctionalXml,
  haStateXml,
  haSuspendXml,
  installEnqueuedXml,
  isJobNotFoundError,
  isTargetNotConnectedError,
  isUnexpectedCommandError,
  jobNotFoundXml,
  jobsAllXml,
  jobXml,
  keygenXml,
  notConnectedXml,
  panoramaSystemInfoXml,
  panrepoAvailMb,
  parseArp,
  parseChassisReady,
  parseClock,
  parseContentInfo,
  parseDevices,
  parseDfSize,
  parseDiskSpace,
  parseHaResultText,
  parseHaState,
  parseJob,
  parseJobEnqueued,
  parseJobsAll,
  parseKeygen,
  parseResponse,
  parseRestartResponse,
  parseRoutes,
  parseRoutingSummary,
  parseSessionInfo,
  parseSoftwareInfo,
  parseSoftwareStatus,
  parseSystemInfo,
  restartXml,
  routingRouteXml,
  routingSummaryXml,
  sessionInfoXml,
  softwareInfoXml,
  softwareStatusXml,
  successXml,
  systemInfoXml,
  type HaRecord,
  type PanosJob,
} from '../../panos/index.ts';
import {
  ARP_ONE,
  AUTH_403,
  CHASSIS_READY_YES,
  DEVICES_ONE,
  DISK_SPACE,
  DOWNLOAD_ENQUEUED,
  ERROR_17,
  ERROR_17_SPACED,
  JOB_FAIL_INSTALL,
  JOB_FIN_DOWNLOAD,
  JOB_NOT_FOUND,
  JOB_RUNNING_DOWNLOAD,
  KEYGEN_OK,
  PANORAMA_HA,
  RESTART_ERROR_FORM,
  ROUTES_ONE,
  SOFTWARE_LIST,
  SOFTWARE_LIST_RUNNING_11_0_0,
  T0,
  firewall,
} from './samples.ts';

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
    ...overrides,
  };
}

// ---- envelope ----

test('parseResponse: when given the captured 403 body then status is error, code 403 and the line is Invalid Credential', (t) => {
  const r = parseResponse(AUTH_403);
  t.is(r.status, 'error');
  t.is(r.code, '403');
  t.deepEqual(r.lines, ['Invalid Credential']);
});

test('expectSuccess: when given a 403 body then it throws PanosAuthError', (t) => {
  const err = t.throws(() => expectSuccess(AUTH_403), { instanceOf: PanosAuthError });
  t.is(err?.code, 'PANOS_AUTH');
  t.is(err?.message, 'Invalid Credential');
});

test('expectSuccess: when an older release says Invalid credentials. without a code then it is still an auth error', (t) => {
  t.throws(() => expectSuccess(errorXml(undefined, ['Invalid credentials.'])), { instanceOf: PanosAuthError });
});

test('parseResponse: when given the §14 code-17 CDATA error then the line keeps its leading space', (t) => {
  const r = parseResponse(ERROR_17);
  t.is(r.status, 'error');
  t.is(r.code, '17');
  t.deepEqual(r.lines, [' show -> foo  is unexpected']);
  const spaced = parseResponse(ERROR_17_SPACED);
  t.deepEqual(spaced.lines, [' show -> redistribution  is unexpected']);
});

test('expectSuccess: when given a code-17 error then it throws PanosApiError with code and lines', (t) => {
  const err = t.throws(() => expectSuccess(ERROR_17), { instanceOf: PanosApiError });
  t.is(err?.panosCode, '17');
  t.deepEqual(err?.lines, [' show -> foo  is unexpected']);
  t.true(isUnexpectedCommandError(err));
  t.false(isJobNotFoundError(err));
});

const badBodies: [string, string, RegExp][] = [
  ['an empty body', '', /empty body/],
  ['whitespace only', '  \n ', /empty body/],
  ['an HTML page', '<!DOCTYPE html><html><body>Loading</body></html>', /HTML/],
  ['a bare html element', '<html><head></head><body>x</body></html>', /HTML/],
  ['plain text', 'Service Unavailable', /non-XML text/],
  ['truncated XML', '<response status="success"><result><system>', /malformed XML/],
  ['XML that is not a response', '<foo>bar</foo>', /without a <response>/],
];

for (const [name, body, reason] of badBodies) {
  test(`parseResponse: when given ${name} then it throws BadResponseError`, (t) => {
    const err = t.throws(() => parseResponse(body), { instanceOf: BadResponseError });
    t.regex(err?.reason ?? '', reason);
    t.is(err?.code, 'BAD_RESPONSE');
  });
}

test('parseResponse: when msg/line and result/msg are both present then msg/line wins (pan-python order)', (t) => {
  const r = parseResponse('<response status="error"><msg><line>first</line></msg><result><msg>second</msg></result></response>');
  t.deepEqual(r.lines, ['first']);
});

test('parseResponse: when a line wraps another line then the inner text is used', (t) => {
  t.deepEqual(parseResponse('<response status="error"><msg><line><line>inner</line></line></msg></response>').lines, ['inner']);
});

test('parseResponse: when only result/msg/line exists then those lines are returned', (t) => {
  t.deepEqual(parseResponse('<response status="error"><result><msg><line>a</line><line>b</line></msg></result></response>').lines, ['a', 'b']);
});

test('parseResponse: when only a bare msg exists then its text is the one line', (t) => {
  t.deepEqual(parseResponse('<response status="error" code="22"><msg>Session timed out</msg></response>').lines, ['Session timed out']);
});

test('parseResponse: when a job answer has newjob/newmsg details then they become the lines', (t) => {
  const xml = '<response status="success"><result><job><details><line><newjob><newmsg>Commit ok</newmsg></newjob></line><line>plain</line></details></job></result></response>';
  t.deepEqual(parseResponse(xml).lines, ['Commit ok', 'plain']);
  t.deepEqual(parseJob(xml).details, ['Commit ok', 'plain']);
});

test('parseResponse: when the status attribute is missing then it is treated as error', (t) => {
  t.is(parseResponse('<response><result/></response>').status, 'error');
});

// ---- keygen ----

test('parseKeygen: when given the captured single-quoted keygen answer then the key is returned', (t) => {
  t.is(parseKeygen(KEYGEN_OK), 'LUFRPT1OWkpUYmxNME5hU25teE9KbkhU==');
  t.is(parseKeygen(keygenXml('abc+/=')), 'abc+/=');
  t.throws(() => parseKeygen(authErrorXml()), { instanceOf: PanosAuthError });
});

// ---- system info ----

test('parseSystemInfo: when the simulator renders a firewall then every field round-trips', (t) => {
  const rec = firewall({ multiVsys: true });
  const info = parseSystemInfo(systemInfoXml(rec, NOW));
  t.is(info.hostname, rec.hostname);
  t.is(info.ipAddress, rec.mgmtIp);
  t.is(info.netmask, rec.netmask);
  t.is(info.defaultGateway, rec.defaultGateway);
  t.is(info.macAddress, rec.macAddress);
  t.is(info.model, rec.model);
  t.is(info.family, rec.family);
  t.is(info.serial, rec.serial);
  t.is(info.swVersion, rec.swVersion);
  t.is(info.appVersion, rec.content.installed);
  t.is(info.threatVersion, rec.content.installed);
  t.is(info.avVersion, rec.avVersion);
  t.is(info.uptime, '2 days, 5:06:07');
  t.is(info.uptimeSeconds, (NOW - T0) / 1000);
  t.is(info.time, 'Wed Jan  3 05:06:07 2024');
  t.true(info.multiVsys);
  t.false(info.advancedRouting);
  t.is(info.operationalMode, 'normal');
  t.false(info.isPanorama);
});

test('parseSystemInfo: when Panorama renders its own info then model is Panorama and isPanorama is true', (t) => {
  const info = parseSystemInfo(
    panoramaSystemInfoXml({ serial: '000702100001', hostname: 'pano', model: 'Panorama', mgmtIp: '10.0.0.2', swVersion: '11.0.1', bootedAt: T0 }, NOW),
  );
  t.is(info.model, 'Panorama');
  t.true(info.isPanorama);
  t.is(info.serial, '000702100001');
  t.is(info.swVersion, '11.0.1');
  t.is(info.uptimeSeconds, (NOW - T0) / 1000);
  const m = parseSystemInfo(panoramaSystemInfoXml({ serial: '1', hostname: 'm', model: 'M-600', mgmtIp: '10.0.0.3', swVersion: '10.1.5-h2', bootedAt: T0 }, NOW));
  t.true(m.isPanorama);
  t.is(m.family, 'm');
});

test('parseSystemInfo: when the time element has a trailing newline then it is trimmed', (t) => {
  const xml = successXml('<system><hostname>h</hostname><time>Tue Jan  8 16:22:56 2019\n</time><uptime>0 days, 18:28:38</uptime><sw-version>9.0.0-b36</sw-version><multi-vsys>on</multi-vsys></system>');
  const info = parseSystemInfo(xml);
  t.is(info.time, 'Tue Jan  8 16:22:56 2019');
  t.is(info.uptimeSeconds, 18 * 3600 + 28 * 60 + 38);
  t.is(info.swVersion, '9.0.0-b36');
  t.true(info.multiVsys);
});

test('parseSystemInfo: when <system> is missing then it throws BadResponseError', (t) => {
  t.throws(() => parseSystemInfo(successXml('')), { instanceOf: BadResponseError });
});

// ---- HA ----

test('parseHaState: when HA is disabled then enabled is false', (t) => {
  t.deepEqual(parseHaState(haStateXml(firewall(), undefined, NOW, true)), { enabled: false, panorama: false });
  t.deepEqual(parseHaState(successXml('')), { enabled: false, panorama: false });
});

test('parseHaState: when the simulator renders a pair with differing versions then local and peer fields round-trip', (t) => {
  const local = firewall({ ha: ha({ state: 'passive', stateSince: NOW - 60_000, stateSync: 'Incomplete', runningSync: 'synchronization in progress' }) });
  const peer = firewall({
    serial: '007954000123452',
    mgmtIp: '10.0.0.11',
    swVersion: '10.2.0',
    ha: ha({ state: 'active', stateSince: NOW - 120_000, config: { ...ha().config, priority: 90, preemptive: true, peerSerial: local.serial }, lastErrorReason: 'User requested', lastErrorState: 'suspended' }),
  });
  const s = parseHaState(haStateXml(local, peer, NOW, true));
  t.true(s.enabled);
  t.false(s.panorama);
  t.is(s.mode, 'Active-Passive');
  t.is(s.runningSync, 'synchronization in progress');
  t.true(s.runningSyncEnabled);
  t.is(s.local?.state, 'passive');
  t.is(s.local?.stateDuration, 60);
  t.is(s.local?.priority, 100);
  t.is(s.local?.preemptive, false);
  t.is(s.local?.buildRel, '10.1.3');
  t.is(s.local?.buildCompat, 'Mismatch');
  t.is(s.local?.stateSync, 'Incomplete');
  t.is(s.local?.mgmtIp, '10.0.0.10/24');
  t.is(s.peer?.state, 'active');
  t.is(s.peer?.stateDuration, 120);
  t.is(s.peer?.connStatus, 'up');
  t.is(s.peer?.priority, 90);
  t.is(s.peer?.preemptive, true);
  t.is(s.peer?.buildRel, '10.2.0');
  t.is(s.peer?.lastErrorReason, 'User requested');
  t.is(s.peer?.lastErrorState, 'suspended');
});

test('parseHaState: when the peer is unreachable then peer connStatus is down and state unknown', (t) => {
  const s = parseHaState(haStateXml(firewall({ ha: ha() }), firewall({ ha: ha({ state: 'passive' }) }), NOW, false));
  t.is(s.peer?.connStatus, 'down');
  t.is(s.peer?.state, 'unknown');
  t.is(s.local?.buildCompat, 'Unknown');
});

test('parseHaState: when given the captured Panorama form without <group> then local and peer are read from result', (t) => {
  const s = parseHaState(PANORAMA_HA);
  t.true(s.enabled);
  t.true(s.panorama);
  t.is(s.local?.state, 'primary-active');
  t.is(s.local?.stateDuration, 218028);
  t.is(s.local?.priority, undefined);
  t.is(s.local?.priorityText, 'primary');
  t.is(s.local?.preemptive, true);
  t.is(s.local?.buildRel, '11.0.1');
  t.is(s.local?.buildCompat, 'Match');
  t.is(s.peer?.state, 'secondary-passive');
  t.is(s.peer?.connStatus, 'up');
  t.is(s.peer?.lastErrorReason, 'User requested');
  t.is(s.peer?.lastErrorState, 'secondary-suspended');
  t.is(s.peer?.mgmtIp, '192.168.255.192');
  t.is(s.runningSync, 'synchronized');
  t.true(s.runningSyncEnabled);
});

test('parseHaResultText: when suspend and functional succeed then the state is read from the text', (t) => {
  t.deepEqual(parseHaResultText(haSuspendXml()), { text: 'Successfully changed HA state to suspended', state: 'suspended' });
  t.deepEqual(parseHaResultText(haFunctionalXml()), { text: 'Successfully changed HA state to functional', state: 'functional' });
  t.deepEqual(parseHaResultText(successXml('something else')), { text: 'something else' });
});

// ---- sessions, routes, ARP ----

test('parseSessionInfo: when the simulator renders metrics then the counters come back as numbers', (t) => {
  const rec = firewall();
  const s = parseSessionInfo(sessionInfoXml(rec));
  t.is(s.numTcp, rec.metrics.tcpSessions);
  t.is(s.numUdp, rec.metrics.udpSessions);
  t.is(s.numActive, rec.metrics.tcpSessions + rec.metrics.udpSessions);
  t.is(s.numMax, 819200);
  t.is(s.numIcmp, 0);
  t.is(s.cps, 2);
  t.is(s.kbps, 360);
  t.is(s.pps, 240);
  t.true(s.numInstalled >= s.numActive);
  t.is(s.all['tmo-tcp'], 3600);
  t.false('age-accel-en' in s.all);
  t.false('dp' in s.all);
});

test('parseRoutes: when given the captured route then fields are read and flags trimmed', (t) => {
  const r = parseRoutes(ROUTES_ONE);
  t.is(r.count, 1);
  t.deepEqual(r.entries[0], {
    virtualRouter: 'default',
    destination: '0.0.0.0/0',
    nexthop: '10.10.11.1',
    metric: 10,
    flags: 'A S E',
    interface: 'ethernet1/1',
    routeTable: 'unicast',
  });
  t.deepEqual(parseRoutes(successXml('')), { count: 0, entries: [] });
});

test('parseRoutes: when the simulator renders metrics.routes routes then the count matches', (t) => {
  const rec = firewall({ metrics: { tcpSessions: 0, udpSessions: 0, routes: 42, arpEntries: 0 } });
  const r = parseRoutes(routingRouteXml(rec));
  t.is(r.count, 42);
  t.is(r.entries[0]?.destination, '0.0.0.0/0');
  t.is(r.entries[0]?.nexthop, rec.defaultGateway);
  t.is(r.entries[0]?.metric, 10);
  t.is(r.entries[0]?.age, undefined);
  t.true(r.entries.every((e) => e.virtualRouter === 'default' && e.routeTable === 'unicast'));
  const one = parseRoutes(routingRouteXml(firewall({ metrics: { ...rec.metrics, routes: 1 } })));
  t.is(one.count, 1);
});

test('parseRoutingSummary: when the simulator renders the summary then totals match the route table', (t) => {
  const rec = firewall({ metrics: { tcpSessions: 0, udpSessions: 0, routes: 42, arpEntries: 0 } });
  t.deepEqual(parseRoutingSummary(routingSummaryXml(rec)), { total: 42, active: 42, limit: 20000, virtualRouters: ['default'] });
});

test('parseArp: when given the captured ARP table then the entry and counters are read', (t) => {
  t.deepEqual(parseArp(ARP_ONE), {
    dp: 'dp0',
    timeout: 1800,
    total: 1,
    max: 32000,
    entries: [{ interface: 'ethernet1/1', ip: '10.10.11.1', mac: 'aa:bb:cc:dd:ee:ff', port: 'ethernet1/1', status: 'c', ttl: 1777 }],
  });
});

test('parseArp: when the simulator renders metrics.arpEntries entries then total and entries agree', (t) => {
  const a = parseArp(arpXml(firewall({ metrics: { tcpSessions: 0, udpSessions: 0, routes: 0, arpEntries: 300 } })));
  t.is(a.total, 300);
  t.is(a.entries.length, 300);
  t.is(new Set(a.entries.map((e) => e.ip)).size, 300);
  t.true(a.entries.every((e) => e.status === 'c'));
  const empty = parseArp(arpXml(firewall({ metrics: { tcpSessions: 0, udpSessions: 0, routes: 0, arpEntries: 0 } })));
  t.is(empty.total, 0);
  t.deepEqual(empty.entries, []);
});

// ---- disk ----

test('parseDfSize: when given df -h tokens then MB are returned, bare numbers being bytes', (t) => {
  t.is(parseDfSize('7.9G'), 7.9 * 1024);
  t.is(parseDfSize('76K'), 76 / 1024);
  t.is(parseDfSize('12M'), 12);
  t.is(parseDfSize('1.2T'), 1.2 * 1024 * 1024);
  t.is(parseDfSize('0'), 0);
  t.is(parseDfSize('1048576'), 1);
  t.is(parseDfSize('n/a'), undefined);
});

test('parseDiskSpace: when given the captured df output then each mount is read and /opt/panrepo has 5.9G free', (t) => {
  const rows = parseDiskSpace(DISK_SPACE);
  t.is(rows.length, 8);
  t.deepEqual(rows[3], { filesystem: '/dev/sda6', sizeMb: 7.9 * 1024, usedMb: 1.6 * 1024, availMb: 5.9 * 1024, usePercent: 22, mount: '/opt/panrepo' });
  t.is(panrepoAvailMb(rows), 5.9 * 1024);
  t.is(availMb(rows, '/opt/panlogs'), 20 * 1024);
  t.is(availMb(rows, '/nope'), undefined);
  t.is(rows[7]?.mount, '/opt/pancfg/mgmt/lcaas/ssl/private');
});

test('parseDiskSpace: when a filesystem name is on its own line then it is joined with the next line', (t) => {
  const xml = successXml('<![CDATA[Filesystem      Size  Used Avail Use% Mounted on\n/dev/mapper/very-long-volume-name\n                 50G   10G   40G  20% /opt/panrepo\n]]>');
  const rows = parseDiskSpace(xml);
  t.is(rows.length, 1);
  t.is(rows[0]?.filesystem, '/dev/mapper/very-long-volume-name');
  t.is(panrepoAvailMb(rows), 40 * 1024);
});

test('parseDiskSpace: when the simulator renders the disk record then /opt/panrepo reads back within df rounding', (t) => {
  const rec = firewall({ disk: { panrepoTotalMb: 16 * 1024, panrepoUsedMb: 6000 } });
  const rows = parseDiskSpace(diskSpaceXml(rec));
  const repo = rows.find((r) => r.mount === '/opt/panrepo');
  t.is(repo?.sizeMb, 16 * 1024);
  t.true(Math.abs((repo?.usedMb ?? 0) - 6000) <= 103);
  t.is(repo?.availMb, 11 * 1024);
  t.is(repo?.usePercent, 37);
});

// ---- software and content ----

test('parseSoftwareInfo: when given the captured list then entries are read and there is no current entry', (t) => {
  const info = parseSoftwareInfo(SOFTWARE_LIST);
  t.is(info.lastUpdatedAt, '2023/05/31 11:47:34');
  t.is(info.current, undefined);
  t.deepEqual(info.entries[0], {
    version: '11.0.1',
    filename: 'PanOS_vm-11.0.1',
    sizeMb: 492,
    sizeKb: 504796,
    releasedOn: '2023/03/29 15:05:25',
    downloaded: false,
    downloading: false,
    current: false,
    latest: true,
    uploaded: false,
  });
  t.is(info.entries[1]?.version, '11.0.0');
  t.is(info.entries[1]?.sizeMb, 1037);
});

test('parseSoftwareInfo: when downloaded is the literal downloading then downloaded is false and downloading true', (t) => {
  const info = parseSoftwareInfo(SOFTWARE_LIST_RUNNING_11_0_0);
  t.is(info.current, '11.0.0');
  t.is(info.entries[0]?.downloaded, false);
  t.is(info.entries[0]?.downloading, true);
  t.is(info.entries[1]?.downloaded, true);
});

test('parseSoftwareInfo: when the simulator renders a list then versions, flags and sizes round-trip', (t) => {
  const rec = firewall();
  const info = parseSoftwareInfo(softwareInfoXml(rec, NOW));
  t.is(info.current, '10.1.3');
  t.is(info.lastUpdatedAt, '2024/01/03 05:06:07');
  t.deepEqual(
    info.entries.map((e) => [e.version, e.downloaded, e.current, e.latest, e.sizeMb]),
    [
      ['10.2.3', false, false, true, 512],
      ['10.2.0', true, false, false, 900],
      ['10.1.10-h2', false, false, false, 450],
      ['10.1.3', true, true, false, 400],
    ],
  );
  t.is(info.entries[1]?.releasedOn, '2022/06/01 00:00:00');
  t.is(info.entries[1]?.filename, 'PanOS_vm-10.2.0');
});

test('parseSoftwareInfo: when the update server fails then the captured error text is thrown', (t) => {
  const text = 'Failed to check upgrade info due to Unknown error. Please check network connectivity and try again.';
  const err = t.throws(() => parseSoftwareInfo(errorXml(undefined, [text])), { instanceOf: PanosApiError });
  t.deepEqual(err?.lines, [text]);
});

test('parseContentInfo: when the simulator renders content then current and downloaded round-trip', (t) => {
  const c = parseContentInfo(contentInfoXml(firewall()));
  t.is(c.current, '8799-8509');
  t.deepEqual(
    c.entries.map((e) => [e.version, e.appVersion, e.downloaded, e.current, e.sizeMb]),
    [
      ['8800-8510', '8800-8510', true, false, 51],
      ['8799-8509', '8799-8509', true, true, 50],
    ],
  );
});

// ---- jobs ----

test('parseJobEnqueued: when given the captured download answer then the job id is 3448', (t) => {
  t.deepEqual(parseJobEnqueued(DOWNLOAD_ENQUEUED), { jobId: 3448, lines: ['Download job enqueued with jobid 3448'] });
});

test('parseJobEnqueued: when the simulator enqueues each job kind then the id and message round-trip', (t) => {
  t.is(parseJobEnqueued(downloadEnqueuedXml(5)).jobId, 5);
  const install = parseJobEnqueued(installEnqueuedXml(6));
  t.is(install.jobId, 6);
  t.deepEqual(install.lines, [
    "Software install job enqueued with jobid 6. Run 'show jobs id 6' to monitor its status. Please reboot the device after the installation is done.",
  ]);
  t.is(parseJobEnqueued(contentDownloadEnqueuedXml(7)).jobId, 7);
  t.deepEqual(parseJobEnqueued(contentInstallEnqueuedXml(8)), { jobId: 8, lines: ['Content install job enqueued with jobid 8'] });
  t.is(parseResponse(downloadEnqueuedXml(5)).code, '19');
});

test('parseJobEnqueued: when the answer is an error then PanosApiError is thrown', (t) => {
  const err = t.throws(() => parseJobEnqueued(errorXml(undefined, ['Another download is in progress'])), { instanceOf: PanosApiError });
  t.deepEqual(err?.lines, ['Another download is in progress']);
  t.throws(() => parseJobEnqueued(successXml('')), { instanceOf: BadResponseError });
});

test('parseJob: when given the captured running download then it is ACT, stoppable, PEND, 13 % and not finished', (t) => {
  t.deepEqual(parseJob(JOB_RUNNING_DOWNLOAD), {
    id: 3448,
    type: 'Downld',
    status: 'ACT',
    result: 'PEND',
    progress: 13,
    user: 'admin',
    tenq: '2018/03/01 10:15:02',
    tdeq: '10:15:02',
    tfin: 'Still Active',
    stoppable: true,
    description: '',
    details: [],
    warnings: [],
    finished: false,
    ok: false,
  });
});

test('parseJob: when given the captured finished download then progress is 100 and the three detail lines are read', (t) => {
  const j = parseJob(JOB_FIN_DOWNLOAD);
  t.is(j.id, 4);
  t.is(j.status, 'FIN');
  t.is(j.result, 'OK');
  t.is(j.progress, 100);
  t.is(j.tfin, '2023/08/07 04:00:45');
  t.true(j.finished);
  t.true(j.ok);
  t.deepEqual(j.details, ['Successfully downloaded', 'Preloading into software manager', 'Successfully loaded into software manager']);
});

test('parseJob: when given the captured failed install then result is FAIL with the four detail lines', (t) => {
  const j = parseJob(JOB_FAIL_INSTALL);
  t.is(j.type, 'SWInstall');
  t.is(j.result, 'FAIL');
  t.true(j.finished);
  t.false(j.ok);
  t.is(j.tfin, '09:22:14');
  t.is(j.progress, 100);
  t.deepEqual(j.details, [
    'Failed to install 10.2.0 with the following errors.',
    'SW version is 10.2.0',
    'The software manager is currently in use. Please try again later.',
    'Failed to install   version  10.2.0  type  panos',
  ]);
});

test('parseJob: when given the captured unknown job id then PanosApiError is classified as not found', (t) => {
  const err = t.throws(() => parseJob(JOB_NOT_FOUND), { instanceOf: PanosApiError });
  t.deepEqual(err?.lines, ['job 4294967295 not found']);
  t.true(isJobNotFoundError(err));
  t.true(isJobNotFoundError(t.throws(() => parseJob(jobNotFoundXml(12)))));
});

test('parseJob: when the simulator renders an active and a finished job then every field round-trips', (t) => {
  const running = parseJob(jobXml(job(), T0 + 42_000));
  t.is(running.id, 7);
  t.is(running.type, 'Downld');
  t.is(running.status, 'ACT');
  t.is(running.result, 'PEND');
  t.is(running.progress, 42);
  t.is(running.tfin, 'Still Active');
  t.true(running.stoppable);
  t.false(running.finished);

  const fin = job({
    type: 'SWInstall',
    status: 'FIN',
    result: 'OK',
    finishedAt: T0 + 90_000,
    details: ['Software installation successfully completed. Please reboot to switch to the new version.'],
    warnings: ['w1'],
    description: 'install 10.2.0',
  });
  const done = parseJob(jobXml(fin, NOW));
  t.is(done.status, 'FIN');
  t.is(done.result, 'OK');
  t.is(done.progress, 100);
  t.is(done.tfin, '2024/01/01 00:01:30');
  t.is(done.tenq, '2024/01/01 00:00:00');
  t.false(done.stoppable);
  t.is(done.description, 'install 10.2.0');
  t.deepEqual(done.details, fin.details);
  t.deepEqual(done.warnings, ['w1']);
  t.true(done.ok);
});

test('parseJob: when a job is stalled then progress stops at the stall point', (t) => {
  const stalled = job({ stalledAt: T0 + 30_000 });
  t.is(parseJob(jobXml(stalled, T0 + 90_000)).progress, 30);
});

test('parseJobsAll: when the simulator renders several jobs then they come back newest first, and none gives []', (t) => {
  const jobs = parseJobsAll(
    jobsAllXml([job({ id: 1, type: 'AutoCom', user: '', status: 'FIN', result: 'OK', finishedAt: T0 + 1000 }), job({ id: 2 })], NOW),
  );
  t.deepEqual(
    jobs.map((j) => [j.id, j.type, j.status, j.user]),
    [
      [2, 'Downld', 'ACT', 'admin'],
      [1, 'AutoCom', 'FIN', ''],
    ],
  );
  t.deepEqual(parseJobsAll(jobsAllXml([], NOW)), []);
});

test('parseJobsAll: when a job has no id (Failed-Job) then it is kept without an id', (t) => {
  const xml = successXml('<job><type>Failed-Job</type><status>FIN</status><result>FAIL</result><details><line>job failed because of configd restart</line></details></job>');
  const [j] = parseJobsAll(xml);
  t.is(j?.id, undefined);
  t.is(j?.type, 'Failed-Job');
  t.deepEqual(j?.details, ['job failed because of configd restart']);
});

// ---- restart, readiness, clock, processes ----

test('parseRestartResponse: when given either the success or the status="error" form then it succeeds', (t) => {
  t.is(parseRestartResponse(restartXml()), 'Command succeeded with no output');
  t.is(parseRestartResponse(RESTART_ERROR_FORM), 'Command succeeded with no output');
  t.throws(() => parseRestartResponse(errorXml(undefined, ['commit is in progress'])), { instanceOf: PanosApiError });
});

test('parseChassisReady: when the result is CDATA yes or no then it returns the boolean', (t) => {
  t.true(parseChassisReady(CHASSIS_READY_YES));
  t.true(parseChassisReady(chassisReadyXml(true)));
  t.false(parseChassisReady(chassisReadyXml(false)));
  t.true(parseChassisReady(successXml(' Yes\n')));
});

test('parseClock: when the simulator renders the clock then the time parses back to now (to the second)', (t) => {
  t.deepEqual(parseClock(clockXml(NOW + 250)), { text: 'Wed Jan  3 05:06:07 UTC 2024', epochMs: NOW });
  t.deepEqual(parseClock(successXml('Wed Apr 19 00:41:36 PDT 2023')), { text: 'Wed Apr 19 00:41:36 PDT 2023', epochMs: Date.UTC(2023, 3, 19, 0, 41, 36) });
});

test('parseSoftwareStatus: when a process is down then it is listed as not running', (t) => {
  const s = parseSoftwareStatus(softwareStatusXml(['authd']));
  t.deepEqual(s.notRunning, ['authd']);
  t.deepEqual(parseSoftwareStatus(softwareStatusXml()).notRunning, []);
});

// ---- Panorama ----

test('parseDevices: when given the captured entry then serial, versions, connection and HA peer are read', (t) => {
  t.deepEqual(parseDevices(DEVICES_ONE), [
    {
      serial: '007054000543212',
      hostname: 'katy-fw1',
      ipAddress: '192.168.255.41',
      model: 'PA-VM',
      family: 'vm',
      swVersion: '10.1.4',
      appVersion: '8799-8509',
      connected: true,
      unsupportedVersion: false,
      multiVsys: false,
      haState: 'active',
      haPeerSerial: '007054000543217',
      uptime: '2 days, 22:15:28',
      uptimeSeconds: 2 * 86400 + 22 * 3600 + 15 * 60 + 28,
    },
  ]);
});

test('parseDevices: when the peer serial is nested under state (pan-os-python path) then it is still found', (t) => {
  const xml = successXml('<devices><entry name="1"><serial>1</serial><connected>no</connected><sw-version/><ha><state>passive<peer><serial>2</serial></peer></state></ha></entry></devices>');
  const [d] = parseDevices(xml);
  t.is(d?.haPeerSerial, '2');
  t.is(d?.haState, 'passive');
  t.false(d?.connected);
  t.is(d?.swVersion, '');
});

test('parseDevices: when the simulator renders views then each field round-trips', (t) => {
  const a = firewall({ ha: ha() });
  const b = firewall({ serial: '007954000123452', hostname: 'fw-b', mgmtIp: '10.0.0.11', swVersion: '10.2.0' });
  const devices = parseDevices(devicesXml([{ record: a, connected: true, haState: 'active' }, { record: b, connected: false }], NOW));
  t.is(devices.length, 2);
  t.deepEqual(devices[0], {
    serial: a.serial,
    hostname: a.hostname,
    ipAddress: a.mgmtIp,
    model: a.model,
    family: a.family,
    swVersion: a.swVersion,
    appVersion: a.content.installed,
    connected: true,
    unsupportedVersion: false,
    multiVsys: false,
    haState: 'active',
    haPeerSerial: '007954000123452',
    uptime: '2 days, 5:06:07',
    uptimeSeconds: (NOW - T0) / 1000,
  });
  t.is(devices[1]?.serial, b.serial);
  t.is(devices[1]?.connected, false);
  t.is(devices[1]?.swVersion, '10.2.0');
  t.is(devices[1]?.haState, undefined);
  t.deepEqual(parseDevices(devicesXml([], NOW)), []);
});

test('isTargetNotConnectedError: when Panorama refuses a target then the error is classified', (t) => {
  const err = t.throws(() => expectSuccess(notConnectedXml('0079')), { instanceOf: PanosApiError });
  t.true(isTargetNotConnectedError(err));
  t.false(isTargetNotConnectedError(new Error('not connected')));
});

test('parseResponse: when a user-id answer carries uid-response entries then their attributes become lines', (t) => {
  const xml =
    '<response status="error"><msg><line><uid-response><version>2.0</version><payload><login><entry name="u1" ip="10.1.1.1" message="bad"/></login></payload></uid-response></line></msg></response>';
  t.deepEqual(parseResponse(xml).lines, ['name: u1 ip: 10.1.1.1 message: bad']);
});

// ---- parsed once ----

test('parsers: when given the envelope parseResponse already made then they read it exactly as they read the text', (t) => {
  const rec = firewall({ multiVsys: true });
  const info = systemInfoXml(rec, NOW);
  t.deepEqual(parseSystemInfo(parseResponse(info)), parseSystemInfo(info));
  const routes = routingRouteXml(rec);
  t.deepEqual(parseRoutes(parseResponse(routes)), parseRoutes(routes));
  const envelope = parseResponse(info);
  t.is(parseResponse(envelope), envelope);
});
