import test, { type ExecutionContext } from 'ava';
import type { ReadinessPolicy } from '../../checks/index.ts';
import type { CampaignRecord } from '../../machines/campaign.record.ts';
import type { PairStatusRecord } from '../../machines/ha-pair.fold.ts';
import { verifyRun } from '../../forensics/replay.ts';
import { startTestNats, waitFor } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { LONG, MUTATING_KINDS, command, discover, jobEnded, servedCalls } from './orchestrator-fixture.ts';

const nats = startTestNats(test);

/** ha-pair.yaml: fw-dc1-01 active, fw-dc1-02 passive, both healthy on 10.0.2. */
const ACTIVE = '001234567890';
const PASSIVE = '001234567891';
const PEERS = [ACTIVE, PASSIVE];

/** A gateway neither healthy peer has an ARP entry for, required by the policy given for the pair. */
const POLICY = { name: 'needs-gateway', checks: { arp_entries: { severity: 'block', entries: [{ ip: '203.0.113.250' }] } } };

/** The pair's recorded policy, from its `job.ha.submitted` fact. */
function recordedPolicy(stack: Stack, jobId: string): ReadinessPolicy | undefined {
  const first = stack.daemonStore!.readStream(`job:${jobId}`)[0];
  return (first?.data as { readiness?: ReadinessPolicy } | undefined)?.readiness;
}

/** The pair stopped at its check step: readiness failed on both peers, no child job, nothing sent that changes a peer. */
function assertStoppedAtCheck(t: ExecutionContext, stack: Stack, done: { upgrade_status: string; upgrade_message: string }, pair: PairStatusRecord, servedBefore: number): void {
  t.is(done.upgrade_status, 'failed');
  t.is(pair.error?.step, 'check');
  for (const serial of PEERS) t.regex(done.upgrade_message, new RegExp(`readiness check failed on \\S+ \\(${serial}\\): arp_entries: ARP entr\\(ies\\) not found: 203\\.0\\.113\\.250`));
  t.deepEqual(pair.peers, [], 'no child job was created');
  const served = servedCalls(stack).slice(servedBefore).filter((c) => c.serial !== null && PEERS.includes(c.serial));
  t.true(served.length > 0, 'both peers were read');
  t.deepEqual(served.filter((c) => MUTATING_KINDS.has(c.kind)), []);
  for (const serial of PEERS) t.is(stack.sim.device(serial)?.context.record.swVersion, '10.0.2');
  t.is(recordedPolicy(stack, pair.job_id)?.name, 'needs-gateway');
  t.deepEqual(recordedPolicy(stack, pair.job_id)?.checks.arp_entries?.params.entries, [{ ip: '203.0.113.250' }]);
}

test('readiness policy of an HA pair: job.submit with a policy for a pair member stops the pair at its check step on a blocking failure, touching neither peer; replay verify passes', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  await discover(stack);
  const servedBefore = servedCalls(stack).length;
  const { job } = await command<{ job: PairStatusRecord }>(stack, 'job.submit', { device: PASSIVE, policy: POLICY });
  t.is(job.kind, 'ha-upgrade');
  const done = await jobEnded(stack, job.job_id);
  const pair = (await command<{ job: PairStatusRecord }>(stack, 'job.get', { jobId: job.job_id })).job;
  assertStoppedAtCheck(t, stack, done, pair, servedBefore);
  const verdict = verifyRun(stack.daemonStore!, 'daemon');
  t.true(verdict.ok, JSON.stringify(verdict).slice(0, 2000));
});

test('readiness policy of an HA pair: upgrade.queue with a policy gives it to the pair job, which stops at its check step', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  await discover(stack);
  const servedBefore = servedCalls(stack).length;
  const summary = await command<{ queuedDevices: Array<{ device: string; jobId: string | null }> }>(stack, 'upgrade.queue', { devices: [ACTIVE], policy: POLICY });
  const jobId = summary.queuedDevices.find((d) => d.device === ACTIVE)?.jobId;
  t.truthy(jobId, JSON.stringify(summary));
  t.is(summary.queuedDevices.find((d) => d.device === PASSIVE)?.jobId, jobId, 'one pair job for both peers');
  const done = await jobEnded(stack, jobId!);
  const pair = (await command<{ job: PairStatusRecord }>(stack, 'job.get', { jobId })).job;
  assertStoppedAtCheck(t, stack, done, pair, servedBefore);
});

test('readiness policy of an HA pair: a campaign unit that is a pair runs the campaign policy at the pair check step', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  await discover(stack);
  const servedBefore = servedCalls(stack).length;
  const plan = { target: '10.1.0', select: { serials: PEERS }, waves: 'rest', concurrency: 1, policy: POLICY };
  const { campaign: created } = await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', plan);
  const end = await waitFor(
    async () => {
      const c = (await command<{ campaign: CampaignRecord }>(stack, 'campaign.get', { campaignId: created.campaign_id, units: true })).campaign;
      return ['completed', 'halted', 'aborted'].includes(c.status) ? c : undefined;
    },
    LONG,
    50,
  );
  const unit = end.waves[0]!.members![0]!;
  t.regex(unit.message, /readiness check failed on .*arp_entries/, JSON.stringify(end).slice(0, 2000));
  const jobId = unit.job_id;
  t.truthy(jobId);
  const done = await jobEnded(stack, jobId!);
  const pair = (await command<{ job: PairStatusRecord }>(stack, 'job.get', { jobId })).job;
  assertStoppedAtCheck(t, stack, done, pair, servedBefore);
});

test('readiness policy of an HA pair: both peers child jobs record the policy given for the pair', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  await discover(stack);
  // A policy the healthy peers meet, told apart from the default by its name and a stricter limit.
  const policy = { name: 'strict-cpu', checks: { dataplane_cpu: { max_pct: 79 } } };
  const { job } = await command<{ job: PairStatusRecord }>(stack, 'job.submit', { device: PASSIVE, downloadOnly: true, policy });
  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'download_complete', done.upgrade_message);
  const pair = (await command<{ job: PairStatusRecord }>(stack, 'job.get', { jobId: job.job_id })).job;
  t.is(pair.peers.length, 2);
  for (const child of pair.peers) {
    const submitted = stack.daemonStore!.readStream(`job:${child.job_id}`)[0]?.data as { parentId?: string; policy: { readiness?: ReadinessPolicy } };
    t.is(submitted.parentId, job.job_id);
    t.is(submitted.policy.readiness?.name, 'strict-cpu', child.serial);
    t.is(submitted.policy.readiness?.checks.dataplane_cpu?.params.max_pct, 79);
  }
});
