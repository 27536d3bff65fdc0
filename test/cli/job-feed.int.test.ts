import test from 'ava';
import { connectionNotice } from '../../cli/follow.ts';
import { JobFeed } from '../../cli/job-feed.ts';
import type { StatusRecord } from '../../actors/daemon.ts';
import { waitFor } from '../helpers/index.ts';
import { restartableNats } from '../helpers/restartable-nats.ts';

test('job feed: when the daemon\'s NATS server goes away it says so, and once it is back it reads the followed job again (events sent meanwhile are not replayed)', async (t) => {
  const nats = await restartableNats(t);
  const { client } = nats;
  // A stand-in daemon answering job.get with the job as it is now.
  let status = 'installing';
  const startDaemon = () => nats.startDaemon('job.get', () => ({ job: { job_id: 'j1', upgrade_status: status } }));
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
  await nats.stop();
  await waitFor(() => changes.includes('lost'), 10_000);
  t.regex(notices[0]!, new RegExp(`^warning: lost the connection to ${nats.url.replace(/[.]/g, '\\.')}: the daemon or its NATS server stopped`));
  // The job ends while the connection is down: its last event is never seen.
  status = 'complete';
  await new Promise((resolve) => setTimeout(resolve, 300));
  await nats.restart();
  await waitFor(() => changes.includes('back'), 15_000);
  // The daemon comes back after its server (as a restarted daemon does): the feed reads again until it answers.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await startDaemon();
  await waitFor(() => seen.at(-1) === 'complete', 15_000);
  t.deepEqual(seen, ['installing', 'complete']);
  t.regex(notices.at(-1)!, /is back: following again$/);
});
