import type { EventEnvelope } from '../eventstore/index.ts';

/**
 * TEST ONLY. A way for the crash tests (`npm run test:crash`, `panos-upgrade chaos --kills`) to
 * SIGKILL the daemon at an exact point: right after the n-th durable append of one event type.
 *
 * @remarks
 * It does nothing unless BOTH variables are set, so that no user trips it by accident:
 * - `PANOS_UPGRADE_TEST_HOOKS=1` says "this process runs under a test harness";
 * - `PANOS_UPGRADE_TEST_CRASH_AFTER=<event type>[:<n>]` (n defaults to 1), e.g. `job.install.completed:2`.
 * `PANOS_UPGRADE_TEST_CRASH_SIGNAL=SIGSTOP` freezes the process there instead of killing it (the cluster
 * tests' paused leader, woken later with SIGCONT); SIGKILL by default.
 * The kill happens inside the store's append listener: after the commit is flushed to disk, and before
 * the append resolves, so the job that recorded the event never acts on it.
 */
export interface CrashPoint {
  type: string;
  nth: number;
  signal: 'SIGKILL' | 'SIGSTOP';
}

export const TEST_HOOKS_ENV = 'PANOS_UPGRADE_TEST_HOOKS';
export const CRASH_AFTER_ENV = 'PANOS_UPGRADE_TEST_CRASH_AFTER';
export const CRASH_SIGNAL_ENV = 'PANOS_UPGRADE_TEST_CRASH_SIGNAL';

/** The crash point the environment asks for, or undefined when the test hooks are not switched on. */
export function crashPointFromEnv(env: NodeJS.ProcessEnv): CrashPoint | undefined {
  if (env[TEST_HOOKS_ENV] !== '1') return undefined;
  const spec = env[CRASH_AFTER_ENV]?.trim();
  if (!spec) return undefined;
  const m = /^([a-z][a-z0-9.-]*[a-z0-9])(?::(\d+))?$/.exec(spec);
  if (!m) throw new Error(`${CRASH_AFTER_ENV}=${spec}: expected <event type>[:<n>], e.g. job.install.completed:1`);
  const nth = m[2] === undefined ? 1 : Number(m[2]);
  if (nth < 1) throw new Error(`${CRASH_AFTER_ENV}=${spec}: n counts from 1`);
  const signal = env[CRASH_SIGNAL_ENV]?.trim() || 'SIGKILL';
  if (signal !== 'SIGKILL' && signal !== 'SIGSTOP') throw new Error(`${CRASH_SIGNAL_ENV}=${signal}: expected SIGKILL or SIGSTOP`);
  return { type: m[1]!, nth, signal };
}

/** An append listener that kills (or freezes) this process once the n-th event of the point's type is durable. */
export function crashListener(point: CrashPoint, kill: () => void = () => process.kill(process.pid, point.signal)): (events: readonly EventEnvelope[]) => void {
  let seen = 0;
  return (events) => {
    for (const e of events) {
      if (e.type !== point.type) continue;
      seen += 1;
      if (seen === point.nth) kill();
    }
  };
}
