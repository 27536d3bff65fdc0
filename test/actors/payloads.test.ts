import test from 'ava';
import { PAYLOADS, validatePayload } from '../../actors/payloads.ts';
import { ValidationError } from '../../panos/errors.ts';

type Name = keyof typeof PAYLOADS;

/** A valid payload for every subject, using every field it allows. */
const VALID: Record<Name, Record<string, unknown>> = {
  'job.submit': { device: '001234567890', downloadOnly: true, dryRun: false, targetVersion: '11.1.0', checksOnly: false, policy: { checks: { ha: {} } } },
  'job.cancel': { jobId: 'job-7f3a-01' },
  'job.get': { jobId: 'job-7f3a-01' },
  'job.list': { device: '001234567890', status: 'downloading', active: true, limit: 50 },
  'job.resume': { jobId: 'job-7f3a-01' },
  'download.queue-all': { dryRun: true },
  'download.status': {},
  'device.discover': {},
  'device.list': {},
  'device.get': { serial: '001234567890' },
  'device.check': { devices: ['001234567890'], all: false, targetVersion: '11.1.0', policy: { checks: { no_locks: { severity: 'warn' } } } },
  'device.trust': { serial: '001234567890' },
  'upgrade.queue': { devices: ['001234567890', '001234567891'], all: false, targetVersion: '10.1.9-h1', dryRun: true, policy: {} },
  'daemon.status': {},
};

function refusal(name: Name, payload: unknown): ValidationError {
  try {
    validatePayload(name, payload);
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error(`${name}: ${JSON.stringify(payload)} was accepted`);
}

test('payloads: when every subject gets a valid payload then it is returned as given', (t) => {
  t.deepEqual(Object.keys(VALID).sort(), Object.keys(PAYLOADS).sort(), 'every payload has a sample');
  for (const name of Object.keys(VALID) as Name[]) {
    t.deepEqual(validatePayload(name, VALID[name]), VALID[name], name);
  }
  t.deepEqual(validatePayload('job.submit', { device: '001234567890' }), { device: '001234567890' });
});

test('payloads: when a payload has an unknown field then it is refused naming the field', (t) => {
  for (const name of Object.keys(VALID) as Name[]) {
    const err = refusal(name, { ...VALID[name], priority: 'high' });
    t.is(err.message, `invalid ${name} payload: payload: Unrecognized key: "priority"`, name);
    t.is(err.code, 'VALIDATION');
    t.is(err.field, 'priority', name);
  }
});

test('payloads: a payload of thousands of bad entries, or one huge key, is refused in a message that stays short', (t) => {
  const many = refusal('upgrade.queue', { devices: Array.from({ length: 60_000 }, (_, i) => `bad*${i}`) });
  t.regex(many.message, /^invalid upgrade\.queue payload: devices\.0: a device serial \(letters and digits\); .*devices\.4: [^;]*; and 59995 more$/);
  t.true(many.message.length < 1200, `${many.message.length} characters`);
  const huge = refusal('daemon.status', { ['k'.repeat(900_000)]: 1 });
  t.true(huge.message.length < 400, `${huge.message.length} characters`);
  t.is(huge.field?.length, 65);
});

test('payloads: when a payload is not an object then it is refused', (t) => {
  for (const payload of [null, 'job.submit', 42, []]) {
    t.regex(refusal('download.status', payload).message, /^invalid download\.status payload: payload: /);
  }
});

test('payloads: when a serial is bad then the message says a device serial is letters and digits', (t) => {
  for (const device of ['0012-3456', '', 'x'.repeat(33), 'fw.dc1', 12345]) {
    const err = refusal('job.submit', { device });
    t.is(err.field, 'device');
    if (typeof device === 'string') t.is(err.message, 'invalid job.submit payload: device: a device serial (letters and digits)');
  }
  t.is(refusal('device.get', { serial: 'fw dc1' }).message, 'invalid device.get payload: serial: a device serial (letters and digits)');
  t.is(refusal('upgrade.queue', { devices: ['001234567890', 'bad*'] }).message, 'invalid upgrade.queue payload: devices.1: a device serial (letters and digits)');
  t.regex(refusal('upgrade.queue', { devices: [] }).message, /^invalid upgrade\.queue payload: devices: /);
  t.regex(refusal('job.submit', {}).message, /^invalid job\.submit payload: device: /);
});

test('payloads: when a version is bad then the message gives an example of a PAN-OS version', (t) => {
  for (const targetVersion of ['latest', '11.1', '11.1.0-x1', ' ']) {
    const err = refusal('job.submit', { device: '001234567890', targetVersion });
    t.is(err.message, 'invalid job.submit payload: targetVersion: a PAN-OS version such as 10.1.3 or 10.1.9-h1');
    t.is(err.field, 'targetVersion');
  }
  t.is(refusal('upgrade.queue', { all: true, targetVersion: 'v11' }).message, 'invalid upgrade.queue payload: targetVersion: a PAN-OS version such as 10.1.3 or 10.1.9-h1');
});

test('payloads: when a job id or a list limit is bad then it is refused naming the field', (t) => {
  t.is(refusal('job.cancel', { jobId: 'JOB 1' }).message, 'invalid job.cancel payload: jobId: a job id');
  t.is(refusal('job.get', {}).field, 'jobId');
  t.is(refusal('job.list', { limit: 0 }).field, 'limit');
  t.is(refusal('job.list', { limit: 2.5 }).field, 'limit');
  t.is(refusal('job.list', { limit: 10_001 }).field, 'limit');
  t.is(refusal('job.submit', { device: '001234567890', downloadOnly: 'yes' }).field, 'downloadOnly');
});

test('payloads: a job.list status that is not a job status is refused with the list, not answered with no jobs', (t) => {
  const err = refusal('job.list', { status: 'runing' });
  t.is(err.field, 'status');
  t.is(err.message, 'invalid job.list payload: status: one of pending, validating, downloading, download_complete, installing, rebooting, verifying, paused, complete, failed, cancelled');
  t.deepEqual(validatePayload('job.list', { status: 'paused' }), { status: 'paused' });
});

test('payloads: upgrade.queue and device.check take devices or all, one of the two', (t) => {
  for (const name of ['upgrade.queue', 'device.check'] as const) {
    for (const payload of [{}, { all: false }, { devices: ['001234567890'], all: true }]) {
      t.is(refusal(name, payload).message, `invalid ${name} payload: payload: give "devices" (a list of serials) or "all": true, one of the two`, JSON.stringify(payload));
    }
    t.deepEqual(validatePayload(name, { all: true }), { all: true });
    t.deepEqual(validatePayload(name, { devices: ['001234567890'], all: false }), { devices: ['001234567890'], all: false });
  }
});

test('payloads: when several fields are bad then each is named in one message', (t) => {
  const err = refusal('job.submit', { device: 'a-b', targetVersion: 'x' });
  t.is(err.message, 'invalid job.submit payload: device: a device serial (letters and digits); targetVersion: a PAN-OS version such as 10.1.3 or 10.1.9-h1');
});
