/**
 * Forensics: what reads the event logs back after the fact. Replay (runs, timelines, state at a
 * position, `replay verify`), scenarios recorded from a daemon's API calls, and the pure checks of a
 * chaos run. They read logs; they never orchestrate or write to a device.
 */
export * from './replay.ts';
export * from './record-scenario.ts';
export * from './chaos-check.ts';
export * from './duplicate-check.ts';
export * from './cluster-check.ts';
export * from './campaign-check.ts';
