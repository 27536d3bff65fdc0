import test from 'ava';
import { replayCampaignStream } from '../../forensics/campaign-replay.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { harness, MIN } from '../machines/campaign-harness.ts';

function envelopes(facts: ReadonlyArray<{ type: string; data: unknown; at: string }>): EventEnvelope[] {
  return facts.map((f, i) => ({ gseq: i + 1, stream: 'campaign:c1', seq: i + 1, type: f.type, at: f.at, data: f.data }) as EventEnvelope);
}

function run() {
  const h = harness({ waves: [{ size: 2, soakMs: 30 * MIN, approval: true }, { size: 'rest' }], windows: ['Sat 01:00-05:00 UTC'], budget: { overall: { count: 3, percent: null } } }, 5);
  h.send({ type: 'start', now: h.clock.now() });
  h.clock.set(Date.parse('2026-12-05T01:00:00Z'));
  h.send({ type: 'pause', by: 'ops', now: h.clock.now() });
  h.send({ type: 'resume', by: 'ops', now: h.clock.now() });
  h.finishAll('failed', MIN);
  h.clock.increment(30 * MIN);
  h.send({ type: 'approve', by: 'ops', now: h.clock.now() });
  h.finishAll('complete', 5 * MIN);
  h.finishAll('complete', 5 * MIN);
  return h;
}

test('campaign replay: a recorded campaign (window, soak, approval, pause, failures) replays to the same facts, fold and snapshot', (t) => {
  const h = run();
  t.is(h.ctx().status, 'completed');
  const r = replayCampaignStream(envelopes(h.facts), { seq: h.facts.length, gseq: h.facts.length, state: h.actor.getPersistedSnapshot() });
  t.true(r.ok, r.difference);
  t.deepEqual(r.state, h.ctx());
});

test('campaign replay: a wave started twice, or a unit started outside what the campaign decides, is named by seq', (t) => {
  const h = run();
  const facts = [...h.facts];
  const i = facts.findIndex((f) => f.type === 'campaign.wave.started' && (f.data as { wave: number }).wave === 1);
  const twice = [...facts.slice(0, i + 1), facts[i]!, ...facts.slice(i + 1)];
  const r1 = replayCampaignStream(envelopes(twice), undefined);
  t.false(r1.ok);
  t.regex(r1.difference!, new RegExp(`^seq ${i + 2} \\(campaign.wave.started`));
  // An install started before the window opened (Friday 12:00).
  const early = facts.map((f) => (f.type === 'campaign.unit.started' ? { ...f, at: '2026-12-04T12:00:00.000Z' } : f));
  const r2 = replayCampaignStream(envelopes(early), undefined);
  t.false(r2.ok);
  t.regex(r2.difference!, /campaign\.unit\.started/);
});
