import test from 'ava';
import { RemoteError, RequestTimeoutError } from '../../bus/errors.ts';
import { describeError, errorJson, exitCodeFor } from '../../cli/errors.ts';
import { NoDaemonError } from '../../cli/client.ts';

const remote = (code: string, message: string, details: Record<string, unknown> = {}): RemoteError => new RemoteError(code, message, details);

test('cli errors: Panorama unreachable says what the reason word means and where its address is set; a refused key says how to set it again', (t) => {
  const dns = describeError(remote('DEVICE_UNREACHABLE', 'pano.example.invalid is unreachable: dns', { target: 'pano.example.invalid', reason: 'dns' }));
  t.regex(dns, /^error: pano\.example\.invalid is unreachable: dns$/m);
  t.regex(dns, /its name does not resolve \(DNS\)/);
  t.regex(dns, /panos-upgrade config get panorama\.host/);
  t.regex(dns, /panos-upgrade config set panorama\.host HOST\[:PORT\], then restart the daemon/);
  const refused = describeError(remote('DEVICE_UNREACHABLE', '127.0.0.1:9 is unreachable: refused', { target: '127.0.0.1:9', reason: 'refused' }));
  t.regex(refused, /nothing accepts connections at that address and port/);
  const auth = describeError(remote('PANOS_AUTH', 'Invalid Credential'));
  t.regex(auth, /^error: Invalid Credential$/m);
  t.regex(auth, /Panorama refused the API key \(or the user name and password\): set it again with panos-upgrade config set panorama\.api_key - \(paste it, then Ctrl-D\), or, when the daemon logs in with panorama\.username, the password with panos-upgrade config set panorama\.password -; then restart the daemon/);
  t.is(exitCodeFor(remote('PANOS_AUTH', 'Invalid Credential')), 1);
});

test('cli errors: no upgrade path suggests --target only when none was given', (t) => {
  const none = describeError(remote('NO_PATH', 'no upgrade path for 001234567890: no upgrade path configured for 10.0.2 and no target version given', { device: '001234567890', targetGiven: false }));
  t.regex(none, /give a target with --target VERSION/);
  const given = describeError(remote('NO_PATH', 'no upgrade path for 001234567890: the device already runs 10.2.5, which is not older than 10.1.3', { device: '001234567890', targetGiven: true }));
  t.false(given.includes('--target'), given);
  t.regex(given, /choose a target the device is offered and newer than what it runs/);
});

test('cli errors: a command the daemon did not answer in time names the command and where to see whether it went through', (t) => {
  const discover = describeError(new RequestTimeoutError('panos.cmd.device.discover', 180_000));
  t.regex(discover, /^error: the daemon did not answer device\.discover within 3 min\.$/m);
  t.regex(discover, /see panos-upgrade device list$/m);
  t.false(discover.includes('180000'));
  t.regex(describeError(new RequestTimeoutError('panos.cmd.job.submit', 30_000)), /within 30 s\.\n.*see panos-upgrade job list --active$/);
});

test('cli errors: under --json, no daemon answering keeps why none was found', (t) => {
  const err = new NoDaemonError('panos.cmd.job.list', 'daemon.json names pid 999999, which is not running');
  t.like(errorJson(err).error, { code: 'NO_DAEMON', why: 'daemon.json names pid 999999, which is not running', exitCode: 1 });
});
