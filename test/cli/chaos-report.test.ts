import test from 'ava';
import type { EventEnvelope } from '../../eventstore/index.ts';
import type { ChaosReport } from '../../chaos/index.ts';
import { chaosPlan, checkInvariants, jobCounts } from '../../forensics/chaos-check.ts';
import { formatChaosReport } from '../../cli/commands/chaos.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { shippedScenario } from '../../cli/paths.ts';
import { T0, jobRun } from '../forensics/job-log.ts';

const scenario = loadScenarioFile(shippedScenario('chaos'), { timeScale: 0.02, env: {} });

/** Job logs as one daemon log: each job's facts on its own stream, numbered in order. */
function daemonLog(jobs: Record<string, EventEnvelope[]>): EventEnvelope[] {
  const out: EventEnvelope[] = [];
  for (const [stream, log] of Object.entries(jobs)) for (const e of log) out.push({ ...e, stream, gseq: out.length + 1 });
  return out;
}

function report(daemonEvents: EventEnvelope[]): ChaosReport {
  const plan = chaosPlan(scenario, 10_000);
  const verify = [{ runId: 'r1', report: { runId: 'r1', ok: true, gseq: { ok: true, last: 0, events: 0 }, streams: [], mismatches: 0 } }];
  const invariants = checkInvariants({ scenario, plan, startedAt: T0, daemonEvents, simEvents: [], submitted: [], verify });
  const jobs = jobCounts(daemonEvents);
  return {
    ok: invariants.every((i) => i.ok),
    scenario: scenario.file,
    seed: 1,
    devices: scenario.devices.length,
    timeScale: 0.02,
    durationMs: 1000,
    workDir: null,
    timedOut: false,
    plan: { ...plan, disruptions: [], injections: [] },
    disruptions: [],
    injected: [],
    live: [],
    submitted: [],
    jobs,
    warnings: Object.keys(jobs).length === 0 ? ['no job ran: nothing was upgraded, so the invariants hold without having tested anything'] : [],
    daemonRuns: [],
    invariants,
  };
}

test('chaos report: the Jobs line counts the jobs as the terminal-state invariant does, those still running included', (t) => {
  const events = daemonLog({
    'job:a': jobRun([{ type: 'cancel', by: 'operator', now: T0 + 5 }]).log,
    'job:b': jobRun([{ type: 'start', now: T0 + 10 }, { type: 'step.failed', reason: 'not enough free disk', retryable: false, now: T0 + 20 }]).log,
    'job:c': jobRun([{ type: 'start', now: T0 + 10 }]).log,
  });
  const text = formatChaosReport(report(events)).split('\n');
  const invariant = text.find((l) => l.includes('every job ends in a terminal state with a reason'));
  t.is(invariant, '  FAIL  every job ends in a terminal state with a reason: 3 job(s): cancelled 1, failed 1, validating 1');
  t.true(text.includes('Jobs: 3 job(s): cancelled 1, failed 1, validating 1'), text.join('\n'));
  t.false(text.some((l) => l.startsWith('Warning:')));
});

test('chaos report: when no job ran then it warns that nothing was tested, and does not end on a plain "All invariants hold."', (t) => {
  // As in a run whose devices were all refused: every invariant holds, over nothing.
  const r = { ...report([]), ok: true, invariants: [{ name: 'every job ends in a terminal state with a reason', ok: true, detail: '0 job(s): none', violations: [] }] };
  t.deepEqual(r.jobs, {});
  const text = formatChaosReport(r).split('\n');
  t.true(text.includes('Jobs: 0 job(s): none'), text.join('\n'));
  t.true(text.includes('Warning: no job ran: nothing was upgraded, so the invariants hold without having tested anything.'));
  t.is(text.at(-1), 'All invariants hold, but nothing was tested.');
});
