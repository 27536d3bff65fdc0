import test from 'ava';
import pino from 'pino';
import { runChildStep, type PairDeps } from '../../actors/ha-effects.ts';
import { submittedPairState } from '../../machines/ha-pair.machine.ts';
import type { PairFact } from '../../machines/ha-pair.fold.ts';
import type { JobDevice } from '../../machines/index.ts';

const A: JobDevice = { serial: '001234567890', hostname: 'fw-a', mgmtIp: '10.0.0.1', model: 'PA-3220', swVersion: '10.1.0', haState: 'active', haPeer: '001234567891' };
const B: JobDevice = { ...A, serial: '001234567891', hostname: 'fw-b', haState: 'passive', haPeer: A.serial };

test('HA pair child step: a peer upgrade that could not be made (its job refused or an error) is recorded as failed with why, not left pending under a job id that does not exist', async (t) => {
  const pair = submittedPairState({ type: 'job.ha.submitted', data: { jobId: 'p1', kind: 'upgrade', strategy: 'passive-first', pauseBetweenPeers: false, targetVersion: null, peers: [A, B], versions: ['10.5.1'] } }, '2026-01-01T00:00:00.000Z');
  const recorded: PairFact[] = [];
  const deps = {
    newJobId: () => 'c1',
    current: () => undefined,
    childExists: () => false,
    startChild: async () => {
      throw new Error('no upgrade path for 001234567891: the device is not offered 10.5.1');
    },
    awaitChild: async () => undefined,
    log: pino({ level: 'silent' }),
  } as unknown as PairDeps;
  const err = await t.throwsAsync(runChildStep(deps)({ pair, step: 'upgrade-first', serial: B.serial, role: 'upgrade-first' }, { signal: new AbortController().signal, record: async (f) => void recorded.push(f) }));
  t.regex(err!.message, /not offered 10\.5\.1/);
  t.deepEqual(recorded, [
    { type: 'job.ha.child.created', data: { role: 'upgrade-first', jobId: 'c1', serial: B.serial } },
    { type: 'job.ha.child.finished', data: { role: 'upgrade-first', jobId: 'c1', serial: B.serial, status: 'failed', message: 'Not started: no upgrade path for 001234567891: the device is not offered 10.5.1' } },
  ]);
});
