import test from 'ava';
import { DEFAULT_CONFIG, parseConfig, setConfigValue } from '../../actors/config.ts';
import { ValidationError } from '../../panos/errors.ts';

test('config: firewall trust is off by default and separate from Panorama’s tls.*', (t) => {
  t.deepEqual(DEFAULT_CONFIG.firewall.tls, { caFile: '', trustOnFirstUse: false, insecure: false });
  const pinned = setConfigValue(DEFAULT_CONFIG, 'tls.fingerprint', 'AB:'.repeat(31) + 'AB');
  t.deepEqual(pinned.firewall.tls, DEFAULT_CONFIG.firewall.tls, 'a Panorama pin says nothing about firewalls');
});

test('config: firewalls are trusted one way: a second of ca_file, trust_on_first_use, insecure is refused saying which to turn off', (t) => {
  const tofu = setConfigValue(DEFAULT_CONFIG, 'firewall.tls.trust_on_first_use', 'true');
  t.true(tofu.firewall.tls.trustOnFirstUse);
  const err = t.throws(() => setConfigValue(tofu, 'firewall.tls.insecure', 'true'), { instanceOf: ValidationError });
  t.regex(err?.message ?? '', /^firewall\.tls\.insecure cannot be set while firewall\.tls\.trust_on_first_use is/);
  t.regex(err?.message ?? '', /panos-upgrade config set firewall\.tls\.trust_on_first_use false/);
  const ca = setConfigValue(DEFAULT_CONFIG, 'firewall.tls.ca_file', '/etc/fw-ca.pem');
  const both = t.throws(() => setConfigValue(ca, 'firewall.tls.trust_on_first_use', 'yes'), { instanceOf: ValidationError });
  t.regex(both?.message ?? '', /panos-upgrade config set firewall\.tls\.ca_file ""/);
});

test('config: a firewall.tls option with protocol http is refused in config.json, naming the file', (t) => {
  const err = t.throws(() => parseConfig({ protocol: 'http', firewall: { tls: { insecure: true } } }, 'config.json'));
  t.regex(err?.message ?? '', /^config\.json: protocol must be https while a firewall\.tls\.\* option is set/);
});
