import { enqueueActions, setup } from 'xstate';
import type { DeviceMetrics, FirewallRecord, HaLocalState, RunningSync } from '../panos/model.ts';
import { notProvidedCallback } from './effects.ts';
import {
  activeJob,
  crashDrawn,
  decideContentDownload,
  decideCrash,
  decideContentInstall,
  decideDownload,
  decideHa,
  decideInstall,
  decideRestart,
  finishActiveJob,
  onPeerInstall,
  rebootBooting,
  rebootCompleted,
  rebootDown,
  rebootReady,
  receiveImage,
  resumeStalledDownload,
  setHaState,
  setRunningSync,
  COMMIT_IN_PROGRESS,
  NEVER,
  type Decision,
  type DeviceFaults,
  type DeviceTiming,
  type Fact,
  type FirewallContext,
  type SimReply,
  type Transition,
} from './firewall.logic.ts';

export interface FirewallInput {
  record: FirewallRecord;
  timing: DeviceTiming;
  faults: DeviceFaults;
  /** State of the device's seeded generator. */
  rng: number;
}

/** Commands carry the time they happen at, so the machine never reads a clock. */
export type FirewallEvent =
  | { type: 'download.start'; version: string; syncToPeer?: boolean; now: number }
  /** A copy of an image from the HA peer (`sync-to-peer yes`). */
  | { type: 'image.received'; version: string; from: string; now: number }
  | { type: 'install.start'; version: string; now: number }
  | { type: 'content.download'; now: number }
  | { type: 'content.install'; version: string; now: number }
  | { type: 'restart'; now: number }
  | { type: 'ha.suspend'; now: number }
  | { type: 'ha.functional'; now: number }
  /** From the pair: failover, preemption, a peer coming back. */
  | { type: 'ha.set'; state: HaLocalState; reason?: string; now: number }
  | { type: 'ha.sync'; runningSync: RunningSync; now: number }
  | { type: 'faults.set'; faults: DeviceFaults; now: number }
  | { type: 'metrics.set'; metrics: Partial<DeviceMetrics>; now: number }
  /** Resume a stalled download. */
  | { type: 'download.unstall'; now: number }
  /** An unplanned reboot (chaos control): down at once for `downMs` (default: the device's reboot time). */
  | { type: 'crash'; downMs?: number; reason?: string; now: number }
  /** The HA peer started a software install: the `crash` fault may fire. */
  | { type: 'peer.install.started'; now: number }
  | { type: 'deadline.reached'; now: number };

/** Emitted synchronously while an event is processed: the caller's answer and the facts to log. */
export type FirewallEmitted = { type: 'reply'; reply: SimReply } | { type: 'facts'; facts: Fact[] };

type Ev<T extends FirewallEvent['type']> = Extract<FirewallEvent, { type: T }>;

type Decide = (ctx: FirewallContext, ev: FirewallEvent) => Decision;
type Step = (ctx: FirewallContext, ev: FirewallEvent) => Transition;

/** An action that answers a command: assign the decided context, emit facts, then the reply. */
function answer(decide: Decide) {
  return enqueueActions<FirewallContext, FirewallEvent, undefined, FirewallEvent, never, never, never, never, FirewallEmitted>(
    ({ context, event, enqueue }) => {
      const d = decide(context, event);
      if (d.context !== context) enqueue.assign(() => d.context);
      if (d.facts.length > 0) enqueue.emit({ type: 'facts', facts: d.facts });
      enqueue.emit({ type: 'reply', reply: d.reply });
    },
  );
}

/** An action for a change that has no caller to answer (a deadline, the HA pair, chaos control). */
function advance(step: Step) {
  return enqueueActions<FirewallContext, FirewallEvent, undefined, FirewallEvent, never, never, never, never, FirewallEmitted>(
    ({ context, event, enqueue }) => {
      const t = step(context, event);
      if (t.context !== context) enqueue.assign(() => t.context);
      if (t.facts.length > 0) enqueue.emit({ type: 'facts', facts: t.facts });
    },
  );
}

function reply(r: SimReply) {
  return answer((ctx) => ({ context: ctx, reply: r, facts: [] }));
}

const RESTARTING: SimReply = { kind: 'error', lines: ['Operation not possible: the device is restarting'] };
/** PAN-OS code 14: allowed, but not possible now. */
const NOT_NOW: SimReply = { kind: 'error', code: '14', lines: ['Operation not possible in the current state'] };
const COMMITTING: SimReply = { kind: 'error', lines: [COMMIT_IN_PROGRESS] };

/** What the software manager accepts whenever the management plane is fully up; a crash can happen then too. */
const softwareManager = {
  'download.start': { actions: 'startDownload' },
  'install.start': { actions: 'startInstall' },
  'content.download': { actions: 'startContentDownload' },
  'content.install': { actions: 'startContentInstall' },
  restart: { target: '#firewall.rebooting', actions: 'restart' },
  crash: { target: '#firewall.rebooting', actions: 'crash' },
  'peer.install.started': [{ guard: 'crashOnPeerInstall', target: '#firewall.rebooting', actions: 'peerInstall' }, { actions: 'peerInstall' }],
} as const;

/**
 * One simulated PAN-OS firewall. Pure: the rules live in firewall.logic.ts, time comes in events,
 * and the only effect is `deadline`, provided by the simulator with a real or simulated clock.
 *
 * @remarks
 * States: `online`; `downloading` and `installing` while the software manager runs a job (software or
 * content); `rebooting` through `stopping` (still answers), `down` (answers nothing), `starting` (web
 * server up, management plane not), `notReady` (answers, chassis not ready) and `autoCommit`.
 * Waits use absolute deadlines kept in context, so a restored actor resumes them on time.
 */
export const firewallMachine = setup({
  types: {} as {
    context: FirewallContext;
    events: FirewallEvent;
    input: FirewallInput;
    emitted: FirewallEmitted;
  },
  actors: {
    deadline: notProvidedCallback<{ at: number }>('deadline'),
  },
  actions: {
    startDownload: answer((ctx, ev) => {
      const e = ev as Ev<'download.start'>;
      return decideDownload(ctx, e.version, e.now, e.syncToPeer === true);
    }),
    receiveImage: advance((ctx, ev) => {
      const e = ev as Ev<'image.received'>;
      return receiveImage(ctx, e.version, e.from);
    }),
    startInstall: answer((ctx, ev) => decideInstall(ctx, (ev as Ev<'install.start'>).version, ev.now, false)),
    startInstallWhileCommitting: answer((ctx, ev) => decideInstall(ctx, (ev as Ev<'install.start'>).version, ev.now, true)),
    startContentDownload: answer((ctx, ev) => decideContentDownload(ctx, ev.now)),
    startContentInstall: answer((ctx, ev) => decideContentInstall(ctx, (ev as Ev<'content.install'>).version, ev.now, false)),
    startContentInstallWhileCommitting: answer((ctx, ev) => decideContentInstall(ctx, (ev as Ev<'content.install'>).version, ev.now, true)),
    restart: answer((ctx, ev) => decideRestart(ctx, ev.now)),
    suspend: answer((ctx, ev) => decideHa(ctx, 'suspend', ev.now)),
    functional: answer((ctx, ev) => decideHa(ctx, 'functional', ev.now)),
    refuseRestarting: reply(RESTARTING),
    refuseNow: reply(NOT_NOW),
    refuseCommitting: reply(COMMITTING),
    acknowledgeRestart: reply({ kind: 'text', text: 'Command succeeded with no output' }),
    finishJob: advance((ctx, ev) => finishActiveJob(ctx, ev.now)),
    unstall: advance((ctx, ev) => resumeStalledDownload(ctx, ev.now)),
    crash: advance((ctx, ev) => {
      const e = ev as Ev<'crash'>;
      return decideCrash(ctx, e.now, e.downMs, e.reason ?? 'Unplanned reboot');
    }),
    peerInstall: advance((ctx, ev) => onPeerInstall(ctx, ev.now)),
    goDown: advance((ctx) => rebootDown(ctx)),
    boot: advance((ctx, ev) => rebootBooting(ctx, ev.now)),
    becomeReady: advance((ctx, ev) => rebootReady(ctx, ev.now)),
    completeReboot: advance((ctx, ev) => rebootCompleted(ctx, ev.now)),
    setHa: advance((ctx, ev) => {
      const e = ev as Ev<'ha.set'>;
      return setHaState(ctx, e.state, e.now, e.reason);
    }),
    setSync: advance((ctx, ev) => setRunningSync(ctx, (ev as Ev<'ha.sync'>).runningSync)),
    setFaults: advance((ctx, ev) => {
      const faults = (ev as Ev<'faults.set'>).faults;
      return { context: { ...ctx, faults }, facts: [{ type: 'sim.faults.changed', data: { faults: faults as Record<string, unknown> } }] };
    }),
    setMetrics: advance((ctx, ev) => {
      const metrics = { ...ctx.record.metrics, ...(ev as Ev<'metrics.set'>).metrics };
      return { context: { ...ctx, record: { ...ctx.record, metrics } }, facts: [{ type: 'sim.metrics.changed', data: { ...metrics } }] };
    }),
  },
  guards: {
    downloadRunning: ({ context }) => activeJob(context)?.type === 'Downld',
    installRunning: ({ context }) => {
      const t = activeJob(context)?.type;
      return t === 'SWInstall' || t === 'Content';
    },
    returns: ({ context }) => context.reboot?.neverReturns !== true,
    crashOnPeerInstall: ({ context }) => context.faults.crash?.on === 'peer_install' && crashDrawn(context),
  },
}).createMachine({
  id: 'firewall',
  context: ({ input }) => ({ ...input, plan: null, reboot: null }),
  initial: 'online',
  on: {
    'ha.suspend': { actions: 'suspend' },
    'ha.functional': { actions: 'functional' },
    'ha.set': { actions: 'setHa' },
    'ha.sync': { actions: 'setSync' },
    'faults.set': { actions: 'setFaults' },
    'metrics.set': { actions: 'setMetrics' },
    'image.received': { actions: 'receiveImage' },
    '*': { actions: 'refuseNow' },
  },
  states: {
    online: {
      always: [
        { guard: 'downloadRunning', target: 'downloading' },
        { guard: 'installRunning', target: 'installing' },
      ],
      on: softwareManager,
    },
    downloading: {
      invoke: { src: 'deadline', input: ({ context }) => ({ at: context.plan?.stall ? NEVER : (context.plan?.at ?? 0) }) },
      on: {
        ...softwareManager,
        'deadline.reached': { target: 'online', actions: 'finishJob' },
        'download.unstall': { target: 'downloading', reenter: true, actions: 'unstall' },
      },
    },
    installing: {
      invoke: { src: 'deadline', input: ({ context }) => ({ at: context.plan?.at ?? 0 }) },
      on: { ...softwareManager, 'deadline.reached': { target: 'online', actions: 'finishJob' } },
    },
    rebooting: {
      initial: 'stopping',
      on: {
        restart: { actions: 'acknowledgeRestart' },
        'download.start': { actions: 'refuseRestarting' },
        'install.start': { actions: 'refuseRestarting' },
        'content.download': { actions: 'refuseRestarting' },
        'content.install': { actions: 'refuseRestarting' },
      },
      states: {
        stopping: {
          invoke: { src: 'deadline', input: ({ context }) => ({ at: context.reboot?.downAt ?? 0 }) },
          on: { 'deadline.reached': { target: 'down', actions: 'goDown' } },
        },
        down: {
          invoke: { src: 'deadline', input: ({ context }) => ({ at: context.reboot?.neverReturns ? NEVER : (context.reboot?.startingAt ?? 0) }) },
          on: { 'deadline.reached': { guard: 'returns', target: 'starting', actions: 'boot' } },
        },
        starting: {
          invoke: { src: 'deadline', input: ({ context }) => ({ at: context.reboot?.notReadyAt ?? 0 }) },
          on: { 'deadline.reached': { target: 'notReady' } },
        },
        notReady: {
          invoke: { src: 'deadline', input: ({ context }) => ({ at: context.reboot?.readyAt ?? 0 }) },
          on: { 'deadline.reached': { target: 'autoCommit', actions: 'becomeReady' } },
        },
        autoCommit: {
          invoke: { src: 'deadline', input: ({ context }) => ({ at: context.reboot?.autoCommitEndsAt ?? 0 }) },
          on: {
            'deadline.reached': { target: '#firewall.online', actions: 'completeReboot' },
            'install.start': { actions: 'startInstallWhileCommitting' },
            'content.install': { actions: 'startContentInstallWhileCommitting' },
            'download.start': { actions: 'refuseCommitting' },
            'content.download': { actions: 'refuseCommitting' },
          },
        },
      },
    },
  },
});

export type FirewallMachine = typeof firewallMachine;

/** Where a device stands, from the API's point of view. */
export type Reachability = 'up' | 'stopping' | 'down' | 'starting' | 'notReady' | 'autoCommit';

/** The reachability of a firewall snapshot's state value. */
export function reachabilityOf(value: unknown): Reachability {
  if (typeof value === 'object' && value !== null && 'rebooting' in value) {
    return (value as { rebooting: Reachability }).rebooting;
  }
  return 'up';
}
