/**
 * Pure XState machines and their rules. No I/O: effects are placeholders provided by the composition
 * roots (`actors/`, `simulator/`) with `.provide()`.
 */
export * from './effects.ts';
export * from './random.ts';
export * from './firewall.logic.ts';
export * from './firewall.machine.ts';
export * from './upgrade-job.events.ts';
export * from './upgrade-job.fold.ts';
export * from './upgrade-job.machine.ts';
export * from './ha-pair.fold.ts';
export * from './ha-pair.machine.ts';
