import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle, type NatsServerOptions } from './nats-server.ts';

export interface BusConnection {
  readonly nc: NatsConnection;
  /** The private server this connection started, if NATS_URL was not given. */
  readonly server: NatsServerHandle | undefined;
  readonly url: string;
  /** Drain the connection and stop the private server, if any. */
  close(): Promise<void>;
}

export interface ConnectBusOptions extends NatsServerOptions {
  /** Server URL; defaults to `NATS_URL`. When neither is set, a private nats-server is started. */
  url?: string;
  /** Client name shown by the server's monitoring. */
  name?: string;
}

/** Connect to NATS: to `url` / NATS_URL when set, otherwise to a freshly started private server. */
export async function connectBus(options: ConnectBusOptions = {}): Promise<BusConnection> {
  const given = options.url ?? process.env.NATS_URL;
  const server = given ? undefined : await startNatsServer(options);
  const url = given ?? server!.url;
  try {
    const nc = await connectNats(url, options.name ?? 'panos-upgrade');
    return {
      nc,
      server,
      url,
      async close() {
        if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
        await server?.stop();
      },
    };
  } catch (err) {
    await server?.stop();
    throw err;
  }
}

/** A client connection that keeps reconnecting forever (a restarted server is found again). */
export function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 10_000,
  });
}
