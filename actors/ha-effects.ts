import type { Logger } from 'pino';
import { describeBlocking, type ReadinessReport } from '../checks/index.ts';
import { fromCallback } from 'xstate';
import { featureRelease } from '../panos/version.ts';
import type { HaState } from '../panos/parsers.ts';
import { pairStepDone, type ChildRole, type PairFact, type PairState } from '../machines/ha-pair.fold.ts';
import type { PairEvent, PairStepInput } from '../machines/ha-pair.machine.ts';
import type { JobDevice } from '../machines/upgrade-job.events.ts';
import type { JobState } from '../machines/upgrade-job.fold.ts';
import type { DeviceApi } from './device-api.ts';
import { STEP_STOPPED, stepDeadline, throwIfStopped } from './step-stopped.ts';
import { FencedOffError, withEpoch, type Fence } from './fence.ts';

/** What the HA pair effects need from the daemon. */
export interface PairDeps {
  api: (device: JobDevice) => DeviceApi;
  /** Create (idempotently, under the given id) a child job of the pair for one peer, and start it. */
  startChild: (pair: PairState, role: ChildRole, jobId: string, device: JobDevice) => Promise<void>;
  /** Resolves with the child's final state; starts it first if the daemon restored it unstarted. */
  awaitChild: (jobId: string) => Promise<JobState | undefined>;
  /** Whether a child job of that id was made (its stream has a fact). */
  childExists: (jobId: string) => boolean;
  newJobId: () => string;
  durable: (pairId: string) => Promise<void>;
  /** The pair job as it stands now (undefined for a pair the daemon does not host). */
  current: (pairId: string) => PairState | undefined;
  /** How often, and how long, to poll HA state while waiting for a role change. */
  pollMs: number;
  roleTimeoutMs: number;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  log: Logger;
  /** The readiness checks of one peer (read-only); both peers are checked before either is touched. */
  preflight?: (pair: PairState, device: JobDevice, signal: AbortSignal) => Promise<ReadinessReport | undefined>;
  /** On a cluster: the lease check (intents carry its epoch; `api` is fenced by the daemon). */
  fence?: Fence;
}

interface PairContext {
  signal: AbortSignal;
  record: (fact: PairFact) => Promise<void>;
}

type PairStepFn = (input: PairStepInput, ctx: PairContext) => Promise<void>;

function pairStep(deps: PairDeps, run: PairStepFn) {
  return fromCallback<{ type: string }, PairStepInput>(({ input, sendBack }) => {
    const ac = new AbortController();
    const send = (e: PairEvent): void => {
      if (!ac.signal.aborted) sendBack(e as { type: string });
    };
    const ctx: PairContext = {
      signal: ac.signal,
      record: async (fact) => {
        throwIfStopped(ac.signal);
        const serial = (fact.data as { serial?: unknown }).serial;
        send({ type: 'fact', fact: withEpoch(fact, typeof serial === 'string' ? serial : undefined, deps.fence), now: deps.now() });
        await deps.durable(input.pair.jobId);
        // Stopped while it waited: its runner appended nothing more, and what the fact announces is not done.
        throwIfStopped(ac.signal);
      },
    };
    // A step restored after a restart is restarted by XState with the input it was first invoked with:
    // what it recorded since (its child's id, a suspension) is only in the pair's current state.
    const pair = deps.current(input.pair.jobId) ?? input.pair;
    // The step's effect is already recorded done (a crash came before the step moved on): only complete it.
    const already = pairStepDone(pair, input.step);
    if (already) deps.log.info({ jobId: pair.jobId, step: input.step }, 'HA pair step already done: completing it');
    (already ? Promise.resolve() : run({ ...input, pair }, ctx)).then(
      () => send({ type: 'step.done', now: deps.now() }),
      (err: unknown) => {
        if (ac.signal.aborted) return;
        const reason = err instanceof Error ? err.message : String(err);
        // The lease is gone: the pair is another daemon's now, and this one records nothing more of it.
        if (err instanceof FencedOffError) return void deps.log.warn({ jobId: input.pair.jobId, step: input.step, reason }, 'HA pair step stopped: lease lost');
        deps.log.warn({ jobId: input.pair.jobId, step: input.step, reason }, 'HA pair step failed');
        send({ type: 'step.failed', reason, now: deps.now() });
      },
    );
    return () => ac.abort(STEP_STOPPED);
  });
}

function peer(pair: PairState, serial: string | null): JobDevice {
  const d = pair.peers.find((p) => p.serial === serial);
  if (!d) throw new Error(`peer ${serial ?? '?'} is not part of the pair`);
  return d;
}

function other(pair: PairState, serial: string): JobDevice {
  const d = pair.peers.find((p) => p.serial !== serial);
  if (!d) throw new Error('the pair has only one peer');
  return d;
}

/**
 * Poll a peer's HA state until `ok` holds; the last state seen goes into the timeout message. The time
 * allowed counts from when the pair's step began, as logged: a daemon restarted during the wait does not
 * get a fresh timeout (DESIGN.md, waits that span a crash).
 */
async function waitForHa(deps: PairDeps, ctx: PairContext, pair: PairState, device: JobDevice, what: string, ok: (ha: HaState) => boolean, waits = 1): Promise<HaState> {
  // `waits`: how many waits of the step come before this one's end, each allowed the role timeout.
  const allowedMs = deps.roleTimeoutMs * waits;
  const deadline = stepDeadline(pair.stepStartedAt, deps.now(), allowedMs);
  let last = 'no answer';
  for (;;) {
    try {
      const ha = await deps.api(device).haState({ signal: ctx.signal });
      if (ok(ha)) return ha;
      last = `${ha.local?.state ?? 'unknown'}, config ${ha.runningSync ?? 'unknown'}`;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    if (deps.now() >= deadline) throw new Error(`${device.hostname} (${device.serial}) did not become ${what} within ${Math.round(allowedMs / 1000)} s of the step's start (last seen: ${last})`);
    await deps.sleep(deps.pollMs, ctx.signal);
  }
}

/** Serving and in sync: passive or active, and synchronized unless the peers run different feature releases. */
function back(ha: HaState): boolean {
  const state = ha.local?.state;
  if (state !== 'passive' && state !== 'active') return false;
  const local = ha.local?.buildRel;
  const remote = ha.peer?.buildRel;
  const sameRelease = local && remote ? featureRelease(local) === featureRelease(remote) : true;
  return !sameRelease || ha.runningSyncEnabled === false || ha.runningSync === 'synchronized';
}

export function checkPairStep(deps: PairDeps): PairStepFn {
  return async ({ pair }, ctx) => {
    const [a, b] = pair.peers as [JobDevice, JobDevice];
    const [ha, hb] = [await deps.api(a).haState({ signal: ctx.signal }), await deps.api(b).haState({ signal: ctx.signal })];
    const problems: string[] = [];
    if (!ha.enabled || !hb.enabled) problems.push('HA is not enabled on both peers');
    const sa = ha.local?.state;
    const sb = hb.local?.state;
    const active = sa === 'active' ? a : sb === 'active' ? b : undefined;
    const passive = sa === 'passive' ? a : sb === 'passive' ? b : undefined;
    // Finishing a half-upgraded pair: the upgraded peer runs the final version, the other the version it was
    // planned from; peers of different feature releases cannot synchronize their configuration.
    const upgraded = pair.upgraded ? peer(pair, pair.upgraded) : undefined;
    const releases = [ha.local?.buildRel, hb.local?.buildRel];
    const sameRelease = !releases[0] || !releases[1] || featureRelease(releases[0]) === featureRelease(releases[1]);
    if (pair.kind === 'upgrade') {
      if (!active || !passive || active === passive) problems.push(`expected one active and one passive peer, found ${a.hostname} ${sa ?? '?'} and ${b.hostname} ${sb ?? '?'}`);
      if (sameRelease && ha.runningSyncEnabled !== false && ha.runningSync !== 'synchronized') problems.push(`the peers' running configs are not synchronized (HA reports "${ha.runningSync ?? 'unknown'}")`);
      if (upgraded) {
        for (const [i, d] of [a, b].entries()) {
          const expected = d === upgraded ? pair.versions.at(-1) : d.swVersion;
          const version = releases[i];
          if (version && expected && version !== expected) problems.push(`${d.hostname} (${d.serial}) runs ${version}, not ${expected} as when the job was submitted`);
        }
      } else if (releases[0] && releases[1] && releases[0] !== releases[1]) {
        problems.push(`the peers run different versions (${releases[0]} and ${releases[1]}): submit the pair again to finish it`);
      }
      if (ha.local?.preemptive === undefined) problems.push('preemption state unknown');
    }
    if (pair.kind === 'upgrade' && deps.preflight) {
      for (const peer of [a, b]) {
        const report = await deps.preflight(pair, peer, ctx.signal);
        if (report && !report.ok) problems.push(`readiness check failed on ${peer.hostname} (${peer.serial}): ${describeBlocking(report.verdicts)}`);
      }
    }
    if (problems.length > 0) throw new Error(`pre-checks failed: ${problems.join('; ')}`);
    const first = upgraded ?? (pair.strategy === 'active-first' ? (active ?? a) : (passive ?? a));
    const second = first === a ? b : a;
    await ctx.record({
      type: 'job.ha.checked',
      data: {
        first: first.serial,
        second: second.serial,
        active: active?.serial ?? '',
        passive: passive?.serial ?? '',
        preemptive: ha.local?.preemptive === true || hb.local?.preemptive === true,
        runningSync: ha.runningSync ?? 'unknown',
        version: ha.local?.buildRel ?? a.swVersion,
      },
    });
  };
}

export function runChildStep(deps: PairDeps): PairStepFn {
  return async ({ pair, role, serial }, ctx) => {
    if (!role) throw new Error('no child role');
    const device = peer(pair, serial);
    let child = pair.children.find((c) => c.role === role);
    if (!child && role.startsWith('upgrade') && deps.current(pair.jobId)?.cancelRequested) {
      // Cancelled before this peer's upgrade was made: it is not made, and the pair brings the peer back.
      const jobId = deps.newJobId();
      await ctx.record({ type: 'job.ha.child.created', data: { role, jobId, serial: device.serial } });
      await ctx.record({ type: 'job.ha.child.finished', data: { role, jobId, serial: device.serial, status: 'cancelled', message: 'Not started: the HA pair job was cancelled' } });
      throw new Error(`${role.replace('-', ' ')} of ${device.hostname} (${device.serial}) not started: the HA pair job was cancelled`);
    }
    if (!child) {
      const jobId = deps.newJobId();
      // Recorded before the child exists: after a crash the pair finds its child by this id.
      await ctx.record({ type: 'job.ha.child.created', data: { role, jobId, serial: device.serial } });
      child = { role, jobId, serial: device.serial, status: 'pending', message: '' };
    }
    if (child.status === null || child.status === 'pending' || !['complete', 'download_complete', 'failed', 'cancelled'].includes(child.status)) {
      throwIfStopped(ctx.signal);
      try {
        await deps.startChild(pair, role, child.jobId, device);
      } catch (err) {
        // Never made (its plan refused, the device gone from the inventory): the pair says so, rather than
        // pointing at a pending job that does not exist. A stop (daemon shutting down) is not that.
        if (!ctx.signal.aborted && !deps.childExists(child.jobId)) {
          const message = `Not started: ${err instanceof Error ? err.message : String(err)}`;
          await ctx.record({ type: 'job.ha.child.finished', data: { role, jobId: child.jobId, serial: device.serial, status: 'failed', message } });
        }
        throw err;
      }
      const final = await deps.awaitChild(child.jobId);
      if (!final) throw new Error(`child job ${child.jobId} of ${device.serial} is gone`);
      await ctx.record({ type: 'job.ha.child.finished', data: { role, jobId: child.jobId, serial: device.serial, status: final.status, message: final.message } });
      child = { ...child, status: final.status, message: final.message };
    }
    if (child.status !== 'complete' && child.status !== 'download_complete') {
      throw new Error(`${role.replace('-', ' ')} job ${child.jobId} on ${device.hostname} (${device.serial}) ended ${child.status}: ${child.message}`);
    }
  };
}

/**
 * Make the peer this job suspended functional again, sent at most once: the intent is recorded first;
 * the device then decides. Not suspended any more → the request (this one or one before a crash) took
 * effect and nothing is sent; still suspended → none took effect (the device applies it at once), send it.
 */
async function makeFunctional(deps: PairDeps, ctx: PairContext, pair: PairState, device: JobDevice): Promise<void> {
  const api = deps.api(device);
  const before = await api.haState({ signal: ctx.signal });
  if (before.local?.state === 'suspended') {
    if (pair.functionalRequested !== device.serial) await ctx.record({ type: 'job.ha.peer.functional.requested', data: { serial: device.serial } });
    await api.haFunctional({ signal: ctx.signal });
  }
  const ha = await waitForHa(deps, ctx, pair, device, 'functional', (h) => h.local?.state !== 'suspended');
  await ctx.record({ type: 'job.ha.peer.functional', data: { serial: device.serial, state: ha.local?.state ?? 'unknown' } });
}

export function preparePeerStep(deps: PairDeps): PairStepFn {
  return async ({ pair, serial }, ctx) => {
    const device = peer(pair, serial);
    const partner = other(pair, device.serial);
    const ha = await deps.api(device).haState({ signal: ctx.signal });
    const state = ha.local?.state;
    if (state !== 'active' && pair.suspended !== device.serial) return; // passive: nothing to fail over
    if (pair.suspended !== device.serial) {
      // Recorded before the suspend is sent: whatever happens next, recovery knows to make it functional again.
      await ctx.record({ type: 'job.ha.peer.suspended', data: { serial: device.serial } });
    }
    if (state !== 'suspended') await deps.api(device).haSuspend({ signal: ctx.signal });
    await waitForHa(deps, ctx, pair, partner, 'active', (h) => h.local?.state === 'active');
    await ctx.record({ type: 'job.ha.failover.confirmed', data: { active: partner.serial } });
  };
}

export function restorePeerStep(deps: PairDeps): PairStepFn {
  return async ({ pair, serial }, ctx) => {
    const device = peer(pair, serial);
    if (pair.suspended === device.serial) await makeFunctional(deps, ctx, pair, device);
    // Its own wait after the functional one: the step allows both (counted from its logged start).
    const ha = await waitForHa(deps, ctx, pair, device, 'passive or active and synchronized', back, 2);
    await ctx.record({ type: 'job.ha.peer.back', data: { serial: device.serial, state: ha.local?.state ?? 'unknown', runningSync: ha.runningSync ?? 'unknown' } });
  };
}

export function verifyPairStep(deps: PairDeps): PairStepFn {
  return async ({ pair }, ctx) => {
    const [a, b] = pair.peers as [JobDevice, JobDevice];
    const ha = await waitForHa(deps, ctx, pair, a, 'in a healthy pair', (h) => {
      const roles = new Set([h.local?.state, h.peer?.state]);
      return roles.has('active') && roles.has('passive') && (h.runningSyncEnabled === false || h.runningSync === 'synchronized');
    });
    const active = ha.local?.state === 'active' ? a : b;
    await ctx.record({ type: 'job.ha.verified', data: { active: active.serial, passive: other(pair, active.serial).serial, runningSync: ha.runningSync ?? 'unknown' } });
  };
}

export function recoverStep(deps: PairDeps): PairStepFn {
  return async ({ pair }, ctx) => {
    if (!pair.suspended) return;
    await makeFunctional(deps, ctx, pair, peer(pair, pair.suspended));
  };
}

export function pairEffects(deps: PairDeps) {
  return {
    checkPair: pairStep(deps, checkPairStep(deps)),
    runChild: pairStep(deps, runChildStep(deps)),
    preparePeer: pairStep(deps, preparePeerStep(deps)),
    restorePeer: pairStep(deps, restorePeerStep(deps)),
    verifyPair: pairStep(deps, verifyPairStep(deps)),
    recover: pairStep(deps, recoverStep(deps)),
  };
}
