import type { Scenario } from './types.ts';

/** The expected duration of each phase, in seconds of unscaled (campaign) time. */
export interface ExpectedTimings {
  download: number;
  install: number;
  reboot: number;
}

/** Expected durations and time scale of a simulator scenario: the middle of each range, unscaled, in seconds. */
export function timingsOfScenario(s: Scenario): { timings: ExpectedTimings; timeScale: number } {
  const mid = (r: [number, number]): number => Math.round(((r[0] + r[1]) / 2 / s.timing.timeScale / 1000) * 1000) / 1000;
  return { timings: { download: mid(s.timing.downloadMs), install: mid(s.timing.installMs), reboot: mid(s.timing.rebootMs) }, timeScale: s.timing.timeScale };
}
