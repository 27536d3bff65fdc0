import test from 'ava';
import type { Msg } from '@nats-io/transport-node';
import { startTestNats, waitFor } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { verifyRun } from '../../forensics/replay.ts';
import type { CampaignRecord } from '../../machines/campaign.record.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { RemoteError } from '../../bus/index.ts';
import { command, control, countBy, LONG, servedCalls } from './orchestrator-fixture.ts';

const nats = startTestNats(test);

const UPGRADABLE = ['001234567890', '001234567891', '001234567892', '001234567893'];

async function campaign(stack: Stack, id: string): Promise<CampaignRecord> {
  return (await command<{ campaign: CampaignRecord }>(stack, 'campaign.get', { campaignId: id, units: true })).campaign;
}

async function until(stack: Stack, id: string, ok: (c: CampaignRecord) => boolean, what: string): Promise<CampaignRecord> {
  let last: CampaignRecord | undefined;
  try {
    return await waitFor(async () => {
      last = await campaign(stack, id);
      return ok(last) ? last : undefined;
    }, 3 * LONG, 50);
  } catch (err) {
    throw new Error(`campaign ${id}: not ${what}; last: ${last?.status} — ${last?.message} (waits for ${last?.waiting_for})`, { cause: err });
  }
}

/** Installs the simulator served, per device and version. */
function installs(stack: Stack): Map<string, number> {
  return countBy(
    servedCalls(stack).filter((c) => c.kind === 'request.system.software.install'),
    (c) => `${c.serial}@${c.version}`,
  );
}

const PLAN = { target: '11.1.0', select: { versions: ['10.*'] }, waves: 'canary:1,rest', approval: true, concurrency: 2 };

test('campaign over NATS: a canary wave, an approval gate, then the rest; events published; replay verify passes', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  await command(stack, 'device.discover');
  const events: EventEnvelope[] = [];
  const sub = stack.nc.subscribe(stack.subjects.streamEvents('campaign'), { callback: (err: Error | null, msg: Msg) => {
      if (!err) events.push(msg.json<EventEnvelope>());
    } });
  t.teardown(() => sub.unsubscribe());

  const dry = await command<{ dryRun: boolean; campaign: CampaignRecord }>(stack, 'campaign.create', { ...PLAN, dryRun: true });
  t.true(dry.dryRun);
  t.deepEqual(dry.campaign.waves.map((w) => w.members!.flatMap((m) => m.serials)), [['001234567893'], ['001234567890', '001234567891', '001234567892']]);
  t.truthy(dry.campaign.eta);
  t.deepEqual((await command<{ campaigns: CampaignRecord[] }>(stack, 'campaign.list')).campaigns, [], 'a dry run records nothing');

  const { campaign: created } = await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', PLAN);
  const id = created.campaign_id;
  const gate = await until(stack, id, (c) => c.waves[0]!.status === 'awaiting-approval', 'at the approval gate');
  t.is(gate.waves[0]!.complete, 1);
  t.is(gate.waves[1]!.running + gate.waves[1]!.complete, 0, 'nothing of wave 2 started before the approval');
  t.regex(gate.waiting_for, new RegExp(`campaign approve ${id}`));
  await command(stack, 'campaign.approve', { campaignId: id, by: 'test' });
  const done = await until(stack, id, (c) => c.status === 'completed', 'completed');
  t.like(done.totals, { units: 4, complete: 4, failed: 0 });
  for (const s of UPGRADABLE) t.is(stack.sim.device(s)?.context.record.swVersion, '11.1.0');

  // Approving a campaign that ended is refused with the reason.
  const refused = await t.throwsAsync(command(stack, 'campaign.approve', { campaignId: id }), { instanceOf: RemoteError });
  t.regex(refused!.message, /already ended \(completed\)/);
  // A state the command does not fit, not a malformed request: CAMPAIGN_STATE (the CLI exits 1, as for a job's JOB_STATE).
  t.like(refused, { code: 'CAMPAIGN_STATE', details: { campaignId: id, status: 'completed' } });
  await waitFor(() => events.some((e) => e.type === 'campaign.completed'), LONG);
  t.true(events.some((e) => e.type === 'campaign.wave.started' && e.stream === `campaign:${id}`));

  const report = verifyRun(stack.daemonStore!, 'daemon');
  const verdict = report.streams.find((v) => v.stream === `campaign:${id}`);
  t.like(verdict, { kind: 'campaign', ok: true });
  t.true(report.ok, JSON.stringify(report.streams.filter((v) => !v.ok)));
});

test('campaign: the daemon stopped during the canary and again at the gate resumes it with no job made twice and no wave started twice', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  await command(stack, 'device.discover');
  const { campaign: created } = await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', PLAN);
  const id = created.campaign_id;
  await until(stack, id, (c) => c.waves[0]!.running === 1, 'running its canary');
  await stack.stopDaemon();
  await stack.startDaemon();
  await until(stack, id, (c) => c.waves[0]!.status === 'awaiting-approval', 'at the gate after a restart');
  await stack.stopDaemon();
  await stack.startDaemon();
  const gate = await campaign(stack, id);
  t.is(gate.waves[0]!.status, 'awaiting-approval', 'still waiting for the approval after a restart');
  await command(stack, 'campaign.approve', { campaignId: id });
  await until(stack, id, (c) => c.status === 'completed', 'completed');
  const store = stack.daemonStore!;
  const facts = store.readStream(`campaign:${id}`);
  t.is(facts.filter((e) => e.type === 'campaign.wave.started').length, 2);
  t.is(facts.filter((e) => e.type === 'campaign.unit.started').length, 4);
  t.is([...store.streamNames(`job:${id}`)].length, 4, 'one job per unit');
  const counted = installs(stack);
  t.is(counted.size, 4 * 3 - 1, 'each of the 3 hops of 10.0.2 devices, 2 of the 10.1.0 one');
  for (const [key, n] of counted) t.is(n, 1, `${key} installed ${n} times`);
  t.true(verifyRun(store, 'daemon').ok);
});

test('campaign: a bad payload gets an error naming the field; pause and abort stop new jobs', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  await command(stack, 'device.discover');
  const bad = await t.throwsAsync(command(stack, 'campaign.create', { ...PLAN, windows: ['Sat 01:00-05:00 Atlantis'] }), { instanceOf: RemoteError });
  t.regex(bad!.message, /windows\.0: maintenance window .*"Atlantis" is not a time zone/);
  const none = await t.throwsAsync(command(stack, 'campaign.create', { ...PLAN, select: { models: ['PA-7050'] } }), { instanceOf: RemoteError });
  t.regex(none!.message, /matches no device/);

  const { campaign: created } = await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', { ...PLAN, waves: 'rest', concurrency: 1, approval: false });
  const id = created.campaign_id;
  await command(stack, 'campaign.pause', { campaignId: id });
  const paused = await until(stack, id, (c) => c.totals.running === 0, 'idle while paused');
  t.is(paused.status, 'paused');
  const started = paused.totals.complete + paused.totals.failed;
  await command(stack, 'campaign.abort', { campaignId: id, by: 'test' });
  const aborted = await until(stack, id, (c) => c.status === 'aborted', 'aborted');
  t.is(aborted.totals.complete + aborted.totals.failed, started, 'nothing new started after the pause');
  t.regex(aborted.message, /^Aborted: /);
});

test('campaign: its readiness policy reaches every job; a blocking check failing on the canary halts the campaign before the next wave', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  await command(stack, 'device.discover');
  const bad = await t.throwsAsync(command(stack, 'campaign.create', { ...PLAN, policy: { checks: { dataplane_cpu: { max_pct: 180 } } } }), { instanceOf: RemoteError });
  t.regex(bad!.message, /checks\.dataplane_cpu\.max_pct/);
  // A usage error: the CLI exits 2 on it, as on a policy file it reads itself.
  t.is((bad as RemoteError).code, 'VALIDATION');
  // An ARP entry no device has, required by the campaign's policy: the canary stops at validation.
  const policy = { checks: { arp_entries: { severity: 'block', entries: [{ ip: '203.0.113.250' }] } } };
  const { campaign: created } = await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', { ...PLAN, policy });
  const end = await until(stack, created.campaign_id, (c) => c.status === 'halted', 'halted');
  t.like(end.totals, { failed: 1, complete: 0, running: 0, waiting: 3 });
  t.regex(end.message, /^Halted: wave 1 failure budget exceeded|^Halted: campaign failure budget exceeded/);
  const canary = end.waves[0]!.members![0]!;
  t.regex(canary.message, /readiness check failed: arp_entries/);
  t.is(end.waves[1]!.status, 'waiting', 'the next wave never started');
});

test('campaign: devices that cannot be upgraded (an active job, a unit of a running campaign, already on the target) are left out at create with why; nothing left is refused', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  await command(stack, 'device.discover');
  // A download-only job that stays running (its download is 1000 times slower).
  await control(stack, '001234567890', 'faults', { faults: { downloadSlowFactor: 1000 } });
  const { job } = await command<{ job: { job_id: string } }>(stack, 'job.submit', { device: '001234567890', downloadOnly: true });
  // A running campaign whose unit waits for a window that is not open today.
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][(new Date().getUTCDay() + 2) % 7];
  const { campaign: first } = await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', { target: '11.1.0', select: { serials: ['001234567891'] }, windows: [`${day} 01:00-05:00 UTC`] });
  t.teardown(async () => {
    await command(stack, 'campaign.abort', { campaignId: first.campaign_id }).catch(() => undefined);
    await command(stack, 'job.cancel', { jobId: job.job_id }).catch(() => undefined);
  });

  const dry = await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', { target: '11.1.0', select: { all: true }, dryRun: true });
  t.deepEqual(dry.campaign.waves.flatMap((w) => w.members!.flatMap((m) => m.serials)).sort(), ['001234567892', '001234567893']);
  const why = new Map(dry.campaign.excluded.map((e) => [e.serial, e.reason]));
  t.is(why.get('001234567890'), `already has an active download-only job ${job.job_id}`);
  t.regex(why.get('001234567891') ?? '', new RegExp(`^is a unit of campaign ${first.campaign_id} \\(running, wave 1, waiting\\)$`));
  t.is(why.get('001234567894'), 'already runs the target 11.1.0');

  const nothing = await t.throwsAsync(command(stack, 'campaign.create', { target: '11.1.0', select: { serials: ['001234567894', '001234567890'] } }), { instanceOf: RemoteError });
  t.is((nothing as RemoteError).code, 'VALIDATION');
  t.regex(nothing!.message, new RegExp(`the selection matches no device that can be upgraded \\(2 left out: fw-dc1-01 \\(001234567890\\): already has an active download-only job ${job.job_id}; fw-branch-02 \\(001234567894\\): already runs the target 11\\.1\\.0\\)$`));
  t.is((await command<{ campaigns: CampaignRecord[] }>(stack, 'campaign.list')).campaigns.length, 1, 'nothing recorded');
});
