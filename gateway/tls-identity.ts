import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { PanosUpgradeError } from '../panos/errors.ts';
import { fingerprintOf, MAX_IP_SANS, selfsigned, type TlsMaterial } from './tls-material.ts';

const DAY = 86_400_000;
/** A certificate closer than this to its end is renewed at start (same CA, so a CA-trusting client never notices). */
const RENEW_BEFORE_MS = 30 * DAY;

/**
 * The simulator's TLS identity: one simulated CA and the server certificates it issued, kept in
 * `<data-dir>/tls/` (0700; files 0600) and reused on every start, so a client that pinned a fingerprint
 * or trusts the CA keeps working across restarts (`--fresh` included). Without a directory it lives in
 * memory for one run (tests, the demo).
 */
export interface TlsIdentity {
  /** The directory holding it, or undefined for one kept in memory. */
  readonly dir: string | undefined;
  /** The CA certificate (PEM), and the file holding it (`<dir>/ca.pem`; undefined in memory). */
  readonly caCert: string;
  readonly caFile: string | undefined;
  readonly caFingerprint: string;
  /** The certificate a listener on `address` serves: each management address has its own, all issued by the CA. */
  materialFor(address: string): TlsMaterial;
  /** True when this start made a new CA (first start, or `--new-cert`). */
  readonly created: boolean;
}

/**
 * The kept certificates (`certificates.json`: `{ version: 1, certificates: { <address>: { cert, key } } }`),
 * or undefined for anything else (which makes new ones). Checked by hand rather than with a schema
 * library: `sim` reads it at every start, and zod alone is 7 MB of the simulator's memory.
 */
function keptCertificates(raw: unknown): Record<string, { cert: string; key: string }> | undefined {
  if (!isPlainObject(raw) || raw.version !== 1 || !isPlainObject(raw.certificates)) return undefined;
  const out: Record<string, { cert: string; key: string }> = {};
  for (const [address, pair] of Object.entries(raw.certificates)) {
    if (!isPlainObject(pair) || typeof pair.cert !== 'string' || typeof pair.key !== 'string') return undefined;
    out[address] = { cert: pair.cert, key: pair.key };
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const IDENTITY_DIR = 'tls';

export interface IdentityOptions {
  /** Where to keep it; undefined: in memory for this run. */
  dir?: string;
  /** Addresses clients connect to (the Panorama's first). */
  addresses: readonly string[];
  /** Make a new CA and new certificates even if some are kept (`sim --new-cert`). */
  renew?: boolean;
  now?: () => number;
}

class IdentityError extends PanosUpgradeError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG', message, options);
  }
}

function ipsOf(addresses: readonly string[]): string[] {
  return [...new Set(['127.0.0.1', '::1', ...addresses])].filter((a) => isIP(a) !== 0 && a !== '0.0.0.0' && a !== '::').slice(0, MAX_IP_SANS);
}

/** One spelling per address: OpenSSL prints `::1` as `0:0:0:0:0:0:0:1`. */
function canonicalIp(text: string): string {
  return isIP(text) === 6 ? new URL(`http://[${text}]/`).hostname : text;
}

function writeSecret(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

async function makeCa(now: number): Promise<{ cert: string; key: string }> {
  const p = await (await selfsigned()).generate([{ name: 'commonName', value: 'panos-upgrade simulator CA' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY),
    notAfterDate: new Date(now + 10 * 365 * DAY),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: p.cert, key: p.private };
}

async function issue(ca: { cert: string; key: string }, commonName: string, ips: readonly string[], now: number): Promise<{ cert: string; key: string }> {
  const p = await (await selfsigned()).generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60 * 60 * 1000),
    notAfterDate: new Date(now + 365 * DAY),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  return { cert: p.cert, key: p.private };
}

/** Whether a kept certificate still serves: issued by this CA, names every address, not near its end. */
function stillGood(pem: { cert: string; key: string }, ca: X509Certificate, ips: readonly string[], now: number): boolean {
  try {
    const x = new X509Certificate(pem.cert);
    createPrivateKey(pem.key);
    if (!x.checkIssued(ca) || !x.verify(ca.publicKey)) return false;
    if (new Date(x.validTo).getTime() - now < RENEW_BEFORE_MS) return false;
    const names = new Set((x.subjectAltName ?? '').split(',').map((s) => canonicalIp(s.trim().replace(/^IP Address:/, ''))));
    return ips.every((ip) => names.has(canonicalIp(ip)));
  } catch {
    return false;
  }
}

/**
 * Load the identity kept in `dir` (creating or completing it), or make one in memory. A kept CA is
 * never replaced unless `renew` is set; a server certificate is reissued by the same CA only when it no
 * longer names every address or nears its end.
 */
export async function loadTlsIdentity(options: IdentityOptions): Promise<TlsIdentity> {
  const now = (options.now ?? Date.now)();
  const dir = options.dir;
  const caFile = dir ? join(dir, 'ca.pem') : undefined;
  const caKeyFile = dir ? join(dir, 'ca-key.pem') : undefined;
  const certsFile = dir ? join(dir, 'certificates.json') : undefined;
  if (dir) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }

  let ca: { cert: string; key: string } | undefined;
  let certificates: Record<string, { cert: string; key: string }> = {};
  if (dir && !options.renew && existsSync(caFile!)) {
    try {
      ca = { cert: readFileSync(caFile!, 'utf8'), key: readFileSync(caKeyFile!, 'utf8') };
      createPrivateKey(ca.key);
      new X509Certificate(ca.cert);
    } catch (err) {
      throw new IdentityError(`the simulator's CA in ${dir} cannot be read (${(err as Error).message}); make a new identity with: panos-upgrade sim --new-cert`, { cause: err });
    }
    if (existsSync(certsFile!)) {
      const kept = keptCertificates((() => {
        try {
          return JSON.parse(readFileSync(certsFile!, 'utf8')) as unknown;
        } catch {
          return undefined;
        }
      })());
      if (kept) certificates = kept;
    }
  }
  const created = ca === undefined;
  ca ??= await makeCa(now);
  const caX509 = new X509Certificate(ca.cert);

  // The Panorama's certificate also names localhost and the loopback addresses; each firewall's names its own address only.
  const [panorama = '127.0.0.1', ...firewalls] = [...new Set(options.addresses)];
  const wanted = new Map<string, string[]>([[panorama, ipsOf([panorama])], ...firewalls.filter((a) => isIP(a) !== 0).map((a): [string, string[]] => [a, [a]])]);
  let changed = created;
  const missing = [...wanted].filter(([address, ips]) => {
    const kept = certificates[address];
    return !kept || !stillGood(kept, caX509, ips, now);
  });
  // Signing runs on libuv's pool: a few at a time keeps both cores busy on a first start of a large fleet.
  for (let i = 0; i < missing.length; i += 16) {
    const batch = missing.slice(i, i + 16);
    const issued = await Promise.all(batch.map(([address, ips]) => issue(ca!, address === panorama ? 'panos-upgrade simulator Panorama' : address, ips, now)));
    batch.forEach(([address], j) => (certificates[address] = issued[j]!));
    changed = true;
  }
  if (dir && changed) {
    if (created) {
      writeSecret(caKeyFile!, ca.key);
      writeSecret(caFile!, ca.cert);
    }
    writeSecret(certsFile!, JSON.stringify({ version: 1, certificates }, null, 2) + '\n');
  }
  const material = new Map<string, TlsMaterial>();
  const materialFor = (address: string): TlsMaterial => {
    const name = wanted.has(address) ? address : panorama;
    let m = material.get(name);
    if (!m) {
      const pem = certificates[name]!;
      m = { cert: pem.cert, key: pem.key, fingerprint: fingerprintOf(pem.cert), generated: true, ipSans: wanted.get(name) ?? [] };
      material.set(name, m);
    }
    return m;
  };
  return {
    dir,
    caCert: ca.cert,
    caFile,
    caFingerprint: caX509.fingerprint256,
    created,
    materialFor,
  };
}

/** Write the CA certificate to `<dir>/sim-ca.pem` (for `firewall.tls.ca_file` when the identity lives in memory); returns the file. */
export function writeCaFile(identity: Pick<TlsIdentity, 'caCert'>, dir: string): string {
  const file = join(dir, 'sim-ca.pem');
  writeSecret(file, identity.caCert);
  return file;
}
