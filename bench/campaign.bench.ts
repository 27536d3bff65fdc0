import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, requestJson, Subjects } from '../bus/index.ts';
import { SNAPSHOT_AREAS } from '../checks/snapshot.ts';
import type { CampaignRecord } from '../machines/campaign.record.ts';
import type { FleetDaemonArgs } from './fleet-daemon.child.ts';
import type { FleetSimInfo } from './fleet-sim.child.ts';
import { fifoMakespan } from './fleet.bench.ts';
import type { BenchContext, BenchDef } from './lib/bench.ts';
import { startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { round } from './lib/stats.ts';

/** A development knob (the figures are for 1,000): PANOS_BENCH_CAMPAIGN_DEVICES=200 for a quick look. */
const DEVICES = Number(process.env.PANOS_BENCH_CAMPAIGN_DEVICES ?? 1000);
const TIME_SCALE = 0.1;
const CONCURRENCY = 100;
const WAVES = 'canary:10,25%,rest';
/**
 * The readiness policy of both halves. `scheduling` (the default): no readiness check and no snapshot
 * area, so that both halves measure what the waves and the queue cost (the fleet benchmarks carry the
 * checks' cost); `default`: the shipped policy (PANOS_BENCH_CAMPAIGN_POLICY=default).
 */
const POLICY_NAME = process.env.PANOS_BENCH_CAMPAIGN_POLICY === 'default' ? 'default' : 'scheduling';
const POLICY: Record<string, unknown> | undefined =
  POLICY_NAME === 'default' ? undefined : { name: 'bench-scheduling', checks: {}, snapshots: Object.fromEntries(SNAPSHOT_AREAS.map((a) => [a, { enabled: false }])) };
/** What each half keeps at the end to read its results and stop its processes. */
const MARGIN_MS = 45_000;
const TERMINAL = ['completed', 'failed', 'cancelled', 'ha.completed', 'ha.failed', 'ha.cancelled'];

interface Run {
  wallMs: number;
  /** Whether every unit ended before the half's time box. */
  finished: boolean;
  /** Units that ended (completed, failed or cancelled), and of those the ones that failed or were cancelled. */
  ended: number;
  failed: number;
  units: number;
  /** Unit critical paths (ms) per wave, in the order the waves ran (one wave for plain jobs). */
  waves: number[][];
  outcomes: Record<string, number>;
  startMs: number;
}

type Ask = <T extends object>(name: string, payload?: object, timeoutMs?: number) => Promise<T>;

/** A fresh simulator (1,000 firewalls, all on the same two-hop path) and daemon; `drive` upgrades them until `until` (performance.now()). */
async function onFreshFleet(ctx: BenchContext, role: string, until: number, drive: (ask: Ask, info: FleetSimInfo, nc: NatsConnection, until: number) => Promise<Omit<Run, 'startMs'>>): Promise<Run> {
  const t0 = performance.now();
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
  const ask: Ask = <T extends object>(name: string, payload: object = {}, timeoutMs = 60_000): Promise<T> =>
    requestJson<T>(nc, subjects.cmd(name as Parameters<Subjects['cmd']>[0]), payload, timeoutMs);
  let finished = false;
  try {
    const discovered = await ask<{ discovered: number }>('device.discover', {}, 120_000);
    if (discovered.discovered !== info.devices) throw new Error(`discovered ${discovered.discovered} of ${info.devices} firewalls`);
    ctx.progress(`${role}: ${info.devices} firewalls (${info.haPairs} HA pairs, ${info.units.length} units) discovered, ${((performance.now() - t0) / 1000).toFixed(1)} s after the start of this half`);
    const run = await drive(ask, info, nc, until);
    finished = run.finished;
    return { ...run, startMs: performance.now() - t0 - run.wallMs };
  } finally {
    await nc.close();
    // A daemon stopped in the middle of its jobs may take long to wind them down: it is killed sooner then.
    await daemon.stop(finished ? 60_000 : 15_000);
    await sim.stop();
  }
}

/** Ask `probe` every `everyMs` until it returns a value, the time box ends (undefined) or the benchmark is aborted. */
async function poll<T>(ctx: BenchContext, until: number, probe: () => Promise<T | undefined>, everyMs: number): Promise<T | undefined> {
  for (;;) {
    if (ctx.signal.aborted) throw new Error('aborted');
    if (performance.now() >= until) return undefined;
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(0, until - performance.now()))));
  }
}

/** A command to a daemon that may be too busy to answer in time: a progress line instead of an error. */
async function tryAsk<T>(ctx: BenchContext, what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    ctx.progress(`${what}: the daemon did not answer (${(err as Error).message.slice(0, 100)})`);
    return undefined;
  }
}

/**
 * 1,000 firewalls (HA pairs among them) upgraded over two hops at a time scale of 0.1, twice on fresh
 * fleets: as plain jobs (`upgrade.queue`, concurrency 100), and as one campaign in waves
 * (`canary:10,25%,rest`, 100 units at a time, no soak). Each against its ideal: the FIFO makespan of the
 * units' critical paths on 100 slots, wave after wave for the campaign. Each half has half the budget;
 * one that does not finish in it reports the units that ended, their rate and the projected wall time.
 */
export function campaignBench(): BenchDef {
  const id = 'campaign';
  return {
    id,
    group: 'campaign',
    budgetMs: 600_000,
    async run(ctx) {
      const half = performance.now() + (ctx.deadline - MARGIN_MS - performance.now()) / 2;
      const plain = await onFreshFleet(ctx, 'campaign-plain', half, async (ask, info, nc, until) => {
        const outcome = new Map<string, string>();
        const subs = TERMINAL.map((t) =>
          nc.subscribe(`${info.prefix}.evt.job.*.${t}`, {
            callback: (_err, msg) => {
              const jobId = msg.subject.split('.')[3]!;
              if (!outcome.has(jobId)) outcome.set(jobId, t.replace('ha.', ''));
            },
          }),
        );
        try {
          await nc.flush();
          const t0 = performance.now();
          const q = await ask<{ queued: number; queuedDevices: Array<{ device: string; jobId: string }> }>('upgrade.queue', { all: true, ...(POLICY ? { policy: POLICY } : {}) }, 300_000);
          const wanted = new Set(q.queuedDevices.map((d) => d.jobId));
          ctx.progress(`plain: ${q.queued} devices queued (${wanted.size} units) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          const ended = (): string[] => [...wanted].filter((j) => outcome.has(j));
          let lastLine = 0;
          const done = await poll(
            ctx,
            until - MARGIN_MS / 2,
            async () => {
              const e = ended().length;
              if (performance.now() - lastLine > 10_000) {
                lastLine = performance.now();
                const s = await tryAsk(ctx, 'plain', () => ask<{ running: number; waiting: number }>('daemon.status', {}, 5_000));
                ctx.progress(`plain: ${e}/${wanted.size} units ended${s ? `; daemon: ${s.running} running, ${s.waiting} waiting` : ''}`);
              }
              return e === wanted.size ? true : undefined;
            },
            250,
          );
          const wallMs = performance.now() - t0;
          const endedJobs = ended();
          const outcomes: Record<string, number> = {};
          for (const j of endedJobs) outcomes[outcome.get(j)!] = (outcomes[outcome.get(j)!] ?? 0) + 1;
          return {
            wallMs,
            finished: done === true,
            ended: endedJobs.length,
            failed: endedJobs.filter((j) => outcome.get(j) !== 'completed').length,
            units: wanted.size,
            waves: [info.units.map((u) => u.criticalPathMs)],
            outcomes,
          };
        } finally {
          for (const s of subs) s.unsubscribe();
        }
      });
      const campaign = await onFreshFleet(ctx, 'campaign-waves', ctx.deadline - MARGIN_MS, async (ask, info, _nc, until) => {
        const t0 = performance.now();
        const created = await ask<{ campaign: CampaignRecord }>(
          'campaign.create',
          { name: 'bench', select: { all: true }, waves: WAVES, concurrency: CONCURRENCY, timeScale: TIME_SCALE, ...(POLICY ? { policy: POLICY } : {}) },
          300_000,
        );
        const cid = created.campaign.campaign_id;
        ctx.progress(`campaign ${cid} created in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${created.campaign.waves.map((w) => w.units).join(' + ')} units`);
        let last: CampaignRecord = created.campaign;
        const end = await poll(
          ctx,
          until - MARGIN_MS / 2,
          async () => {
            const c = await tryAsk(ctx, 'campaign', async () => (await ask<{ campaign: CampaignRecord }>('campaign.get', { campaignId: cid }, 10_000)).campaign);
            if (!c) return undefined;
            if (c.totals.complete + c.totals.failed + c.totals.cancelled !== last.totals.complete + last.totals.failed + last.totals.cancelled || c.wave !== last.wave) {
              ctx.progress(`campaign: wave ${c.wave}/${c.waves.length}, ${c.totals.complete} complete, ${c.totals.running} running, ${c.totals.failed} failed`);
            }
            last = c;
            return ['completed', 'halted', 'aborted'].includes(c.status) ? c : undefined;
          },
          1000,
        );
        const wallMs = performance.now() - t0;
        const full = (await tryAsk(ctx, 'campaign units', async () => (await ask<{ campaign: CampaignRecord }>('campaign.get', { campaignId: cid, units: true }, 30_000)).campaign)) ?? last;
        const pathOf = new Map(info.units.map((u) => [u.devices.slice().sort().join('+'), u.criticalPathMs]));
        const waves = full.waves.map((w) => (w.members ?? []).map((m) => pathOf.get(m.serials.slice().sort().join('+')) ?? 0));
        const t = full.totals;
        return {
          wallMs,
          finished: end !== undefined,
          ended: t.complete + t.failed + t.cancelled,
          failed: t.failed + t.cancelled,
          units: t.units,
          waves,
          outcomes: { [full.status]: 1, complete: t.complete, failed: t.failed, cancelled: t.cancelled },
        };
      });
      const ideal = (r: Run): number => r.waves.reduce((s, w) => s + fifoMakespan(w, CONCURRENCY), 0);
      const cmd = command(id);
      const policyNote = POLICY ? 'readiness checks and snapshots off in both halves' : 'the shipped readiness policy';
      /** The wall time, or when the half did not finish, the projection from its rate. */
      const wallOf = (r: Run): number | undefined => (r.finished ? r.wallMs : r.ended > 0 ? (r.units / r.ended) * r.wallMs : undefined);
      const figure = (r: Run, name: string): Figure => {
        const w = wallOf(r);
        return {
          bench: id,
          name: r.finished ? `${name}: wall time` : `${name}: projected wall time (stopped at its time box)`,
          value: w === undefined ? 0 : w / 1000,
          unit: 's',
          baseline: { label: 'ideal', value: ideal(r) / 1000, unit: 's' },
          ...(w === undefined ? {} : { ratio: w / ideal(r) }),
          command: cmd,
          note: [
            r.finished ? `${r.units} units` : `${r.ended} of ${r.units} units ended in ${round(r.wallMs / 1000, 1)} s`,
            r.failed > 0 ? `${r.failed} failed or cancelled` : '',
            `fleet start and discovery ${round(r.startMs / 1000, 1)} s before`,
            policyNote,
          ]
            .filter(Boolean)
            .join('; '),
        };
      };
      const figures: Figure[] = [
        figure(campaign, `campaign ${WAVES}, ${CONCURRENCY} at a time, ${DEVICES} devices over 2 hops`),
        figure(plain, `plain jobs (upgrade queue --all), concurrency ${CONCURRENCY}, same fleet`),
      ];
      const cw = wallOf(campaign);
      const pw = wallOf(plain);
      if (cw !== undefined && pw !== undefined) {
        figures.push({
          bench: id,
          name: `campaign wall time against the same devices as plain jobs${campaign.finished && plain.finished ? '' : ' (projected)'}`,
          value: cw / 1000,
          unit: 's',
          baseline: { label: 'plain jobs, same run', value: pw / 1000, unit: 's' },
          ratio: cw / pw,
          command: cmd,
          note: `ideal ratio ${round(ideal(campaign) / ideal(plain), 2)}`,
        });
      }
      const summary = (r: Run) => ({
        finished: r.finished,
        wallMs: Math.round(r.wallMs),
        idealMs: Math.round(ideal(r)),
        unitsEnded: r.ended,
        units: r.units,
        failed: r.failed,
        unitsPerWave: r.waves.map((w) => w.length),
        fleetStartMs: Math.round(r.startMs),
        outcomes: r.outcomes,
      });
      return {
        figures,
        details: { devices: DEVICES, timeScale: TIME_SCALE, concurrency: CONCURRENCY, waves: WAVES, policy: POLICY_NAME, campaign: summary(campaign), plain: summary(plain) },
      };
    },
  };
}
