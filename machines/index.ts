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
export * from './campaign.windows.ts';
export * from './campaign.events.ts';
export * from './campaign.fold.ts';
export * from './campaign.decide.ts';
export * from './campaign.machine.ts';
export * from './campaign.plan.ts';
export * from './campaign.plan-file.ts';
export * from './campaign.record.ts';
