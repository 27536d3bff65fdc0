import test from 'ava';
import { followCampaign } from '../../cli/commands/campaign.ts';
import { connectionNotice } from '../../cli/follow.ts';
import type { Output } from '../../cli/output.ts';
import type { CampaignRecord } from '../../machines/campaign.record.ts';
import { waitFor } from '../helpers/index.ts';
import { restartableNats } from '../helpers/restartable-nats.ts';

test('campaign --watch: when the daemon\'s NATS server goes away it says so, and once it is back it reads the campaign until the daemon answers and prints what happened meanwhile', async (t) => {
  const nats = await restartableNats(t);
  const { client } = nats;
  // A stand-in daemon answering campaign.get with the campaign as it is now.
  let unit = { unit: 1, hostnames: ['fw-01'], stage_job_id: null as string | null, job_id: 'j1' as string | null, status: 'running', message: '' };
  let campaign = { campaign_id: 'c1', status: 'running', message: 'wave 1 running' };
  const record = (): CampaignRecord => ({ ...campaign, waves: [{ members: [unit] }] }) as unknown as CampaignRecord;
  const startDaemon = () => nats.startDaemon('campaign.get', () => ({ campaign: record() }));
  const stopDaemon = await startDaemon();

  const lines: string[] = [];
  const out: Output = { stream: process.stderr, isTTY: false, write: (text) => void lines.push(text), line: (text = '') => void lines.push(text), paint: (_style, text) => text };
  const notices: string[] = [];
  const notice = connectionNotice(client, (line) => notices.push(line));
  const followed = followCampaign(client, out, 'c1', { onConnection: notice });

  // Once it follows, the daemon goes with its private server.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await stopDaemon();
  await nats.stop();
  await waitFor(() => notices.length === 1, 10_000);
  t.regex(notices[0]!, new RegExp(`^warning: lost the connection to ${nats.url.replace(/[.]/g, '\\.')}: the daemon or its NATS server stopped`));
  // The unit and the campaign end while the connection is down: their events are never seen.
  unit = { ...unit, status: 'complete', message: 'Upgrade complete: 10.1.6 → 11.1.0' };
  campaign = { ...campaign, status: 'completed', message: 'campaign c1 completed: 1 unit upgraded' };
  await nats.restart();
  await waitFor(() => notices.length === 2, 15_000);
  t.regex(notices[1]!, /is back: following again$/);
  // The daemon comes back after its server: the watch reads the campaign again until it answers.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await startDaemon();
  const end = await followed;
  t.is(end.status, 'completed');
  t.true(lines.some((l) => l.endsWith('fw-01: complete: Upgrade complete: 10.1.6 → 11.1.0 (while disconnected)')), lines.join('\n'));
  t.true(lines.some((l) => l.endsWith('campaign c1 completed: 1 unit upgraded')), lines.join('\n'));
});
