import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { panoramaTrustAdvice } from '../../actors/tls-advice.ts';
import { PanosClient, systemInfoXml, TlsTrustError, TransportError } from '../../panos/index.ts';
import { startScriptedServer, type Reply } from '../helpers/scripted-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { firewall } from './samples.ts';

// Issue 12 point 2: every TLS failure read "127.0.0.1:8443 is unreachable: tls / check that Panorama
// (or the device) answers", whatever the cause.

const KEY = 'tls-trust-key';
const SYSTEM_INFO: Reply = systemInfoXml(firewall({ bootedAt: Date.now() - 3_600_000 }), Date.now());
const HOUR = 3_600_000;

interface Pem {
  cert: string;
  key: string;
  fingerprint: string;
}

async function issue(opts: { cn: string; ip: string; ca?: Pem; expired?: boolean; isCa?: boolean }): Promise<Pem> {
  const now = Date.now();
  const notBeforeDate = new Date(opts.expired ? now - 400 * 24 * HOUR : now - HOUR);
  const notAfterDate = new Date(opts.expired ? now - 24 * HOUR : now + 24 * HOUR);
  const p = await generate([{ name: 'commonName', value: opts.cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ...(opts.ca ? { ca: { key: opts.ca.key, cert: opts.ca.cert } } : {}),
    extensions: opts.isCa
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 7, ip: opts.ip }] },
        ],
  });
  return { cert: p.cert, key: p.private, fingerprint: new X509Certificate(p.cert).fingerprint256 };
}

const material = (async () => {
  const ca = await issue({ cn: 'Lab Root CA', ip: '127.0.0.1', isCa: true });
  return {
    ca,
    selfSigned: await issue({ cn: 'pano-self', ip: '127.0.0.1' }),
    signed: await issue({ cn: 'pano-signed', ip: '127.0.0.1', ca }),
    otherName: await issue({ cn: 'pano-elsewhere', ip: '10.9.9.9', ca }),
    expired: await issue({ cn: 'pano-expired', ip: '127.0.0.1', ca, expired: true }),
  };
})();

function caFile(t: Parameters<typeof tempDir>[0], pem: string): string {
  const file = join(tempDir(t), 'ca.pem');
  writeFileSync(file, pem);
  return file;
}

async function failure(t: Parameters<typeof tempDir>[0], served: Pem, client: Partial<ConstructorParameters<typeof PanosClient>[0]>): Promise<TlsTrustError> {
  const server = await startScriptedServer(t, () => SYSTEM_INFO, { tls: served });
  const c = new PanosClient({ host: server.host, apiKey: KEY, trustAdvice: panoramaTrustAdvice, ...client });
  t.teardown(() => c.close());
  const err = await t.throwsAsync(c.systemInfo(), { instanceOf: TlsTrustError });
  t.is(server.requests.length, 0, 'nothing of the request (its key) reaches a server that is not trusted');
  t.true(err instanceof TransportError && err.certificate && !err.requestSent);
  t.is(err?.code, 'TLS_UNTRUSTED');
  return err!;
}

test('tls: when the certificate is self-signed and nothing is configured then the error says so and gives the exact pin command', async (t) => {
  const { selfSigned } = await material;
  const err = await failure(t, selfSigned, {});
  t.is(err.problem, 'self-signed');
  t.is(err.presented, selfSigned.fingerprint);
  t.regex(err.message, /TLS certificate not trusted: it is self-signed/);
  t.true(err.message.includes(`panos-upgrade config set tls.fingerprint ${selfSigned.fingerprint}`), err.message);
  t.true(err.message.includes('panos-upgrade config set tls.ca_file'), err.message);
  t.false(err.message.includes(KEY));
});

test('tls: when the issuer is not trusted then the error names the issuer and the tls.ca_file to set', async (t) => {
  const { signed } = await material;
  const err = await failure(t, signed, {});
  t.is(err.problem, 'unknown-issuer');
  t.regex(err.message, /issued by "Lab Root CA" that is not trusted/);
  t.true(err.message.includes('panos-upgrade config set tls.ca_file CA.pem'), err.message);
});

test('tls: when the pinned fingerprint does not match then the error gives the expected and the received fingerprints', async (t) => {
  const { selfSigned, signed } = await material;
  const err = await failure(t, selfSigned, { fingerprint: signed.fingerprint });
  t.is(err.problem, 'pin-mismatch');
  t.is(err.expected, signed.fingerprint);
  t.is(err.presented, selfSigned.fingerprint);
  t.true(err.message.includes(`expected SHA-256 ${signed.fingerprint}, received ${selfSigned.fingerprint}`), err.message);
  t.true(err.message.includes(`panos-upgrade config set tls.fingerprint ${selfSigned.fingerprint}`), err.message);
});

test('tls: when the certificate names another host then the error says which names it carries and how to fix it', async (t) => {
  const { ca, otherName } = await material;
  const err = await failure(t, otherName, { caFile: caFile(t, ca.cert) });
  t.is(err.problem, 'hostname-mismatch');
  t.regex(err.message, /it does not name 127\.0\.0\.1 \(it names 10\.9\.9\.9\)/);
  t.true(err.message.includes('panos-upgrade config set panorama.host NAME:PORT'), err.message);
  t.true(err.message.includes(`panos-upgrade config set tls.fingerprint ${otherName.fingerprint}`), err.message);
});

test('tls: when the certificate has expired then the error gives the date and what to do', async (t) => {
  const { ca, expired } = await material;
  const err = await failure(t, expired, { caFile: caFile(t, ca.cert) });
  t.is(err.problem, 'expired');
  t.regex(err.message, /it expired on \d{4}-\d\d-\d\dT/);
  t.true(err.message.includes(`panos-upgrade config set tls.fingerprint ${expired.fingerprint}`), err.message);
});

test('tls: when the CA is given then a certificate it signed for the address is trusted, and a pin accepts even an expired one', async (t) => {
  const { ca, signed, expired } = await material;
  const server = await startScriptedServer(t, () => SYSTEM_INFO, { tls: signed });
  const viaCa = new PanosClient({ host: server.host, apiKey: KEY, caFile: caFile(t, ca.cert) });
  t.teardown(() => viaCa.close());
  t.is((await viaCa.systemInfo()).serial, '007954000123451');
  const old = await startScriptedServer(t, () => SYSTEM_INFO, { tls: expired });
  const pinned = new PanosClient({ host: old.host, apiKey: KEY, fingerprint: expired.fingerprint });
  t.teardown(() => pinned.close());
  t.is((await pinned.systemInfo()).serial, '007954000123451');
});

// Issue 18: each mutating call opens a connection of its own, and each full handshake costs the server a
// signature and the client a certificate check. Sessions of trusted handshakes are resumed.
test('tls: a fresh connection resumes the session of a trusted handshake, and a server that cannot resume it gets the full check', async (t) => {
  const { selfSigned, signed } = await material;
  const first = await startScriptedServer(t, () => SYSTEM_INFO, { tls: selfSigned });
  const client = new PanosClient({ host: first.host, apiKey: KEY, fingerprint: selfSigned.fingerprint, maxAttempts: 1 });
  t.teardown(() => client.close());
  for (let i = 0; i < 3; i++) await client.op('<request><restart><system/></restart></request>', { mutating: true });
  // A resumed TLS 1.3 handshake shows no certificate: were it judged again, the pin would refuse it.
  t.deepEqual(
    first.requests.map((r) => r.resumed),
    [false, true, true],
  );

  // Another server on the same address, with another certificate: it cannot resume, and the pin refuses it.
  await first.stop();
  const impostor = await startScriptedServer(t, () => SYSTEM_INFO, { tls: signed, port: first.port });
  const err = await t.throwsAsync(client.op('<request><restart><system/></restart></request>', { mutating: true }), { instanceOf: TlsTrustError });
  t.is(err?.problem, 'pin-mismatch');
  t.is(impostor.requests.length, 0, 'nothing of the request reaches it');
  await impostor.stop();

  // The device back with its own certificate but restarted (its session keys are new): a full, trusted handshake.
  const restarted = await startScriptedServer(t, () => SYSTEM_INFO, { tls: selfSigned, port: first.port });
  await client.op('<request><restart><system/></restart></request>', { mutating: true });
  await client.op('<request><restart><system/></restart></request>', { mutating: true });
  t.deepEqual(
    restarted.requests.map((r) => r.resumed),
    [false, true],
  );
});

test('tls: a handshake that fails the check leaves no session behind to resume', async (t) => {
  const { selfSigned, signed } = await material;
  const server = await startScriptedServer(t, () => SYSTEM_INFO, { tls: selfSigned });
  const client = new PanosClient({ host: server.host, apiKey: KEY, fingerprint: signed.fingerprint, maxAttempts: 1 });
  t.teardown(() => client.close());
  for (let i = 0; i < 3; i++) {
    const err = await t.throwsAsync(client.op('<request><restart><system/></restart></request>', { mutating: true }), { instanceOf: TlsTrustError });
    t.is(err?.problem, 'pin-mismatch', `call ${i + 1}`);
  }
  const err = await t.throwsAsync(client.systemInfo(), { instanceOf: TlsTrustError });
  t.is(err?.problem, 'pin-mismatch');
  t.is(server.requests.length, 0);
});
