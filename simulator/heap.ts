import { setFlagsFromString } from 'node:v8';
import type { LocalSimulator } from '../gateway/index.ts';

/**
 * V8 settings for a simulator that is idle or lightly called, as most are (a person trying commands, a
 * daemon upgrading a few firewalls), and the defaults for a busy one.
 *
 * - V8 grows its young generation (from 1 MiB per semi-space up to 16 MiB) when many objects survive its
 *   collections, and shrinks it again at a collection that finds the allocation rate low. Loading and
 *   starting the simulator is one such burst: an idle five-firewall simulator then held 32 MiB of mostly
 *   empty young generation, and being idle it never collects to shrink it. So it is not grown, and V8
 *   optimizes for size (2 MiB of young generation instead of 4, about 3 MB less in all for the basic scenario).
 * - V8's optimizing compiler (TurboFan) is off: each compilation takes its working memory from malloc, on
 *   V8's helper threads and on the main thread, and glibc's arenas keep it once freed (4-8 MB after the
 *   basic scenario's start, varying from start to start: most of the variance of the process's size).
 *   Without it that simulator holds about 7 MB less after a restart; functions still run in the
 *   interpreter and the baseline compiler (Sparkplug), which is enough for a few calls a second.
 *
 * The returned function restores V8's defaults, for a busy gateway: the young generation follows the load
 * (a 1 MiB one cost it about a third more CPU per call) and hot functions are optimized. `sim` calls it when
 * the simulator gets busy (`untilBusy`); a large scenario turns the optimizing compiler back on before it
 * is loaded (its YAML and then every device run hot loops, and it never fits the idle footprint anyway). V8
 * reads these flags as it goes, so no `node` option is needed (changing others at run time, such as the
 * collector's helper threads, crashed V8). Call before the simulator's modules load. The gateway benchmark
 * does the same (restoring after its warm-up calls), as it measures the gateway as this command runs it.
 */
export function tuneSimulatorHeap(): () => void {
  const starting = ['--semi-space-growth-factor=1', '--optimize-for-size', '--no-turbofan'];
  const serving = ['--semi-space-growth-factor=2', '--no-optimize-for-size', '--turbofan'];
  for (const flag of starting) setFlagsFromString(flag);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const flag of serving) setFlagsFromString(flag);
  };
}

/** Calls within one second that make a simulator busy: a load generator or a daemon upgrading many firewalls, not a person or a few polls a second. */
export const BUSY_CALLS_PER_SECOND = 100;
/** A scenario file larger than this, or with more devices, starts with V8's optimizing compiler (see tuneSimulatorHeap): about 300 and 200 firewalls. */
export const LARGE_SCENARIO_BYTES = 32 * 1024;
export const LARGE_SCENARIO_DEVICES = 200;

/**
 * `sim` as the gateway calls it, running `busy` once when it is first called at least
 * BUSY_CALLS_PER_SECOND times within one second (XML API calls and control actions alike).
 */
export function untilBusy(sim: LocalSimulator, busy: () => void, now: () => number = () => performance.now()): LocalSimulator {
  let pending: (() => void) | undefined = busy;
  let windowStart = -Infinity;
  let calls = 0;
  const count = (): void => {
    if (!pending) return;
    const t = now();
    if (t - windowStart >= 1_000) {
      windowStart = t;
      calls = 0;
    }
    if (++calls >= BUSY_CALLS_PER_SECOND) {
      pending();
      pending = undefined;
    }
  };
  return {
    owns: (serial) => sim.owns(serial),
    op: (serial, request) => {
      count();
      return sim.op(serial, request);
    },
    control: (serial, action, payload) => {
      count();
      return sim.control(serial, action, payload);
    },
  };
}
