/**
 * The PAN-OS/Panorama simulator: one XState firewall actor per device, served over NATS.
 *
 * @example
 * ```ts
 * const sim = await Simulator.start({ scenario, store, log, nc, subjects });
 * await sim.op(sim.panorama.serial, { cmd: '<show><devices><connected/></devices></show>' });
 * ```
 */
export * from './simulator.ts';
export * from './sim-service.ts';
export * from './op-handler.ts';
export * from './control.ts';
export * from './device-factory.ts';
export * from './hosted-firewall.ts';
export * from './connection-file.ts';
