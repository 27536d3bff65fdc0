import type { Logger } from 'pino';
import type { LmdbEventStore } from '../eventstore/index.ts';
import { PanosUpgradeError } from '../panos/errors.ts';
import { probeCertificate, type TlsFailure, type TrustAdvice } from '../panos/tls-trust.ts';

/** Facts of trust on first use, on the device's own stream (`device:<serial>`): spelt with its other facts. */
import { CERTIFICATE_CHANGED, CERTIFICATE_TRUSTED } from '../machines/device.fold.ts';
export { CERTIFICATE_CHANGED, CERTIFICATE_TRUSTED };

export interface TrustedCertificate {
  address: string;
  fingerprint: string;
  /** When it was recorded (the event's time). */
  at: string;
}

/** Trust on first use is on, but no certificate was recorded for the device: discovery never reached it over TLS. */
export class CertificateNotRecordedError extends PanosUpgradeError {
  constructor(
    readonly serial: string,
    readonly address: string,
  ) {
    super(
      'TLS_NOT_RECORDED',
      `firewall ${serial} (${address}): no certificate recorded to trust (firewall.tls.trust_on_first_use): run "panos-upgrade device discover" while it is reachable, and it records the certificate it presents`,
    );
  }
}

/** What discovery saw of the firewalls' certificates. */
export interface TrustSummary {
  recorded: number;
  unchanged: number;
  changed: Array<{ serial: string; address: string; expected: string; presented: string }>;
  unreachable: number;
}

/**
 * Trust on first use for direct firewall connections: the certificate a firewall presents at its first
 * discovery is recorded as `device.certificate.trusted`; later connections pin it. A different one seen
 * later is recorded as `device.certificate.changed` and never trusted by itself: work on that device stops
 * with an error naming both fingerprints until an operator accepts the new one (`device trust SERIAL`).
 */
export class FirewallTrust {
  private readonly trusted = new Map<string, TrustedCertificate>();

  constructor(
    private readonly store: LmdbEventStore | undefined,
    private readonly log: Logger,
    private readonly probeTimeoutMs = 5_000,
  ) {
    if (!store) return;
    for (const stream of store.streamNames('device:')) {
      for (const e of store.readStream(stream)) {
        if (e.type === CERTIFICATE_TRUSTED) {
          const d = e.data as { address: string; fingerprint: string };
          this.trusted.set(stream.slice('device:'.length), { address: d.address, fingerprint: d.fingerprint, at: e.at });
        }
      }
    }
  }

  recorded(serial: string): TrustedCertificate | undefined {
    return this.trusted.get(serial);
  }

  private async record(serial: string, type: string, data: Record<string, unknown>): Promise<string> {
    const at = new Date().toISOString();
    if (!this.store) return at;
    const [e] = await this.store.append(`device:${serial}`, [{ type, data }]);
    return e?.at ?? at;
  }

  /** Read each firewall's certificate (a handshake, nothing sent) and record the first one seen, or a change. */
  async observe(devices: ReadonlyArray<{ serial: string; mgmtIp: string }>, port: number): Promise<TrustSummary> {
    const summary: TrustSummary = { recorded: 0, unchanged: 0, changed: [], unreachable: 0 };
    const queue = devices.filter((d) => d.mgmtIp !== '');
    const worker = async (): Promise<void> => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        let fingerprint: string;
        try {
          fingerprint = (await probeCertificate(d.mgmtIp, port, this.probeTimeoutMs)).fingerprint;
        } catch (err) {
          summary.unreachable++;
          this.log.debug({ serial: d.serial, address: d.mgmtIp, code: (err as NodeJS.ErrnoException).code }, 'could not read the firewall certificate');
          continue;
        }
        const known = this.trusted.get(d.serial);
        if (!known) {
          const at = await this.record(d.serial, CERTIFICATE_TRUSTED, { address: d.mgmtIp, fingerprint, firstUse: true });
          this.trusted.set(d.serial, { address: d.mgmtIp, fingerprint, at });
          summary.recorded++;
        } else if (known.fingerprint === fingerprint) {
          summary.unchanged++;
        } else {
          await this.record(d.serial, CERTIFICATE_CHANGED, { address: d.mgmtIp, expected: known.fingerprint, presented: fingerprint });
          summary.changed.push({ serial: d.serial, address: d.mgmtIp, expected: known.fingerprint, presented: fingerprint });
          this.log.warn(
            { serial: d.serial, address: d.mgmtIp, expected: known.fingerprint, presented: fingerprint },
            `firewall ${d.serial} presents another certificate than the one trusted on ${known.at}; work on it stops until: panos-upgrade device trust ${d.serial}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, queue.length) }, worker));
    return summary;
  }

  /** An operator accepts the certificate a firewall presents now (after a planned replacement). */
  async accept(serial: string, address: string, port: number): Promise<TrustedCertificate & { previous?: string }> {
    const { fingerprint } = await probeCertificate(address, port, this.probeTimeoutMs);
    const previous = this.trusted.get(serial)?.fingerprint;
    const at = await this.record(serial, CERTIFICATE_TRUSTED, { address, fingerprint, ...(previous ? { replaces: previous } : { firstUse: true }) });
    const entry = { address, fingerprint, at };
    this.trusted.set(serial, entry);
    return previous ? { ...entry, previous } : entry;
  }
}

const RESTART = 'then restart the daemon';
const FW_KEYS =
  'give the CA that signed the firewalls’ certificates: panos-upgrade config set firewall.tls.ca_file CA.pem; or trust each firewall’s certificate as discovery first sees it: panos-upgrade config set firewall.tls.trust_on_first_use true (labs: firewall.tls.insecure true); or download through Panorama: panos-upgrade config set downloads.direct false';

/**
 * What to do when a firewall's certificate is not trusted on a direct connection. Panorama's `tls.*`
 * never applies to firewalls (each has its own certificate), so the advice names `firewall.tls.*`.
 */
export function firewallTrustAdvice(serial: string, tofu?: TrustedCertificate): TrustAdvice {
  return (f: TlsFailure) => {
    switch (f.problem) {
      case 'pin-mismatch':
        return tofu
          ? `Firewall ${serial}'s certificate changed since it was trusted on ${tofu.at} (trust on first use). If it was replaced on purpose, accept the new one: panos-upgrade device trust ${serial}. Otherwise something else answers at ${f.host}: do not go on`
          : `If it was replaced on purpose, trust it again; otherwise something else answers at ${f.host}`;
      case 'hostname-mismatch':
        return `The daemon connects to firewall ${serial} by its management address, which the certificate must name; or trust it as first seen: panos-upgrade config set firewall.tls.trust_on_first_use true, ${RESTART}`;
      case 'not-yet-valid':
        return `Check the clocks of this machine and of firewall ${serial} (NTP)`;
      case 'expired':
        return `Renew firewall ${serial}'s certificate; or trust it as first seen (no date check): panos-upgrade config set firewall.tls.trust_on_first_use true, ${RESTART}`;
      default:
        return `Firewall ${serial} is reached directly (downloads.direct or install.via direct), and Panorama's tls.* settings do not apply to firewalls: ${FW_KEYS}; ${RESTART}`;
    }
  };
}
