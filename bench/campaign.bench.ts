import { connectNats, requestJson, Subjects } from '../bus/index.ts';
import type { CampaignRecord } from '../machines/campaign.record.ts';
import type { FleetDaemonArgs } from './fleet-daemon.child.ts';
import type { FleetSimInfo } from './fleet-sim.child.ts';
import { fifoMakespan } from './fleet.bench.ts';
import type { BenchContext, BenchDef } from './lib/bench.ts';
import { startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';

/** A development knob (the figures are for 1,000): PANOS_BENCH_CAMPAIGN_DEVICES=200 for a quick look. */
const DEVICES = Number(process.env.PANOS_BENCH_CAMPAIGN_DEVICES ?? 1000);
const TIME_SCALE = 0.1;
const CONCURRENCY = 100;
const WAVES = 'canary:10,25%,rest';

interface Run {
  wallMs: number;
  /** Unit critical paths (ms) per wave, in the order the waves ran (one wave for plain jobs). */
  waves: number[][];
  outcomes: Record<string, number>;
}

/** A fresh simulator (1,000 firewalls, all on the same two-hop path) and daemon; `drive` upgrades them. */
async function onFreshFleet(ctx: BenchContext, role: string, drive: (ask: <T extends object>(name: string, payload?: object, timeoutMs?: number) => Promise<T>, info: FleetSimInfo) => Promise<Run>): Promise<Run> {
  const sim = await startService<FleetSimInfo>('bench/fleet-sim.child.ts', { role: `${role}-sim`, args: [String(DEVICES), String(TIME_SCALE)], profile: ctx.profile, startTimeoutMs: 300_000 });
  const info = sim.info;
  const args: FleetDaemonArgs = {
    natsUrl: info.natsUrl,
    prefix: info.prefix,
    port: info.port,
    fingerprint: info.fingerprint,
    caCert: info.caCert,
    apiKey: info.apiKey,
    concurrency: CONCURRENCY,
    upgradePaths: info.upgradePaths,
    pollSeconds: 0.1,
  };
  const daemon = await startService<{ pid: number }>('bench/fleet-daemon.child.ts', { role: `${role}-daemon`, args: [JSON.stringify(args)], profile: ctx.profile, startTimeoutMs: 300_000 });
  const nc = await connectNats(info.natsUrl, `bench ${role}`);
  const subjects = new Subjects(info.prefix);
  const ask = <T extends object>(name: string, payload: object = {}, timeoutMs = 60_000): Promise<T> =>
    requestJson<T>(nc, subjects.cmd(name as Parameters<Subjects['cmd']>[0]), payload, timeoutMs);
  try {
    const discovered = await ask<{ discovered: number }>('device.discover', {}, 120_000);
    if (discovered.discovered !== info.devices) throw new Error(`discovered ${discovered.discovered} of ${info.devices} firewalls`);
    ctx.progress(`${role}: ${info.devices} firewalls (${info.haPairs} HA pairs, ${info.units.length} units) discovered`);
    return await drive(ask, info);
  } finally {
    await nc.close();
    await daemon.stop(60_000);
    await sim.stop();
  }
}

async function until<T>(ctx: BenchContext, probe: () => Promise<T | undefined>, everyMs: number): Promise<T> {
  for (;;) {
    if (ctx.signal.aborted) throw new Error('aborted');
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * 1,000 firewalls (HA pairs among them) upgraded over two hops at a time scale of 0.1, twice on fresh
 * fleets: as plain jobs (`upgrade.queue`, concurrency 100), and as one campaign in waves
 * (`canary:10,25%,rest`, 100 units at a time, no soak). Each against its ideal: the FIFO makespan of the
 * units' critical paths on 100 slots, wave after wave for the campaign.
 */
export function campaignBench(): BenchDef {
  const id = 'campaign';
  return {
    id,
    group: 'campaign',
    budgetMs: 600_000,
    async run(ctx) {
      const plain = await onFreshFleet(ctx, 'campaign-plain', async (ask, info) => {
        const t0 = performance.now();
        const q = await ask<{ queued: number; queuedDevices: Array<{ device: string; jobId: string }> }>('upgrade.queue', { all: true }, 300_000);
        ctx.progress(`plain: ${q.queued} devices queued in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        const jobs = await until(
          ctx,
          async () => {
            const s = await ask<{ running: number; waiting: number; jobs: Record<string, number>; haPairJobs: Record<string, number> }>('daemon.status', {}, 10_000);
            ctx.progress(`plain: ${s.running} running, ${s.waiting} waiting`);
            return s.running === 0 && s.waiting === 0 ? s : undefined;
          },
          1000,
        );
        const wallMs = performance.now() - t0;
        return { wallMs, waves: [info.units.map((u) => u.criticalPathMs)], outcomes: { ...jobs.jobs, ...Object.fromEntries(Object.entries(jobs.haPairJobs).map(([k, v]) => [`ha-${k}`, v])) } };
      });
      const campaign = await onFreshFleet(ctx, 'campaign-waves', async (ask, info) => {
        const t0 = performance.now();
        const created = await ask<{ campaign: CampaignRecord }>('campaign.create', { name: 'bench', select: { all: true }, waves: WAVES, concurrency: CONCURRENCY, timeScale: TIME_SCALE }, 300_000);
        const cid = created.campaign.campaign_id;
        ctx.progress(`campaign ${cid} created in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${created.campaign.waves.map((w) => w.units).join(' + ')} units`);
        const end = await until(
          ctx,
          async () => {
            const c = (await ask<{ campaign: CampaignRecord }>('campaign.get', { campaignId: cid }, 10_000)).campaign;
            ctx.progress(`campaign: wave ${c.wave}/${c.waves.length}, ${c.totals.complete} complete, ${c.totals.running} running, ${c.totals.failed} failed`);
            return ['completed', 'halted', 'aborted'].includes(c.status) ? c : undefined;
          },
          1000,
        );
        const wallMs = performance.now() - t0;
        const full = (await ask<{ campaign: CampaignRecord }>('campaign.get', { campaignId: cid, units: true }, 30_000)).campaign;
        const pathOf = new Map(info.units.map((u) => [u.devices.slice().sort().join('+'), u.criticalPathMs]));
        const waves = full.waves.map((w) => (w.members ?? []).map((m) => pathOf.get(m.serials.slice().sort().join('+')) ?? 0));
        return { wallMs, waves, outcomes: { [end.status]: 1, complete: end.totals.complete, failed: end.totals.failed } };
      });
      const ideal = (r: Run): number => r.waves.reduce((s, w) => s + fifoMakespan(w, CONCURRENCY), 0);
      const cmd = command(id);
      const figures: Figure[] = [
        {
          bench: id,
          name: `campaign ${WAVES}, ${CONCURRENCY} at a time: wall time, ${DEVICES} devices over 2 hops`,
          value: campaign.wallMs / 1000,
          unit: 's',
          baseline: { label: 'ideal (its waves one after the other, each the FIFO makespan of its units)', value: ideal(campaign) / 1000, unit: 's' },
          ratio: campaign.wallMs / ideal(campaign),
          command: cmd,
        },
        {
          bench: id,
          name: `plain jobs (upgrade queue --all), concurrency ${CONCURRENCY}: wall time, same fleet`,
          value: plain.wallMs / 1000,
          unit: 's',
          baseline: { label: 'ideal (FIFO makespan of critical paths)', value: ideal(plain) / 1000, unit: 's' },
          ratio: plain.wallMs / ideal(plain),
          command: cmd,
        },
        {
          bench: id,
          name: 'campaign wall time against the same devices as plain jobs',
          value: campaign.wallMs / 1000,
          unit: 's',
          baseline: { label: 'plain jobs, same run', value: plain.wallMs / 1000, unit: 's' },
          ratio: campaign.wallMs / plain.wallMs,
          command: cmd,
        },
      ];
      return {
        figures,
        details: {
          devices: DEVICES,
          timeScale: TIME_SCALE,
          concurrency: CONCURRENCY,
          waves: WAVES,
          campaign: { wallMs: Math.round(campaign.wallMs), idealMs: Math.round(ideal(campaign)), unitsPerWave: campaign.waves.map((w) => w.length), outcomes: campaign.outcomes },
          plain: { wallMs: Math.round(plain.wallMs), idealMs: Math.round(ideal(plain)), outcomes: plain.outcomes },
        },
      };
    },
  };
}
