import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import { connectNats } from '../../bus/connect.ts';
import { startNatsServer } from '../../bus/nats-server.ts';
import { serveJson } from '../../bus/rpc.ts';
import type { CommandName } from '../../bus/subjects.ts';
import { DaemonClient } from '../../cli/client.ts';
import { uniquePrefix } from './nats.ts';
import { tempDir } from './temp-dir.ts';

/**
 * A private nats-server a test stops and starts again on its port and store (as a daemon's own server
 * comes back), a CLI client on it, and stand-in daemons that answer one command.
 */
export async function restartableNats(t: ExecutionContext) {
  const storeDir = join(tempDir(t), 'nats');
  const first = await startNatsServer({ storeDir, guard: 'none' });
  let server = first;
  t.teardown(() => server.stop());
  const client = new DaemonClient({ url: server.url, source: 'test', prefix: uniquePrefix() });
  t.teardown(() => client.close());
  return {
    client,
    get url(): string {
      return server.url;
    },
    stop: (): Promise<void> => server.stop(),
    restart: async (): Promise<void> => {
      server = await startNatsServer({ storeDir, port: first.port, guard: 'none' });
    },
    /** A stand-in daemon answering `command` with `answer()`; resolves with what takes it away. */
    startDaemon: async (command: CommandName, answer: () => object): Promise<() => Promise<void>> => {
      const daemon = await connectNats(server.url, 'fake-daemon');
      t.teardown(() => daemon.close());
      serveJson(daemon, client.subjects.cmd(command), answer);
      await daemon.flush();
      return () => daemon.close();
    },
  };
}
