import test from 'ava';
import { createActor, fromCallback, waitFor } from 'xstate';
import {
  evolvePair,
  foldPair,
  initialPairState,
  haPairMachine,
  submittedPairState,
  toPairStatusRecord,
  type JobDevice,
  type PairEvent,
  type PairFact,
  type PairState,
  type PairStepInput,
  type StampedPairFact,
} from '../../machines/index.ts';

const T0 = Date.parse('2025-11-23T12:00:00Z');
const ACTIVE = '001234567890';
const PASSIVE = '001234567891';
const PEERS: [JobDevice, JobDevice] = [
  { serial: ACTIVE, hostname: 'fw-dc1-01', mgmtIp: '10.1.1.10', model: 'PA-3220', swVersion: '10.0.2', haState: 'active', haPeer: PASSIVE },
  { serial: PASSIVE, hostname: 'fw-dc1-02', mgmtIp: '10.1.1.11', model: 'PA-3220', swVersion: '10.0.2', haState: 'passive', haPeer: ACTIVE },
];

type Submitted = Extract<PairFact, { type: 'job.ha.submitted' }>;

function submitted(change: Partial<Submitted['data']> = {}): Submitted {
  return {
    type: 'job.ha.submitted',
    data: { jobId: 'pair-1', kind: 'upgrade', strategy: 'passive-first', pauseBetweenPeers: false, targetVersion: null, peers: PEERS, versions: ['10.1.0', '10.5.1'], ...change },
  };
}

/** What a fake pair effect can do, as actors/ha-effects.ts does through `sendBack`. */
interface StepIo {
  fact(fact: PairFact): void;
  done(): void;
  failed(reason: string): void;
}

type EffectName = 'checkPair' | 'runChild' | 'preparePeer' | 'restorePeer' | 'verifyPair' | 'recover';
type Handler = (input: PairStepInput, io: StepIo) => void;

const other = (serial: string): string => (serial === ACTIVE ? PASSIVE : ACTIVE);

/** Fakes that act on two pretend peers: suspending the active one fails over to the other, as a real pair does. */
function fakeEffects(roles: Map<string, string>): Record<EffectName, Handler> {
  return {
    checkPair: ({ pair }, io) => {
      const active = [...roles].find(([, r]) => r === 'active')![0];
      const first = pair.strategy === 'active-first' ? active : other(active);
      io.fact({
        type: 'job.ha.checked',
        data: { first, second: other(first), active, passive: other(active), preemptive: false, runningSync: 'synchronized', version: '10.0.2' },
      });
      io.done();
    },
    runChild: ({ role, serial }, io) => {
      const jobId = `child-${role}`;
      io.fact({ type: 'job.ha.child.created', data: { role: role!, jobId, serial: serial! } });
      const status = role!.startsWith('download') ? 'download_complete' : 'complete';
      io.fact({ type: 'job.ha.child.finished', data: { role: role!, jobId, serial: serial!, status, message: `${role} done` } });
      io.done();
    },
    preparePeer: ({ serial }, io) => {
      if (roles.get(serial!) === 'active') {
        io.fact({ type: 'job.ha.peer.suspended', data: { serial: serial! } });
        roles.set(serial!, 'suspended').set(other(serial!), 'active');
        io.fact({ type: 'job.ha.failover.confirmed', data: { active: other(serial!) } });
      }
      io.done();
    },
    restorePeer: ({ pair, serial }, io) => {
      if (pair.suspended === serial) {
        roles.set(serial!, 'passive');
        io.fact({ type: 'job.ha.peer.functional', data: { serial: serial!, state: 'passive' } });
      }
      io.fact({ type: 'job.ha.peer.back', data: { serial: serial!, state: roles.get(serial!)!, runningSync: 'synchronized' } });
      io.done();
    },
    verifyPair: (_input, io) => {
      const active = [...roles].find(([, r]) => r === 'active')![0];
      io.fact({ type: 'job.ha.verified', data: { active, passive: other(active), runningSync: 'synchronized' } });
      io.done();
    },
    recover: ({ pair }, io) => {
      if (pair.suspended) {
        roles.set(pair.suspended, 'passive');
        io.fact({ type: 'job.ha.peer.functional', data: { serial: pair.suspended, state: 'passive' } });
      }
      io.done();
    },
  };
}

interface Harness {
  actor: ReturnType<typeof createActor<typeof haPairMachine>>;
  /** Each effect invocation: `effect step serial role`. */
  calls: string[];
  /** The state values the actor went through, once each in a row. */
  states: string[];
  emitted: StampedPairFact[];
  initial: PairState;
  roles: Map<string, string>;
  send(event: DistributiveOmit<PairEvent, 'now'>): void;
  /** The pair's state as `foldPair` makes it from what the machine emitted. */
  folded(): PairState;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function pairActor(options: { submitted?: Partial<Submitted['data']>; effects?: (defaults: Record<EffectName, Handler>) => Partial<Record<EffectName, Handler>> } = {}): Harness {
  const roles = new Map([
    [ACTIVE, 'active'],
    [PASSIVE, 'passive'],
  ]);
  const defaults = fakeEffects(roles);
  const handlers: Record<EffectName, Handler> = { ...defaults, ...options.effects?.(defaults) };
  let clock = T0;
  const now = (): number => (clock += 1000);
  const calls: string[] = [];
  const effect = (name: EffectName) =>
    fromCallback<{ type: string }, PairStepInput>(({ input, sendBack }) => {
      calls.push([name, input.step, input.serial, input.role].filter((x) => x !== null).join(' '));
      let live = true;
      const send = (e: PairEvent): void => {
        if (live) sendBack(e as { type: string });
      };
      handlers[name](input, {
        fact: (fact) => send({ type: 'fact', fact, now: now() }),
        done: () => send({ type: 'step.done', now: now() }),
        failed: (reason) => send({ type: 'step.failed', reason, now: now() }),
      });
      return () => {
        live = false;
      };
    });
  const machine = haPairMachine.provide({
    actors: {
      checkPair: effect('checkPair'),
      runChild: effect('runChild'),
      preparePeer: effect('preparePeer'),
      restorePeer: effect('restorePeer'),
      verifyPair: effect('verifyPair'),
      recover: effect('recover'),
    },
  });
  const initial = submittedPairState(submitted(options.submitted), new Date(T0).toISOString());
  const actor = createActor(machine, { input: { state: initial } });
  const emitted: StampedPairFact[] = [];
  actor.on('facts', (e) => emitted.push(...e.facts));
  const states: string[] = [];
  actor.subscribe((s) => {
    const value = String(s.value);
    if (states.at(-1) !== value) states.push(value);
  });
  actor.start();
  if (states.length === 0) states.push(String(actor.getSnapshot().value));
  return {
    actor,
    calls,
    states,
    emitted,
    initial,
    roles,
    send: (event) => actor.send({ ...event, now: now() } as PairEvent),
    folded: () => foldPair(emitted, initial),
  };
}

/**
 * A pair whose `effect` holds the step `step` until the test releases it (to send something while that
 * step runs); every other step runs at once.
 */
function heldAt(effect: 'runChild' | 'preparePeer', step: string, options: { submitted?: Partial<Submitted['data']> } = {}): { h: Harness; release: () => void } {
  let held: (() => void) | undefined;
  const h = pairActor({
    ...options,
    effects: (d) => ({
      [effect]: (input: PairStepInput, io: StepIo) => {
        if (input.step === step) held = () => d[effect](input, io);
        else d[effect](input, io);
      },
    }),
  });
  return { h, release: () => held!() };
}

const ended = (h: Harness) => waitFor(h.actor, (s) => s.status === 'done', { timeout: 1000 });
/** Whether the second peer's turn (prepare, upgrade or restore) began. */
const secondPeerTouched = (h: Harness): boolean => h.calls.some((c) => / (prepare|upgrade|restore)-second /.test(`${c} `));
const types = (h: Harness): string[] => h.emitted.map((f) => (f.type === 'job.ha.step.started' ? `step ${f.data.step}` : f.type));

const UPGRADE_STATES = [
  'pending',
  'checking',
  'downloadingFirst',
  'downloadingSecond',
  'preparingFirst',
  'upgradingFirst',
  'restoringFirst',
  'preparingSecond',
  'upgradingSecond',
  'restoringSecond',
  'verifying',
  'complete',
];

test('ha pair machine: when the strategy is passive-first then the passive peer is upgraded first and the active one only after failing over to it', async (t) => {
  const h = pairActor();
  h.send({ type: 'start' });
  const end = await ended(h);

  t.deepEqual(h.states, UPGRADE_STATES);
  t.deepEqual(h.calls, [
    'checkPair check',
    `runChild download-first ${PASSIVE} download-first`,
    `runChild download-second ${ACTIVE} download-second`,
    `preparePeer prepare-first ${PASSIVE}`,
    `runChild upgrade-first ${PASSIVE} upgrade-first`,
    `restorePeer restore-first ${PASSIVE}`,
    `preparePeer prepare-second ${ACTIVE}`,
    `runChild upgrade-second ${ACTIVE} upgrade-second`,
    `restorePeer restore-second ${ACTIVE}`,
    'verifyPair verify',
  ]);
  const facts = types(h);
  // The active peer is suspended once, after the passive one is back, and made functional after its own upgrade.
  t.deepEqual(
    facts.filter((f) => f === 'job.ha.peer.suspended' || f === 'job.ha.peer.functional' || f === 'job.ha.peer.back' || f.startsWith('step ')),
    [
      'step check',
      'step download-first',
      'step download-second',
      'step prepare-first',
      'step upgrade-first',
      'step restore-first',
      'job.ha.peer.back',
      'step prepare-second',
      'job.ha.peer.suspended',
      'step upgrade-second',
      'step restore-second',
      'job.ha.peer.functional',
      'job.ha.peer.back',
      'step verify',
    ],
  );
  t.like(end.context, { status: 'complete', progress: 100, first: PASSIVE, second: ACTIVE, suspended: null, step: null, error: null });
  t.false(toPairStatusRecord(end.context).ready_for_install, 'an upgrade has installed: nothing is left ready for install');
  t.is(end.context.message, `HA pair upgraded to 10.5.1: fw-dc1-02 (${PASSIVE}) first, then fw-dc1-01 (${ACTIVE}); fw-dc1-02 (${PASSIVE}) active, fw-dc1-01 (${ACTIVE}) passive, config synchronized`);
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when the strategy is active-first then the active peer is suspended and upgraded first, and its partner after failing back', async (t) => {
  const h = pairActor({ submitted: { strategy: 'active-first' } });
  h.send({ type: 'start' });
  const end = await ended(h);

  t.deepEqual(h.states, UPGRADE_STATES);
  t.deepEqual(
    h.calls.filter((c) => !c.startsWith('checkPair') && !c.startsWith('verifyPair')),
    [
      `runChild download-first ${ACTIVE} download-first`,
      `runChild download-second ${PASSIVE} download-second`,
      `preparePeer prepare-first ${ACTIVE}`,
      `runChild upgrade-first ${ACTIVE} upgrade-first`,
      `restorePeer restore-first ${ACTIVE}`,
      `preparePeer prepare-second ${PASSIVE}`,
      `runChild upgrade-second ${PASSIVE} upgrade-second`,
      `restorePeer restore-second ${PASSIVE}`,
    ],
  );
  const turns = h.emitted.filter((f) => f.type === 'job.ha.peer.suspended' || f.type === 'job.ha.peer.functional').map((f) => `${f.type} ${(f.data as { serial: string }).serial}`);
  t.deepEqual(turns, [`job.ha.peer.suspended ${ACTIVE}`, `job.ha.peer.functional ${ACTIVE}`, `job.ha.peer.suspended ${PASSIVE}`, `job.ha.peer.functional ${PASSIVE}`]);
  t.like(end.context, { status: 'complete', first: ACTIVE, second: PASSIVE, suspended: null });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when a step fails before any peer is suspended then the job fails at once without recovering', async (t) => {
  const h = pairActor({
    effects: (d) => ({
      runChild: (input, io) => (input.role === 'upgrade-first' ? io.failed('reboot never returned') : d.runChild(input, io)),
    }),
  });
  h.send({ type: 'start' });
  const end = await ended(h);

  t.deepEqual(h.states.slice(-2), ['upgradingFirst', 'failed']);
  t.false(h.states.includes('recovering'));
  t.false(h.calls.some((c) => c.startsWith('recover')) || secondPeerTouched(h));
  t.deepEqual(types(h).slice(-2), ['job.ha.step.failed', 'job.ha.failed']);
  t.like(end.context, {
    status: 'failed',
    suspended: null,
    message: 'HA pair job failed at upgrade-first: reboot never returned',
    error: { step: 'upgrade-first', reason: 'HA pair job failed at upgrade-first: reboot never returned' },
  });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when the pre-check fails then the job fails at check and no peer is touched', async (t) => {
  const h = pairActor({ effects: () => ({ checkPair: (_input, io) => io.failed('pre-checks failed: running config is not synchronized') }) });
  h.send({ type: 'start' });
  const end = await ended(h);

  t.deepEqual(h.states, ['pending', 'checking', 'failed']);
  t.deepEqual(h.calls, ['checkPair check']);
  t.is(end.context.message, 'HA pair job failed at check: pre-checks failed: running config is not synchronized');
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when the second peer’s upgrade fails after it was suspended then it is made functional again before the job fails', async (t) => {
  const h = pairActor({
    effects: (d) => ({
      runChild: (input, io) => (input.role === 'upgrade-second' ? io.failed('install failed: Image file is corrupted') : d.runChild(input, io)),
    }),
  });
  h.send({ type: 'start' });
  const end = await ended(h);

  t.deepEqual(h.states.slice(-3), ['upgradingSecond', 'recovering', 'failed']);
  t.is(h.calls.at(-1), `recover recover ${ACTIVE}`);
  t.deepEqual(types(h).slice(-4), ['job.ha.step.failed', 'step recover', 'job.ha.peer.functional', 'job.ha.failed']);
  t.is(h.roles.get(ACTIVE), 'passive');
  t.like(end.context, {
    status: 'failed',
    suspended: null,
    message: 'HA pair job failed at upgrade-second: install failed: Image file is corrupted',
    error: { step: 'upgrade-second' },
  });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when the failover is not confirmed after the suspend then the suspended peer is made functional again before the job fails', async (t) => {
  const h = pairActor({
    effects: (d) => ({
      preparePeer: (input, io) => {
        if (input.step !== 'prepare-second') return d.preparePeer(input, io);
        io.fact({ type: 'job.ha.peer.suspended', data: { serial: input.serial! } });
        h.roles.set(input.serial!, 'suspended');
        io.failed('fw-dc1-02 did not become active within 30 s');
      },
    }),
  });
  h.send({ type: 'start' });
  const end = await ended(h);

  t.deepEqual(h.states.slice(-3), ['preparingSecond', 'recovering', 'failed']);
  t.false(h.calls.some((c) => c.includes('upgrade-second')));
  t.is(h.roles.get(ACTIVE), 'passive');
  t.like(end.context, { status: 'failed', suspended: null, error: { step: 'prepare-second' } });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when recovery fails too then the job fails naming the peer that is still suspended', async (t) => {
  const h = pairActor({
    effects: (d) => ({
      runChild: (input, io) => (input.role === 'upgrade-second' ? io.failed('install failed') : d.runChild(input, io)),
      recover: (_input, io) => io.failed('no answer'),
    }),
  });
  h.send({ type: 'start' });
  const end = await ended(h);

  t.deepEqual(h.states.slice(-2), ['recovering', 'failed']);
  t.like(end.context, { status: 'failed', suspended: ACTIVE });
  t.is(end.context.message, `HA pair job failed at upgrade-second: install failed; ${ACTIVE} could not be made functional again: check it now`);
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when cancelled before it starts then it ends cancelled and no effect runs', async (t) => {
  const h = pairActor();
  h.send({ type: 'cancel', by: 'operator' });
  const end = await ended(h);

  t.deepEqual(h.states, ['pending', 'cancelled']);
  t.deepEqual(h.calls, []);
  t.deepEqual(types(h), ['job.ha.cancel.requested', 'job.ha.cancelled']);
  t.like(end.context, { status: 'cancelled', cancelRequested: true, message: 'Cancelled before it started' });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when cancelled during the first peer’s upgrade then that peer is brought back and the job stops before the second peer', async (t) => {
  const { h, release } = heldAt('runChild', 'upgrade-first');
  h.send({ type: 'start' });
  await waitFor(h.actor, (s) => s.matches('upgradingFirst'));
  h.send({ type: 'cancel', by: 'operator' });
  h.send({ type: 'cancel', by: 'operator' });
  // A cancel never interrupts a peer mid-upgrade: it is noted, once, and acted on when the peer is back.
  t.true(h.actor.getSnapshot().matches('upgradingFirst'));
  t.true(h.actor.getSnapshot().context.cancelRequested);
  release();
  const end = await ended(h);

  t.deepEqual(h.states.slice(-3), ['upgradingFirst', 'restoringFirst', 'cancelled']);
  t.false(secondPeerTouched(h));
  t.is(types(h).filter((f) => f === 'job.ha.cancel.requested').length, 1);
  t.like(end.context, {
    status: 'cancelled',
    message: `Cancelled after restore-first; both peers are serving (${PASSIVE} is upgraded, its peer is not)`,
  });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when cancelled during the second peer’s upgrade then it is too late to stop and the pair is finished and verified', async (t) => {
  const { h, release } = heldAt('runChild', 'upgrade-second');
  h.send({ type: 'start' });
  await waitFor(h.actor, (s) => s.matches('upgradingSecond'));
  h.send({ type: 'cancel', by: 'operator' });
  release();
  const end = await ended(h);

  t.deepEqual(h.states.slice(-4), ['upgradingSecond', 'restoringSecond', 'verifying', 'complete']);
  t.like(end.context, { status: 'complete', cancelRequested: true, suspended: null });
  t.regex(end.context.message, /; the cancel came after the second peer’s upgrade had begun, too late to stop it$/);
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when cancelled while the second peer is being failed over from then it is made functional again untouched and the job ends cancelled', async (t) => {
  const { h, release } = heldAt('preparePeer', 'prepare-second');
  h.send({ type: 'start' });
  await waitFor(h.actor, (s) => s.matches('preparingSecond'));
  h.send({ type: 'cancel', by: 'operator' });
  release();
  const end = await ended(h);

  t.deepEqual(h.states.slice(-3), ['preparingSecond', 'restoringSecond', 'cancelled']);
  t.false(h.calls.some((c) => c.startsWith('runChild upgrade-second')), 'the second peer is not upgraded');
  t.like(end.context, { status: 'cancelled', suspended: null, message: `Cancelled after restore-second; both peers are serving (${PASSIVE} is upgraded, its peer is not)` });
  t.is(h.roles.get(ACTIVE), 'passive', 'the suspended peer is functional again');
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when the second peer’s child job is cancelled with the pair before it started then that peer is brought back and the job ends cancelled, not failed', async (t) => {
  let cancelChild: (() => void) | undefined;
  const h = pairActor({
    effects: (d) => ({
      runChild: (input, io) => {
        if (input.role !== 'upgrade-second') return d.runChild(input, io);
        io.fact({ type: 'job.ha.child.created', data: { role: 'upgrade-second', jobId: 'child-2', serial: input.serial! } });
        cancelChild = () => {
          io.fact({ type: 'job.ha.child.finished', data: { role: 'upgrade-second', jobId: 'child-2', serial: input.serial!, status: 'cancelled', message: 'Cancelled before it started' } });
          io.failed('upgrade second job child-2 ended cancelled');
        };
      },
    }),
  });
  h.send({ type: 'start' });
  await waitFor(h.actor, (s) => s.matches('upgradingSecond'));
  h.send({ type: 'cancel', by: 'operator' });
  cancelChild!();
  const end = await ended(h);

  t.deepEqual(h.states.slice(-3), ['upgradingSecond', 'restoringSecond', 'cancelled']);
  t.false(types(h).includes('job.ha.step.failed'));
  t.like(end.context, { status: 'cancelled', suspended: null });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: a child job that fails on its own while no cancel was asked fails the pair as before', async (t) => {
  const h = pairActor({
    effects: (d) => ({
      runChild: (input, io) => {
        if (input.role !== 'upgrade-second') return d.runChild(input, io);
        io.fact({ type: 'job.ha.child.created', data: { role: 'upgrade-second', jobId: 'child-2', serial: input.serial! } });
        io.fact({ type: 'job.ha.child.finished', data: { role: 'upgrade-second', jobId: 'child-2', serial: input.serial!, status: 'cancelled', message: 'Cancelled by someone' } });
        io.failed('upgrade second job child-2 ended cancelled');
      },
    }),
  });
  h.send({ type: 'start' });
  const end = await ended(h);
  t.is(end.context.status, 'failed');
  t.true(h.states.includes('recovering'));
});

test('ha pair machine: when pausing between peers then it waits after the first peer until resumed, and a resume at another time is ignored', async (t) => {
  const { h, release } = heldAt('runChild', 'upgrade-first', { submitted: { pauseBetweenPeers: true } });
  h.send({ type: 'start' });
  await waitFor(h.actor, (s) => s.matches('upgradingFirst'));
  h.send({ type: 'resume', by: 'too-early' });
  release();
  const paused = await waitFor(h.actor, (s) => s.matches('paused'));

  t.like(paused.context, { paused: true, step: 'pause', message: 'Paused between peers: 001234567891 is upgraded. Resume with: panos-upgrade job resume pair-1' });
  t.false(secondPeerTouched(h));
  t.false(types(h).includes('job.ha.resumed'));

  h.send({ type: 'resume', by: 'alice' });
  const end = await ended(h);
  t.deepEqual(h.states.slice(6, 9), ['restoringFirst', 'paused', 'preparingSecond']);
  t.like(
    h.emitted.find((f) => f.type === 'job.ha.resumed'),
    { data: { by: 'alice' } },
  );
  t.like(end.context, { status: 'complete', paused: false });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when cancelled while paused then it ends cancelled at once with the first peer upgraded', async (t) => {
  const h = pairActor({ submitted: { pauseBetweenPeers: true } });
  h.send({ type: 'start' });
  await waitFor(h.actor, (s) => s.matches('paused'));
  h.send({ type: 'cancel', by: 'operator' });
  const end = await ended(h);

  t.deepEqual(h.states.slice(-2), ['paused', 'cancelled']);
  t.false(secondPeerTouched(h));
  t.like(end.context, { status: 'cancelled', message: `Cancelled after pause; both peers are serving (${PASSIVE} is upgraded, its peer is not)` });
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when the job is download-only then it completes after both peers’ downloads without preparing any peer', async (t) => {
  const h = pairActor({ submitted: { kind: 'download-only' } });
  h.send({ type: 'start' });
  const end = await ended(h);

  t.deepEqual(h.states, ['pending', 'checking', 'downloadingFirst', 'downloadingSecond', 'complete']);
  t.like(end.context, {
    status: 'download_complete',
    progress: 100,
    message: `Images on both peers: ${PASSIVE}: download-first done; ${ACTIVE}: download-second done`,
  });
  t.deepEqual(end.context, h.folded());
  // What a script polling the pair's job id waits for, as it would on a single device's download-only job.
  t.like(toPairStatusRecord(end.context), { upgrade_status: 'download_complete', download_only: true, ready_for_install: true });
  t.false(toPairStatusRecord(foldPair(h.emitted.filter((f) => f.type !== 'job.ha.completed'), h.initial)).ready_for_install, 'not before the pair is done');
});

test('ha pair machine: each step effect gets the pair with that step and the logged time it began, from which its waits count', async (t) => {
  const seen: Array<[string, string | null, string | null]> = [];
  const h = pairActor({
    effects: (d) => ({
      preparePeer: (input, io) => {
        seen.push([input.step, input.pair.step, input.pair.stepStartedAt]);
        d.preparePeer(input, io);
      },
    }),
  });
  h.send({ type: 'start' });
  await ended(h);
  const started = h.emitted.filter((f) => f.type === 'job.ha.step.started' && f.data.step.startsWith('prepare'));
  t.deepEqual(seen, started.map((f) => [(f as { data: { step: string } }).data.step, (f as { data: { step: string } }).data.step, f.at]));
});

test('ha pair machine: finishing a half-upgraded pair skips the upgraded peer’s turn (nothing downloaded, suspended or installed on it) and upgrades its peer', async (t) => {
  const h = pairActor({ submitted: { upgraded: PASSIVE, versions: ['10.1.0'] } });
  h.send({ type: 'start' });
  const end = await ended(h);
  t.deepEqual(h.states, ['pending', 'checking', 'downloadingSecond', 'preparingSecond', 'upgradingSecond', 'restoringSecond', 'verifying', 'complete']);
  t.false(h.calls.some((c) => / (download|prepare|upgrade|restore)-first /.test(`${c} `)), h.calls.join('; '));
  t.like(end.context, { status: 'complete', first: PASSIVE, second: ACTIVE, upgraded: PASSIVE });
  t.regex(end.context.message, /^HA pair finished at 10\.1\.0: fw-dc1-01 \(001234567890\) upgraded \(fw-dc1-02 \(001234567891\) already ran it\)/);
  t.deepEqual(end.context, h.folded());
});

test('ha pair machine: when cancelled during the first peer’s download then it stops after that download, before the second peer’s', async (t) => {
  const { h, release } = heldAt('runChild', 'download-first');
  h.send({ type: 'start' });
  await waitFor(h.actor, (s) => s.matches('downloadingFirst'));
  h.send({ type: 'cancel', by: 'operator' });
  release();
  const end = await ended(h);
  t.deepEqual(h.states.slice(-2), ['downloadingFirst', 'cancelled']);
  t.false(h.calls.some((c) => c.startsWith('runChild download-second')));
  t.deepEqual(end.context, h.folded());
});

test('HA pair record: a pair cancelled while paused between its peers is not shown as paused (job status offered a resume the daemon refuses)', (t) => {
  const paused = evolvePair(initialPairState(), { type: 'job.ha.paused', data: { reason: 'Paused between peers' } });
  t.true(toPairStatusRecord(paused).paused);
  const cancelled = evolvePair(paused, { type: 'job.ha.cancelled', data: { reason: 'Cancelled by the operator' } });
  t.like(toPairStatusRecord(cancelled), { upgrade_status: 'cancelled', paused: false });
});
