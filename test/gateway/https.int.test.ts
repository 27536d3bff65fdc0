import test from 'ava';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { parseSystemInfo } from '../../panos/index.ts';
import { servedCallEvents, startTestNats, tempDir, waitFor } from '../helpers/index.ts';
import { answered, form, http, startLab } from './gateway-fixture.ts';

const nats = startTestNats(test);

const KEY = 'https-lab-key';
const YAML = `
name: gateway-https
api_key: "${KEY}"
panorama: { serial: "000702199003", hostname: pano-tls, version: "11.1.0", mgmt_ip: 127.0.0.1 }
defaults:
  available_versions: ["10.1.0", "10.2.0"]
devices:
  - { serial: "013300000001", hostname: fw-tls-1, mgmt_ip: 127.0.13.1, current_version: "10.1.0" }
  - { serial: "013300000002", hostname: fw-tls-2, mgmt_ip: 127.0.13.2, current_version: "10.2.0" }
`;
const INFO = `/api/?${form({ type: 'op', cmd: '<show><system><info/></system></show>', key: KEY })}`;

/** The certificate the server presents, without verifying it. */
function presented(host: string, port: number, servername?: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}

test('https: when the gateway generates its certificates then each management address serves its own, issued by one CA, and openssl agrees on the fingerprint', async (t) => {
  // Issue 13 point 2: one certificate on every address could not show that a fleet pinned by Panorama's fingerprint fails on its firewalls.
  const lab = await startLab(t, nats, YAML, { protocol: 'https' });
  const { gw } = lab;
  t.is(gw.protocol, 'https');
  t.regex(gw.fingerprint ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  t.true(gw.tls?.generated);
  t.regex(gw.panoramaUrl, /^https:\/\/127\.0\.0\.1:\d+$/);

  const seen = new Set<string>();
  const ca = new X509Certificate(gw.identity!.caCert);
  for (const host of ['127.0.0.1', '127.0.13.1', '127.0.13.2']) {
    const peer = await presented(host, gw.port);
    t.is(peer.fingerprint256, gw.identity!.materialFor(host).fingerprint);
    t.true(new X509Certificate(peer.raw).checkIssued(ca), host);
    seen.add(peer.fingerprint256);
  }
  t.is(seen.size, 3, 'one certificate per address');
  t.is(gw.identity!.materialFor('127.0.0.1').fingerprint, gw.fingerprint ?? '');
  const dir = tempDir(t);
  const certFile = join(dir, 'gateway.pem');
  writeFileSync(certFile, gw.tls!.cert);
  const openssl = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  t.is(openssl.trim(), `sha256 Fingerprint=${gw.fingerprint}`);
  const sans = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
  for (const name of ['DNS:localhost', 'IP Address:127.0.0.1']) t.true(sans.includes(name), sans);
  t.false(sans.includes('127.0.13.1'), "Panorama's certificate does not name the firewalls");
});

test('https: when a client pins the fingerprint or trusts the certificate then it connects to Panorama and to each firewall address', async (t) => {
  const lab = await startLab(t, nats, YAML, { protocol: 'https' });
  const { gw } = lab;
  // Every certificate the gateway serves is issued by the simulator's CA.
  const cert = gw.identity!.caCert;
  const pinned = gw.fingerprint!;
  const pin = (_host: string, peer: PeerCertificate): Error | undefined =>
    peer.fingerprint256 === pinned ? undefined : new Error(`certificate ${peer.fingerprint256} is not the pinned ${pinned}`);

  const viaPin = answered(await http(gw.panoramaUrl, INFO, { tls: { rejectUnauthorized: true, ca: cert, checkServerIdentity: pin } }));
  t.is(viaPin.status, 200);
  t.is(parseSystemInfo(viaPin.body).serial, '000702199003');

  // Host-name verification against the SANs, as a strict client does.
  for (const serial of ['013300000001', '013300000002']) {
    const res = answered(await http(gw.urls[serial]!, INFO, { tls: { rejectUnauthorized: true, ca: cert } }));
    t.is(parseSystemInfo(res.body).serial, serial);
  }
  const byName = answered(await http(`https://localhost:${gw.port}`, INFO, { tls: { rejectUnauthorized: true, ca: cert, servername: 'localhost' } }));
  t.is(byName.status, 200);

  const wrongPin = await http(gw.panoramaUrl, INFO, { tls: { rejectUnauthorized: true, ca: cert, checkServerIdentity: () => new Error('pin mismatch') } });
  t.is(wrongPin.kind, 'error');
  const untrusted = await http(gw.panoramaUrl, INFO, { tls: { rejectUnauthorized: true } });
  t.deepEqual(untrusted, { kind: 'error', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
});

test('https: when a certificate and key are given as files then they are served and their fingerprint is reported', async (t) => {
  const first = await startLab(t, nats, YAML, { protocol: 'https' });
  const dir = tempDir(t);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, first.gw.tls!.cert);
  writeFileSync(keyFile, first.gw.tls!.key, { mode: 0o600 });
  await first.gw.close();

  const lab = await startLab(t, nats, YAML, { protocol: 'https', tls: { certFile, keyFile } });
  t.is(lab.gw.fingerprint, first.gw.fingerprint);
  t.false(lab.gw.tls?.generated);
  t.is((await presented('127.0.0.1', lab.gw.port)).fingerprint256, first.gw.fingerprint ?? '');
  const res = answered(await http(lab.gw.urls['013300000001']!, INFO));
  t.is(parseSystemInfo(res.body).serial, '013300000001');
});

test('http: when plain HTTP is asked for then the gateway serves it and reports no fingerprint', async (t) => {
  const lab = await startLab(t, nats, YAML, { protocol: 'http', direct: false });
  t.is(lab.gw.fingerprint, undefined);
  t.regex(lab.gw.panoramaUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.deepEqual(lab.gw.addresses, ['127.0.0.1']);
  t.deepEqual(Object.keys(lab.gw.urls), ['000702199003']);
  const res = answered(await http(lab.gw.panoramaUrl, `/api/?${form({ type: 'op', cmd: '<show><system><info/></system></show>', target: '013300000002', key: KEY })}`));
  t.is(parseSystemInfo(res.body).serial, '013300000002');
});

test('https: when a firewall drops connections then an HTTPS client sees the connection end without an answer', async (t) => {
  const lab = await startLab(t, nats, YAML, { protocol: 'https' });
  await lab.ctl('013300000002', 'faults', { faults: { api: { dropRate: 1 } } });
  const dropped = await http(lab.gw.urls['013300000002']!, INFO);
  t.is(dropped.kind, 'error');
  t.true(dropped.kind === 'error' && ['ECONNRESET', 'EPIPE'].includes(dropped.code), JSON.stringify(dropped));
  const other = answered(await http(lab.gw.urls['013300000001']!, INFO));
  t.is(other.status, 200);
  const events = await waitFor(() => {
    const e = servedCallEvents(lab.store).map((x) => x.data as { outcome: string; httpStatus: number | null; via: string });
    return e.length === 2 ? e : undefined;
  });
  t.like(events[0], { outcome: 'dropped', httpStatus: null, via: 'direct' });
  t.like(events[1], { outcome: 'answered', httpStatus: 200 });
});
