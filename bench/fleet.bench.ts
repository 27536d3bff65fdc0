import type { Subscription } from '@nats-io/transport-node';
import { connectNats, requestJson, Subjects } from '../bus/index.ts';
import type { FleetDaemonArgs } from './fleet-daemon.child.ts';
import type { FleetSimInfo, FleetUnit } from './fleet-sim.child.ts';
import type { BenchDef } from './lib/bench.ts';
import { availableParallelism } from 'node:os';
import { cpuSecondsOfPid, peakRssOfPid, processStats, startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { round } from './lib/stats.ts';

/** A development knob (the figures are for 1,000): PANOS_BENCH_FLEET_DEVICES=200 for a quick look. */
const DEVICES = Number(process.env.PANOS_BENCH_FLEET_DEVICES ?? 1000);
const TIME_SCALE = 0.1;
const POLL_SECONDS = 0.1;
/** Submits in flight at once (each is a durable append in the daemon). */
const SUBMIT_WINDOW = 32;

type Stats = ReturnType<typeof processStats>;

/** Makespan of the units run first-in first-out on `concurrency` slots with no overhead at all. */
export function fifoMakespan(durations: readonly number[], concurrency: number): number {
  const slots: number[] = Array.from({ length: Math.min(concurrency, durations.length) }, () => 0);
  for (const d of durations) {
    let i = 0;
    for (let j = 1; j < slots.length; j++) if (slots[j]! < slots[i]!) i = j;
    slots[i]! += d;
  }
  return Math.max(0, ...slots);
}

const TERMINAL = ['completed', 'failed', 'cancelled', 'ha.completed', 'ha.failed', 'ha.cancelled'];

/**
 * 1,000 firewalls (HA pairs among them) upgraded over two hops through the gateway, at a time scale of
 * 0.1, with the daemon in its own process; wall time against the FIFO makespan of the units' critical paths.
 */
export function fleetBench(concurrency: number): BenchDef {
  const id = `fleet-${concurrency}`;
  return {
    id,
    group: 'fleet',
    budgetMs: 240_000,
    async run(ctx) {
      const sim = await startService<FleetSimInfo>('bench/fleet-sim.child.ts', {
        role: `${id}-sim`,
        args: [String(DEVICES), String(TIME_SCALE)],
        profile: ctx.profile,
      });
      const info = sim.info;
      ctx.progress(`simulator and gateway up: ${info.devices} firewalls, ${info.haPairs} HA pairs, ${info.units.length} units`);
      const daemonArgs: FleetDaemonArgs = {
        natsUrl: info.natsUrl,
        prefix: info.prefix,
        port: info.port,
        fingerprint: info.fingerprint,
        caCert: info.caCert,
        apiKey: info.apiKey,
        concurrency,
        upgradePaths: info.upgradePaths,
        pollSeconds: POLL_SECONDS,
      };
      const daemon = await startService<{ pid: number }>('bench/fleet-daemon.child.ts', { role: `${id}-daemon`, args: [JSON.stringify(daemonArgs)], profile: ctx.profile });
      const nc = await connectNats(info.natsUrl, 'bench fleet driver');
      const subjects = new Subjects(info.prefix);
      const subs: Subscription[] = [];
      try {
        const discovered = await requestJson<{ discovered: number }>(nc, subjects.cmd('device.discover'), {}, 120_000);
        if (discovered.discovered !== info.devices) throw new Error(`discovered ${discovered.discovered} of ${info.devices} firewalls`);
        const outcome = new Map<string, string>();
        let settled = 0;
        let allDone: () => void = () => undefined;
        const done = new Promise<void>((r) => (allDone = r));
        const wanted = new Set<string>();
        let submitting = true;
        for (const t of TERMINAL) {
          subs.push(
            nc.subscribe(`${info.prefix}.evt.job.*.${t}`, {
              callback: (_err, msg) => {
                const jobId = msg.subject.split('.')[3]!;
                if (outcome.has(jobId)) return;
                outcome.set(jobId, t.replace('ha.', ''));
                if (wanted.has(jobId) && ++settled === wanted.size && submitting === false) allDone();
              },
            }),
          );
        }
        await nc.flush();
        const before = await daemon.call<Stats>('stats');
        const simBefore = await sim.call<Stats>('stats');
        const natsBefore = await cpuSecondsOfPid(info.natsPid);
        const t0 = performance.now();
        const queue = [...info.units];
        const submitOne = async (u: FleetUnit): Promise<void> => {
          const r = await requestJson<{ job: { job_id: string } }>(nc, subjects.cmd('job.submit'), { device: u.submit }, 60_000);
          wanted.add(r.job.job_id);
          if (outcome.has(r.job.job_id)) settled++;
        };
        await Promise.all(
          Array.from({ length: SUBMIT_WINDOW }, async () => {
            for (let u = queue.shift(); u; u = queue.shift()) await submitOne(u);
          }),
        );
        const submitMs = performance.now() - t0;
        submitting = false;
        if (settled === wanted.size) allDone();
        ctx.progress(`${wanted.size} jobs submitted in ${(submitMs / 1000).toFixed(1)} s`);
        const failures = new Map<string, number>();
        let failedSeen = 0;
        const ticker = setInterval(() => {
          void (async () => {
            try {
              const s = await requestJson<{ running: number; waiting: number; jobs: Record<string, number> }>(nc, subjects.cmd('daemon.status'), {}, 5000);
              ctx.progress(`${settled}/${wanted.size} units finished; daemon: ${s.running} running, ${s.waiting} waiting, jobs ${JSON.stringify(s.jobs)}`);
              if ((s.jobs.failed ?? 0) > failedSeen) {
                failedSeen = s.jobs.failed ?? 0;
                const list = await requestJson<{ jobs: Array<{ upgrade_message: string }> }>(nc, subjects.cmd('job.list'), { status: 'failed' }, 10_000);
                failures.clear();
                for (const j of list.jobs) {
                  const reason = j.upgrade_message.replace(/\b[0-9]{12}\b/g, '<serial>').replace(/[0-9a-z]{8,}-[0-9a-f]{6}/g, '<job>').slice(0, 200);
                  failures.set(reason, (failures.get(reason) ?? 0) + 1);
                }
                ctx.progress(`failures: ${JSON.stringify([...failures].slice(0, 5))}`);
              }
            } catch (err) {
              ctx.progress(`${settled}/${wanted.size} units finished; daemon did not answer (${(err as Error).message})`);
            }
          })();
        }, 10_000);
        const aborted = new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        await Promise.race([done, aborted]).finally(() => clearInterval(ticker));
        const wallMs = performance.now() - t0;
        const after = await daemon.call<Stats>('stats');
        const simStats = await sim.call<Stats>('stats');
        const versions = await sim.call<Record<string, number>>('versions');
        const daemonEvents = await daemon.call<number>('eventCount');
        const apiCalls = await daemon.call<Record<string, unknown>>('apiCalls', undefined, 60_000);
        const steps = await daemon.call<Record<string, unknown>>('steps', undefined, 60_000);
        const tlsConnections = await daemon.call<number>('tlsConnections');
        const natsPeak = await peakRssOfPid(info.natsPid);
        const natsCpu = ((await cpuSecondsOfPid(info.natsPid)) ?? 0) - (natsBefore ?? 0);
        const failed = [...wanted].filter((j) => outcome.get(j) !== 'completed').length;

        const durations = info.units.map((u) => u.criticalPathMs);
        const ideal = fifoMakespan(durations, concurrency);
        const lowerBound = Math.max(Math.max(...durations), durations.reduce((s, d) => s + d, 0) / concurrency);
        const standalone = info.units.find((u) => u.devices.length === 1)?.criticalPathMs ?? 0;
        const briefFormula = Math.ceil(info.units.length / concurrency) * Math.max(...durations);
        const cpuS = after.cpuUserS + after.cpuSystemS - (before.cpuUserS + before.cpuSystemS);
        const simCpuS = simStats.cpuUserS + simStats.cpuSystemS - (simBefore.cpuUserS + simBefore.cpuSystemS);
        // No schedule beats the CPU the three processes need, spread over every core of the machine.
        const cpuBoundMs = ((cpuS + simCpuS + natsCpu) / availableParallelism()) * 1000;
        const cmd = command(id);
        const figures: Figure[] = [
          {
            bench: id,
            name: `fleet c=${concurrency}: wall time, ${info.devices} devices over 2 hops`,
            value: wallMs / 1000,
            unit: 's',
            baseline: { label: 'ideal (FIFO makespan of critical paths)', value: ideal / 1000, unit: 's' },
            ratio: wallMs / ideal,
            goal: { op: '<=', value: 1.05 },
            command: cmd,
            ...(failed > 0 ? { note: `${failed} units did not complete` } : {}),
          },
          {
            bench: id,
            name: `fleet c=${concurrency}: CPU floor (daemon + simulator/gateway + nats-server CPU ÷ ${availableParallelism()} cores)`,
            value: cpuBoundMs / 1000,
            unit: 's',
            baseline: { label: 'wall time', value: wallMs / 1000, unit: 's' },
            ratio: cpuBoundMs / wallMs,
            command: cmd,
          },
          { bench: id, name: `fleet c=${concurrency}: daemon CPU per device upgrade`, value: (cpuS / info.devices) * 1000, unit: 'ms', command: cmd, note: `${round(cpuS, 1)} CPU s in all` },
          { bench: id, name: `fleet c=${concurrency}: simulator+gateway CPU per device upgrade`, value: (simCpuS / info.devices) * 1000, unit: 'ms', command: cmd },
          { bench: id, name: `fleet c=${concurrency}: peak RSS daemon`, value: after.maxRssMiB, unit: 'MiB', command: cmd },
          { bench: id, name: `fleet c=${concurrency}: peak RSS simulator+gateway`, value: simStats.maxRssMiB, unit: 'MiB', command: cmd },
          ...(natsPeak !== undefined ? [{ bench: id, name: `fleet c=${concurrency}: peak RSS nats-server`, value: natsPeak, unit: 'MiB', command: cmd }] : []),
        ];
        return {
          figures,
          details: {
            devices: info.devices,
            haPairs: info.haPairs,
            units: info.units.length,
            hops: info.hops,
            timeScale: info.timeScale,
            pollSeconds: POLL_SECONDS,
            timingMs: info.timing,
            standaloneCriticalPathMs: standalone,
            pairCriticalPathMs: info.units.find((u) => u.devices.length === 2)?.criticalPathMs ?? null,
            idealMs: Math.round(ideal),
            lowerBoundMs: Math.round(lowerBound),
            briefFormulaMs: briefFormula,
            wallMs: Math.round(wallMs),
            submitMs: Math.round(submitMs),
            outcomes: [...wanted].reduce<Record<string, number>>((acc, j) => {
              const o = outcome.get(j) ?? 'unknown';
              acc[o] = (acc[o] ?? 0) + 1;
              return acc;
            }, {}),
            versionsAfter: versions,
            failureReasons: Object.fromEntries(failures),
            daemonCpuSeconds: round(cpuS, 2),
            simGatewayCpuSeconds: round(simCpuS, 2),
            natsCpuSeconds: round(natsCpu, 2),
            cpuBoundMs: Math.round(cpuBoundMs),
            daemonEvents,
            apiCalls,
            steps,
            tlsConnections,
            daemonProcess: after,
            simProcess: simStats,
            natsPeakRssMiB: natsPeak,
          },
        };
      } finally {
        for (const s of subs) s.unsubscribe();
        await nc.close();
        await daemon.stop(60_000);
        await sim.stop();
      }
    },
  };
}
