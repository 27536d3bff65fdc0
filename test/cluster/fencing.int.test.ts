import test, { type ExecutionContext } from 'ava';
import { Kvm } from '@nats-io/kv';
import { INTENT_FACTS } from '../../actors/fence.ts';
import { LeaseFence, LeaseManager, leaseBucketName } from '../../cluster/index.ts';
import { startTestNats, uniquePrefix, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { JobEvents, LONG, MUTATING_KINDS, discover, jobEnded, servedCalls, submit } from '../actors/orchestrator-fixture.ts';

const nats = startTestNats(test);
const SEED_DEVICE = '001234567890';

async function leases(t: ExecutionContext, bucket: string, holder: string): Promise<LeaseManager> {
  const m = await LeaseManager.open({ nc: await nats.connect(t, holder), bucket, holder, ttlMs: 10_000 });
  m.onLost((key, epoch, reason) => t.log(`${holder} lost ${key} (epoch ${epoch}): ${reason}`));
  t.teardown(() => m.close());
  return m;
}

test('fencing: when the daemon holds its lease then the upgrade completes as on a single server and every intent carries the lease epoch', async (t) => {
  const prefix = uniquePrefix();
  const mine = await leases(t, leaseBucketName(prefix), 'a');
  const lease = (await mine.acquire('fleet'))!;
  const stack = await startStack(t, nats, { prefix, timeScale: 0.02, fence: new LeaseFence(mine, () => 'fleet') });
  const events = new JobEvents(t, stack);
  await discover(stack);
  const job = await submit(stack, { device: SEED_DEVICE });
  const done = await jobEnded(stack, job.job_id, 3 * LONG);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  await events.ended(job.job_id);
  const intents = events.of(job.job_id).filter((e) => INTENT_FACTS.has(e.type));
  // Three hops (download, install, restart each) and the content update (download, install).
  t.is(intents.length, 3 * 3 + 2);
  for (const e of intents) t.is((e.data as { epoch?: number }).epoch, lease.epoch, `${e.type} carries the epoch`);
  t.is(servedCalls(stack).filter((c) => MUTATING_KINDS.has(c.kind)).length, intents.length);
});

test('fencing: when another daemon takes the lease mid-upgrade then this one sends nothing more to the device, though it goes on running', async (t) => {
  const prefix = uniquePrefix();
  const bucket = leaseBucketName(prefix);
  const mine = await leases(t, bucket, 'old');
  const other = await leases(t, bucket, 'new');
  const lease = (await mine.acquire('fleet'))!;
  const lost: string[] = [];
  mine.onLost((_k, _e, reason) => lost.push(reason));
  const stack = await startStack(t, nats, { prefix, timeScale: 0.02, fence: new LeaseFence(mine, () => 'fleet') });
  const events = new JobEvents(t, stack);
  await discover(stack);
  const job = await submit(stack, { device: SEED_DEVICE });
  // Right after the first install is acknowledged: no mutating call is on its way now.
  await events.next(job.job_id, 'job.install.enqueued', 3 * LONG);
  // The gateway records the calls it served in batches: the install is in its log a moment after its answer.
  await waitFor(() => servedCalls(stack).some((c) => c.kind === 'request.system.software.install'), LONG);
  const before = servedCalls(stack).filter((c) => MUTATING_KINDS.has(c.kind)).length;
  // The lease is taken away (as after a partition: deleted, then created by the other daemon).
  await (await new Kvm(await nats.connect(t)).open(bucket)).delete('fleet');
  const taken = (await other.acquire('fleet'))!;
  t.true(taken.epoch > lease.epoch);
  // The old daemon is left running (nobody stops it here): its next mutating call is the restart of hop 1.
  const refused = await events.next(job.job_id, 'job.reboot.requested', 3 * LONG);
  t.is((refused.data as { epoch?: number }).epoch, lease.epoch, 'the intent was recorded under the old epoch');
  // Long enough for a restart to be served and a reboot to begin, had it been sent.
  await new Promise((r) => setTimeout(r, 2_000));
  const after = servedCalls(stack).filter((c) => MUTATING_KINDS.has(c.kind));
  t.is(after.length, before, `sent after the lease was taken: ${after.slice(before).map((c) => c.kind).join(', ')}`);
  t.false(stack.simStore.readStream(`sim:${SEED_DEVICE}`).some((e) => e.type === 'sim.reboot.down'));
  t.deepEqual(lost, ['taken']);
  // The job is not failed by the refusal: it is left for the lease's new holder, as it was.
  const status = (await waitFor(() => stack.daemon!.jobState(job.job_id)))!;
  t.not(status.status, 'failed');
  t.false(events.of(job.job_id).some((e) => e.type === 'job.step.failed' || e.type === 'job.retry.scheduled'));
});
