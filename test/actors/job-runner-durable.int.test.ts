import test from 'ava';
import pino from 'pino';
import { assign, emit, fromCallback, setup } from 'xstate';
import { JobRunner } from '../../actors/job-runner.ts';
import { openTestStore } from '../helpers/index.ts';

/**
 * A step that records a fact as it starts (an HA pair's child job id, before the child exists) sends it
 * while its machine is still entering the step's state: the fact waits in the machine's mailbox, behind
 * the entry's own fact. `durable()` asked then must cover it. Found by `chaos --cluster`: a daemon killed
 * right after its pair created a child job had the child's job in the log but not the pair's record of
 * it, and the next owner created a second child, leaving the first pending for ever.
 */
interface Ctx {
  facts: string[];
}

test('job runner: a fact a step records as it starts is in the log when durable() resolves', async (t) => {
  const store = openTestStore(t);
  let seenAtAct: string[] | undefined;
  let runner!: JobRunner<Ctx>;
  const machine = setup({
    types: { context: {} as Ctx, input: {} as { state: Ctx }, events: {} as { type: 'fact'; name: string } | { type: 'go' }, emitted: {} as { type: 'facts'; facts: Array<{ type: string; data: unknown; at: string }> } },
    actions: {
      note: assign(({ context }, p: { name: string }) => ({ facts: [...context.facts, p.name] })),
    },
    actors: {
      // Records first, then acts on what it recorded (as runChildStep does with job.ha.child.created).
      step: fromCallback(({ sendBack }) => {
        sendBack({ type: 'fact', name: 'child.created' });
        void runner.durable().then(() => {
          seenAtAct = store.readStream('job:j1').map((e) => e.type);
        });
      }),
    },
  }).createMachine({
    context: ({ input }) => input.state,
    initial: 'idle',
    on: {
      fact: { actions: [{ type: 'note', params: ({ event }) => ({ name: event.name }) }, emit(({ event }) => ({ type: 'facts', facts: [{ type: event.name, data: {}, at: new Date().toISOString() }] }))] },
    },
    states: {
      idle: { on: { go: 'running' } },
      running: {
        entry: emit({ type: 'facts', facts: [{ type: 'step.started', data: {}, at: new Date().toISOString() }] }),
        invoke: { src: 'step' },
      },
    },
  });
  runner = new JobRunner<Ctx>({ jobId: 'j1', machine, store, log: pino({ level: 'silent' }), isTerminal: () => false, state: { facts: [] } });
  runner.start();
  runner.send({ type: 'go' });
  await t.notThrowsAsync(async () => {
    for (let i = 0; i < 100 && seenAtAct === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  });
  t.deepEqual(seenAtAct, ['step.started', 'child.created']);
  await runner.stop();
});
