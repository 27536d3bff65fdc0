import type { EventEnvelope } from '../eventstore/index.ts';

/**
 * TEST ONLY. A way for the crash tests (`npm run test:crash`, `panos-upgrade chaos --kills`) to
 * SIGKILL the daemon at an exact point: right after the n-th durable append of one event type.
 *
 * @remarks
 * It does nothing unless BOTH variables are set, so that no user trips it by accident:
 * - `PANOS_UPGRADE_TEST_HOOKS=1` says "this process runs under a test harness";
 * - `PANOS_UPGRADE_TEST_CRASH_AFTER=<event type>[:<n>]` (n defaults to 1), e.g. `job.install.completed:2`.
 * The kill happens inside the store's append listener: after the commit is flushed to disk, and before
 * the append resolves, so the job that recorded the event never acts on it.
 */
export interface CrashPoint {
  type: string;
  nth: number;
}

export const TEST_HOOKS_ENV = 'PANOS_UPGRADE_TEST_HOOKS';
export const CRASH_AFTER_ENV = 'PANOS_UPGRADE_TEST_CRASH_AFTER';

/** The crash point the environment asks for, or undefined when the test hooks are not switched on. */
export function crashPointFromEnv(env: NodeJS.ProcessEnv): CrashPoint | undefined {
  if (env[TEST_HOOKS_ENV] !== '1') return undefined;
  const spec = env[CRASH_AFTER_ENV]?.trim();
  if (!spec) return undefined;
  const m = /^([a-z][a-z0-9.-]*[a-z0-9])(?::(\d+))?$/.exec(spec);
  if (!m) throw new Error(`${CRASH_AFTER_ENV}=${spec}: expected <event type>[:<n>], e.g. job.install.completed:1`);
  const nth = m[2] === undefined ? 1 : Number(m[2]);
  if (nth < 1) throw new Error(`${CRASH_AFTER_ENV}=${spec}: n counts from 1`);
  return { type: m[1]!, nth };
}

/** An append listener that kills this process with SIGKILL once the n-th event of the point's type is durable. */
export function crashListener(point: CrashPoint, kill: () => void = () => process.kill(process.pid, 'SIGKILL')): (events: readonly EventEnvelope[]) => void {
  let seen = 0;
  return (events) => {
    for (const e of events) {
      if (e.type !== point.type) continue;
      seen += 1;
      if (seen === point.nth) kill();
    }
  };
}
