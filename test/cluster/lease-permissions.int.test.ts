import test from 'ava';
import { connectNats } from '../../bus/connect.ts';
import { LeaseManager, leaseBucketName } from '../../cluster/index.ts';
import { startTestNats } from '../helpers/index.ts';

// The permissions docs/cluster.md lists for the lease bucket, and nothing more.
const PREFIX = 'acme';
const BUCKET = leaseBucketName(PREFIX);
const publish = [`$KV.${BUCKET}.>`, `$JS.API.STREAM.CREATE.KV_${BUCKET}`, `$JS.API.STREAM.INFO.KV_${BUCKET}`, `$JS.API.STREAM.MSG.GET.KV_${BUCKET}`, '$JS.API.INFO'];
const nats = startTestNats(test, {
  config: `authorization { users: [
  { user: "daemon", password: "daemon-pw", permissions: { publish: { allow: ${JSON.stringify(publish)} }, subscribe: { allow: ["_INBOX.>"] } } }
  { user: "other", password: "other-pw", permissions: { publish: { allow: ["$JS.API.INFO"] }, subscribe: { allow: ["_INBOX.>"] } } }
] }\n`,
});

test('lease permissions: a daemon user with only the documented lease-bucket permissions creates the bucket, acquires, renews, confirms and releases', async (t) => {
  const nc = await connectNats(nats.url, 'daemon', { user: 'daemon', password: 'daemon-pw' });
  t.teardown(() => nc.close());
  const m = await LeaseManager.open({ nc, bucket: BUCKET, holder: 'a', ttlMs: 3_000 });
  t.teardown(() => m.close());
  const lease = await m.acquire('partition-0');
  t.truthy(lease);
  await m.confirm('partition-0', lease!.epoch);
  t.is((await m.holderOf('partition-0'))?.holder, 'a');
  await m.release('partition-0');
  t.is(await m.holderOf('partition-0'), null);
});

test('lease permissions: a user without them cannot open the lease bucket', async (t) => {
  const nc = await connectNats(nats.url, 'other', { user: 'other', password: 'other-pw' });
  t.teardown(() => nc.close());
  await t.throwsAsync(LeaseManager.open({ nc, bucket: BUCKET, holder: 'b', ttlMs: 3_000, requestTimeoutMs: 1_000 }));
});
