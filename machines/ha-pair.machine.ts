import { enqueueActions, setup } from 'xstate';
import { notProvidedCallback } from './effects.ts';
import { evolvePair, initialPairState, nameOf, type ChildRole, type PairFact, type PairState, type PairStep } from './ha-pair.fold.ts';

export type PairEvent =
  | { type: 'start'; now: number }
  | { type: 'cancel'; by: string; now: number }
  | { type: 'resume'; by: string; now: number }
  | { type: 'fact'; fact: PairFact; now: number }
  | { type: 'step.done'; now: number }
  | { type: 'step.failed'; reason: string; now: number };

export type StampedPairFact = PairFact & { at: string };
export type PairEmitted = { type: 'facts'; facts: StampedPairFact[] };

/** What a pair step effect receives. */
export interface PairStepInput {
  pair: PairState;
  step: PairStep;
  /** The peer the step is about (prepare/upgrade/restore), or the child job's role. */
  serial: string | null;
  role: ChildRole | null;
}

type Ctx = PairState;
type Ev = PairEvent;

function record(make: (ctx: Ctx, ev: Ev) => PairFact[]) {
  return enqueueActions<Ctx, Ev, undefined, Ev, never, never, never, never, PairEmitted>(({ context, event, enqueue }) => {
    const at = new Date(event.now).toISOString();
    const facts = make(context, event).map((f) => ({ ...f, at }));
    if (facts.length === 0) return;
    enqueue.assign(() => facts.reduce((s, f) => evolvePair(s, f), context));
    enqueue.emit({ type: 'facts', facts });
  });
}

const started = (step: PairStep) => record(() => [{ type: 'job.ha.step.started', data: { step } }]);

function input(step: PairStep, which: 'first' | 'second' | null, role: ChildRole | null) {
  return ({ context }: { context: Ctx }): PairStepInput => ({ pair: context, step, serial: which ? context[which] : context.suspended, role });
}

const onFailure = { target: 'failing', actions: 'recordFailure' } as const;

/**
 * One HA pair upgraded as a unit (Palo Alto's procedure): check the pair; put the images on both
 * peers (sync to peer); then for each peer in turn — passive first by default — fail over away from it
 * if it is active (suspend it, wait for the other to be active), upgrade it with a child upgrade job,
 * and bring it back (functional again if it was suspended, passive and synchronized); verify roles.
 *
 * @remarks
 * Invariants: the peers are upgraded one after the other, never together; the second peer is not
 * touched until the first is back; every failure after a suspension goes through `recovering`, which
 * makes the suspended peer functional again, so no peer is left suspended whatever the outcome.
 */
export const haPairMachine = setup({
  types: {} as { context: PairState; events: PairEvent; input: { state: PairState }; emitted: PairEmitted },
  actors: {
    checkPair: notProvidedCallback<PairStepInput>('checkPair'),
    runChild: notProvidedCallback<PairStepInput>('runChild'),
    preparePeer: notProvidedCallback<PairStepInput>('preparePeer'),
    restorePeer: notProvidedCallback<PairStepInput>('restorePeer'),
    verifyPair: notProvidedCallback<PairStepInput>('verifyPair'),
    recover: notProvidedCallback<PairStepInput>('recover'),
  },
  actions: {
    recordStarted: record(() => [{ type: 'job.ha.started', data: {} }]),
    recordFact: record((_c, ev) => (ev.type === 'fact' ? [ev.fact] : [])),
    startCheck: started('check'),
    startDownloadFirst: started('download-first'),
    startDownloadSecond: started('download-second'),
    startPrepareFirst: started('prepare-first'),
    startUpgradeFirst: started('upgrade-first'),
    startRestoreFirst: started('restore-first'),
    startPrepareSecond: started('prepare-second'),
    startUpgradeSecond: started('upgrade-second'),
    startRestoreSecond: started('restore-second'),
    startVerify: started('verify'),
    startRecover: started('recover'),
    pause: record((ctx) => [
      { type: 'job.ha.step.started', data: { step: 'pause' } },
      { type: 'job.ha.paused', data: { reason: `Paused between peers: ${ctx.first} is upgraded. Resume with: panos-upgrade job resume ${ctx.jobId}` } },
    ]),
    resume: record((_c, ev) => [{ type: 'job.ha.resumed', data: { by: ev.type === 'resume' ? ev.by : 'operator' } }]),
    recordFailure: record((ctx, ev) => [{ type: 'job.ha.step.failed', data: { step: ctx.step ?? 'check', reason: ev.type === 'step.failed' ? ev.reason : 'failed' } }]),
    requestCancel: record((ctx, ev) => (ctx.cancelRequested ? [] : [{ type: 'job.ha.cancel.requested', data: { by: ev.type === 'cancel' ? ev.by : 'operator' } }])),
    cancel: record((ctx) => [
      {
        type: 'job.ha.cancelled',
        data: {
          reason:
            ctx.status === 'pending'
              ? 'Cancelled before it started'
              : `Cancelled after ${ctx.step ?? 'the last step'}; both peers are serving${ctx.first && (ctx.upgraded === ctx.first || ctx.children.some((c) => c.role === 'upgrade-first' && c.status === 'complete')) ? ` (${ctx.first} is upgraded, its peer is not)` : ''}`,
        },
      },
    ]),
    complete: record((ctx) => [
      {
        type: 'job.ha.completed',
        data: {
          message:
            ctx.kind === 'download-only'
              ? `Images on both peers: ${ctx.children.map((c) => `${c.serial}: ${c.message}`).join('; ')}`
              : ctx.upgraded
                ? `HA pair finished at ${ctx.versions.at(-1) ?? '?'}: ${nameOf(ctx, ctx.second)} upgraded (${nameOf(ctx, ctx.upgraded)} already ran it); ${ctx.message}${ctx.cancelRequested ? '; the cancel came after the second peer’s upgrade had begun, too late to stop it' : ''}`
                : `HA pair upgraded to ${ctx.versions.at(-1) ?? '?'}: ${nameOf(ctx, ctx.first)} first, then ${nameOf(ctx, ctx.second)}; ${ctx.message}${ctx.cancelRequested ? '; the cancel came after the second peer’s upgrade had begun, too late to stop it' : ''}`,
        },
      },
    ]),
    fail: record((ctx) => {
      const f = ctx.failure ?? { step: ctx.step, reason: 'failed' };
      const recovered = ctx.suspended === null ? '' : `; ${ctx.suspended} could not be made functional again: check it now`;
      return [{ type: 'job.ha.failed', data: { step: f.step, reason: `HA pair job failed at ${f.step ?? 'start'}: ${f.reason}${recovered}` } }];
    }),
  },
  guards: {
    downloadOnly: ({ context }) => context.kind === 'download-only',
    pauseBetween: ({ context }) => context.pauseBetweenPeers,
    cancelRequested: ({ context }) => context.cancelRequested,
    /** The step's child job ended cancelled because this job was: the daemon cancels a child that had not started. */
    childCancelled: ({ context }) => context.cancelRequested && context.children.some((c) => c.role === context.step && c.status === 'cancelled'),
    suspendedPeer: ({ context }) => context.suspended !== null,
    /** Finishing a half-upgraded pair: the first peer already runs the final version, and its turn is skipped. */
    firstUpgraded: ({ context }) => !!context.upgraded && context.upgraded === context.first,
    /** Cancelled before the second peer's upgrade ran (its child cancelled, or never made). */
    secondNotUpgraded: ({ context }) => context.cancelRequested && !context.children.some((c) => c.role === 'upgrade-second' && c.status === 'complete'),
  },
}).createMachine({
  id: 'haPair',
  context: ({ input }) => input.state,
  initial: 'pending',
  on: { fact: { actions: 'recordFact' }, cancel: { actions: 'requestCancel' } },
  states: {
    pending: {
      on: { start: { target: 'checking', actions: 'recordStarted' }, cancel: { target: 'cancelled', actions: ['requestCancel', 'cancel'] } },
    },
    checking: {
      entry: 'startCheck',
      invoke: { src: 'checkPair', input: input('check', null, null) },
      on: {
        'step.done': [
          { guard: 'cancelRequested', target: 'cancelled', actions: 'cancel' },
          { guard: 'firstUpgraded', target: 'downloadingSecond' },
          { target: 'downloadingFirst' },
        ],
        'step.failed': onFailure,
      },
    },
    downloadingFirst: {
      entry: 'startDownloadFirst',
      invoke: { src: 'runChild', input: input('download-first', 'first', 'download-first') },
      on: { 'step.done': [{ guard: 'cancelRequested', target: 'cancelled', actions: 'cancel' }, { target: 'downloadingSecond' }], 'step.failed': onFailure },
    },
    downloadingSecond: {
      entry: 'startDownloadSecond',
      invoke: { src: 'runChild', input: input('download-second', 'second', 'download-second') },
      on: {
        'step.done': [
          { guard: 'downloadOnly', target: 'complete', actions: 'complete' },
          { guard: 'cancelRequested', target: 'cancelled', actions: 'cancel' },
          { guard: 'firstUpgraded', target: 'preparingSecond' },
          { target: 'preparingFirst' },
        ],
        'step.failed': onFailure,
      },
    },
    preparingFirst: {
      entry: 'startPrepareFirst',
      invoke: { src: 'preparePeer', input: input('prepare-first', 'first', null) },
      // Cancelled during the failover: the peer is brought back untouched, and the job stops.
      on: { 'step.done': [{ guard: 'cancelRequested', target: 'restoringFirst' }, { target: 'upgradingFirst' }], 'step.failed': onFailure },
    },
    upgradingFirst: {
      entry: 'startUpgradeFirst',
      invoke: { src: 'runChild', input: input('upgrade-first', 'first', 'upgrade-first') },
      on: { 'step.done': 'restoringFirst', 'step.failed': [{ guard: 'childCancelled', target: 'restoringFirst' }, onFailure] },
    },
    restoringFirst: {
      entry: 'startRestoreFirst',
      invoke: { src: 'restorePeer', input: input('restore-first', 'first', null) },
      on: {
        'step.done': [
          { guard: 'cancelRequested', target: 'cancelled', actions: 'cancel' },
          { guard: 'pauseBetween', target: 'paused', actions: 'pause' },
          { target: 'preparingSecond' },
        ],
        'step.failed': onFailure,
      },
    },
    paused: {
      on: { resume: { target: 'preparingSecond', actions: 'resume' }, cancel: { target: 'cancelled', actions: ['requestCancel', 'cancel'] } },
    },
    preparingSecond: {
      entry: 'startPrepareSecond',
      invoke: { src: 'preparePeer', input: input('prepare-second', 'second', null) },
      on: { 'step.done': [{ guard: 'cancelRequested', target: 'restoringSecond' }, { target: 'upgradingSecond' }], 'step.failed': onFailure },
    },
    upgradingSecond: {
      entry: 'startUpgradeSecond',
      invoke: { src: 'runChild', input: input('upgrade-second', 'second', 'upgrade-second') },
      on: { 'step.done': 'restoringSecond', 'step.failed': [{ guard: 'childCancelled', target: 'restoringSecond' }, onFailure] },
    },
    restoringSecond: {
      entry: 'startRestoreSecond',
      invoke: { src: 'restorePeer', input: input('restore-second', 'second', null) },
      on: {
        'step.done': [{ guard: 'secondNotUpgraded', target: 'cancelled', actions: 'cancel' }, { target: 'verifying' }],
        'step.failed': onFailure,
      },
    },
    verifying: {
      entry: 'startVerify',
      invoke: { src: 'verifyPair', input: input('verify', null, null) },
      on: { 'step.done': { target: 'complete', actions: 'complete' }, 'step.failed': onFailure },
    },
    failing: {
      always: [{ guard: 'suspendedPeer', target: 'recovering' }, { target: 'failed', actions: 'fail' }],
    },
    /** Whatever failed, a peer this job suspended is made functional again before the job ends. */
    recovering: {
      entry: 'startRecover',
      invoke: { src: 'recover', input: input('recover', null, null) },
      on: { 'step.done': { target: 'failed', actions: 'fail' }, 'step.failed': { target: 'failed', actions: 'fail' } },
    },
    complete: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

export type HaPairMachine = typeof haPairMachine;

export function submittedPairState(submitted: Extract<PairFact, { type: 'job.ha.submitted' }>, at: string): PairState {
  return evolvePair(initialPairState(), { ...submitted, at });
}
