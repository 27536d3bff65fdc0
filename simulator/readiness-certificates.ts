/**
 * Fixed self-signed certificates (public parts only, no private keys) that simulated devices list under
 * `shared/certificate` in their running config. PEMs are real X.509, so clients that load them (pan-os-upgrade-assurance
 * reads key size and signature hash with OpenSSL) can check them. `weak` (RSA-1024, SHA-1) appears only with the
 * `weakCertificate` readiness fault.
 */

export interface SimCertificate {
  name: string;
  algorithm: 'RSA' | 'EC';
  ca: boolean;
  commonName: string;
  notValidBefore: string;
  notValidAfter: string;
  expiryEpoch: number;
  subjectHash: string;
  pem: string;
}

export const SIM_CERTIFICATES: Readonly<Record<'ca' | 'ec' | 'weak', SimCertificate>> = {
  ca: {
    name: 'panos-sim-root-ca',
    algorithm: 'RSA',
    ca: true,
    commonName: 'panos-sim-root-ca',
    notValidBefore: 'Dec  4 12:40:15 2026 GMT',
    notValidAfter: 'Dec  1 12:40:15 2036 GMT',
    expiryEpoch: 2111748015,
    subjectHash: '601e455c',
    pem: `-----BEGIN CERTIFICATE-----
MIIDGTCCAgGgAwIBAgIUDR+wempMjTiTNekFJBURKqkGB/EwDQYJKoZIhvcNAQEL
BQAwHDEaMBgGA1UEAwwRcGFub3Mtc2ltLXJvb3QtY2EwHhcNMjYxMjA0MTI0MDE1
WhcNMzYxMjAxMTI0MDE1WjAcMRowGAYDVQQDDBFwYW5vcy1zaW0tcm9vdC1jYTCC
ASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAJyEUR7qlnynmsR3o3Xbz8cf
W5EGev4JQ+hczVPOcG4RxvEPF5mIJibLwL1Fx3kbWpfQ9P8LuQcBomimOv47pMS+
+dH4Y+5J02cXtzSRkgfNW++H3dH6zZINwB9ZdUYnayEhNGVmRMjlGBI/xtj28IM6
ovpORjKtOZKUXkAyfuCzhAzfD+rH6L+tQCDz/6VJZZMJs8gfypDzsz4V8jdTG8aS
+N1X7vIMoez9Rct8SN7RgEjMOSrH0HzLaSO4KmqZ+y5l+Npx1Ks9eg+w340BXSL9
Et93RplVa/9ju++gCVn4q24DLmwBJGVa1tm94pq4B7lDH803Grut/2lfq3srr6MC
AwEAAaNTMFEwHQYDVR0OBBYEFLGAEOYj4fsnCrfwsyeAvllpPe9PMB8GA1UdIwQY
MBaAFLGAEOYj4fsnCrfwsyeAvllpPe9PMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZI
hvcNAQELBQADggEBAAaGUe08vn2E4OTMP2o854zhKGjGpbUFB/LktMMpwThaLrD3
h1mvjKoadQDF1+LcJS69MRL1oAJ+shEg0hJfr2jYARqlHwl5253w0CU3EkMswtMa
vnru3XYL1hOc1UUy/UbE7lWK41ZuBOYkarOE96y3lGueoj4+tS2xYezR7ifr8yQh
nLgTUy0fzxuVw3aydOqCji8PkGV3kCcm9XBC5It1GcWg6EFr/JFjP2jm3+wddPVx
NuzNwr4jG1LZfp+ZC6eho6OuKQEUhnSg8yr/GaDCSYGCO1pdQg43EB1a5G7s7doA
mACLpJdWN1LO7ggqcLIjdbeE92tSG0EyFcyneTE=
-----END CERTIFICATE-----`,
  },
  ec: {
    name: 'gp-portal',
    algorithm: 'EC',
    ca: false,
    commonName: 'gp-portal',
    notValidBefore: 'Dec  4 12:40:15 2026 GMT',
    notValidAfter: 'Dec  1 12:40:15 2036 GMT',
    expiryEpoch: 2111748015,
    subjectHash: '94084708',
    pem: `-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIUGVMI3YknvNCmF4/h6CC+sJG/QucwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJZ3AtcG9ydGFsMB4XDTI2MTIwNDEyNDAxNVoXDTM2MTIwMTEy
NDAxNVowFDESMBAGA1UEAwwJZ3AtcG9ydGFsMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEkqg0kdGARL1xNEZff20RjeA/qIsMhGwnvKwz9ri087wyDjOBxu8ugqLu
yVkkE61iL0445v9akHUARm+Ljzb0BKNTMFEwHQYDVR0OBBYEFF5IIrjm3ZZYwXLH
kTPY+9c87Px5MB8GA1UdIwQYMBaAFF5IIrjm3ZZYwXLHkTPY+9c87Px5MA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhALvxrI1+3YmzBrV9+sP+cyj+
ts1NJJAuGWuPLFgD2ojsAiBQdupip4LhBYtNRaclR5tdWzFg3AeFq1lnAY9uOdeY
wg==
-----END CERTIFICATE-----`,
  },
  weak: {
    name: 'legacy-ssl-decrypt',
    algorithm: 'RSA',
    ca: false,
    commonName: 'legacy-ssl-decrypt',
    notValidBefore: 'Dec  4 12:40:15 2026 GMT',
    notValidAfter: 'Dec  1 12:40:15 2036 GMT',
    expiryEpoch: 2111748015,
    subjectHash: '67e2d725',
    pem: `-----BEGIN CERTIFICATE-----
MIICFjCCAX+gAwIBAgIUeNwmVh3migymIdHVE/FfRHwoN7YwDQYJKoZIhvcNAQEF
BQAwHTEbMBkGA1UEAwwSbGVnYWN5LXNzbC1kZWNyeXB0MB4XDTI2MTIwNDEyNDAx
NVoXDTM2MTIwMTEyNDAxNVowHTEbMBkGA1UEAwwSbGVnYWN5LXNzbC1kZWNyeXB0
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDQeNtcGcPuv2wIEE7soXlmi/G3
clcU4Titgh4vkquQXsc/nAT1/SlSunNk8dVVRvki8u7vp/4p/it9ZNQ/hsKpvXmf
on/mva+qYeExKERNlzlfdZToblwt+55ztGm/YVId3CzTIpPzjaAFzjX8d6Edy+GR
suW/7IvzNowRTX+KaQIDAQABo1MwUTAdBgNVHQ4EFgQUOjEJUvT7/EYFrjtR87Df
DGuikhkwHwYDVR0jBBgwFoAUOjEJUvT7/EYFrjtR87DfDGuikhkwDwYDVR0TAQH/
BAUwAwEB/zANBgkqhkiG9w0BAQUFAAOBgQDKx3Uw8Y/KG6Qeh8Dyy7zXixsUoGYG
bG9uNVkpCeT4DtDFB9izfrRlvODkNpz1cANMswUrcySMMTuf8sroG6F9BITWTwZ0
Ppy5aCUFxE36gUuuTzAuTVU3fg9HxZasKkGUhE25OEQQAhnBZc7JTlFXI8h3IZvx
B4+AM2pC0b0z9Q==
-----END CERTIFICATE-----`,
  },
};
