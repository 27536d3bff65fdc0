import type { TlsFailure, TrustAdvice } from '../panos/tls-trust.ts';

const RESTART = 'then restart the daemon';

/**
 * What to do when Panorama's certificate is not trusted, with the exact `config set tls.…` to run.
 * The pin is offered for every cause because it is what the simulator prints and what a lab needs;
 * a CA file is the production answer where there is one.
 */
export const panoramaTrustAdvice: TrustAdvice = (f: TlsFailure) => {
  const fp = f.presented ?? '<SHA-256 fingerprint>';
  const pin = `panos-upgrade config set tls.fingerprint ${fp}`;
  switch (f.problem) {
    case 'self-signed':
      return `If that certificate (SHA-256 ${fp}) is the one Panorama shows, pin it: ${pin}; or give the CA that signed it: panos-upgrade config set tls.ca_file CA.pem; ${RESTART}`;
    case 'unknown-issuer':
      return `Give the CA that signed it: panos-upgrade config set tls.ca_file CA.pem (the PEM of ${f.issuer ? `"${f.issuer}"` : 'the issuer'}), or pin this certificate: ${pin}; ${RESTART}`;
    case 'pin-mismatch':
      return `If Panorama's certificate was replaced on purpose (the simulator makes a new one only with --new-cert), pin the new one: ${pin}; ${RESTART}. Otherwise something else answers at ${f.host}: do not go on`;
    case 'hostname-mismatch':
      return `Set panorama.host to a name the certificate carries (panos-upgrade config set panorama.host NAME:PORT), or pin it (a pin does not depend on the name): ${pin}; ${RESTART}`;
    case 'expired':
      return `Renew Panorama's certificate; until then, pin it (a pin does not check dates): ${pin}; ${RESTART}`;
    case 'not-yet-valid':
      return `Check the clocks of this machine and of Panorama (NTP); or pin it: ${pin}; ${RESTART}`;
    case 'rejected':
      return `Give the CA that signed it (panos-upgrade config set tls.ca_file CA.pem) or pin it: ${pin}; ${RESTART}`;
  }
};
