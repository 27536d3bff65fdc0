import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { natsConnectionOptions, preparePrivateAuth, type NatsAuth, type PrivateAuth, type PrivateUser } from './auth.ts';
import { isAuthorizationFailure, NatsAuthorizationError, NatsUrlError } from './errors.ts';
import { natsServers, natsUrlProblem } from './nats-url.ts';
export { maskNatsUrl, natsServers, natsUrlProblem } from './nats-url.ts';
import { startNatsServer, type NatsServerHandle, type NatsServerOptions } from './nats-server.ts';

export interface BusConnection {
  readonly nc: NatsConnection;
  /** The private server this connection started, if NATS_URL was not given. */
  readonly server: NatsServerHandle | undefined;
  /** The private server's users' NKey seed files, when it was started with `privateUser`. */
  readonly privateAuth: PrivateAuth | undefined;
  readonly url: string;
  /** Drain the connection and stop the private server, if any. */
  close(): Promise<void>;
}

export interface ConnectBusOptions extends NatsServerOptions {
  /** Server URL; defaults to `NATS_URL`. When neither is set, a private nats-server is started. */
  url?: string;
  /** Client name shown by the server's monitoring. */
  name?: string;
  /** Credentials for the server at `url` / NATS_URL. */
  auth?: NatsAuth;
  /**
   * For a private server: require NKey users (daemon, operator, reader, simulator) with their
   * permissions for this subject prefix, and connect as `user`. Needs `storeDir` (the seeds are kept there).
   */
  privateUsers?: { prefix: string; user: PrivateUser };
}

/** Connect to NATS: to `url` / NATS_URL when set, otherwise to a freshly started private server. */
export async function connectBus(options: ConnectBusOptions = {}): Promise<BusConnection> {
  const given = options.url ?? process.env.NATS_URL;
  let privateAuth: PrivateAuth | undefined;
  let server: NatsServerHandle | undefined;
  if (!given) {
    if (options.privateUsers && options.storeDir) privateAuth = preparePrivateAuth(options.storeDir, options.privateUsers.prefix);
    server = await startNatsServer({ ...options, ...(privateAuth ? { config: `${options.config ?? ''}${privateAuth.serverConfig}` } : {}) });
  }
  const url = given ?? server!.url;
  const auth: NatsAuth | undefined = given ? options.auth : privateAuth && options.privateUsers ? { nkeyFile: privateAuth.files[options.privateUsers.user] } : undefined;
  try {
    const nc = await connectNats(url, options.name ?? 'panos-upgrade', auth);
    return {
      nc,
      server,
      privateAuth,
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
export async function connectNats(url: string, name: string, auth?: NatsAuth, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const problem = natsUrlProblem(url);
  if (problem) throw new NatsUrlError(problem);
  try {
    return await connect({
      servers: natsServers(url),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
      ...natsConnectionOptions(auth),
      ...extra,
    });
  } catch (err) {
    throw isAuthorizationFailure(err) ? new NatsAuthorizationError(url, { cause: err }) : err;
  }
}
