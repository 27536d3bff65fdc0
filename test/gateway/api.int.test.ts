import test from 'ava';
import {
  authErrorXml,
  notConnectedXml,
  panrepoAvailMb,
  parseArp,
  parseChassisReady,
  parseClock,
  parseContentInfo,
  parseDevices,
  parseDiskSpace,
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
  RESTART_TEXT,
  type ParsedJob,
} from '../../panos/index.ts';
import { API_CALL_SERVED, API_CALLS_REFUSED, API_CALLS_SERVED, API_STREAM, oneEventPerCall, type ApiCallRecord } from '../../gateway/index.ts';
import { startTestNats, waitFor } from '../helpers/index.ts';
import { answered, form, http, startLab, type HttpOutcome, type Lab } from './gateway-fixture.ts';

const nats = startTestNats(test);

// A lab key with every base64 character that breaks naive form decoding.
const KEY = 'LUFRPT1+gw/Te=st==';
const ADMIN = { user: 'admin', password: 's3cret+pw/=&x' };
const PANORAMA = '000702199001';
const FW = {
  cyclePano: '011100000001',
  cycleDirect: '011100000002',
  fields: '011100000003',
  noBase: '011100000004',
  smallDisk: '011100000005',
  busy: '011100000006',
  spare: '011100000007',
};

const YAML = `
name: gateway-api
seed: 7
api_key: "${KEY}"
admins:
  - { username: ${ADMIN.user}, password: "${ADMIN.password}" }
  - { username: ops, password: "ops-pass" }
timing: { mode: fast }
panorama: { serial: "${PANORAMA}", hostname: pano-gw, version: "11.1.0", mgmt_ip: 127.0.0.1 }
defaults:
  available_versions: ["10.0.2", "10.1.0", "10.1.3", "10.2.0"]
devices:
  - { serial: "${FW.cyclePano}", hostname: fw-cycle-pano, mgmt_ip: 127.0.11.1, current_version: "10.0.2" }
  - { serial: "${FW.cycleDirect}", hostname: fw-cycle-direct, mgmt_ip: 127.0.11.2, current_version: "10.0.2" }
  - serial: "${FW.fields}"
    hostname: fw-fields
    mgmt_ip: 127.0.11.3
    model: PA-3220
    current_version: "10.1.0"
    metrics: { tcp_sessions: 45000, udp_sessions: 5000, route_count: 120, arp_count: 40, disk_space_gb: 15.0 }
  - { serial: "${FW.noBase}", hostname: fw-nobase, mgmt_ip: 127.0.11.4, current_version: "10.0.2", downloaded_versions: ["10.1.3"] }
  - { serial: "${FW.smallDisk}", hostname: fw-smalldisk, mgmt_ip: 127.0.11.5, current_version: "10.0.2", metrics: { disk_space_gb: 0.5 } }
  - { serial: "${FW.busy}", hostname: fw-busy, mgmt_ip: 127.0.11.6, current_version: "10.0.2" }
  - { serial: "${FW.spare}", hostname: fw-spare, mgmt_ip: 127.0.11.7, current_version: "10.1.0" }
`;

const CMD = {
  systemInfo: '<show><system><info/></system></show>',
  devicesConnected: '<show><devices><connected/></devices></show>',
  restart: '<request><restart><system/></restart></request>',
  download: (v: string) => `<request><system><software><download><version>${v}</version></download></software></system></request>`,
  install: (v: string) => `<request><system><software><install><version>${v}</version></install></software></system></request>`,
  job: (id: number) => `<show><jobs><id>${id}</id></jobs></show>`,
};

interface Call {
  /** Send to this firewall's own address instead of the Panorama's. */
  direct?: string;
  target?: string;
  key?: string;
  extra?: Record<string, string>;
}

function origin(lab: Lab, call: Call): string {
  const url = call.direct ? lab.gw.urls[call.direct] : lab.gw.panoramaUrl;
  if (!url) throw new Error(`no direct listener for ${call.direct}`);
  return url;
}

/** GET /api/?type=op&cmd=…&key=… (the key percent-encoded, as curl users write it). */
function op(lab: Lab, cmd: string, call: Call = {}): Promise<HttpOutcome> {
  const params: Record<string, string> = { type: 'op', cmd, ...(call.target ? { target: call.target } : {}), ...call.extra, key: call.key ?? KEY };
  return http(origin(lab, call), `/api/?${form(params)}`);
}

async function opOk(lab: Lab, cmd: string, call: Call = {}): Promise<string> {
  const res = answered(await op(lab, cmd, call));
  if (res.status !== 200) throw new Error(`HTTP ${res.status} for ${cmd}: ${res.body}`);
  return res.body;
}

async function waitForJob(lab: Lab, id: number, call: Call): Promise<ParsedJob> {
  return waitFor(
    async () => {
      const job = parseJob(await opOk(lab, CMD.job(id), call));
      return job.finished ? job : undefined;
    },
    10_000,
    20,
  );
}

/** The phases a poller saw, consecutive repeats collapsed. */
function phases(seen: readonly string[]): string[] {
  return seen.filter((p, i) => i === 0 || seen[i - 1] !== p);
}

function apiEvents(lab: Lab): ApiCallRecord[] {
  const events = lab.store.readStream(API_STREAM).map((e) => {
    if (e.type !== API_CALLS_SERVED && e.type !== API_CALLS_REFUSED) throw new Error(`unexpected ${e.type} on the api stream`);
    return e;
  });
  return oneEventPerCall(events).filter((e) => e.type === API_CALL_SERVED).map((e) => e.data as ApiCallRecord);
}

test('api: when every firewall op command is sent through Panorama then each answer parses and matches the device record', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const { record } = (await lab.ctl(FW.fields, 'get')) as { record: { mgmtIp: string; metrics: { tcpSessions: number; udpSessions: number; routes: number; arpEntries: number }; disk: { panrepoTotalMb: number; panrepoUsedMb: number } } };
  const via: Call = { target: FW.fields };

  const info = parseSystemInfo(await opOk(lab, CMD.systemInfo, via));
  t.is(info.serial, FW.fields);
  t.is(info.hostname, 'fw-fields');
  t.is(info.model, 'PA-3220');
  t.is(info.family, '3200');
  t.is(info.swVersion, '10.1.0');
  t.is(info.ipAddress, record.mgmtIp);
  t.false(info.multiVsys);
  t.false(info.isPanorama);
  t.true((info.uptimeSeconds ?? 0) > 86_400);

  t.false(parseHaState(await opOk(lab, '<show><high-availability><state/></high-availability></show>', via)).enabled);

  const sessions = parseSessionInfo(await opOk(lab, '<show><session><info/></session></show>', via));
  t.is(sessions.numTcp, 45000);
  t.is(sessions.numUdp, 5000);
  t.is(sessions.numActive, 50000);

  const routes = parseRoutes(await opOk(lab, '<show><routing><route/></routing></show>', via));
  t.is(routes.count, record.metrics.routes);
  t.is(routes.entries.length, record.metrics.routes);
  t.is(parseRoutingSummary(await opOk(lab, '<show><routing><summary/></routing></show>', via)).total, record.metrics.routes);

  const arp = parseArp(await opOk(lab, "<show><arp><entry name = 'all'/></arp></show>", via));
  t.is(arp.total, 40);
  t.is(arp.entries.length, 40);

  const avail = panrepoAvailMb(parseDiskSpace(await opOk(lab, '<show><system><disk-space/></system></show>', via)));
  t.is(avail, 15 * 1024);
  t.is(record.disk.panrepoTotalMb - record.disk.panrepoUsedMb, 15 * 1024);

  for (const cmd of ['<request><system><software><check/></software></system></request>', '<request><system><software><info/></software></system></request>']) {
    const sw = parseSoftwareInfo(await opOk(lab, cmd, via));
    t.deepEqual(
      sw.entries.map((e) => e.version),
      ['10.2.0', '10.1.3', '10.1.0', '10.0.2'],
    );
    t.deepEqual(
      sw.entries.filter((e) => e.current).map((e) => e.version),
      ['10.1.0'],
    );
    t.deepEqual(
      sw.entries.filter((e) => e.latest).map((e) => e.version),
      ['10.2.0'],
    );
    t.true(sw.entries.every((e) => !e.downloaded || e.version === '10.1.0'));
  }

  const content = parseContentInfo(await opOk(lab, '<request><content><upgrade><check/></upgrade></content></request>', via));
  t.is(content.current, '8700-7000');
  t.true(content.entries.some((e) => e.current && e.version === '8700-7000'));

  // Right after boot a device lists the auto-commit of that boot, finished.
  const bootJobs = parseJobsAll(await opOk(lab, '<show><jobs><all/></jobs></show>', via));
  t.deepEqual(
    bootJobs.map((j) => [j.type, j.status, j.result]),
    [['AutoCom', 'FIN', 'OK']],
  );
  t.true(parseChassisReady(await opOk(lab, '<show><chassis-ready/></show>', via)));
  const clock = parseClock(await opOk(lab, '<show><clock/></show>', via));
  t.true(Math.abs((clock.epochMs ?? 0) - Date.now()) < 5_000);
  t.deepEqual(parseSoftwareStatus(await opOk(lab, '<show><system><software><status/></software></system></show>', via)).notRunning, []);

  const missingJob = parseResponse(await opOk(lab, CMD.job(4242), via));
  t.is(missingJob.status, 'error');
  t.regex(missingJob.lines.join(' '), /4242/);
});

test('api: when Panorama is asked about itself and its devices then system info, devices and type=version match the scenario', async (t) => {
  const lab = await startLab(t, nats, YAML);

  const pano = parseSystemInfo(await opOk(lab, CMD.systemInfo));
  t.is(pano.serial, PANORAMA);
  t.is(pano.hostname, 'pano-gw');
  t.is(pano.swVersion, '11.1.0');
  t.true(pano.isPanorama);

  const devices = parseDevices(await opOk(lab, CMD.devicesConnected));
  t.deepEqual(
    devices.map((d) => d.serial).sort(),
    Object.values(FW).sort(),
  );
  const fields = devices.find((d) => d.serial === FW.fields);
  t.is(fields?.hostname, 'fw-fields');
  t.is(fields?.swVersion, '10.1.0');
  t.is(fields?.ipAddress, '127.0.11.3');
  t.true(fields?.connected);

  const version = async (path: string, originUrl = lab.gw.panoramaUrl) => parseResponse(answered(await http(originUrl, path)).body);
  const v = await version(`/api/?type=version&target=${FW.fields}&key=${encodeURIComponent(KEY)}`);
  t.is(v.status, 'success');
  t.deepEqual(v.result, { 'sw-version': '10.1.0', 'multi-vsys': 'off', model: 'PA-3220', serial: FW.fields });
  const own = await version(`/api/?type=version&key=${encodeURIComponent(KEY)}`);
  t.deepEqual(own.result, { 'sw-version': '11.1.0', 'multi-vsys': 'off', model: 'Panorama', serial: PANORAMA });
  const direct = await version(`/api/?type=version&key=${encodeURIComponent(KEY)}`, lab.gw.urls[FW.spare]);
  t.is((direct.result as Record<string, string>).serial, FW.spare);
});

test('api: when keygen gets a scenario admin user and password then the key it returns works, by GET and by POST', async (t) => {
  const lab = await startLab(t, nats, YAML);

  const get = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'keygen', user: ADMIN.user, password: ADMIN.password })}`));
  t.is(get.status, 200);
  t.is(get.headers['content-type'], 'application/xml; charset=UTF-8');
  const key = parseKeygen(get.body);
  t.regex(key, /^LUFRPT/);

  const post = answered(
    await http(lab.gw.panoramaUrl, '/api/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form({ type: 'keygen', user: ADMIN.user, password: ADMIN.password }),
    }),
  );
  t.is(parseKeygen(post.body), key);

  const directKeygen = answered(await http(lab.gw.urls[FW.spare]!, `/api/?${form({ type: 'keygen', user: 'ops', password: 'ops-pass' })}`));
  t.regex(parseKeygen(directKeygen.body), /^LUFRPT/);

  const info = parseSystemInfo(await opOk(lab, CMD.systemInfo, { target: FW.spare, key }));
  t.is(info.serial, FW.spare);

  const wrong = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'keygen', user: ADMIN.user, password: 'nope' })}`));
  t.is(wrong.status, 403);
  t.is(wrong.statusMessage, 'Invalid Credential');
  t.is(wrong.body, authErrorXml());
});

test('api: when the key comes as X-PAN-KEY or the caller uses HTTP Basic then the call is served; a bad one gets the exact 403', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const path = `/api/?${form({ type: 'op', cmd: CMD.systemInfo, target: FW.spare })}`;
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  const header = answered(await http(lab.gw.panoramaUrl, path, { headers: { 'X-PAN-KEY': KEY } }));
  t.is(header.status, 200);
  t.is(parseSystemInfo(header.body).serial, FW.spare);

  const viaBasic = answered(await http(lab.gw.panoramaUrl, path, { headers: { Authorization: basic(ADMIN.user, ADMIN.password) } }));
  t.is(viaBasic.status, 200);
  t.is(parseSystemInfo(viaBasic.body).serial, FW.spare);

  const directBasic = answered(await http(lab.gw.urls[FW.spare]!, `/api/?${form({ type: 'op', cmd: CMD.systemInfo })}`, { headers: { Authorization: basic('ops', 'ops-pass') } }));
  t.is(parseSystemInfo(directBasic.body).serial, FW.spare);

  for (const bad of [
    http(lab.gw.panoramaUrl, path, { headers: { 'X-PAN-KEY': 'LUFRPT-not-a-key' } }),
    http(lab.gw.panoramaUrl, path, { headers: { Authorization: basic(ADMIN.user, 'wrong') } }),
    http(lab.gw.panoramaUrl, `${path}&key=wrong`),
    http(lab.gw.panoramaUrl, path),
    http(lab.gw.urls[FW.spare]!, `${path}&key=wrong`),
  ]) {
    const res = answered(await bad);
    t.is(res.status, 403);
    t.is(res.statusMessage, 'Invalid Credential');
    t.is(res.headers['content-type'], 'application/xml; charset=UTF-8');
    t.is(res.body, authErrorXml());
    t.is(Buffer.byteLength(res.body), 97);
  }
});

test('api: when pan-python POSTs a form with the key appended raw (+, / and = unencoded) then the key is accepted', async (t) => {
  const lab = await startLab(t, nats, YAML);
  // pan-python: urlencode(everything but the key) + '&key=' + key (panos-xml-api.md §0).
  const body = `${form({ type: 'op', cmd: CMD.systemInfo, target: FW.spare })}&key=${KEY}`;
  t.true(body.endsWith('&key=LUFRPT1+gw/Te=st=='));
  const res = answered(await http(lab.gw.panoramaUrl, '/api/', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body }));
  t.is(res.status, 200);
  t.is(parseSystemInfo(res.body).serial, FW.spare);

  const rawGet = answered(await http(lab.gw.panoramaUrl, `/api/?type=op&cmd=${CMD.systemInfo}&key=${KEY}`));
  t.is(rawGet.status, 200);
  t.is(parseSystemInfo(rawGet.body).serial, PANORAMA);

  // A real space is not a plus: the key with `+` read as a space is not valid.
  const spaced = answered(await http(lab.gw.panoramaUrl, `/api/?type=op&cmd=${CMD.systemInfo}&key=${encodeURIComponent(KEY.replace('+', ' '))}`));
  t.is(spaced.status, 403);
});

test('api: when a call names target=<serial> at Panorama it reaches that firewall; at a firewall address the firewall answers alone', async (t) => {
  const lab = await startLab(t, nats, YAML);
  t.is(parseSystemInfo(await opOk(lab, CMD.systemInfo)).serial, PANORAMA);
  t.is(parseSystemInfo(await opOk(lab, CMD.systemInfo, { target: FW.fields })).serial, FW.fields);
  t.is(parseSystemInfo(await opOk(lab, CMD.systemInfo, { direct: FW.fields })).serial, FW.fields);
  // [unconfirmed] choice: a firewall ignores target=, so a direct client can never reach another device.
  t.is(parseSystemInfo(await opOk(lab, CMD.systemInfo, { direct: FW.fields, target: FW.spare })).serial, FW.fields);
  t.deepEqual(Object.keys(lab.gw.urls).sort(), [PANORAMA, ...Object.values(FW)].sort());
  t.is(lab.gw.urls[FW.fields], `http://127.0.11.3:${lab.gw.port}`);

  for (const call of [{ direct: FW.fields }, { target: FW.fields }]) {
    const res = parseResponse(await opOk(lab, CMD.devicesConnected, call));
    t.is(res.status, 'error');
    t.is(res.code, '17');
    t.deepEqual(res.lines, [' show -> devices  is unexpected']);
  }
});

test('api: when a firewall is upgraded through Panorama then download, install and reboot show only through the API, ending on the new version', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const via: Call = { target: FW.cyclePano };
  const before = parseSystemInfo(await opOk(lab, CMD.systemInfo, via));
  t.is(before.swVersion, '10.0.2');

  const download = parseJobEnqueued(await opOk(lab, CMD.download('10.1.0'), via));
  const downloaded = await waitForJob(lab, download.jobId, via);
  t.like(downloaded, { type: 'Downld', status: 'FIN', result: 'OK', ok: true });
  t.true(parseSoftwareInfo(await opOk(lab, '<request><system><software><info/></software></system></request>', via)).entries.some((e) => e.version === '10.1.0' && e.downloaded));

  const install = parseJobEnqueued(await opOk(lab, CMD.install('10.1.0'), via));
  const installed = await waitForJob(lab, install.jobId, via);
  t.like(installed, { type: 'SWInstall', status: 'FIN', result: 'OK' });

  t.is(parseRestartResponse(await opOk(lab, CMD.restart, via)), RESTART_TEXT);
  const seen: string[] = [];
  const after = await waitFor(
    async () => {
      const body = await opOk(lab, CMD.systemInfo, via);
      const res = parseResponse(body);
      if (res.status === 'error') {
        t.is(body, notConnectedXml(FW.cyclePano));
        seen.push('not connected');
        return undefined;
      }
      const info = parseSystemInfo(body);
      seen.push(info.swVersion === '10.1.0' ? 'new version' : 'old version');
      return info.swVersion === '10.1.0' ? info : undefined;
    },
    15_000,
    10,
  );
  t.deepEqual(phases(seen), ['old version', 'not connected', 'new version']);
  t.true((after.uptimeSeconds ?? Infinity) < 60);
  t.true((before.uptimeSeconds ?? 0) > 86_400);
});

test('api: when a firewall is rebooted on its own address then the connection first answers, then drops, then shows a booting server, then the new version', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const via: Call = { direct: FW.cycleDirect };
  const download = parseJobEnqueued(await opOk(lab, CMD.download('10.1.0'), via));
  t.like(await waitForJob(lab, download.jobId, via), { result: 'OK' });
  const install = parseJobEnqueued(await opOk(lab, CMD.install('10.1.0'), via));
  t.like(await waitForJob(lab, install.jobId, via), { result: 'OK' });
  t.is(parseRestartResponse(await opOk(lab, CMD.restart, via)), RESTART_TEXT);

  const seen: string[] = [];
  const booting: string[] = [];
  await waitFor(
    async () => {
      const res = await op(lab, CMD.systemInfo, via);
      if (res.kind === 'error') {
        seen.push('dropped');
        return false;
      }
      if (res.status !== 200) {
        seen.push('booting');
        booting.push(res.status === 403 ? (res.body === authErrorXml() ? '403 auth' : `403 ${res.body}`) : `${res.status} ${String(res.headers['content-type'])}`);
        return false;
      }
      const version = parseSystemInfo(res.body).swVersion;
      seen.push(version === '10.1.0' ? 'new version' : 'old version');
      return version === '10.1.0';
    },
    15_000,
    5,
  );
  t.deepEqual(phases(seen), ['old version', 'dropped', 'booting', 'new version']);
  t.true(booting.every((b) => b === '403 auth' || b === '503 text/html'), booting.join(', '));
});

test('api: when a command is unknown, malformed or missing then PAN-OS codes 17, 18 and HTTP 400 come back', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const unknown = parseResponse(await opOk(lab, '<show><foo/></show>', { target: FW.spare }));
  t.like(unknown, { status: 'error', code: '17', lines: [' show -> foo  is unexpected'] });
  const bare = parseResponse(await opOk(lab, 'show system info', { direct: FW.spare }));
  t.like(bare, { status: 'error', code: '17', lines: ['  is unexpected'] });

  const malformed = parseResponse(await opOk(lab, '<show><system>', { target: FW.spare }));
  t.like(malformed, { status: 'error', code: '18' });

  const key = encodeURIComponent(KEY);
  const noCmd = answered(await http(lab.gw.panoramaUrl, `/api/?type=op&key=${key}`));
  t.is(noCmd.status, 400);
  t.like(parseResponse(noCmd.body), { status: 'error', code: '400', lines: ['Parameter "cmd" is required while executing an operational command'] });

  const noType = answered(await http(lab.gw.panoramaUrl, `/api/?cmd=x&key=${key}`));
  t.is(noType.status, 400);
  t.like(parseResponse(noType.body), { code: '400', lines: ['Parameter "type" is required while calling the XML API'] });

  const badType = answered(await http(lab.gw.panoramaUrl, `/api/?type=bogus&key=${key}`));
  t.is(badType.status, 400);
  t.deepEqual(parseResponse(badType.body).lines, ['Illegal value for parameter "type" [bogus].']);

  const badParam = answered(await http(lab.gw.panoramaUrl, `/api/?type=op&cmd=x&request=1&key=${key}`));
  t.is(badParam.status, 400);
  t.deepEqual(parseResponse(badParam.body).lines, ['Illegal parameter [request]']);

  const commit = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'commit', cmd: '<commit></commit>', key: KEY })}`));
  t.is(commit.status, 200);
  t.like(parseResponse(commit.body), { status: 'error', code: '1' });
  t.regex(parseResponse(commit.body).lines[0] ?? '', /type=commit is not supported by the panos-upgrade simulator/);

  const put = answered(await http(lab.gw.panoramaUrl, `/api/?type=op&cmd=x&key=${key}`, { method: 'PUT' }));
  t.is(put.status, 405);
  t.is(put.headers.allow, 'GET, HEAD, POST');
  t.is(parseResponse(put.body).status, 'error');
});

test('api: when target= names an unknown or disconnected firewall then Panorama answers that it is not connected', async (t) => {
  const lab = await startLab(t, nats, YAML);
  t.is(await opOk(lab, CMD.systemInfo, { target: '999999999999' }), notConnectedXml('999999999999'));
  await lab.ctl(FW.spare, 'faults', { faults: { api: { notConnected: true } } });
  t.is(await opOk(lab, CMD.systemInfo, { target: FW.spare }), notConnectedXml(FW.spare));
  t.false(parseDevices(await opOk(lab, CMD.devicesConnected)).some((d) => d.serial === FW.spare));
});

test('api: when installs and downloads cannot proceed then the firewall says why (not downloaded, no base image, no disk, busy)', async (t) => {
  const lab = await startLab(t, nats, YAML);

  const notDownloaded = parseResponse(await opOk(lab, CMD.install('10.2.0'), { target: FW.spare }));
  t.is(notDownloaded.status, 'error');
  t.regex(notDownloaded.lines.join(' '), /Image 10\.2\.0 has not been downloaded/);

  const noBase = parseJobEnqueued(await opOk(lab, CMD.install('10.1.3'), { target: FW.noBase }));
  const noBaseJob = await waitForJob(lab, noBase.jobId, { target: FW.noBase });
  t.like(noBaseJob, { type: 'SWInstall', status: 'FIN', result: 'FAIL', ok: false });
  t.true(noBaseJob.details.some((l) => /Base image 10\.1\.0 has not been downloaded/.test(l)), noBaseJob.details.join(' | '));

  const disk = parseJobEnqueued(await opOk(lab, CMD.download('10.1.0'), { direct: FW.smallDisk }));
  const diskJob = await waitForJob(lab, disk.jobId, { direct: FW.smallDisk });
  t.like(diskJob, { type: 'Downld', result: 'FAIL' });
  t.true(diskJob.details.some((l) => /not enough free disk space/.test(l)), diskJob.details.join(' | '));

  const running = parseJobEnqueued(await opOk(lab, CMD.download('10.1.0'), { target: FW.busy }));
  const refused = parseJobEnqueued(await opOk(lab, CMD.install('10.0.2'), { target: FW.busy }));
  const refusedJob = await waitForJob(lab, refused.jobId, { target: FW.busy });
  t.like(refusedJob, { type: 'SWInstall', result: 'FAIL' });
  t.true(refusedJob.details.some((l) => /software manager is currently in use/.test(l)), refusedJob.details.join(' | '));
  const second = parseResponse(await opOk(lab, CMD.download('10.1.3'), { target: FW.busy }));
  t.like(second, { status: 'error', lines: ['Another download is in progress'] });
  t.like(await waitForJob(lab, running.jobId, { target: FW.busy }), { result: 'OK' });
});

test('mgmt: when the management API is called with the key then devices, one device and recent api calls come back as JSON', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const key = encodeURIComponent(KEY);
  const json = async (path: string, headers: Record<string, string> = {}) => {
    const res = answered(await http(lab.gw.panoramaUrl, path, { headers }));
    return { status: res.status, type: res.headers['content-type'], body: JSON.parse(res.body) as Record<string, unknown> };
  };

  const list = await json('/mgmt/devices', { 'X-PAN-KEY': KEY });
  t.is(list.status, 200);
  t.regex(String(list.type), /^application\/json/);
  const devices = list.body.devices as Array<{ serial: string; swVersion: string; mgmtIp: string; reachability: string }>;
  t.deepEqual(
    devices.map((d) => d.serial).sort(),
    Object.values(FW).sort(),
  );
  t.like(devices.find((d) => d.serial === FW.fields), { swVersion: '10.1.0', mgmtIp: '127.0.11.3', reachability: 'up' });

  const one = await json(`/mgmt/devices/${FW.fields}?key=${key}`);
  t.is(one.status, 200);
  t.like(one.body.device as object, { serial: FW.fields, hostname: 'fw-fields', model: 'PA-3220' });

  const unknown = await json(`/mgmt/devices/999?key=${key}`);
  t.is(unknown.status, 404);
  t.like(unknown.body.error as object, { code: 'NOT_FOUND' });

  t.is((await json('/mgmt/devices')).status, 403);
  t.is((await json('/mgmt/devices', { 'X-PAN-KEY': 'nope' })).status, 403);
  t.is((await json('/mgmt/devices', { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` })).status, 200);

  await opOk(lab, CMD.systemInfo, { target: FW.spare });
  await opOk(lab, CMD.devicesConnected);
  await opOk(lab, '<show><clock/></show>', { direct: FW.fields });
  const calls = await waitFor(async () => {
    const r = await json(`/mgmt/api-calls?limit=2&key=${key}`);
    return (r.body.calls as ApiCallRecord[]).length === 2 && (r.body.calls as ApiCallRecord[])[0]?.via === 'direct' ? r : undefined;
  });
  const [newest, older] = calls.body.calls as Array<ApiCallRecord & { seq: number; at: string }>;
  t.like(newest, { via: 'direct', address: '127.0.11.3', type: 'op', command: '<show><clock/></show>', httpStatus: 200, panosStatus: 'success', outcome: 'answered' });
  t.like(older, { via: 'panorama', address: '127.0.0.1', target: null, command: CMD.devicesConnected });
  // Calls answered within one group commit share its event, and so its seq: newest first by seq, then by time.
  t.true(newest!.seq >= older!.seq);
  t.true(Date.parse(newest!.at) >= Date.parse(older!.at));

  const all = await json(`/mgmt/api-calls?key=${key}`);
  t.is(all.body.limit, 50);
  for (const bad of ['0', '1001', 'ten', '-1', '']) {
    const res = await json(`/mgmt/api-calls?limit=${bad}&key=${key}`);
    t.is(res.status, 400, `limit=${bad}`);
    t.like(res.body.error as object, { code: 'VALIDATION' });
  }
});

test('api: when calls are recorded then each served call has the call fields and the time it was answered, and no key or password appears in the log or the store', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const keygen = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'keygen', user: ADMIN.user, password: ADMIN.password })}`));
  const generated = parseKeygen(keygen.body);
  const info = await opOk(lab, CMD.systemInfo, { target: FW.spare, key: generated });
  await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: CMD.systemInfo })}`, { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } });
  await http(lab.gw.panoramaUrl, '/api/', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `${form({ type: 'op', cmd: CMD.systemInfo })}&key=${KEY}` });
  await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: CMD.systemInfo, key: 'wrong-key' })}`);

  const events = await waitFor(() => {
    const e = apiEvents(lab);
    return e.length === 4 ? e : undefined;
  });
  const [kg, byKey, byBasic, byPost] = events;
  t.like(kg, { via: 'panorama', type: 'keygen', command: 'keygen admin', httpStatus: 200, panosStatus: 'success', panosCode: null, outcome: 'answered', target: null });
  t.is(kg!.response, "<response status = 'success'><result><key>[redacted]</key></result></response>");
  t.like(byKey, { type: 'op', target: FW.spare, command: CMD.systemInfo, httpStatus: 200, panosStatus: 'success', outcome: 'answered', address: '127.0.0.1' });
  // What was recorded is what the client received: its size in bytes and its first 2,000 characters.
  t.true(info.length > 2000);
  t.is(byKey!.responseBytes, Buffer.byteLength(info));
  t.is(byKey!.response, info.slice(0, 2000));
  t.true(byKey!.durationMs >= 0);
  t.like(byBasic, { httpStatus: 200, outcome: 'answered' });
  t.like(byPost, { httpStatus: 200, outcome: 'answered' });
  t.true(events.every((e) => /^[0-9a-f-]{36}$/.test(e.requestId)));
  t.true(events.every((e) => typeof e.at === 'string' && new Date(e.at).toISOString() === e.at), 'each call has its own time');
  // Issue 13 point 3: a refused call is counted with the others, not recorded one by one (see hardening.int).
  await lab.gw.close();
  const refused = lab.store.readStream(API_STREAM).filter((e) => e.type === API_CALLS_REFUSED);
  t.is(refused.length, 1);
  t.like(refused[0]!.data as object, { count: 1, byAddress: { '127.0.0.1': 1 }, byType: { op: 1 } });

  const everything = JSON.stringify([...lab.store.readAll()]);
  const logs = lab.logs.join('\n');
  t.true(logs.includes('"component":"gateway"'));
  for (const secret of [KEY, encodeURIComponent(KEY), ADMIN.password, encodeURIComponent(ADMIN.password), generated, 'ops-pass']) {
    t.false(everything.includes(secret), `store holds ${secret}`);
    t.false(logs.includes(secret), `logs hold ${secret}`);
  }
});
