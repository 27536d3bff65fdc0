import test from 'ava';
import { join } from 'node:path';
import { connectNats } from '../../bus/connect.ts';
import { startNatsServer } from '../../bus/nats-server.ts';
import { tempDir, waitFor } from '../helpers/index.ts';

test('nats server: a private server that dies is started again on its port and store, says so, and a connected client goes on by itself (the daemon went on unreachable and silent)', async (t) => {
  const said: string[] = [];
  const server = await startNatsServer({
    storeDir: join(tempDir(t), 'nats'),
    guard: 'none',
    supervise: {
      onExit: (code, signal) => said.push(`exit ${code ?? signal}`),
      onBack: (port) => said.push(`back ${port}`),
      onRestartFailed: (err) => said.push(`failed ${err.message}`),
    },
  });
  t.teardown(() => server.stop());
  const nc = await connectNats(server.url, 'supervised test');
  t.teardown(() => nc.close());
  const firstPid = server.pid!;
  const port = server.port;
  process.kill(firstPid, 'SIGKILL');
  await waitFor(() => said.includes(`back ${port}`), 20_000, 50);
  t.is(said[0], 'exit SIGKILL');
  t.not(server.pid, firstPid);
  t.is(server.port, port);
  // The client reconnects to the same port by itself.
  await waitFor(async () => {
    try {
      await nc.flush();
      return (await nc.request('$SYS.REQ.SERVER.PING', '', { timeout: 500 }).catch(() => 'no responder')) !== undefined;
    } catch {
      return false;
    }
  }, 20_000, 100);
  t.false(nc.isClosed());
  // A stop is not a death: it is not started again.
  await server.stop();
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.deepEqual(said, ['exit SIGKILL', `back ${port}`]);
});
