import type { ExecutionContext, TestFn } from 'ava';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../bus/connect.ts';
import { startNatsServer, type NatsServerHandle, type NatsServerOptions } from '../../bus/nats-server.ts';

/** The private nats-server of one test file; `server` and `url` are readable once `test.before` has run. */
export interface TestNats {
  readonly server: NatsServerHandle;
  readonly url: string;
  /** A client (reconnecting forever, as the product's) that is closed in the test's teardown. */
  connect(t: ExecutionContext, name?: string): Promise<NatsConnection>;
}

/**
 * Start one private nats-server (JetStream on, free loopback port) for the whole test file in `test.before`
 * and stop it in `test.after.always`, after closing any client still open.
 *
 * @example
 * const nats = startTestNats(test);
 * test('x: when … then …', async (t) => { const nc = await nats.connect(t); … });
 */
export function startTestNats(test: TestFn, options: NatsServerOptions = {}): TestNats {
  let server: NatsServerHandle | undefined;
  const clients = new Set<NatsConnection>();
  const running = (): NatsServerHandle => {
    if (!server) throw new Error('startTestNats: the server is started in test.before; use it inside tests');
    return server;
  };

  test.before(async () => {
    server = await startNatsServer(options);
  });
  test.after.always(async () => {
    await Promise.all([...clients].map((nc) => nc.close()));
    await server?.stop();
  });

  return {
    get server() {
      return running();
    },
    get url() {
      return running().url;
    },
    async connect(t, name = 'panos-test') {
      const nc = await connectNats(running().url, name);
      clients.add(nc);
      t.teardown(async () => {
        clients.delete(nc);
        await nc.close();
      });
      return nc;
    },
  };
}

let nextId = 0;

/**
 * A subject prefix no other test in this process uses (`panos-t<id>`), for `new Subjects(prefix)`:
 * tests in one file run concurrently on one server and must not hear each other.
 */
export function uniquePrefix(): string {
  nextId += 1;
  return `panos-t${process.pid.toString(36)}${nextId}`;
}
