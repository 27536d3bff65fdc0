import test from 'ava';
import type { DeviceApi } from '../../actors/device-api.ts';
import { FencedOffError, fencedDeviceApi, INTENT_FACTS, MUTATING_CALLS, withEpoch, type Fence } from '../../actors/fence.ts';
import { JOB_FACT_TYPES } from '../../machines/upgrade-job.events.ts';
import { PAIR_FACT_TYPES } from '../../machines/ha-pair.fold.ts';

const API_CALLS = [
  'systemInfo', 'chassisReady', 'haState', 'haSuspend', 'haFunctional', 'jobsAll', 'softwareInfo', 'contentInfo', 'diskSpace', 'sessionInfo',
  'routes', 'arp', 'download', 'install', 'restart', 'contentDownloadLatest', 'contentInstall', 'waitForJob', 'waitForReboot', 'readOp', 'configGet', 'panoramaInfo',
] as const satisfies ReadonlyArray<keyof DeviceApi>;

/** A device API that records which of its calls ran (the pure wrapper is under test, not a device). */
function recordingApi(calls: string[]): DeviceApi {
  const api = Object.fromEntries(
    API_CALLS.map((name) => [
      name,
      async () => {
        calls.push(name);
        return name === 'restart' ? { acknowledged: true } : 1;
      },
    ]),
  );
  return api as unknown as DeviceApi;
}

function fence(state: { epoch: number | null; bucketSays: boolean }, confirmed: Array<[string, number]>): Fence {
  return {
    epoch: (serial) => {
      if (state.epoch === null) throw new Error(`no lease for ${serial}`);
      return state.epoch;
    },
    confirm: async (serial, epoch) => {
      confirmed.push([serial, epoch]);
      if (!state.bucketSays) throw new Error('refused by the bucket');
    },
  };
}

test('fence: when the lease is held then each mutating call is confirmed under its epoch before it is sent, and reads are not checked', async (t) => {
  const calls: string[] = [];
  const confirmed: Array<[string, number]> = [];
  const api = fencedDeviceApi(recordingApi(calls), 'S1', fence({ epoch: 7, bucketSays: true }, confirmed));
  await api.download('11.1.0', { syncToPeer: false });
  await api.install('11.1.0');
  await api.restart();
  await api.contentDownloadLatest();
  await api.contentInstall('latest');
  await api.haSuspend();
  await api.haFunctional();
  await api.systemInfo();
  await api.jobsAll();
  t.deepEqual(calls, [...MUTATING_CALLS, 'systemInfo', 'jobsAll']);
  t.deepEqual(confirmed, MUTATING_CALLS.map(() => ['S1', 7]));
});

test('fence: when the bucket refuses the lease (taken by another daemon) then no mutating call is sent and a FencedOffError says why', async (t) => {
  const calls: string[] = [];
  const api = fencedDeviceApi(recordingApi(calls), 'S1', fence({ epoch: 7, bucketSays: false }, []));
  for (const call of [() => api.install('11.1.0'), () => api.restart(), () => api.haSuspend(), () => api.download('1', { syncToPeer: true })]) {
    const err = await t.throwsAsync(call(), { instanceOf: FencedOffError });
    t.regex(err!.message, /not sent: this daemon does not hold its lease \(refused by the bucket\)/);
  }
  t.deepEqual(calls, []);
  await api.haState();
  t.deepEqual(calls, ['haState']);
});

test('fence: when the lease is not held locally then a mutating call is refused without asking the bucket', async (t) => {
  const calls: string[] = [];
  const confirmed: Array<[string, number]> = [];
  const api = fencedDeviceApi(recordingApi(calls), 'S1', fence({ epoch: null, bucketSays: true }, confirmed));
  await t.throwsAsync(api.restart(), { instanceOf: FencedOffError, message: /no lease for S1/ });
  t.deepEqual(calls, []);
  t.deepEqual(confirmed, []);
});

test('fence: intent facts carry the epoch of the device\'s lease; other facts and single-server mode are left as they are', (t) => {
  const f = fence({ epoch: 42, bucketSays: true }, []);
  t.deepEqual(withEpoch({ type: 'job.install.requested', data: { version: '11.1.0', hop: 1, baselineJobId: 3 } }, 'S1', f), {
    type: 'job.install.requested',
    data: { version: '11.1.0', hop: 1, baselineJobId: 3, epoch: 42 },
  });
  t.deepEqual(withEpoch({ type: 'job.ha.peer.suspended', data: { serial: 'S1' } }, 'S1', f).data, { serial: 'S1', epoch: 42 });
  const enqueued = { type: 'job.install.enqueued', data: { version: '11.1.0', hop: 1, panosJobId: 9 } };
  t.is(withEpoch(enqueued, 'S1', f), enqueued);
  const requested = { type: 'job.reboot.requested', data: { version: '11.1.0', hop: 1, uptimeBefore: 5 } };
  t.is(withEpoch(requested, 'S1', undefined), requested);
  t.throws(() => withEpoch(requested, 'S1', fence({ epoch: null, bucketSays: true }, [])), { instanceOf: FencedOffError });
});

test('fence: every intent type is a fact a job or an HA pair records', (t) => {
  const known = new Set<string>([...JOB_FACT_TYPES, ...PAIR_FACT_TYPES]);
  for (const type of INTENT_FACTS) t.true(known.has(type), type);
});

test('fence: a mutating call from a step stopped while its lease was being confirmed is not sent, even though the lease is held now', async (t) => {
  const calls: string[] = [];
  const ac = new AbortController();
  const f = fence({ epoch: 9, bucketSays: true }, []);
  // The step is stopped during the bucket round trip (its lease was lost, then taken again by this daemon).
  const api = fencedDeviceApi(recordingApi(calls), 'S1', { epoch: f.epoch, confirm: async (s, e) => (ac.abort(), f.confirm(s, e)) });
  await t.throwsAsync(api.restart({ signal: ac.signal }), { message: /restart to S1: the step was stopped/ });
  await t.throwsAsync(api.install('11.1.0', { signal: ac.signal }), { message: /install to S1: the step was stopped/ });
  t.deepEqual(calls, []);
});
