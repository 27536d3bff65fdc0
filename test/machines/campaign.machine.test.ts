import test from 'ava';
import { forecast, waitingFor } from '../../machines/campaign.decide.ts';
import { foldCampaign } from '../../machines/campaign.fold.ts';
import { campaignList, toCampaignRecord } from '../../machines/campaign.record.ts';
import { eventLine, statusLines } from '../../cli/campaign-view.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { harness, MIN, T0 } from './campaign-harness.ts';

test('campaign: a canary wave, a soak and an approval gate, then the rest, never above the wave concurrency', (t) => {
  const h = harness({ waves: [{ name: 'canary', size: 2, concurrency: 1, soakMs: 30 * MIN, approval: true }, { size: 'rest', concurrency: 2 }] });
  h.send({ type: 'start', now: h.clock.now() });
  t.is(h.inFlight().length, 1, 'canary concurrency 1');
  h.finishAll('complete', MIN);
  t.is(h.inFlight().length, 1);
  h.finishAll('complete', MIN);
  t.is(h.ctx().waves[0]!.status, 'soaking');
  t.is(h.inFlight().length, 0, 'nothing starts during the soak');
  t.regex(waitingFor(h.ctx(), h.clock.now()), /soak after wave 1 to end \(in 30 min\)/);
  h.clock.increment(30 * MIN - 1);
  t.is(h.ctx().waves[0]!.status, 'soaking');
  h.clock.increment(1);
  t.is(h.ctx().waves[0]!.status, 'awaiting-approval');
  t.is(h.inFlight().length, 0, 'nothing starts before the approval');
  t.regex(waitingFor(h.ctx(), h.clock.now()), /approval .* campaign approve c1/);
  h.send({ type: 'approve', by: 'alice', now: h.clock.now() });
  t.is(h.ctx().wave, 1);
  t.is(h.inFlight().length, 2);
  h.finishAll('complete', MIN);
  h.finishAll('complete', MIN);
  t.is(h.ctx().status, 'completed');
  t.is(h.maxInFlight(), 2);
  t.regex(h.ctx().message, /6 complete, 0 failed/);
  // Waves in order: every unit of wave 1 ended before the first unit of wave 2 started.
  const firstOfWave2 = h.facts.findIndex((f) => f.type === 'campaign.unit.started' && f.data.wave === 1);
  const lastOfWave1 = h.facts.findLastIndex((f) => f.type === 'campaign.unit.ended' && f.data.wave === 0);
  t.true(lastOfWave1 < firstOfWave2);
  t.deepEqual(h.types().filter((x) => x.startsWith('campaign.wave') || x.startsWith('campaign.gate') || x.includes('approv') || x.includes('soak')), [
    'campaign.wave.started',
    'campaign.wave.ended',
    'campaign.soak.started',
    'campaign.approval.requested',
    'campaign.approved',
    'campaign.gate.passed',
    'campaign.wave.started',
    'campaign.wave.ended',
    'campaign.gate.passed',
  ]);
  // The context is the fold of the facts.
  t.deepEqual(foldCampaign(h.facts), h.ctx());
});

test('campaign: installs start only inside the window, and only when the job would end before it closes', (t) => {
  // Each job is expected to take 30 min; the window is Sat 01:00-02:00 UTC.
  const h = harness({ windows: ['Sat 01:00-02:00 UTC'], waves: 'rest', concurrency: 3 }, 5);
  h.send({ type: 'start', now: h.clock.now() });
  t.is(h.inFlight().length, 0);
  t.is(h.ctx().windowWait?.opensAt, Date.parse('2026-12-05T01:00:00Z'));
  t.regex(waitingFor(h.ctx(), h.clock.now()), /maintenance window at Sat 2026-12-05 01:00 UTC \(in 13\.0 h\)/);
  h.clock.set(Date.parse('2026-12-05T01:00:00Z') - 1);
  t.is(h.inFlight().length, 0, 'not a millisecond early');
  h.clock.increment(1);
  t.is(h.inFlight().length, 3);
  h.finishAll('complete', 29 * MIN);
  // 01:29: two more jobs of 30 min fit before 02:00.
  t.is(h.inFlight().length, 2);
  h.finishAll('complete', 2 * MIN);
  // 01:31: nothing fits any more; the next window is a week later.
  t.is(h.inFlight().length, 0);
  t.is(h.ctx().status, 'completed');
  const starts = h.facts.filter((f) => f.type === 'campaign.unit.started').map((f) => Date.parse(f.at));
  t.true(starts.every((s) => s >= Date.parse('2026-12-05T01:00:00Z') && s + 30 * MIN <= Date.parse('2026-12-05T02:00:00Z')));
});

test('campaign: a job that would not finish before the window closes waits for the next window', (t) => {
  const h = harness({ windows: ['Sat 01:00-02:00 UTC'], waves: 'rest', concurrency: 1 }, 2);
  h.clock.set(Date.parse('2026-12-05T01:15:00Z'));
  h.send({ type: 'start', now: h.clock.now() });
  t.is(h.inFlight().length, 1, '01:15 + 30 min fits');
  h.finishAll('complete', 20 * MIN);
  t.is(h.inFlight().length, 0, '01:35 + 30 min would pass 02:00');
  t.is(h.ctx().windowWait?.opensAt, Date.parse('2026-12-12T01:00:00Z'));
  h.clock.set(Date.parse('2026-12-12T01:00:00Z'));
  t.is(h.inFlight().length, 1);
});

test('campaign: with prestage, images download outside the window and installs wait for it', (t) => {
  const h = harness({ windows: ['Sat 01:00-05:00 UTC'], waves: 'rest', concurrency: 2, prestage: true }, 2);
  h.send({ type: 'start', now: h.clock.now() });
  t.deepEqual(h.inFlight().map((j) => j.kind), ['download-only', 'download-only']);
  h.finishAll('complete', 10 * MIN);
  t.deepEqual(h.ctx().units.map((u) => u.status), ['staged', 'staged']);
  t.is(h.inFlight().length, 0);
  h.clock.set(Date.parse('2026-12-05T01:00:00Z'));
  t.deepEqual(h.inFlight().map((j) => j.kind), ['upgrade', 'upgrade']);
  h.finishAll('complete', 10 * MIN);
  t.is(h.ctx().status, 'completed');
});

test('campaign: past the failure budget it halts: running jobs finish, nothing new starts, the report says why', (t) => {
  const h = harness({ waves: 'rest', concurrency: 3, budget: { overall: { count: 1, percent: null }, wave: { count: null, percent: null } } }, 6);
  h.send({ type: 'start', now: h.clock.now() });
  const [a, b] = h.inFlight();
  h.send({ type: 'job.ended', unit: a!.unit, jobId: a!.jobId, kind: 'upgrade', status: 'failed', message: 'install failed', now: h.clock.now() });
  t.is(h.inFlight().length, 3, 'one failure is within the budget: the next unit starts');
  h.send({ type: 'job.ended', unit: b!.unit, jobId: b!.jobId, kind: 'upgrade', status: 'failed', message: 'install failed', now: h.clock.now() });
  t.is(h.ctx().status, 'halting');
  t.is(h.inFlight().length, 2, 'in-flight jobs go on');
  h.finishAll('complete', MIN);
  t.is(h.ctx().status, 'halted');
  t.is(h.ctx().message, 'Halted: campaign failure budget exceeded: 2 of 6 unit(s) failed (allowed: 1); 2 complete, 2 failed, 2 not started');
  t.is(h.facts.filter((f) => f.type === 'campaign.unit.started').length, 4);
  const running = harness({}, 2).ctx();
  t.deepEqual(campaignList([h.ctx(), running], h.clock.now(), true).map((c) => c.status), ['pending'], 'a halted campaign is not active');
  t.deepEqual(campaignList([h.ctx(), running], h.clock.now(), false).length, 2);
});

test('campaign: a per-wave percentage budget halts the canary wave', (t) => {
  const h = harness({ budget: { wave: { count: null, percent: 40 }, overall: { count: null, percent: null } } }, 6);
  h.send({ type: 'start', now: h.clock.now() });
  const [a] = h.inFlight();
  h.send({ type: 'job.ended', unit: a!.unit, jobId: a!.jobId, kind: 'upgrade', status: 'failed', message: 'x', now: h.clock.now() });
  t.is(h.ctx().status, 'halting');
  t.regex(h.ctx().haltReason!, /wave 1 failure budget exceeded: 1 of 2 unit\(s\) failed \(allowed: 40%\)/);
});

test('campaign: pause stops new starts, resume continues; abort ends it once running jobs stopped', (t) => {
  const h = harness({ waves: 'rest', concurrency: 1 }, 3);
  h.send({ type: 'start', now: h.clock.now() });
  h.send({ type: 'pause', by: 'bob', now: h.clock.now() });
  h.finishAll('complete', MIN);
  t.is(h.inFlight().length, 0);
  t.is(h.ctx().status, 'paused');
  h.send({ type: 'resume', by: 'bob', now: h.clock.now() });
  t.is(h.inFlight().length, 1);
  h.send({ type: 'abort', by: 'bob', now: h.clock.now() });
  t.is(h.ctx().status, 'aborting');
  t.is(h.inFlight().length, 1);
  h.finishAll('cancelled' as 'failed', MIN);
  t.is(h.ctx().status, 'aborted');
  t.is(h.ctx().message, 'Aborted: 1 complete, 0 failed, 1 cancelled, 1 not started');
  t.is(h.facts.filter((f) => f.type === 'campaign.unit.started').length, 2);
});

test('campaign: a soak spanning a restart ends at the recorded time, not a full soak after the restart', (t) => {
  const h = harness({ waves: [{ size: 2, soakMs: 60 * MIN }, { size: 'rest' }] }, 4);
  h.send({ type: 'start', now: h.clock.now() });
  h.finishAll('complete', MIN);
  const soak = h.facts.find((f) => f.type === 'campaign.soak.started')!;
  t.is((soak.data as { until: number }).until, T0 + MIN + 60 * MIN);
  const snapshot = h.actor.getPersistedSnapshot();
  h.actor.stop();
  // The daemon was down for 45 minutes.
  h.clock.increment(45 * MIN);
  const again = harness({ waves: [{ size: 2, soakMs: 60 * MIN }, { size: 'rest' }] }, 4, { state: h.ctx(), snapshot, clock: h.clock, facts: [...h.facts] });
  t.is(again.inFlight().length, 0);
  again.clock.increment(15 * MIN - 1);
  t.is(again.inFlight().length, 0);
  again.clock.increment(1);
  t.is(again.inFlight().length, 2, 'the second wave starts 60 min after the first ended, crash or not');
  t.is(again.facts.filter((f) => f.type === 'campaign.wave.started').length, 2, 'no wave started twice');
});

test('campaign: a late or repeated job report changes nothing', (t) => {
  const h = harness({ waves: 'rest', concurrency: 1 }, 2);
  h.send({ type: 'start', now: h.clock.now() });
  const [j] = h.inFlight();
  h.send({ type: 'job.ended', unit: j!.unit, jobId: j!.jobId, kind: 'upgrade', status: 'complete', message: 'ok', now: h.clock.now() });
  const n = h.facts.length;
  h.send({ type: 'job.ended', unit: j!.unit, jobId: j!.jobId, kind: 'upgrade', status: 'failed', message: 'late', now: h.clock.now() });
  t.is(h.facts.length, n);
  t.is(h.ctx().units[0]!.status, 'complete');
});

test('campaign: the forecast fills concurrency slots wave by wave, with soak and windows', (t) => {
  const h = harness({ waves: [{ size: 2, soakMs: 60 * MIN }, { size: 'rest' }], concurrency: 2 }, 6);
  // 30 min per job: wave 1 = 30 min, soak 60, wave 2 = 4 units / 2 = 60 min.
  const f = forecast(h.ctx(), T0);
  t.deepEqual(f.waves.map((w) => [w.start, w.end]), [
    [T0, T0 + 30 * MIN],
    [T0 + 90 * MIN, T0 + 150 * MIN],
  ]);
  t.is(f.end, T0 + 150 * MIN);
  const w = harness({ windows: ['Sat 01:00-02:00 UTC'], waves: 'rest', concurrency: 2 }, 4);
  // Two batches of 30 min fit in the first Saturday window.
  t.is(forecast(w.ctx(), T0).end, Date.parse('2026-12-05T02:00:00Z'));
  // At a time scale of 0.001, campaign time runs 1000 times faster: 13 h of waiting is 47 s of wall time.
  const s = harness({ windows: ['Sat 01:00-02:00 UTC'], waves: 'rest', concurrency: 2, timeScale: 0.001 }, 4);
  t.is(forecast(s.ctx(), T0).end, T0 + 14 * 3600_000 / 1000);
});

test('campaign: a stored campaign whose soak ends beyond what a Date holds still lists and shows its status (the time shows as null)', (t) => {
  // As recorded before durations were bounded: soak 9999999999h.
  const h = harness({ waves: [{ size: 1, soakMs: 9_999_999_999 * 3600_000 }, { size: 'rest' }] }, 2);
  h.send({ type: 'start', now: h.clock.now() });
  h.finishAll('complete', MIN);
  t.is(h.ctx().waves[0]!.status, 'soaking');
  const record = toCampaignRecord(h.ctx(), h.clock.now(), { members: true });
  t.is(record.waves[0]!.soak_until, null);
  t.is(record.eta, null);
  t.is(record.next_wake, null);
  t.is(campaignList([h.ctx()], h.clock.now(), false).length, 1);
  t.notThrows(() => statusLines(record, h.clock.now()));
  const soak = h.facts.find((f) => f.type === 'campaign.soak.started')!;
  t.is(eventLine({ ...soak, stream: 'campaign:c1', seq: 1 } as unknown as EventEnvelope, new Map()), 'gate after wave 1: soaking until -');
});

test('campaign: the header stops saying it waits for the window once units start in it; while halting the ETA counts only the jobs in flight', (t) => {
  const h = harness({ windows: ['Sat 01:00-05:00 UTC'], waves: 'rest', concurrency: 2 }, 4);
  h.send({ type: 'start', now: h.clock.now() });
  t.regex(h.ctx().message, /^Waiting for the maintenance window/);
  h.clock.increment(13 * 60 * MIN);
  t.is(h.inFlight().length, 2);
  t.is(h.ctx().message, 'Wave 1 running');

  const f = harness({ waves: 'rest', concurrency: 2 }, 6);
  f.send({ type: 'start', now: f.clock.now() });
  const [first] = f.inFlight();
  f.clock.increment(10 * MIN);
  f.send({ type: 'job.ended', unit: first!.unit, jobId: first!.jobId, kind: 'upgrade', status: 'failed', message: 'boom', now: f.clock.now() });
  t.is(f.ctx().status, 'halting');
  // The other job started at T0 and is expected to take 30 min; the 4 units that will never start do not count.
  t.is(forecast(f.ctx(), f.clock.now()).end, T0 + 30 * MIN);
  t.is(toCampaignRecord(f.ctx(), f.clock.now()).eta, new Date(T0 + 30 * MIN).toISOString());
});
