import test, { type ExecutionContext } from 'ava';
import { LeaseLostError, LeaseManager, leaseBucketName, validateLeaseKey, type LeaseManagerOptions } from '../../cluster/index.ts';
import { Kvm } from '@nats-io/kv';
import { startTestNats, uniquePrefix, waitFor } from '../helpers/index.ts';

const nats = startTestNats(test);

/** A manager on its own connection (as a separate daemon would have), closed at teardown. */
async function manager(t: ExecutionContext, bucket: string, options: Partial<LeaseManagerOptions> = {}): Promise<LeaseManager> {
  const nc = await nats.connect(t, 'lease-test');
  const m = await LeaseManager.open({ nc, bucket, ttlMs: 3_000, ...options });
  t.teardown(() => m.close());
  return m;
}

test('lease: when one daemon holds a key then another cannot acquire it, and gets it at once after a release with a greater epoch', async (t) => {
  const bucket = leaseBucketName(uniquePrefix());
  const a = await manager(t, bucket, { holder: 'a' });
  const b = await manager(t, bucket, { holder: 'b' });
  const first = await a.acquire('fleet');
  t.truthy(first);
  t.is(await b.acquire('fleet'), null);
  t.deepEqual(a.held('fleet'), { key: 'fleet', epoch: first!.epoch });
  t.is(b.held('fleet'), null);
  const seen = await b.holderOf('fleet');
  t.is(seen?.holder, 'a');
  t.is(seen?.epoch, first!.epoch);
  await a.release('fleet');
  t.is(a.held('fleet'), null);
  const second = await b.acquire('fleet');
  t.truthy(second);
  t.true(second!.epoch > first!.epoch);
  // Keys are independent: a partition held by one, another by the other.
  t.truthy(await a.acquire('p-1'));
  t.is(await b.acquire('p-1'), null);
});

test('lease: when the holder stops renewing (killed) then its key expires after the lease time and a standby takes it', async (t) => {
  const bucket = leaseBucketName(uniquePrefix());
  const a = await manager(t, bucket, { holder: 'a' });
  const b = await manager(t, bucket, { holder: 'b' });
  const lease = await a.acquire('fleet');
  t.truthy(lease);
  // Heartbeats keep it alive well past the lease time.
  await new Promise((r) => setTimeout(r, 4_000));
  t.truthy(a.held('fleet'));
  t.is(await b.acquire('fleet'), null);
  // The holder dies: no release, no more renewals.
  const diedAt = Date.now();
  await a.close();
  const taken = await b.acquireWhenFree('fleet', { pollMs: 50 });
  const waited = Date.now() - diedAt;
  t.truthy(taken);
  t.true(taken!.epoch > lease!.epoch);
  // Not before the bucket dropped the key (a lease time after the last renewal), and not long after.
  t.log(`took over ${waited} ms after the holder died (lease 3000 ms, renewed every 1000 ms)`);
  t.true(waited >= 3_000 - 1_000 - 100, `took over after ${waited} ms`);
  t.true(waited < 3_000 + 5_000, `took over after ${waited} ms`);
});

test('lease: when a paused holder wakes after a takeover then held() says no before any timer runs, confirm refuses, and onLost fires once', async (t) => {
  const bucket = leaseBucketName(uniquePrefix());
  // The old leader's clock is ours to move: a pause is time passing without its timers running.
  let skew = 0;
  const old = await manager(t, bucket, { holder: 'old', now: () => Date.now() + skew });
  const standby = await manager(t, bucket, { holder: 'standby' });
  const lost: Array<[string, number, string]> = [];
  old.onLost((key, epoch, reason) => lost.push([key, epoch, reason]));
  const lease = (await old.acquire('fleet'))!;
  await old.confirm('fleet', lease.epoch);
  // Paused beyond the lease time: locally no longer held, whatever the bucket says.
  skew = 10_000;
  t.is(old.held('fleet'), null);
  await t.throwsAsync(old.confirm('fleet', lease.epoch), { instanceOf: LeaseLostError });
  t.deepEqual(lost, [['fleet', lease.epoch, 'expired']]);
  skew = 0;
  const taken = await standby.acquireWhenFree('fleet', { pollMs: 50 });
  t.true(taken!.epoch > lease.epoch);
  // Even a holder whose clock says the lease is still fresh is refused by the bucket.
  const fresh = await manager(t, bucket, { holder: 'fresh' });
  t.is(await fresh.acquire('fleet'), null);
  await t.throwsAsync(fresh.confirm('fleet', taken!.epoch), { instanceOf: LeaseLostError });
  t.is(lost.length, 1);
});

test('lease: when the key is deleted from the bucket and another daemon takes it then the ex-holder is refused at its next renewal and reports the loss as taken', async (t) => {
  const bucket = leaseBucketName(uniquePrefix());
  const a = await manager(t, bucket, { holder: 'a', ttlMs: 30_000 });
  const b = await manager(t, bucket, { holder: 'b', ttlMs: 30_000 });
  const lost: string[] = [];
  a.onLost((_k, _e, reason) => lost.push(reason));
  const lease = (await a.acquire('fleet'))!;
  // An operator removes the key by hand (`nats kv del`): a's clock still says its lease is fresh.
  const nc = await nats.connect(t);
  const kv = await new Kvm(nc).open(bucket);
  await kv.delete('fleet');
  const taken = await b.acquire('fleet');
  t.truthy(taken);
  t.truthy(a.held('fleet'), 'locally, a still believes it holds the lease');
  await t.throwsAsync(a.confirm('fleet', lease.epoch), { instanceOf: LeaseLostError });
  t.is(a.held('fleet'), null);
  t.deepEqual(lost, ['taken']);
  t.is((await a.holderOf('fleet'))?.holder, 'b');
});

test('lease: keys are tokens; a bucket name is made from any subject prefix', (t) => {
  t.is(validateLeaseKey('p-3'), 'p-3');
  t.is(validateLeaseKey('campaign.abc'), 'campaign.abc');
  t.throws(() => validateLeaseKey('a b'), { message: /not a valid lease key/ });
  t.throws(() => validateLeaseKey('a.*'), { message: /not a valid lease key/ });
  t.is(leaseBucketName('acme.panos'), 'acme_panos-leases');
});

test('lease: a manager refuses a heartbeat that does not fit in the lease time', async (t) => {
  const nc = await nats.connect(t);
  await t.throwsAsync(LeaseManager.open({ nc, bucket: leaseBucketName(uniquePrefix()), ttlMs: 1_000, renewEveryMs: 900 }), { message: /does not fit/ });
});

test('lease: when the holder closes with release then a standby waiting for the key gets it at once', async (t) => {
  const bucket = leaseBucketName(uniquePrefix());
  const a = await manager(t, bucket, { holder: 'a', ttlMs: 30_000 });
  const b = await manager(t, bucket, { holder: 'b', ttlMs: 30_000 });
  t.truthy(await a.acquire('fleet'));
  const waiting = b.acquireWhenFree('fleet', { pollMs: 50 });
  const start = Date.now();
  await a.close({ release: true });
  t.truthy(await waiting);
  t.true(Date.now() - start < 5_000);
  await waitFor(() => b.held('fleet'));
});
