import type { ReadinessPolicy } from '../checks/policy.ts';
import type { JobDevice, JobKind } from './upgrade-job.events.ts';
import type { UpgradeStatus } from './upgrade-job.fold.ts';

export type HaStrategy = 'passive-first' | 'active-first';

/** The steps of an HA pair job; `first`/`second` are the peers in the order they are upgraded. */
export type PairStep =
  | 'check'
  | 'download-first'
  | 'download-second'
  | 'prepare-first'
  | 'upgrade-first'
  | 'restore-first'
  | 'pause'
  | 'prepare-second'
  | 'upgrade-second'
  | 'restore-second'
  | 'verify'
  | 'recover';

export type ChildRole = 'download-first' | 'download-second' | 'upgrade-first' | 'upgrade-second';

/** The facts of an HA pair job's `job:<id>` stream (all `job.ha.*`). */
export type PairFact =
  | {
      type: 'job.ha.submitted';
      data: {
        jobId: string;
        kind: JobKind;
        strategy: HaStrategy;
        pauseBetweenPeers: boolean;
        targetVersion: string | null;
        peers: [JobDevice, JobDevice];
        versions: string[];
        /** The readiness policy of the pair's check step and of both peers' child jobs; absent in pairs recorded before it was kept (the shipped default). */
        readiness?: ReadinessPolicy;
        /**
         * Finishing a half-upgraded pair: the peer that already runs the pair's final version. It goes
         * first and its turn is skipped (nothing downloaded, suspended or installed on it); only its peer
         * is upgraded, after failing over to it.
         */
        upgraded?: string;
      };
    }
  | { type: 'job.ha.started'; data: Record<string, never> }
  | { type: 'job.ha.step.started'; data: { step: PairStep } }
  | {
      type: 'job.ha.checked';
      data: { first: string; second: string; active: string; passive: string; preemptive: boolean; runningSync: string; version: string };
    }
  | { type: 'job.ha.child.created'; data: { role: ChildRole; jobId: string; serial: string } }
  | { type: 'job.ha.child.finished'; data: { role: ChildRole; jobId: string; serial: string; status: UpgradeStatus; message: string } }
  | { type: 'job.ha.peer.suspended'; data: { serial: string; epoch?: number } }
  | { type: 'job.ha.failover.confirmed'; data: { active: string } }
  /** Recorded before `request high-availability state functional` is sent to the suspended peer; `epoch` on a cluster. */
  | { type: 'job.ha.peer.functional.requested'; data: { serial: string; epoch?: number } }
  | { type: 'job.ha.peer.functional'; data: { serial: string; state: string } }
  | { type: 'job.ha.peer.back'; data: { serial: string; state: string; runningSync: string } }
  | { type: 'job.ha.paused'; data: { reason: string } }
  | { type: 'job.ha.resumed'; data: { by: string } }
  | { type: 'job.ha.verified'; data: { active: string; passive: string; runningSync: string } }
  | { type: 'job.ha.step.failed'; data: { step: PairStep; reason: string } }
  | { type: 'job.ha.cancel.requested'; data: { by: string } }
  | { type: 'job.ha.completed'; data: { message: string } }
  | { type: 'job.ha.failed'; data: { step: PairStep | null; reason: string } }
  | { type: 'job.ha.cancelled'; data: { reason: string } };

export type PairFactType = PairFact['type'];

/** Every `job.ha.*` fact type, in the order a pair job records them. */
export const PAIR_FACT_TYPES: readonly PairFactType[] = [
  'job.ha.submitted',
  'job.ha.started',
  'job.ha.step.started',
  'job.ha.checked',
  'job.ha.child.created',
  'job.ha.child.finished',
  'job.ha.peer.suspended',
  'job.ha.failover.confirmed',
  'job.ha.peer.functional.requested',
  'job.ha.peer.functional',
  'job.ha.peer.back',
  'job.ha.paused',
  'job.ha.resumed',
  'job.ha.verified',
  'job.ha.step.failed',
  'job.ha.cancel.requested',
  'job.ha.completed',
  'job.ha.failed',
  'job.ha.cancelled',
];

export interface PairChild {
  role: ChildRole;
  jobId: string;
  serial: string;
  status: UpgradeStatus | null;
  message: string;
}

export interface PairState {
  jobId: string;
  kind: JobKind;
  strategy: HaStrategy;
  pauseBetweenPeers: boolean;
  targetVersion: string | null;
  peers: JobDevice[];
  versions: string[];
  /** The readiness policy given for the pair (undefined: the daemon's default). */
  readiness?: ReadinessPolicy;
  /** Finishing a half-upgraded pair: the peer already on the final version, whose turn is skipped. */
  upgraded: string | null;
  /** Serial upgraded first and second, once checked. */
  first: string | null;
  second: string | null;
  preemptive: boolean;
  status: UpgradeStatus;
  message: string;
  progress: number;
  step: PairStep | null;
  /** When the current step began (its job.ha.step.started fact): its waits count from it across a crash (DESIGN.md). */
  stepStartedAt: string | null;
  children: PairChild[];
  /** The peer this job suspended and has not yet made functional again. */
  suspended: string | null;
  /** The suspended peer a functional request was recorded for (it may or may not have been sent). */
  functionalRequested: string | null;
  /** Steps whose effect is recorded done (`prepare-first` once the failover is confirmed): a resumed one only completes. */
  done: PairStep[];
  paused: boolean;
  cancelRequested: boolean;
  /** Why the job is failing, kept while the suspended peer is being restored. */
  failure: { step: PairStep | null; reason: string } | null;
  error: { step: PairStep | null; reason: string } | null;
  submittedAt: string | null;
  updatedAt: string | null;
  finishedAt: string | null;
}

export function initialPairState(): PairState {
  return {
    jobId: '',
    kind: 'upgrade',
    strategy: 'passive-first',
    pauseBetweenPeers: false,
    targetVersion: null,
    peers: [],
    versions: [],
    upgraded: null,
    first: null,
    second: null,
    preemptive: false,
    status: 'pending',
    message: 'Queued',
    progress: 0,
    step: null,
    stepStartedAt: null,
    children: [],
    suspended: null,
    functionalRequested: null,
    done: [],
    paused: false,
    cancelRequested: false,
    failure: null,
    error: null,
    submittedAt: null,
    updatedAt: null,
    finishedAt: null,
  };
}

const STEP_PROGRESS: Record<PairStep, number> = {
  check: 3,
  'download-first': 5,
  'download-second': 15,
  'prepare-first': 20,
  'upgrade-first': 22,
  'restore-first': 50,
  pause: 52,
  'prepare-second': 55,
  'upgrade-second': 60,
  'restore-second': 90,
  verify: 95,
  recover: 95,
};

/** `hostname (serial)` of a peer, for messages. */
export function nameOf(s: PairState, serial: string | null): string {
  const d = s.peers.find((p) => p.serial === serial);
  return d ? `${d.hostname} (${d.serial})` : (serial ?? '?');
}

function stepMessage(s: PairState, step: PairStep): string {
  switch (step) {
    case 'check':
      return 'Checking the pair: both peers up, one active and one passive, config synchronized, same version';
    case 'download-first':
      return `Downloading images to ${nameOf(s, s.first)} (sync to peer)`;
    case 'download-second':
      return `Downloading images to ${nameOf(s, s.second)}`;
    case 'prepare-first':
      return `Preparing ${nameOf(s, s.first)}`;
    case 'upgrade-first':
      return `Upgrading ${nameOf(s, s.first)}`;
    case 'restore-first':
      return `Waiting for ${nameOf(s, s.first)} to rejoin the pair`;
    case 'pause':
      return `Paused between peers: ${nameOf(s, s.first)} is upgraded; resume to upgrade ${nameOf(s, s.second)}`;
    case 'prepare-second':
      return `Suspending ${nameOf(s, s.second)} to fail over to ${nameOf(s, s.first)}`;
    case 'upgrade-second':
      return `Upgrading ${nameOf(s, s.second)}`;
    case 'restore-second':
      return `Making ${nameOf(s, s.second)} functional again`;
    case 'verify':
      return 'Verifying final roles and config sync';
    case 'recover':
      return `Making ${nameOf(s, s.suspended)} functional again before failing`;
  }
}

/** Whether the log says the step's effect is done: a step resumed after a crash then only completes. */
export function pairStepDone(state: PairState, step: PairStep): boolean {
  return (state.done ?? []).includes(step);
}

function markStepDone(s: PairState, step: PairStep | null): PairStep[] {
  const done = s.done ?? [];
  return step === null || done.includes(step) ? done : [...done, step];
}

export function evolvePair(state: PairState, fact: PairFact & { at?: string }): PairState {
  const s: PairState = { ...state, updatedAt: fact.at ?? state.updatedAt };
  switch (fact.type) {
    case 'job.ha.submitted': {
      const d = fact.data;
      return {
        ...s,
        jobId: d.jobId,
        kind: d.kind,
        strategy: d.strategy,
        pauseBetweenPeers: d.pauseBetweenPeers,
        targetVersion: d.targetVersion,
        peers: [...d.peers],
        versions: d.versions,
        ...(d.readiness ? { readiness: d.readiness } : {}),
        upgraded: d.upgraded ?? null,
        submittedAt: fact.at ?? null,
        message: `Queued: HA pair ${d.peers.map((p) => p.hostname).join(' / ')}${d.kind === 'download-only' ? ' (download only)' : ''}${d.upgraded ? ` (finishing it: ${d.peers.find((p) => p.serial === d.upgraded)?.hostname ?? d.upgraded} already runs ${d.versions.at(-1) ?? '?'})` : ''}`,
      };
    }
    case 'job.ha.started':
      return { ...s, status: 'validating', message: 'Starting', progress: 1 };
    case 'job.ha.step.started': {
      const step = fact.data.step;
      const status: UpgradeStatus =
        step === 'pause'
          ? 'paused'
          : step === 'check' || step === 'verify'
            ? 'validating'
            : step.startsWith('download')
              ? 'downloading'
              : step.startsWith('upgrade')
                ? 'installing'
                : 'rebooting';
      const progress = s.kind === 'download-only' ? (step === 'download-second' ? 50 : 5) : STEP_PROGRESS[step];
      return { ...s, step, stepStartedAt: fact.at ?? null, status: step === 'recover' ? s.status : status, message: stepMessage(s, step), progress: Math.max(s.progress, progress) };
    }
    case 'job.ha.checked':
      return { ...s, first: fact.data.first, second: fact.data.second, preemptive: fact.data.preemptive, done: markStepDone(s, 'check') };
    case 'job.ha.child.created': {
      const { role, jobId, serial } = fact.data;
      return { ...s, children: [...s.children.filter((c) => c.role !== role), { role, jobId, serial, status: 'pending', message: 'Queued' }] };
    }
    case 'job.ha.child.finished': {
      const { role, status, message } = fact.data;
      return { ...s, children: s.children.map((c) => (c.role === role ? { ...c, status, message } : c)) };
    }
    case 'job.ha.peer.suspended':
      return { ...s, suspended: fact.data.serial, message: `${nameOf(s, fact.data.serial)} suspended` };
    case 'job.ha.failover.confirmed':
      return { ...s, done: markStepDone(s, s.step), message: `${nameOf(s, fact.data.active)} is active` };
    case 'job.ha.peer.functional.requested':
      return { ...s, functionalRequested: fact.data.serial };
    case 'job.ha.peer.functional':
      return {
        ...s,
        suspended: s.suspended === fact.data.serial ? null : s.suspended,
        functionalRequested: null,
        done: s.step === 'recover' ? markStepDone(s, 'recover') : (s.done ?? []),
        message: `${nameOf(s, fact.data.serial)} functional again (${fact.data.state})`,
      };
    case 'job.ha.peer.back':
      return { ...s, done: markStepDone(s, s.step), message: `${nameOf(s, fact.data.serial)} is back: ${fact.data.state}, config ${fact.data.runningSync}` };
    case 'job.ha.paused':
      return { ...s, paused: true, message: fact.data.reason };
    case 'job.ha.resumed':
      return { ...s, paused: false, message: `Resumed by ${fact.data.by}` };
    case 'job.ha.verified':
      return { ...s, done: markStepDone(s, 'verify'), message: `${nameOf(s, fact.data.active)} active, ${nameOf(s, fact.data.passive)} passive, config ${fact.data.runningSync}` };
    case 'job.ha.step.failed':
      return { ...s, failure: s.failure ?? { step: fact.data.step, reason: fact.data.reason }, message: fact.data.reason };
    case 'job.ha.cancel.requested':
      return { ...s, cancelRequested: true };
    case 'job.ha.completed':
      return {
        ...s,
        status: s.kind === 'download-only' ? 'download_complete' : 'complete',
        message: fact.data.message,
        progress: 100,
        step: null,
        finishedAt: fact.at ?? null,
      };
    case 'job.ha.failed':
      return { ...s, status: 'failed', message: fact.data.reason, error: { step: fact.data.step, reason: fact.data.reason }, finishedAt: fact.at ?? null };
    case 'job.ha.cancelled':
      return { ...s, status: 'cancelled', message: fact.data.reason, finishedAt: fact.at ?? null };
    default: {
      const unreachable: never = fact;
      return unreachable;
    }
  }
}

export const pairFold = { initialState: initialPairState, evolve: evolvePair };

export function foldPair(facts: ReadonlyArray<PairFact & { at?: string }>, from: PairState = initialPairState()): PairState {
  return facts.reduce(evolvePair, from);
}

/** An HA pair job as `job status` and the NATS API show it: the device-job fields plus the peers. */
export interface PairStatusRecord {
  job_id: string;
  kind: 'ha-upgrade' | 'ha-download-only';
  download_only: boolean;
  /** As a device's download-only job: true once both peers have every image of the path (download_complete). */
  ready_for_install: boolean;
  device_serial: string;
  hostname: string;
  devices: string[];
  upgrade_status: UpgradeStatus;
  upgrade_message: string;
  progress: number;
  target_version: string | null;
  path: string[];
  step: PairStep | null;
  strategy: HaStrategy;
  first: string | null;
  second: string | null;
  suspended: string | null;
  paused: boolean;
  /** Finishing a half-upgraded pair: the peer that already runs the final version and is left alone. */
  upgraded: string | null;
  peers: Array<{ role: ChildRole; serial: string; job_id: string; status: UpgradeStatus | null; message: string }>;
  error: { step: PairStep | null; reason: string } | null;
  submitted_at: string | null;
  updated_at: string | null;
  finished_at: string | null;
}

export function toPairStatusRecord(s: PairState): PairStatusRecord {
  return {
    job_id: s.jobId,
    kind: s.kind === 'download-only' ? 'ha-download-only' : 'ha-upgrade',
    download_only: s.kind === 'download-only',
    ready_for_install: s.kind === 'download-only' && s.status === 'download_complete',
    device_serial: s.peers.map((p) => p.serial).join('+'),
    hostname: s.peers.map((p) => p.hostname).join(' / '),
    devices: s.peers.map((p) => p.serial),
    upgrade_status: s.status,
    upgrade_message: s.message,
    progress: s.progress,
    target_version: s.targetVersion ?? s.versions.at(-1) ?? null,
    path: s.versions,
    step: s.step,
    strategy: s.strategy,
    first: s.first,
    second: s.second,
    suspended: s.suspended,
    // Paused between the peers until resumed or ended: an ended pair offers no resume.
    paused: s.paused && s.status !== 'complete' && s.status !== 'failed' && s.status !== 'cancelled',
    upgraded: s.upgraded,
    peers: s.children.map((c) => ({ role: c.role, serial: c.serial, job_id: c.jobId, status: c.status, message: c.message })),
    error: s.error,
    submitted_at: s.submittedAt,
    updated_at: s.updatedAt,
    finished_at: s.finishedAt,
  };
}
