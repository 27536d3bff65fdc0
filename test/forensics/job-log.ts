import { SimulatedClock, createActor, fromCallback, type AnyStateMachine } from 'xstate';
import type { EventEnvelope, StoredSnapshot } from '../../eventstore/index.ts';
import { DEFAULT_POLICY, type JobFact } from '../../machines/upgrade-job.events.ts';
import type { PlannedHop } from '../../panos/upgrade-path.ts';
import { submittedJobState, upgradeJobMachine } from '../../machines/upgrade-job.machine.ts';

/** Job logs made by the job machine itself, for the replay tests: what the daemon would have recorded. */
export const T0 = Date.parse('2026-06-01T22:00:00Z');
export const at = (ms: number): string => new Date(T0 + ms).toISOString();
export const DEVICE = { serial: '001234567890', hostname: 'fw-a', mgmtIp: '127.0.1.1', model: 'PA-3220', swVersion: '10.0.2', haState: null, haPeer: null };

export const quiet = <I>() => fromCallback<{ type: string }, I>(() => undefined);

/**
 * Run a job machine the way the daemon does, with effects that do nothing (the test plays their part
 * by sending events), and record what it emits as the log would: envelopes and the last snapshot.
 */
export function record(machine: AnyStateMachine, first: EventEnvelope, input: unknown, events: Array<{ type: string; [k: string]: unknown }>): { log: EventEnvelope[]; snapshot: StoredSnapshot } {
  const clock = new SimulatedClock();
  const actor = createActor(machine, { input, clock });
  const log: EventEnvelope[] = [first];
  actor.on('facts', (e: { facts: Array<{ type: string; data: unknown; at: string }> }) => {
    for (const f of e.facts) log.push({ gseq: log.length + 1, stream: first.stream, seq: log.length + 1, type: f.type, at: f.at, data: f.data });
  });
  actor.start();
  for (const e of events) actor.send(e);
  const snapshot = { seq: log.length, gseq: log.length, state: JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as unknown };
  actor.stop();
  return { log, snapshot };
}

export const jobMachine = upgradeJobMachine.provide({
  actors: { validate: quiet(), snapshot: quiet(), updateContent: quiet(), download: quiet(), install: quiet(), reboot: quiet(), deadline: quiet() },
});

export function jobRun(events: Array<{ type: string; [k: string]: unknown }>, policy = DEFAULT_POLICY, plan: PlannedHop[] = [{ version: '10.1.0', action: 'install', reason: 'static path' }]) {
  const submitted: Extract<JobFact, { type: 'job.submitted' }> = {
    type: 'job.submitted',
    data: { jobId: 'j1', kind: 'upgrade', dryRun: false, device: DEVICE, targetVersion: null, plan, planSource: 'static', policy },
  };
  const first: EventEnvelope = { gseq: 1, stream: 'job:j1', seq: 1, type: submitted.type, at: at(0), data: submitted.data };
  return record(jobMachine, first, { state: submittedJobState(submitted, at(0)) }, events);
}

export const fact = (type: string, data: unknown, ms: number) => ({ type: 'fact', fact: { type, data }, now: T0 + ms });
