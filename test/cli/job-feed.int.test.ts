import test from 'ava';
import { connectNats } from '../../bus/connect.ts';
import { startNatsServer } from '../../bus/nats-server.ts';
import { serveJson } from '../../bus/rpc.ts';
import { DaemonClient } from '../../cli/client.ts';
import { connectionNotice } from '../../cli/follow.ts';
import { JobFeed } from '../../cli/job-feed.ts';
import type { StatusRecord } from '../../actors/daemon.ts';
import { tempDir, uniquePrefix, waitFor } from '../helpers/index.ts';
import { join } from 'node:path';

test('job feed: when the daemon\'s NATS server goes away it says so, and once it is back it reads the followed job again (events sent meanwhile are not replayed)', async (t) => {
  const storeDir = join(tempDir(t), 'nats');
  const first = await startNatsServer({ storeDir, guard: 'none' });
  let server = first;
  t.teardown(() => server.stop());
  const prefix = uniquePrefix();
  const client = new DaemonClient({ url: server.url, source: 'test', prefix });
  t.teardown(() => client.close());
  // A stand-in daemon answering job.get with the job as it is now.
  let status = 'installing';
  const startDaemon = async (): Promise<() => Promise<void>> => {
    const daemon = await connectNats(server.url, 'fake-daemon');
    t.teardown(() => daemon.close());
    serveJson(daemon, client.subjects.cmd('job.get'), () => ({ job: { job_id: 'j1', upgrade_status: status } }));
    await daemon.flush();
    return () => daemon.close();
  };
  const stopDaemon = await startDaemon();

  const seen: string[] = [];
  const changes: string[] = [];
  const notices: string[] = [];
  const notice = connectionNotice(client, (line) => notices.push(line));
  const feed = await JobFeed.start({
    client,
    jobIds: ['j1'],
    onJob: (job: StatusRecord) => seen.push(job.upgrade_status),
    onConnection: (change) => {
      changes.push(change);
      notice(change);
    },
  });
  t.teardown(() => feed.stop());
  await waitFor(() => seen.length === 1);

  // The daemon goes with its private server.
  await stopDaemon();
  await server.stop();
  await waitFor(() => changes.includes('lost'), 10_000);
  t.regex(notices[0]!, new RegExp(`^warning: lost the connection to ${server.url.replace(/[.]/g, '\\.')}: the daemon or its NATS server stopped`));
  // The job ends while the connection is down: its last event is never seen.
  status = 'complete';
  await new Promise((resolve) => setTimeout(resolve, 300));
  server = await startNatsServer({ storeDir, port: first.port, guard: 'none' });
  await waitFor(() => changes.includes('back'), 15_000);
  // The daemon comes back after its server (as a restarted daemon does): the feed reads again until it answers.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await startDaemon();
  await waitFor(() => seen.at(-1) === 'complete', 15_000);
  t.deepEqual(seen, ['installing', 'complete']);
  t.regex(notices.at(-1)!, /is back: following again$/);
});
