import test from 'ava';
import { Agent as HttpAgent } from 'node:http';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { Subjects } from '../../bus/index.ts';
import { createLogger } from '../../cli/logger.ts';
import { startGateway } from '../../gateway/index.ts';
import { parseResponse, parseSystemInfo, validateXml } from '../../panos/index.ts';
import { openTestStore, servedCallEvents, startTestNats, uniquePrefix, waitFor } from '../helpers/index.ts';
import { answered, form, http, startLab, type HttpInit, type HttpOutcome, type Lab } from './gateway-fixture.ts';

const nats = startTestNats(test);

const KEY = 'LUFRPT1+robust/Key==';
const PANORAMA = '000702199002';
const DEVICES = ['012200000001', '012200000002', '012200000003'];
const YAML = `
name: gateway-robustness
seed: 11
api_key: "${KEY}"
admins: [{ username: admin, password: "Adm1n+pw" }]
panorama: { serial: "${PANORAMA}", hostname: pano-robust, version: "11.1.0", mgmt_ip: 127.0.0.1 }
defaults:
  available_versions: ["10.0.2", "10.1.0", "10.2.0"]
devices:
  - { serial: "${DEVICES[0]}", hostname: fw-r1, mgmt_ip: 127.0.12.1, current_version: "10.0.2" }
  - { serial: "${DEVICES[1]}", hostname: fw-r2, mgmt_ip: 127.0.12.2, current_version: "10.1.0", downloaded_versions: ["10.2.0"] }
  - { serial: "${DEVICES[2]}", hostname: fw-r3, mgmt_ip: 127.0.12.3, current_version: "10.2.0" }
`;

/** mulberry32: the same requests on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface BadRequest {
  label: string;
  origin: 'panorama' | 'device';
  path: string;
  init: HttpInit;
}

// Element names that can never spell a state-changing command (no restart, download, install, suspend, …).
const WORDS = ['show', 'system', 'info', 'jobs', 'id', 'all', 'clock', 'foo', 'bar', 'devices', 'entry', 'x-y', 'a1', 'chassis-ready', 'routing', 'route', 'arp'];
const XML_BITS = ['<', '>', '</', '/>', '<show>', '</show>', '<system', '&', '&amp;', '&#0;', '&bogus;', '<![CDATA[', ']]>', '<!--', '-->', '"', "'", '=', ' ', '\u0000', '\u0001', '\ufffe', '<?xml version="1.0"?>', 'é', '😀'];
const BAD_ENCODINGS = ['%', '%z', '%zz', '%ff%fe', '%c3%28', '%c0%af', '%00', '%ed%a0%80', '%f4%90%80%80', '%e2%82', '+%2B+', '%25%', '%%%'];
const TYPES = ['op', 'keygen', 'version', 'config', 'commit', 'export', 'import', 'log', 'report', 'user-id', 'OP', 'bogus', '', ' op', 'op\u0000'];
const METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS'];

function generate(count: number, seed: number): BadRequest[] {
  const r = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const some = (n: number, f: () => string): string => Array.from({ length: 1 + Math.floor(r() * n) }, f).join('');
  const key = (): string => (r() < 0.6 ? encodeURIComponent(KEY) : pick(['', 'wrong', encodeURIComponent(KEY.replace('+', ' ')), KEY.slice(0, -1), '%ff']));
  const origin = (): 'panorama' | 'device' => (r() < 0.7 ? 'panorama' : 'device');
  const randomElements = (depth: number): string => {
    const name = pick(WORDS);
    if (depth === 0 || r() < 0.3) return r() < 0.5 ? `<${name}/>` : `<${name}>${r() < 0.3 ? some(2, () => pick(['abc', '9.9.9', '-1', ' '])) : ''}</${name}>`;
    return `<${name}>${randomElements(depth - 1)}</${name}>`;
  };
  const kinds: Array<() => BadRequest> = [
    () => ({ label: 'malformed xml', origin: origin(), path: `/api/?type=op&cmd=${encodeURIComponent(some(8, () => pick(XML_BITS)))}&key=${key()}`, init: {} }),
    () => ({ label: 'unknown elements', origin: origin(), path: `/api/?${form({ type: 'op', cmd: randomElements(4) })}&key=${key()}`, init: {} }),
    () => ({ label: 'odd encoding', origin: origin(), path: `/api/?type=op&cmd=${some(4, () => pick(BAD_ENCODINGS))}&key=${key()}`, init: {} }),
    () => ({ label: 'odd type', origin: origin(), path: `/api/?type=${encodeURIComponent(pick(TYPES))}&cmd=${encodeURIComponent(randomElements(2))}&key=${key()}`, init: {} }),
    () => ({
      label: 'empty params',
      origin: origin(),
      path: `/api/?${pick(['', 'type=', 'cmd=', 'type=op&cmd=', 'type=op&cmd=&key=', '=', '&&&', 'type', 'type&cmd&key', `type=op&cmd=&key=${encodeURIComponent(KEY)}`, 'key=', 'target='])}`,
      init: {},
    }),
    () => ({ label: 'wrong method', origin: origin(), path: `/api/?type=op&cmd=x&key=${key()}`, init: { method: pick(METHODS), body: 'type=op' } }),
    () => ({
      label: 'unknown target',
      origin: 'panorama',
      path: `/api/?type=op&cmd=${encodeURIComponent('<show><system><info/></system></show>')}&target=${pick(['999', '', '../../etc/passwd', 'a.b.*', '%3Cx%3E', '%01%02', 'panos.sim.>', PANORAMA, '0'.repeat(300), '%ff%fe'])}&key=${key()}`,
      init: {},
    }),
    () => ({
      label: 'repeated params',
      origin: origin(),
      path: `/api/?type=${pick(['op', 'keygen', 'bogus'])}&type=${pick(['op', 'keygen', 'bogus'])}&cmd=${pick(['<show><clock/></show>', 'x', '<show><foo/></show>'])}&cmd=${pick(['<a', '<show><system><info/></system></show>'])}&key=${key()}&key=${key()}`,
      init: {},
    }),
    () => ({ label: 'unknown param', origin: origin(), path: `/api/?type=op&cmd=x&${encodeURIComponent(some(3, () => pick(WORDS)))}=1&key=${key()}`, init: {} }),
    () => ({ label: 'bad keygen', origin: origin(), path: `/api/?${form({ type: 'keygen', user: pick(['admin', 'root', '', '\u0000', 'é']), password: some(3, () => pick(XML_BITS)) })}`, init: {} }),
    () => ({
      label: 'odd body',
      origin: origin(),
      path: '/api/',
      init: {
        method: 'POST',
        headers: { 'Content-Type': pick(['application/x-www-form-urlencoded', 'application/json', 'text/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=latin1']) },
        body: Buffer.concat([Buffer.from(`type=op&cmd=`), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x3c, 0x00]), Buffer.from(`&key=${KEY}`)]),
      },
    }),
    () => ({ label: 'bad auth header', origin: origin(), path: `/api/?type=op&cmd=${encodeURIComponent('<show><clock/></show>')}`, init: { headers: { Authorization: pick(['Basic', 'Basic !!!', 'Basic YWRtaW4=', 'Bearer x', `Basic ${Buffer.from('admin:wrong').toString('base64')}`]), 'X-PAN-KEY': pick(['', ' ', 'x']) } } }),
    () => ({ label: 'unknown path', origin: origin(), path: pick(['/', '/api/x', '/API/', '/php/login.php', '/api/../', '/restapi/v10.1/x', '/api//']), init: {} }),
  ];
  const out: BadRequest[] = [];
  for (let i = 0; i < count; i++) out.push(pick(kinds)());
  // Huge parameters (≥ 1 MB) go in POST bodies: a GET line that long is refused by the HTTP parser (also tested).
  const mb = 'A'.repeat(1024 * 1024);
  const post = (label: string, body: string): BadRequest => ({
    label,
    origin: 'panorama',
    path: '/api/',
    init: { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body },
  });
  out.push(post('huge cmd', `type=op&cmd=<show>${mb}</show>&key=${KEY}`));
  out.push(post('huge cmd element', `type=op&cmd=<${mb}/>&key=${KEY}`));
  out.push(post('huge target', `type=op&cmd=x&target=${mb}&key=${KEY}`));
  out.push(post('huge user', `type=keygen&user=${mb}&password=${mb}`));
  out.push(post('huge key', `type=op&cmd=x&key=${mb}`));
  out.push(post('huge name', `${mb}=1&type=op&key=${KEY}`));
  out.push(post('huge type', `type=${mb}&key=${KEY}`));
  out.push(post('over 5 MB', `type=op&cmd=${'B'.repeat(6 * 1024 * 1024)}&key=${KEY}`));
  out.push({ label: 'huge query', origin: 'panorama', path: `/api/?type=op&cmd=${'C'.repeat(64 * 1024)}&key=${encodeURIComponent(KEY)}`, init: {} });
  return out;
}

/** The response must be PAN-OS XML: well-formed, only XML characters, a `<response>` root with a status. */
function checkXml(body: string): 'success' | 'error' {
  if (/[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(body)) throw new Error('characters XML does not allow');
  validateXml(body);
  const res = parseResponse(body);
  if (!/^\s*<response\s+status\s*=\s*["'](success|error)["']/.test(body)) throw new Error('no <response status>');
  return res.status;
}

/** Device state without what moves by itself. */
async function deviceState(lab: Lab): Promise<string> {
  const { devices } = (await lab.ctl('-', 'list')) as { devices: unknown[] };
  const records = await Promise.all(DEVICES.map(async (s) => (await lab.ctl(s, 'get')).record));
  return JSON.stringify({ devices, records });
}

async function inParallel<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

/** Raw bytes an HTTP parser refuses; the answer must still be PAN-OS XML. */
function raw(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}

test('gateway: when thousands of generated bad requests arrive then each gets well-formed PAN-OS XML, nothing changes and a good request still works', async (t) => {
  const lab = await startLab(t, nats, YAML);
  const before = await deviceState(lab);
  const requests = generate(3000, 20261122);
  const agents = new Map<string, HttpAgent>();
  const agentFor = (origin: string): HttpAgent => {
    let a = agents.get(origin);
    if (!a) {
      a = new HttpAgent({ keepAlive: true, maxSockets: 16 });
      agents.set(origin, a);
    }
    return a;
  };
  t.teardown(() => {
    for (const a of agents.values()) a.destroy();
  });

  const problems: string[] = [];
  const statuses = new Map<string, number>();
  const results = await inParallel(requests, 32, async (req): Promise<HttpOutcome> => {
    const origin = req.origin === 'panorama' ? lab.gw.panoramaUrl : lab.gw.urls[DEVICES[req.path.length % DEVICES.length]!]!;
    return http(origin, req.path, { ...req.init, agent: agentFor(origin), timeoutMs: 15_000 });
  });
  results.forEach((res, i) => {
    const req = requests[i]!;
    if (res.kind !== 'response') {
      problems.push(`${req.label}: connection ${res.code} for ${req.path.slice(0, 120)}`);
      return;
    }
    const key = `${req.label} → HTTP ${res.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    if (![200, 400, 403, 404, 405, 431].includes(res.status)) problems.push(`${req.label}: HTTP ${res.status}`);
    if (!String(res.headers['content-type']).startsWith('application/xml')) problems.push(`${req.label}: content type ${res.headers['content-type']}`);
    try {
      const status = checkXml(res.body);
      if (status === 'success' && res.status !== 200) problems.push(`${req.label}: success with HTTP ${res.status}`);
    } catch (err) {
      problems.push(`${req.label}: ${(err as Error).message}: ${res.body.slice(0, 200)} for ${req.path.slice(0, 120)}`);
    }
  });
  t.deepEqual(problems.slice(0, 20), [], [...statuses].map(([k, v]) => `${k}: ${v}`).join('\n'));
  t.is(results.length, requests.length);
  t.true(requests.length >= 3000);
  // Every kind of bad request was exercised, and most were refused before reaching a device.
  t.true([...statuses.keys()].some((k) => k.startsWith('huge cmd →')));
  t.true([...statuses.keys()].some((k) => k.startsWith('wrong method → HTTP 405')));
  t.true([...statuses.keys()].some((k) => k.startsWith('over 5 MB → HTTP 400')));

  for (const bytes of [
    Buffer.from('GARBAGE\r\n\r\n'),
    Buffer.from('GET /api/?cmd=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
    Buffer.from('GET /api/ HTTP/1.1\r\nBad Header\r\n\r\n'),
    Buffer.from(`GET /api/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'z'.repeat(100_000)}\r\n\r\n`),
  ]) {
    const text = await raw(lab.gw.port, bytes);
    const [head = '', body = ''] = text.split('\r\n\r\n');
    t.regex(head, /^HTTP\/1\.1 (400|431) /);
    t.is(checkXml(body), 'error');
  }

  t.is(await deviceState(lab), before);
  const good = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: '<show><system><info/></system></show>', target: DEVICES[1]!, key: KEY })}`));
  t.is(good.status, 200);
  t.is(parseSystemInfo(good.body).serial, DEVICES[1]!);
  const direct = answered(await http(lab.gw.urls[DEVICES[0]!]!, `/api/?${form({ type: 'op', cmd: '<show><system><info/></system></show>', key: KEY })}`));
  t.is(parseSystemInfo(direct.body).serial, DEVICES[0]!);
});

test('gateway: when the simulator answers a hang then the connection stays open without an answer until the hang limit closes it', async (t) => {
  const lab = await startLab(t, nats, YAML, { hangLimitMs: 400 });
  await lab.ctl(DEVICES[2]!, 'faults', { faults: { api: { hangRate: 1 } } });
  const started = performance.now();
  const res = await http(lab.gw.urls[DEVICES[2]!]!, `/api/?${form({ type: 'op', cmd: '<show><clock/></show>', key: KEY })}`, { timeoutMs: 5000 });
  const waited = performance.now() - started;
  t.is(res.kind, 'error');
  t.true(waited >= 380, `closed after ${waited} ms`);
  t.true(waited < 4000, `closed after ${waited} ms`);
  const early = await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: '<show><clock/></show>', target: DEVICES[2]!, key: KEY })}`, { timeoutMs: 100 });
  t.deepEqual(early, { kind: 'error', code: 'CLIENT_TIMEOUT' });
  const events = await waitFor(() => {
    const hung = servedCallEvents(lab.store).filter((e) => (e.data as { outcome: string }).outcome === 'hung');
    return hung.length === 2 ? hung : undefined;
  });
  t.is(events.length, 2);
  t.like(events[0]?.data, { outcome: 'hung', httpStatus: null, response: null, via: 'direct' });
});

test('gateway: when no simulator answers then the Panorama address says so with a 503 and a firewall address drops the connection', async (t) => {
  const lab = await startLab(t, nats, YAML, { requestTimeoutMs: 500 });
  await lab.sim.stop();
  const pano = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: '<show><clock/></show>', key: KEY })}`));
  t.is(pano.status, 503);
  const res = parseResponse(pano.body);
  t.is(res.status, 'error');
  t.regex(res.lines[0] ?? '', /simulator is not running .*Start it with: panos-upgrade sim/);
  const direct = await http(lab.gw.urls[DEVICES[0]!]!, `/api/?${form({ type: 'op', cmd: '<show><clock/></show>', key: KEY })}`);
  t.is(direct.kind, 'error');
  const mgmt = answered(await http(lab.gw.panoramaUrl, '/mgmt/devices', { headers: { 'X-PAN-KEY': KEY } }));
  t.is(mgmt.status, 503);
  t.like(JSON.parse(mgmt.body), { error: { code: 'SIMULATOR_UNAVAILABLE' } });
});

test('gateway: when the simulator replies with unusable JSON then the caller gets a PAN-OS internal error and the gateway keeps serving', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const replies = ['not json', '[1,2]', '{"ok":true}', '{"ok":true,"status":200,"body":5}', '{"ok":true,"status":99,"body":"x"}', '{"ok":false,"error":{"code":"BOOM","message":"exploded"}}'];
  let next = 0;
  const bad = nc.subscribe(subjects.simOp('000702199009'), {
    callback: (_err, msg) => {
      msg.respond(replies[next++ % replies.length]!);
    },
  });
  const gw = await startGateway({
    nc,
    subjects,
    store: openTestStore(t),
    log: createLogger({ level: 'silent' }),
    port: 0,
    protocol: 'http',
    direct: false,
    requestTimeoutMs: 2000,
    description: {
      scenario: 'fake',
      panorama: { serial: '000702199009', hostname: 'fake', mgmtIp: '127.0.0.1' },
      devices: [],
      keyDigests: [createHash('sha256').update(KEY).digest('hex')],
    },
  });
  t.teardown(() => gw.close());
  for (const _ of replies) {
    const res = answered(await http(gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: '<show><clock/></show>', key: KEY })}`));
    t.is(res.status, 500);
    t.is(checkXml(res.body), 'error');
    t.like(parseResponse(res.body), { code: '21' });
  }
  const version = answered(await http(gw.panoramaUrl, `/api/?${form({ type: 'version', key: KEY })}`));
  t.is(version.status, 500);
  bad.unsubscribe();
  nc.subscribe(subjects.simOp('000702199009'), {
    callback: (_err, msg) => {
      msg.respond(JSON.stringify({ ok: true, status: 200, body: '<response status="success"><result>ok</result></response>' }));
    },
  });
  await nc.flush();
  const good = answered(await http(gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: '<show><clock/></show>', key: KEY })}`));
  t.is(good.status, 200);
  t.is(good.body, '<response status="success"><result>ok</result></response>');
});
