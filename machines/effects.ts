import { fromCallback, fromPromise } from 'xstate';
import { NotProvidedError } from '../panos/errors.ts';

/** A placeholder promise effect: fails loudly when a composition root forgot to `provide` it. */
export function notProvided<Input, Output>(name: string) {
  return fromPromise<Output, Input>(async () => {
    throw new NotProvidedError(name);
  });
}

/** A placeholder callback effect (timers, watchers). */
export function notProvidedCallback<Input>(name: string) {
  return fromCallback<{ type: string }, Input>(() => {
    throw new NotProvidedError(name);
  });
}

/** What a deadline effect needs: a clock that can be the real one or XState's SimulatedClock. */
export interface DeadlineClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const realClock: DeadlineClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

/**
 * The `deadline` effect: sends `{ type: 'deadline.reached', now }` at the absolute time `at`.
 * Because the deadline is absolute and kept in context, a restored actor re-arms it with the time
 * that is left (statelyai/xstate#5331: `after` timers are not restored).
 */
export function deadlineEffect(clock: DeadlineClock) {
  return fromCallback<{ type: string }, { at: number }>(({ input, sendBack }) => {
    let id: unknown;
    const arm = (): void => {
      const ms = Math.max(0, input.at - clock.now());
      // Node fires a timer over 2^31-1 ms after 1 ms: a far deadline (NEVER) is waited for in steps.
      if (ms > MAX_TIMER_MS) id = clock.setTimeout(arm, MAX_TIMER_MS);
      else id = clock.setTimeout(() => sendBack({ type: 'deadline.reached', now: clock.now() } as { type: string }), ms);
    };
    arm();
    return () => clock.clearTimeout(id);
  });
}

/** The longest delay `setTimeout` honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
