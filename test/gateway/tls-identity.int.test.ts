import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTlsIdentity } from '../../gateway/index.ts';
import { tempDir } from '../helpers/index.ts';

const mode = (file: string): number => statSync(file).mode & 0o777;
const ADDRESSES = ['127.0.0.1', '127.0.13.1', '127.0.13.2'];

test('tls identity: when it is kept in a directory then a second start serves the same certificate, and renew makes a new CA', async (t) => {
  const dir = join(tempDir(t), 'tls');
  const first = await loadTlsIdentity({ dir, addresses: ADDRESSES });
  t.true(first.created);
  t.is(first.caFile, join(dir, 'ca.pem'));
  const fp = first.materialFor('127.0.0.1').fingerprint;
  const again = await loadTlsIdentity({ dir, addresses: ADDRESSES });
  t.false(again.created);
  t.is(again.materialFor('127.0.0.1').fingerprint, fp);
  t.is(again.caFingerprint, first.caFingerprint);

  const cert = new X509Certificate(again.materialFor('127.0.0.1').cert);
  t.true(cert.checkIssued(new X509Certificate(again.caCert)), 'issued by the kept CA');

  const renewed = await loadTlsIdentity({ dir, addresses: ADDRESSES, renew: true });
  t.true(renewed.created);
  t.not(renewed.caFingerprint, first.caFingerprint);
  t.not(renewed.materialFor('127.0.0.1').fingerprint, fp);
});

test('tls identity: when the addresses grow then the certificate is reissued by the same CA', async (t) => {
  const dir = join(tempDir(t), 'tls');
  const first = await loadTlsIdentity({ dir, addresses: ADDRESSES });
  const grown = await loadTlsIdentity({ dir, addresses: [...ADDRESSES, '127.0.13.3'] });
  t.is(grown.caFingerprint, first.caFingerprint);
  t.true(new X509Certificate(grown.materialFor('127.0.13.3').cert).checkIP('127.0.13.3') !== undefined);
});

test('tls identity: files are 0600 and the directory 0700, even when it existed with wider modes', async (t) => {
  const dir = join(tempDir(t), 'tls');
  mkdirSync(dir, { mode: 0o755 });
  await loadTlsIdentity({ dir, addresses: ADDRESSES });
  t.is(mode(dir), 0o700);
  for (const f of ['ca.pem', 'ca-key.pem', 'certificates.json']) t.is(mode(join(dir, f)), 0o600, f);
});

test('tls identity: when the kept CA cannot be read then the error names the directory and --new-cert', async (t) => {
  const dir = join(tempDir(t), 'tls');
  await loadTlsIdentity({ dir, addresses: ADDRESSES });
  writeFileSync(join(dir, 'ca-key.pem'), 'not a key');
  const err = await t.throwsAsync(loadTlsIdentity({ dir, addresses: ADDRESSES }));
  t.true(err?.message.includes(dir), err?.message);
  t.regex(err?.message ?? '', /panos-upgrade sim --new-cert/);
});

test('tls identity: without a directory it lives in memory and has no CA file', async (t) => {
  const id = await loadTlsIdentity({ addresses: ADDRESSES });
  t.is(id.dir, undefined);
  t.is(id.caFile, undefined);
  t.regex(id.materialFor('127.0.0.1').fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

test('tls identity: when the kept certificates file is malformed then new certificates are issued by the kept CA', async (t) => {
  const dir = join(tempDir(t), 'tls');
  const first = await loadTlsIdentity({ dir, addresses: ['127.0.0.1'] });
  writeFileSync(join(dir, 'certificates.json'), JSON.stringify({ version: 1, certificates: { '127.0.0.1': { cert: 7 } } }));
  const second = await loadTlsIdentity({ dir, addresses: ['127.0.0.1'] });
  t.is(second.caFingerprint, first.caFingerprint);
  t.false(second.created);
  t.not(second.materialFor('127.0.0.1').cert, first.materialFor('127.0.0.1').cert);
  t.is((JSON.parse(readFileSync(join(dir, 'certificates.json'), 'utf8')) as { certificates: Record<string, { cert: string }> }).certificates['127.0.0.1']!.cert, second.materialFor('127.0.0.1').cert);
});
