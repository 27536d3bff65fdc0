import test from 'ava';
import { DEFAULT_CONFIG, setConfigValue } from '../../actors/config.ts';
import { daemonNatsAuth } from '../../cli/daemon-run.ts';

test('daemon NATS credentials: config.json names files; the NATS_* variables win key by key; nothing set gives nothing', (t) => {
  t.deepEqual(daemonNatsAuth(DEFAULT_CONFIG, {}), {});
  let config = setConfigValue(DEFAULT_CONFIG, 'nats.nkey_file', '/etc/panos-upgrade/daemon.nk');
  config = setConfigValue(config, 'nats.tls.ca_file', '/etc/panos-upgrade/nats-ca.pem');
  config = setConfigValue(config, 'nats.user', 'daemon');
  config = setConfigValue(config, 'nats.password_file', '/etc/panos-upgrade/nats-password');
  t.deepEqual(daemonNatsAuth(config, {}), {
    nkeyFile: '/etc/panos-upgrade/daemon.nk',
    user: 'daemon',
    passwordFile: '/etc/panos-upgrade/nats-password',
    tls: { caFile: '/etc/panos-upgrade/nats-ca.pem' },
  });
  t.deepEqual(daemonNatsAuth(config, { NATS_NKEY: '/run/secrets/daemon.nk', NATS_CERT: '/run/secrets/client.pem' }), {
    nkeyFile: '/run/secrets/daemon.nk',
    user: 'daemon',
    passwordFile: '/etc/panos-upgrade/nats-password',
    tls: { caFile: '/etc/panos-upgrade/nats-ca.pem', certFile: '/run/secrets/client.pem' },
  });
});
