/**
 * The NATS side of panos-upgrade: a private nats-server when none is given, connections, the subject
 * grammar (the only place subjects are built), JSON request/reply with `{ error }` replies, and the
 * publisher of durable events.
 *
 * @example
 * ```ts
 * const bus = await connectBus({ name: 'daemon' });      // NATS_URL, or a private server
 * const subjects = new Subjects('panos');
 * serveJson(bus.nc, subjects.cmd('job.get'), async (p) => ({ job: … }), { queue: 'daemon' });
 * ```
 */
export * from './errors.ts';
export * from './nats-server.ts';
export * from './connect.ts';
export * from './auth.ts';
export * from './subjects.ts';
export * from './rpc.ts';
export * from './event-publisher.ts';
export * from './event-stream.ts';
export * from './log-stream.ts';
export * from './nats-cluster.ts';
