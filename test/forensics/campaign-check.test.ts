import test from 'ava';
import { checkCampaignInvariants } from '../../forensics/campaign-check.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { harness, MIN } from '../machines/campaign-harness.ts';

/** A campaign run inside a Saturday window, with each unit's job and its install in the log after the intent. */
function log(): EventEnvelope[] {
  const h = harness({ windows: ['Sat 01:00-05:00 UTC'], waves: [{ size: 2, soakMs: 10 * MIN }, { size: 'rest' }], concurrency: 2 }, 4);
  h.send({ type: 'start', now: h.clock.now() });
  h.clock.set(Date.parse('2026-12-05T01:00:00Z'));
  h.finishAll('complete', 20 * MIN);
  h.clock.increment(10 * MIN);
  h.finishAll('complete', 20 * MIN);
  const out: EventEnvelope[] = [];
  let gseq = 0;
  const seqs = new Map<string, number>();
  const push = (stream: string, type: string, at: string, data: unknown): void => {
    const seq = (seqs.get(stream) ?? 0) + 1;
    seqs.set(stream, seq);
    out.push({ gseq: ++gseq, stream, seq, type, at, data } as EventEnvelope);
  };
  for (const f of h.facts) {
    push('campaign:c1', f.type, f.at, f.data);
    if (f.type === 'campaign.unit.started') {
      const jobId = (f.data as { jobId: string }).jobId;
      push(`job:${jobId}`, 'job.submitted', f.at, { jobId });
      push(`job:${jobId}`, 'job.install.requested', new Date(Date.parse(f.at) + 5 * MIN).toISOString(), { version: '11.1.2', hop: 0, baselineJobId: 1 });
    }
  }
  return out;
}

const failing = (events: EventEnvelope[]): string[] => checkCampaignInvariants(events).filter((r) => !r.ok).flatMap((r) => r.violations.map((v) => `${r.name}: ${v}`));

test('campaign invariants: a clean campaign log holds every one', (t) => {
  const events = log();
  const results = checkCampaignInvariants(events);
  t.deepEqual(failing(events), []);
  t.is(results.length, 4);
  t.regex(results[3]!.detail, /4 install\/restart request\(s\) made, inside a window/);
});

test('campaign invariants: a wave started twice, a job submitted twice, an install outside the window, a start past the budget', (t) => {
  const base = log();
  const wave = base.find((e) => e.type === 'campaign.wave.started' && (e.data as { wave: number }).wave === 1)!;
  t.regex(failing([...base, { ...wave, seq: 999, gseq: 999 }]).join('\n'), /campaign steps once: c1: wave 2 started twice/);
  const sub = base.find((e) => e.type === 'job.submitted')!;
  t.regex(failing([...base, { ...sub, seq: 99, gseq: 998 }]).join('\n'), /submitted 2 times/);
  const late = base.map((e) => (e.type === 'job.install.requested' ? { ...e, at: '2026-12-05T06:00:00.000Z' } : e));
  t.regex(failing(late).join('\n'), /campaign maintenance windows: c1: job\.install\.requested of job c1-u\d at Sat 2026-12-05 06:00 UTC \(campaign time\) is outside every window/);
  const i = base.findIndex((e) => e.type === 'campaign.unit.started');
  const exceeded = { ...base[i]!, type: 'campaign.budget.exceeded', data: { scope: 'overall', wave: 0, failures: 1, units: 4, reason: 'x' } };
  t.regex(failing([...base.slice(0, i), exceeded, ...base.slice(i)]).join('\n'), /campaign failure budget: c1: unit \d started after the failure budget was exceeded/);
});
