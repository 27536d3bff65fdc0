// One contract, two transports: the gateway reaching its simulator over NATS, and in-process (as
// `panos-upgrade sim` runs them). Every test below runs once per transport, over real HTTP to the gateway
// and, for NATS, a real nats-server; what a client sees must not depend on the transport.
import { createHash } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { Subjects } from '../../bus/index.ts';
import { createLogger } from '../../cli/logger.ts';
import { startGateway, type ApiCallRecord, type GatewayHandle } from '../../gateway/index.ts';
import { ValidationError } from '../../panos/errors.ts';
import { parseResponse, parseSystemInfo } from '../../panos/index.ts';
import { serveSimHost, type SimAnswer, type SimHost, type SimOpRequest } from '../../simulator/index.ts';
import { openTestStore, servedCallEvents, startTestNats, uniquePrefix, waitFor } from '../helpers/index.ts';
import { answered, form, http, startLab, type Lab } from './gateway-fixture.ts';

const nats = startTestNats(test);

const KEY = 'LUFRPT1+transport/Key==';
const PANORAMA = '000702199013';
const FW = ['013300000001', '013300000002', '013300000003'] as const;
const YAML = `
name: gateway-transport
seed: 13
api_key: "${KEY}"
admins: [{ username: admin, password: "Adm1n+pw" }]
panorama: { serial: "${PANORAMA}", hostname: pano-transport, version: "11.1.0", mgmt_ip: 127.0.0.1 }
defaults:
  available_versions: ["10.0.2", "10.1.0", "10.2.0"]
devices:
  - { serial: "${FW[0]}", hostname: fw-t1, mgmt_ip: 127.0.13.1, current_version: "10.0.2" }
  - { serial: "${FW[1]}", hostname: fw-t2, mgmt_ip: 127.0.13.2, current_version: "10.1.0" }
  - { serial: "${FW[2]}", hostname: fw-t3, mgmt_ip: 127.0.13.3, current_version: "10.2.0" }
`;
const SYSTEM_INFO = '<show><system><info/></system></show>';
const TRANSPORTS = ['nats', 'in-process'] as const;
type Transport = (typeof TRANSPORTS)[number];

const op = (lab: Lab, cmd: string, extra: Record<string, string> = {}, origin = lab.gw.panoramaUrl) =>
  http(origin, `/api/?${form({ type: 'op', cmd, key: KEY, ...extra })}`);

function served(lab: Lab): ApiCallRecord[] {
  return servedCallEvents(lab.store).map((e) => e.data as ApiCallRecord);
}

for (const transport of TRANSPORTS) {
  const title = (what: string): string => `sim transport ${transport}: ${what}`;

  test(title('when a device answers then the caller gets its XML through Panorama, directly and for keygen, and each call is recorded'), async (t) => {
    const lab = await startLab(t, nats, YAML, { transport });
    const viaPanorama = answered(await op(lab, SYSTEM_INFO, { target: FW[0] }));
    t.is(viaPanorama.status, 200);
    t.is(viaPanorama.headers['content-type'], 'application/xml; charset=UTF-8');
    t.like(parseSystemInfo(viaPanorama.body), { serial: FW[0], swVersion: '10.0.2' });
    const direct = answered(await op(lab, SYSTEM_INFO, {}, lab.gw.urls[FW[1]]!));
    t.like(parseSystemInfo(direct.body), { serial: FW[1], swVersion: '10.1.0' });
    const panorama = answered(await op(lab, SYSTEM_INFO));
    t.is(parseResponse(panorama.body).status, 'success');
    const keygen = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'keygen', user: 'admin', password: 'Adm1n+pw' })}`));
    t.is(keygen.status, 200);
    t.regex(keygen.body, /<key>[^<]+<\/key>/);
    const refused = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'keygen', user: 'admin', password: 'wrong' })}`));
    t.is(refused.status, 403);
    t.is(refused.statusMessage, 'Invalid Credential');
    const version = answered(await http(lab.gw.urls[FW[2]]!, `/api/?${form({ type: 'version', key: KEY })}`));
    t.regex(version.body, /<sw-version>10\.2\.0<\/sw-version>/);
    const records = await waitFor(() => {
      const r = served(lab);
      return r.length >= 5 ? r : undefined;
    });
    t.deepEqual(
      records.map((r) => [r.via, r.target, r.httpStatus, r.outcome]),
      [
        ['panorama', FW[0], 200, 'answered'],
        ['direct', null, 200, 'answered'],
        ['panorama', null, 200, 'answered'],
        ['panorama', null, 200, 'answered'],
        ['direct', null, 200, 'answered'],
      ],
    );
    t.true(records[3]!.response!.includes('<key>[redacted]</key>'), 'the key is not recorded');
  });

  test(title('when a firewall is down then its own address drops the connection and Panorama says it is not connected'), async (t) => {
    const lab = await startLab(t, nats, YAML, { transport });
    await lab.ctl(FW[0], 'crash', { seconds: 30 });
    const direct = await op(lab, SYSTEM_INFO, {}, lab.gw.urls[FW[0]]!);
    t.is(direct.kind, 'error');
    const viaPanorama = answered(await op(lab, SYSTEM_INFO, { target: FW[0] }));
    t.is(viaPanorama.status, 200);
    t.regex(viaPanorama.body, /not connected/i);
  });

  test(title('when the device hangs then the connection stays open without an answer until the hang limit closes it'), async (t) => {
    const lab = await startLab(t, nats, YAML, { transport, hangLimitMs: 400 });
    await lab.ctl(FW[1], 'faults', { faults: { api: { hangRate: 1 } } });
    const started = performance.now();
    const outcome = await op(lab, SYSTEM_INFO, {}, lab.gw.urls[FW[1]]!);
    t.is(outcome.kind, 'error');
    t.true(performance.now() - started >= 350, 'held until the hang limit');
    const record = await waitFor(() => served(lab).find((r) => r.outcome === 'hung'));
    t.is(record.httpStatus, null);
  });

  test(title('when the device answers later than the request timeout then Panorama answers 503 and its own address drops the connection'), async (t) => {
    const lab = await startLab(t, nats, YAML, { transport, requestTimeoutMs: 300 });
    await lab.ctl(FW[2], 'faults', { faults: { api: { latencyMs: 1500 } } });
    const viaPanorama = answered(await op(lab, SYSTEM_INFO, { target: FW[2] }));
    t.is(viaPanorama.status, 503);
    t.regex(viaPanorama.body, /no answer in time on \S+\.sim\.000702199013\.op/);
    const direct = await op(lab, SYSTEM_INFO, {}, lab.gw.urls[FW[2]]!);
    t.is(direct.kind, 'error');
  });

  test(title('when the simulator has stopped then Panorama answers 503, a firewall drops the connection and the management API says 503'), async (t) => {
    const lab = await startLab(t, nats, YAML, { transport });
    await lab.sim.stop();
    const viaPanorama = answered(await op(lab, SYSTEM_INFO, { target: FW[0] }));
    t.is(viaPanorama.status, 503);
    t.regex(viaPanorama.body, /nothing answers on \S+\.sim\.000702199013\.op/);
    t.is((await op(lab, SYSTEM_INFO, {}, lab.gw.urls[FW[0]]!)).kind, 'error');
    const mgmt = answered(await http(lab.gw.panoramaUrl, '/mgmt/devices', { headers: { 'X-PAN-KEY': KEY } }));
    t.is(mgmt.status, 503);
    t.like(JSON.parse(mgmt.body), { error: { code: 'SIMULATOR_UNAVAILABLE' } });
  });

  test(title('when the management API asks for devices then the simulator control answers it'), async (t) => {
    const lab = await startLab(t, nats, YAML, { transport });
    const list = answered(await http(lab.gw.panoramaUrl, '/mgmt/devices', { headers: { 'X-PAN-KEY': KEY } }));
    t.is(list.status, 200);
    t.deepEqual((JSON.parse(list.body) as { devices: Array<{ serial: string }> }).devices.map((d) => d.serial), [...FW]);
    const one = answered(await http(lab.gw.panoramaUrl, `/mgmt/devices/${FW[1]}`, { headers: { 'X-PAN-KEY': KEY } }));
    t.like(JSON.parse(one.body), { device: { serial: FW[1], swVersion: '10.1.0' } });
  });

  test(title('when the simulator throws or answers something unusable then the caller gets a PAN-OS internal error'), async (t) => {
    const seen: SimOpRequest[] = [];
    let answer: () => SimAnswer | object = () => ({ status: 200, body: '<response status="success"><result>ok</result></response>' });
    const host: SimHost = {
      owns: (serial) => serial === PANORAMA,
      op(_serial, request) {
        seen.push({ ...request });
        return answer() as SimAnswer;
      },
      control: () => ({}),
    };
    const gw = await scriptedGateway(t, transport, host);
    const call = () => http(gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: '<show><clock/></show>', key: KEY })}`);

    t.is(answered(await call()).body, '<response status="success"><result>ok</result></response>');
    t.deepEqual(seen, [{ type: 'op', cmd: '<show><clock/></show>' }], 'the simulator gets the call as it went on the wire');

    answer = () => {
      throw new ValidationError('the simulator refused it');
    };
    const thrown = answered(await call());
    t.is(thrown.status, 500);
    t.like(parseResponse(thrown.body), { status: 'error', code: '21' });
    t.regex(thrown.body, /the simulator refused it/);

    for (const bad of [{ status: 200 }, { status: 99, body: 'x' }, { status: 200, body: 5 }, { error: { code: 'BOOM', message: 'exploded' } }]) {
      answer = () => bad;
      const res = answered(await call());
      t.is(res.status, 500, JSON.stringify(bad));
      t.like(parseResponse(res.body), { code: '21' });
    }
    answer = () => ({ status: 200, body: '<response status="success"><result>again</result></response>', contentType: 'text/plain\r\nX-Smuggled: 1' });
    const cleaned = answered(await call());
    t.is(cleaned.body, '<response status="success"><result>again</result></response>');
    t.is(cleaned.headers['x-smuggled'], undefined);
    t.is(cleaned.headers['content-type'], 'application/xml; charset=UTF-8');
  });
}

/** A gateway in front of a scripted simulator host: served over real NATS, or handed to the gateway in-process. */
async function scriptedGateway(t: ExecutionContext, transport: Transport, host: SimHost): Promise<GatewayHandle> {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const log = createLogger({ level: 'silent' });
  if (transport === 'nats') {
    const subs = serveSimHost(nc, subjects, host, log);
    await nc.flush();
    t.teardown(() => subs.forEach((s) => s.unsubscribe()));
  }
  const gw = await startGateway({
    nc,
    subjects,
    store: openTestStore(t),
    log,
    port: 0,
    protocol: 'http',
    direct: false,
    requestTimeoutMs: 2000,
    ...(transport === 'in-process' ? { simulator: host } : {}),
    description: {
      scenario: 'scripted',
      panorama: { serial: PANORAMA, hostname: 'scripted', mgmtIp: '127.0.0.1' },
      devices: [],
      keyDigests: [createHash('sha256').update(KEY).digest('hex')],
    },
  });
  t.teardown(() => gw.close());
  return gw;
}
