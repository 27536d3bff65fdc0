import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { PanosUpgradeError } from '../panos/errors.ts';

/**
 * The certificate generator, loaded only when a certificate is made: it brings some 60 modules
 * (ASN.1, X.509) that a simulator reusing its kept certificates, or serving plain HTTP, never needs.
 */
export function selfsigned(): Promise<typeof import('selfsigned')> {
  return import('selfsigned');
}

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
  const pems = await (await selfsigned()).generate([{ name: 'commonName', value: commonName }], {
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
