import test from 'ava';
import type { Snapshot } from 'xstate';
import { inflateSnapshot, slimSnapshot } from '../../actors/job-runner.ts';

const job = { jobId: 'j1', pre: { areas: { routes: { count: 3, entries: { a: {}, b: {}, c: {} } } } } };
const persisted = {
  status: 'active',
  value: 'installing',
  context: job,
  historyValue: {},
  children: {
    'x:0': { src: 'install', systemId: undefined, snapshot: { status: 'active', input: { job, step: 'install', hop: 1 } } },
    'x:1': { src: 'deadline', snapshot: { status: 'active', input: { at: 5 } } },
  },
};

test('job runner: a slim snapshot keeps the machine state and drops the context and the job in its children input', (t) => {
  const slim = slimSnapshot(persisted, 'job') as typeof persisted & { foldedContext: string };
  t.is(slim.value, 'installing');
  t.is(slim.context as unknown, null);
  t.deepEqual(slim.children['x:0']!.snapshot.input, { job: null, step: 'install', hop: 1 } as never);
  t.deepEqual(slim.children['x:1']!.snapshot.input, { at: 5 });
  t.is(slim.foldedContext, 'job');
  t.false(JSON.stringify(slim).includes('routes'));
  // The original is untouched.
  t.is(persisted.children['x:0'].snapshot.input.job, job);
});

test('job runner: inflating a slim snapshot with the fold gives the machine state with that context; a whole snapshot is kept as it is', (t) => {
  const folded = { ...job, status: 'installing' };
  const back = inflateSnapshot(slimSnapshot(persisted, 'job') as Snapshot<unknown>, folded) as unknown as typeof persisted;
  t.is(back.context as unknown, folded);
  t.is(back.children['x:0'].snapshot.input.job as unknown, folded);
  t.deepEqual(back.children['x:1'].snapshot.input, { at: 5 });
  t.is(back.value, 'installing');
  t.false('foldedContext' in back);
  const whole = persisted as unknown as Snapshot<unknown>;
  t.is(inflateSnapshot(whole, folded), whole);
});
