import { DateTime } from 'luxon';
import type { CampaignRecord } from '../machines/campaign.record.ts';
import { timingsOfScenario, type Scenario } from '../scenarios/index.ts';

type Ask = <T extends object>(name: 'campaign.create' | 'campaign.get', payload: object) => Promise<T>;

/**
 * `chaos --campaign`: the fleet is upgraded by one campaign instead of one job per device: a canary,
 * 25 %, then the rest, a soak between waves, a failure budget of half the units, and a daily
 * maintenance window that opens a couple of minutes of campaign time after it starts (campaign time
 * runs at the scenario's scale), so that the campaign waits for it, then works inside it.
 */
export async function startChaosCampaign(ask: Ask, scenario: Scenario, concurrency: number, now = Date.now()): Promise<string> {
  const { timings, timeScale } = timingsOfScenario(scenario);
  const opens = DateTime.fromMillis(now, { zone: 'UTC' }).plus({ minutes: 2 }).startOf('minute');
  const closes = opens.plus({ hours: 3 });
  const window = `daily ${opens.toFormat('HH:mm')}-${closes.toFormat('HH:mm')} UTC`;
  const reply = await ask<{ campaign: CampaignRecord }>('campaign.create', {
    name: `chaos seed ${scenario.seed}`,
    select: { versions: Object.keys(scenario.upgradePaths) },
    waves: 'canary:1,25%,rest',
    concurrency,
    soak: '60s',
    windows: [window],
    maxFailures: '50%',
    timings,
    timeScale,
  });
  return reply.campaign.campaign_id;
}

/** Wait for the campaign to end; its units' jobs become the run's submitted jobs. False when it did not end in time. */
export async function awaitChaosCampaign(
  ask: Ask,
  id: string,
  timeoutMs: number,
  submitted: Array<{ device: string; jobId: string | null; reason?: string }>,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last: CampaignRecord | undefined;
  for (;;) {
    try {
      last = (await ask<{ campaign: CampaignRecord }>('campaign.get', { campaignId: id, units: true })).campaign;
    } catch {
      // the daemon may be down for a moment (killed and restarting)
    }
    if (last && ['completed', 'halted', 'aborted'].includes(last.status)) break;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const w of last?.waves ?? []) {
    for (const m of w.members ?? []) {
      for (const s of m.serials) submitted.push(m.job_id ? { device: s, jobId: m.job_id } : { device: s, jobId: null, reason: `not started by campaign ${id} (${last?.status}: ${last?.message})` });
    }
  }
  return last !== undefined && ['completed', 'halted', 'aborted'].includes(last.status);
}
