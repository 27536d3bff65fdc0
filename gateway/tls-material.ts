import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Worker } from 'node:worker_threads';
import { PanosUpgradeError } from '../panos/index.ts';

type Generate = (typeof import('selfsigned'))['generate'];

/**
 * `selfsigned`'s generate, run in a worker thread that ends with it: the generator brings some 60 modules
 * (ASN.1, X.509) that would otherwise stay in this process's heap for its whole life, though a
 * certificate is made once per data dir (a later start reuses it, and plain HTTP needs none).
 */
export function generateCertificate(...args: Parameters<Generate>): Promise<{ cert: string; private: string }> {
  const [attrs, options] = args;
  return new Promise((resolve, reject) => {
    const worker = new Worker(CERT_WORKER, {
      eval: true,
      execArgv: [],
      workerData: { module: import.meta.resolve('selfsigned'), attrs, options },
    });
    worker.once('message', (m: { ok: true; cert: string; key: string } | { ok: false; message: string }) => {
      if (m.ok) resolve({ cert: m.cert, private: m.key });
      else reject(new PanosUpgradeError('CONFIG', `could not make a certificate: ${m.message}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new PanosUpgradeError('CONFIG', `the certificate worker exited (${code}) without a certificate`)));
  });
}

const CERT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.module)
  .then((m) => m.generate(workerData.attrs, workerData.options))
  .then(
    (p) => parentPort.postMessage({ ok: true, cert: p.cert, key: p.private }),
    (e) => parentPort.postMessage({ ok: false, message: String((e && e.message) || e) }),
  );
`;

/** A certificate and its key (PEM), and the certificate's SHA-256 fingerprint for pinning. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** Colon-separated upper-case hex, as `openssl x509 -noout -fingerprint -sha256` prints it. */
  fingerprint: string;
  generated: boolean;
  /** Addresses the generated certificate names (empty for a certificate from files). */
  ipSans: string[];
}

/** More IP SANs than this make every TLS handshake carry a large certificate; beyond it, clients should pin the fingerprint. */
export const MAX_IP_SANS = 2048;

/** The SHA-256 fingerprint of the first certificate in a PEM. */
export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** Read `--tls-cert` / `--tls-key`; a problem is a configuration error that names the file. */
export function loadTlsFiles(files: { certFile: string; keyFile: string }): TlsMaterial {
  const read = (file: string, what: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new PanosUpgradeError('CONFIG', `cannot read the TLS ${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const cert = read(files.certFile, 'certificate');
  const key = read(files.keyFile, 'key');
  let fingerprint: string;
  try {
    fingerprint = fingerprintOf(cert);
    createPrivateKey(key);
  } catch (err) {
    throw new PanosUpgradeError('CONFIG', `${files.certFile} / ${files.keyFile} are not a PEM certificate and key: ${(err as Error).message}`, { cause: err });
  }
  return { cert, key, fingerprint, generated: false, ipSans: [] };
}

/**
 * A self-signed certificate for this run (EC P-256, SHA-256, one year) naming `localhost` and the given
 * addresses, so a client that checks host names can connect to the Panorama and to each firewall address.
 */
export async function generateSelfSigned(addresses: readonly string[], commonName = 'panos-upgrade simulator'): Promise<TlsMaterial> {
  const ips = [...new Set(['127.0.0.1', '::1', ...addresses])].filter((a) => isIP(a) !== 0 && a !== '0.0.0.0' && a !== '::').slice(0, MAX_IP_SANS);
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 86_400_000);
  const pems = await generateCertificate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  return { cert: pems.cert, key: pems.private, fingerprint: fingerprintOf(pems.cert), generated: true, ipSans: ips };
}
