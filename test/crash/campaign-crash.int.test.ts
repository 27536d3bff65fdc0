import test from 'ava';
import { join } from 'node:path';
import { checkCampaignInvariants } from '../../forensics/campaign-check.ts';
import { listRuns, verifyRun } from '../../forensics/replay.ts';
import { LmdbEventStore } from '../../eventstore/index.ts';
import { CAMPAIGN_FACT_TYPES } from '../../machines/campaign.events.ts';
import type { CampaignRecord } from '../../machines/campaign.record.ts';
import { startTestNats, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { command, countBy, discover, LONG, servedCalls } from '../actors/orchestrator-fixture.ts';
import { crashAfter, killDaemon, startDaemonChild, type DaemonChild } from '../actors/daemon-child.ts';

/**
 * Campaign crash points: the daemon SIGKILLed right after a campaign fact is durable (test-only hook,
 * actors/crash-hook.ts), then started again, must finish the campaign with every job made once, each
 * wave started once, each device installed once per version, and its logs replaying. `npm test` runs a
 * subset (the intent of a unit recorded before its job exists; the start of a gate's soak);
 * `npm run test:crash` (PANOS_CRASH_MATRIX=full) runs every campaign fact this campaign records.
 */
const nats = startTestNats(test);
const FULL = process.env.PANOS_CRASH_MATRIX === 'full';
/** Types this campaign (no window, no pause, no failure, no abort) does not record. */
const NOT_RECORDED = new Set(['campaign.window.waiting', 'campaign.paused', 'campaign.resumed', 'campaign.budget.exceeded', 'campaign.abort.requested', 'campaign.halted', 'campaign.aborted']);
const POINTS: Array<[string, number]> = FULL
  ? CAMPAIGN_FACT_TYPES.filter((t) => !NOT_RECORDED.has(t)).flatMap((t): Array<[string, number]> => (t === 'campaign.unit.started' || t === 'campaign.unit.ended' ? [[t, 1], [t, 4]] : t === 'campaign.wave.started' ? [[t, 1], [t, 2]] : [[t, 1]]))
  : [
      ['campaign.unit.started', 1],
      ['campaign.soak.started', 1],
    ];

const PLAN = { target: '11.1.0', select: { versions: ['10.*'] }, waves: 'canary:1,rest', soak: '2s', approval: true, concurrency: 3 };

// The whole list runs one point at a time: each is a simulator, a gateway and two daemon processes.
const define = FULL ? test.serial : test;

for (const [type, nth] of POINTS) {
  define(`campaign crash: when the daemon is SIGKILLed right after ${type} #${nth} is durable then the restarted daemon finishes the campaign, nothing twice`, async (t) => {
    const stack = await startStack(t, nats, { scenario: 'basic', daemon: false });
    let daemon: DaemonChild = await startDaemonChild(t, stack, nats, crashAfter(type, nth));
    const gone = (): boolean => daemon.child.exitCode !== null || daemon.child.signalCode !== null;
    let id: string | undefined;
    try {
      await discover(stack);
      id = (await command<{ campaign: CampaignRecord }>(stack, 'campaign.create', PLAN, 10_000)).campaign.campaign_id;
    } catch (err) {
      if (!gone()) throw err;
    }
    /** Until the campaign ended or the daemon is gone; approves at the gate as an operator would. */
    const drive = (): Promise<string> =>
      waitFor(
        async () => {
          if (gone()) return 'crashed';
          id ??= (await command<{ campaigns: CampaignRecord[] }>(stack, 'campaign.list')).campaigns[0]?.campaign_id;
          if (!id) return undefined;
          const c = (await command<{ campaign: CampaignRecord }>(stack, 'campaign.get', { campaignId: id })).campaign;
          if (c.waves[0]?.status === 'awaiting-approval') await command(stack, 'campaign.approve', { campaignId: id }).catch(() => undefined);
          return ['completed', 'halted', 'aborted'].includes(c.status) ? c.status : undefined;
        },
        3 * LONG,
        100,
      ).catch((err: unknown) => (gone() ? 'crashed' : Promise.reject(err)));
    let how = await drive();
    t.is(how, 'crashed', 'the crash point was reached');
    t.is(daemon.child.signalCode, 'SIGKILL');
    daemon = await startDaemonChild(t, stack, nats);
    how = await drive();
    t.is(how, 'completed');
    await killDaemon(daemon);

    const store = LmdbEventStore.open({ path: join(stack.dataDir, 'events') });
    t.teardown(() => store.close());
    const facts = store.readStream(`campaign:${id!}`);
    t.is(facts.filter((e) => e.type === 'campaign.wave.started').length, 2, 'each wave started once');
    t.is(facts.filter((e) => e.type === 'campaign.unit.started').length, 4, 'each unit started once');
    t.is([...store.streamNames(`job:${id!}`)].length, 4, 'one job per unit');
    const installs = countBy(servedCalls(stack).filter((c) => c.kind === 'request.system.software.install' || c.kind === 'request.restart.system'), (c) => `${c.serial} ${c.kind} ${c.version ?? ''}`);
    t.deepEqual([...installs].filter(([k, n]) => n > 1 && k.includes('install')), [], 'no second install of a version');
    const runs = listRuns(store).filter((r) => r.role === 'daemon');
    t.is(runs.length, 2);
    for (const r of runs) {
      const v = verifyRun(store, r.runId);
      t.true(v.ok, JSON.stringify(v.streams.filter((s) => !s.ok)));
    }
    const invariants = checkCampaignInvariants([...store.readAll()]);
    t.deepEqual(invariants.filter((i) => !i.ok).map((i) => i.violations), []);
  });
}
