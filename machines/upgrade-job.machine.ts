import { enqueueActions, setup } from 'xstate';
import { notProvidedCallback } from './effects.ts';
import { compareSnapshots, defaultReadinessPolicy, describeRegressions } from '../checks/index.ts';
import type { JobFact, JobStep } from './upgrade-job.events.ts';
import { downloadSummary, effectKey, evolveJob, initialJobState, type JobState } from './upgrade-job.fold.ts';

/** Events the machine receives: from its host (start, cancel), from step effects, and from its timer. */
export type UpgradeJobEvent =
  | { type: 'start'; now: number }
  | { type: 'cancel'; by: string; now: number }
  /** A fact a step effect reports while it works (requested, enqueued, progress…). */
  | { type: 'fact'; fact: JobFact; now: number }
  | { type: 'step.done'; now: number }
  | { type: 'step.failed'; reason: string; retryable: boolean; now: number }
  | { type: 'deadline.reached'; now: number };

/** A fact with the time it happened at, as it goes into the log. */
export type StampedJobFact = JobFact & { at: string };

export type UpgradeJobEmitted = { type: 'facts'; facts: StampedJobFact[] };

/** What every step effect receives: the job as it stands, and which step and hop to do. */
export interface StepInput {
  job: JobState;
  step: JobStep;
  hop: number;
}

type Ctx = JobState;
type Ev = UpgradeJobEvent;

/** Record facts: fold them into the context (so context always equals the fold of the log) and emit them. */
function record(make: (ctx: Ctx, ev: Ev) => JobFact[]) {
  return enqueueActions<Ctx, Ev, undefined, Ev, never, never, never, never, UpgradeJobEmitted>(({ context, event, enqueue }) => {
    const at = new Date(event.now).toISOString();
    const facts = make(context, event).map((f) => ({ ...f, at }));
    if (facts.length === 0) return;
    enqueue.assign(() => facts.reduce((s, f) => evolveJob(s, f), context));
    enqueue.emit({ type: 'facts', facts });
  });
}

function hopOf(ctx: Ctx): { version: string | null; action: string | null } {
  const h = ctx.plan[ctx.hop];
  return { version: h?.version ?? null, action: h?.action ?? null };
}

function stepStarted(step: JobStep) {
  return record((ctx) => [{ type: 'job.step.started', data: { step, hop: ctx.hop, version: hopOf(ctx).version, attempt: ctx.step === step ? ctx.attempt + 1 : 1 } }]);
}

/** The job's snapshot comparison limits: its policy's, or the shipped default for jobs recorded without one. */
function snapshotRules(ctx: Ctx) {
  return (ctx.policy.readiness ?? defaultReadinessPolicy()).snapshots;
}

function completionMessage(ctx: Ctx): string {
  if (ctx.kind === 'download-only') return downloadSummary(ctx.downloadedVersions, ctx.skippedVersions);
  const installs = ctx.plan.filter((h) => h.action === 'install');
  const from = ctx.device?.swVersion ?? '?';
  return `Upgrade complete: ${from} → ${ctx.runningVersion ?? installs.at(-1)?.version ?? '?'} (${installs.length} hop(s)), post-checks passed`;
}

const STEP_NAMES: Record<JobStep, string> = {
  validate: 'Validation',
  'pre-snapshot': 'Pre-upgrade snapshot',
  content: 'Content update',
  download: 'Download',
  install: 'Install',
  reboot: 'Reboot',
  'post-snapshot': 'Post-upgrade snapshot',
  compare: 'Post-upgrade check',
};

/**
 * The upgrade of one device, or the pre-staging of its images (download-only). Pure: every I/O step is
 * an effect provided by `actors/`; the context is exactly the fold of the facts the machine recorded.
 *
 * @remarks
 * Upgrade: pending → validating → [content] → preSnapshot → per hop: downloading (skipped when the
 * image is present) → installing → rebooting (waits for the device and verifies the version) →
 * postSnapshot → comparing → complete. Download-only: pending → validating → downloading each
 * missing image → download_complete. A retryable failure waits `retryBackoffMs · 2^(attempt-1)`
 * (an absolute deadline, so it survives a restart) and runs the step again; a cancel takes effect
 * between steps, never inside an install or a reboot.
 */
export const upgradeJobMachine = setup({
  types: {} as { context: JobState; events: UpgradeJobEvent; input: { state: JobState }; emitted: UpgradeJobEmitted },
  actors: {
    validate: notProvidedCallback<StepInput>('validate'),
    snapshot: notProvidedCallback<StepInput>('snapshot'),
    updateContent: notProvidedCallback<StepInput>('updateContent'),
    download: notProvidedCallback<StepInput>('download'),
    install: notProvidedCallback<StepInput>('install'),
    reboot: notProvidedCallback<StepInput>('reboot'),
    deadline: notProvidedCallback<{ at: number }>('deadline'),
  },
  actions: {
    recordStarted: record(() => [{ type: 'job.started', data: {} }]),
    recordFact: record((_ctx, ev) => (ev.type === 'fact' ? [ev.fact] : [])),
    startValidate: stepStarted('validate'),
    startContent: stepStarted('content'),
    startPreSnapshot: stepStarted('pre-snapshot'),
    startDownload: stepStarted('download'),
    startInstall: stepStarted('install'),
    startReboot: stepStarted('reboot'),
    startPostSnapshot: stepStarted('post-snapshot'),
    completeStep: record((ctx) => (ctx.step ? [{ type: 'job.step.completed', data: { step: ctx.step, hop: ctx.hop, version: hopOf(ctx).version } }] : [])),
    nextHop: record((ctx) => [{ type: 'job.hop.completed', data: { hop: ctx.hop, version: hopOf(ctx).version ?? '' } }]),
    recordFailure: record((ctx, ev) => {
      if (ev.type !== 'step.failed' || !ctx.step) return [];
      return [{ type: 'job.step.failed', data: { step: ctx.step, hop: ctx.hop, version: hopOf(ctx).version, reason: ev.reason, retryable: ev.retryable, attempt: ctx.attempt } }];
    }),
    scheduleRetry: record((ctx, ev) => {
      if (!ctx.step) return [];
      const delay = ctx.policy.retryBackoffMs * 2 ** Math.max(0, ctx.attempt - 1);
      return [{ type: 'job.retry.scheduled', data: { step: ctx.step, attempt: ctx.attempt + 1, at: ev.now + delay } }];
    }),
    fail: record((ctx, ev) => {
      const step = ctx.step;
      const reason = ev.type === 'step.failed' ? ev.reason : 'failed';
      const what = step ? `${STEP_NAMES[step]}${hopOf(ctx).version && ['download', 'install', 'reboot'].includes(step) ? ` of ${hopOf(ctx).version}` : ''}` : 'Job';
      return [{ type: 'job.failed', data: { step, reason: `${what} failed on ${ctx.device?.serial ?? '?'}: ${reason}` } }];
    }),
    compare: record((ctx) => {
      if (!ctx.pre || !ctx.post) return [{ type: 'job.checks.evaluated', data: { results: [], ok: false } }];
      const { areas, ok } = compareSnapshots(ctx.pre, ctx.post, snapshotRules(ctx));
      return [{ type: 'job.checks.evaluated', data: { results: areas, ok } }];
    }),
    failChecks: record((ctx) => [
      { type: 'job.failed', data: { step: 'compare', reason: `Post-upgrade check failed on ${ctx.device?.serial ?? '?'}: ${ctx.pre && ctx.post ? describeRegressions({ ok: false, areas: ctx.checks }) : 'no snapshot to compare'}` } },
    ]),
    complete: record((ctx) => [{ type: 'job.completed', data: { message: completionMessage(ctx) } }]),
    requestCancel: record((ctx, ev) => (ev.type === 'cancel' && !ctx.cancelRequested ? [{ type: 'job.cancel.requested', data: { by: ev.by } }] : [])),
    cancel: record((ctx) => {
      // Between hops the step is cleared and `hop` already points at the next one: name the hop just done.
      const version = ctx.step ? hopOf(ctx).version : (ctx.plan[ctx.hop - 1]?.version ?? null);
      // What the device is left with: the version it runs, and one installed that runs at its next reboot (whoever reboots it).
      const pending = ctx.plan.findLast((h, i) => h.action === 'install' && ctx.done.includes(effectKey('install', i)) && !ctx.done.includes(effectKey('reboot', i)));
      const left = [ctx.runningVersion ? `the device runs ${ctx.runningVersion}` : '', pending ? `${pending.version} is installed and runs at its next reboot` : ''].filter(Boolean).join(', and ');
      return [
        {
          type: 'job.cancelled',
          data: {
            reason:
              ctx.status === 'pending'
                ? 'Cancelled before it started'
                : `Cancelled after ${ctx.step ? STEP_NAMES[ctx.step].toLowerCase() : 'the last step'}${version ? ` (${version})` : ''}${left ? `: ${left}` : ''}`,
          },
        },
      ];
    }),
  },
  guards: {
    downloadOnly: ({ context }) => context.kind === 'download-only',
    cancelRequested: ({ context }) => context.cancelRequested,
    retryable: ({ context, event }) => event.type === 'step.failed' && event.retryable && context.attempt < context.policy.maxAttempts,
    hopsDone: ({ context }) => context.hop >= context.plan.length,
    downloadHop: ({ context }) => context.plan[context.hop]?.action === 'download',
    needsContent: ({ context }) => context.notes.includes('content update needed'),
    checksPassed: ({ context }) => context.pre !== null && context.post !== null && context.checks.every((c) => c.ok || c.severity !== 'block'),
    retryingValidate: ({ context }) => context.step === 'validate',
    retryingContent: ({ context }) => context.step === 'content',
    retryingPreSnapshot: ({ context }) => context.step === 'pre-snapshot',
    retryingDownload: ({ context }) => context.step === 'download',
    retryingInstall: ({ context }) => context.step === 'install',
    retryingReboot: ({ context }) => context.step === 'reboot',
    retryingPostSnapshot: ({ context }) => context.step === 'post-snapshot',
  },
}).createMachine({
  id: 'upgradeJob',
  context: ({ input }) => input.state,
  initial: 'pending',
  on: {
    fact: { actions: 'recordFact' },
  },
  states: {
    pending: {
      on: {
        start: { target: 'validating', actions: 'recordStarted' },
        cancel: { target: 'cancelled', actions: 'cancel' },
      },
    },
    validating: {
      entry: 'startValidate',
      invoke: { src: 'validate', input: ({ context }) => ({ job: context, step: 'validate' as const, hop: context.hop }) },
      on: {
        cancel: { actions: 'requestCancel' },
        'step.done': [
          { guard: 'cancelRequested', target: 'cancelled', actions: ['completeStep', 'cancel'] },
          { guard: 'downloadOnly', target: 'hop', actions: 'completeStep' },
          { guard: 'needsContent', target: 'content', actions: 'completeStep' },
          { target: 'preSnapshot', actions: 'completeStep' },
        ],
        'step.failed': [
          { guard: 'retryable', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: ['recordFailure', 'fail'] },
        ],
      },
    },
    content: {
      entry: 'startContent',
      invoke: { src: 'updateContent', input: ({ context }) => ({ job: context, step: 'content' as const, hop: context.hop }) },
      on: {
        cancel: { actions: 'requestCancel' },
        'step.done': [
          { guard: 'cancelRequested', target: 'cancelled', actions: ['completeStep', 'cancel'] },
          { target: 'preSnapshot', actions: 'completeStep' },
        ],
        'step.failed': [
          { guard: 'retryable', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: ['recordFailure', 'fail'] },
        ],
      },
    },
    preSnapshot: {
      entry: 'startPreSnapshot',
      invoke: { src: 'snapshot', input: ({ context }) => ({ job: context, step: 'pre-snapshot' as const, hop: context.hop }) },
      on: {
        cancel: { actions: 'requestCancel' },
        'step.done': [
          { guard: 'cancelRequested', target: 'cancelled', actions: ['completeStep', 'cancel'] },
          { target: 'hop', actions: 'completeStep' },
        ],
        'step.failed': [
          { guard: 'retryable', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: ['recordFailure', 'fail'] },
        ],
      },
    },
    /** Decide what the current hop needs. */
    hop: {
      always: [
        { guard: 'cancelRequested', target: 'cancelled', actions: 'cancel' },
        { guard: { type: 'hopsDone' }, target: 'finishing' },
        { target: 'downloading' },
      ],
    },
    downloading: {
      entry: 'startDownload',
      invoke: { src: 'download', input: ({ context }) => ({ job: context, step: 'download' as const, hop: context.hop }) },
      on: {
        cancel: { actions: 'requestCancel' },
        'step.done': [
          { guard: 'downloadOnly', target: 'hop', actions: ['completeStep', 'nextHop'] },
          { guard: 'downloadHop', target: 'hop', actions: ['completeStep', 'nextHop'] },
          { guard: 'cancelRequested', target: 'cancelled', actions: ['completeStep', 'cancel'] },
          { target: 'installing', actions: 'completeStep' },
        ],
        'step.failed': [
          { guard: 'retryable', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: ['recordFailure', 'fail'] },
        ],
      },
    },
    installing: {
      entry: 'startInstall',
      invoke: { src: 'install', input: ({ context }) => ({ job: context, step: 'install' as const, hop: context.hop }) },
      on: {
        cancel: { actions: 'requestCancel' },
        'step.done': [
          { guard: 'cancelRequested', target: 'cancelled', actions: ['completeStep', 'cancel'] },
          { target: 'rebooting', actions: 'completeStep' },
        ],
        'step.failed': [
          { guard: 'retryable', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: ['recordFailure', 'fail'] },
        ],
      },
    },
    rebooting: {
      entry: 'startReboot',
      invoke: { src: 'reboot', input: ({ context }) => ({ job: context, step: 'reboot' as const, hop: context.hop }) },
      on: {
        cancel: { actions: 'requestCancel' },
        'step.done': { target: 'hop', actions: ['completeStep', 'nextHop'] },
        'step.failed': [
          { guard: 'retryable', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: ['recordFailure', 'fail'] },
        ],
      },
    },
    finishing: {
      always: [{ guard: 'downloadOnly', target: 'complete', actions: 'complete' }, { target: 'postSnapshot' }],
    },
    postSnapshot: {
      entry: 'startPostSnapshot',
      invoke: { src: 'snapshot', input: ({ context }) => ({ job: context, step: 'post-snapshot' as const, hop: context.hop }) },
      on: {
        'step.done': { target: 'comparing', actions: 'completeStep' },
        'step.failed': [
          { guard: 'retryable', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: ['recordFailure', 'fail'] },
        ],
      },
    },
    comparing: {
      entry: 'compare',
      always: [{ guard: 'checksPassed', target: 'complete', actions: 'complete' }, { target: 'failed', actions: 'failChecks' }],
    },
    retrying: {
      // A failed step is a step boundary: a cancel requested while it ran takes effect instead of the retry.
      always: { guard: 'cancelRequested', target: 'cancelled', actions: 'cancel' },
      invoke: { src: 'deadline', input: ({ context }) => ({ at: context.retryAt ?? 0 }) },
      on: {
        cancel: { target: 'cancelled', actions: ['requestCancel', 'cancel'] },
        'deadline.reached': [
          { guard: 'retryingValidate', target: 'validating' },
          { guard: 'retryingContent', target: 'content' },
          { guard: 'retryingPreSnapshot', target: 'preSnapshot' },
          { guard: 'retryingDownload', target: 'downloading' },
          { guard: 'retryingInstall', target: 'installing' },
          { guard: 'retryingReboot', target: 'rebooting' },
          { guard: 'retryingPostSnapshot', target: 'postSnapshot' },
          { target: 'failed', actions: 'fail' },
        ],
      },
    },
    complete: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

export type UpgradeJobMachine = typeof upgradeJobMachine;

/** A fresh job's input: the state right after its `job.submitted` fact. */
export function submittedJobState(submitted: Extract<JobFact, { type: 'job.submitted' }>, at: string): JobState {
  return evolveJob(initialJobState(), { ...submitted, at });
}
