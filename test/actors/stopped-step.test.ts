import test from 'ava';
import pino from 'pino';
import { createActor, type AnyActorLogic } from 'xstate';
import type { DeviceApi } from '../../actors/device-api.ts';
import { pairEffects, type PairDeps } from '../../actors/ha-effects.ts';
import { stepEffects, type StepDeps } from '../../actors/step-effects.ts';
import { DurationEstimates } from '../../panos/poll-schedule.ts';
import { DEFAULT_PATH_RULES } from '../../panos/upgrade-path.ts';
import { DEFAULT_POLICY, evolveJob, initialJobState, type JobFact } from '../../machines/index.ts';
import { foldPair, type PairFact } from '../../machines/ha-pair.fold.ts';

/**
 * A job's actor is stopped (daemon shutdown, or on a cluster its partition handed over or its lease lost)
 * while one of its steps waits for a fact to be durable. The fact never reaches the log (a stopped runner
 * appends nothing more), so the step must not go on to what that fact announces: a restart sent, a child
 * job created. Found by `chaos --cluster`: a daemon handing a partition over created a child job its pair
 * never recorded, and a device was sent a second restart after a lease was lost and taken again.
 */

const device = { serial: 'S1', hostname: 'fw1', mgmtIp: '10.0.0.1', model: 'PA-440', swVersion: '10.1.0', haState: null, haPeer: null };

/** A device whose every call is counted; reads answer, a restart is acknowledged. */
function countingApi(calls: string[]): DeviceApi {
  return new Proxy({} as DeviceApi, {
    get: (_t, name: string) => async () => {
      calls.push(name);
      if (name === 'systemInfo') return { swVersion: '10.1.0', uptimeSeconds: 5000 };
      if (name === 'restart') return { acknowledged: true };
      throw new Error(`unexpected call ${name}`);
    },
  });
}

/** `durable()` as a daemon gives it once the runner is gone from its table: nothing left to wait for. */
function gate(): { durable: () => Promise<void>; asked: Promise<void>; open: () => void } {
  let open!: () => void;
  let asked!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const askedP = new Promise<void>((r) => (asked = r));
  return {
    durable: () => (asked(), opened),
    asked: askedP,
    open,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

test('a reboot step stopped while its restart request is being recorded sends no restart', async (t) => {
  const calls: string[] = [];
  const g = gate();
  const deps: StepDeps = {
    api: () => countingApi(calls),
    directApi: () => countingApi(calls),
    directDownloads: false,
    installVia: 'panorama',
    updateContent: false,
    pollJobMs: 1,
    estimates: new DurationEstimates(),
    jobTimeoutMs: 1000,
    pollRebootMs: 10,
    rebootBudgetMs: () => 60_000,
    rebootStartGraceMs: 1000,
    pathRules: DEFAULT_PATH_RULES,
    durable: g.durable,
    current: () => undefined,
    now: () => Date.now(),
    log: pino({ level: 'silent' }),
  };
  const submitted: JobFact = {
    type: 'job.submitted',
    data: { jobId: 'j1', kind: 'upgrade', dryRun: false, device, targetVersion: '10.5.1', plan: [{ version: '10.5.1', action: 'install', reason: 'test' }], planSource: 'static', policy: DEFAULT_POLICY },
  };
  const job = [submitted, { type: 'job.step.started', data: { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 } } as JobFact].reduce((s, f) => evolveJob(s, f), initialJobState());
  const step = createActor(stepEffects(deps).reboot as AnyActorLogic, { input: { job, step: 'reboot', hop: 0 } }).start();
  await g.asked; // job.reboot.requested handed over, waiting to be durable
  step.stop();
  g.open();
  await settle();
  t.deepEqual(calls, ['systemInfo'], 'read before the request; no restart after the step was stopped');
});

test('an HA pair step stopped while the id of its child job is being recorded creates no child job', async (t) => {
  const started: string[] = [];
  const g = gate();
  const peerB = { ...device, serial: 'S2', hostname: 'fw2', haPeer: 'S1' };
  const deps: PairDeps = {
    api: () => countingApi([]),
    startChild: async (_pair, _role, jobId) => void started.push(jobId),
    awaitChild: async () => undefined,
    childExists: () => true,
    newJobId: () => 'child-1',
    durable: g.durable,
    current: () => undefined,
    pollMs: 10,
    roleTimeoutMs: 1000,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log: pino({ level: 'silent' }),
  };
  const pair = foldPair([
    { type: 'job.ha.submitted', data: { jobId: 'p1', kind: 'upgrade', strategy: 'passive-first', pauseBetweenPeers: false, targetVersion: '10.5.1', peers: [{ ...device, haPeer: 'S2' }, peerB], versions: ['10.5.1'] } } as PairFact,
  ]);
  const step = createActor(pairEffects(deps).runChild as AnyActorLogic, { input: { pair, step: 'download-first', serial: 'S1', role: 'download-first' } }).start();
  await g.asked; // job.ha.child.created handed over, waiting to be durable
  step.stop();
  g.open();
  await settle();
  t.deepEqual(started, [], 'no child job was created after the step was stopped');
});
