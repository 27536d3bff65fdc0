import type { Subscription } from '@nats-io/transport-node';
import { connectNats, requestJson, Subjects } from '../bus/index.ts';
import { SNAPSHOT_AREAS } from '../checks/snapshot.ts';
import type { FleetDaemonArgs } from './fleet-daemon.child.ts';
import type { FleetSimInfo, FleetUnit } from './fleet-sim.child.ts';
import type { BenchDef } from './lib/bench.ts';
import { availableParallelism } from 'node:os';
import { cpuSecondsOfPid, peakRssOfPid, processStats, startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { round } from './lib/stats.ts';

/** A development knob (the figures are for 1,000): PANOS_BENCH_FLEET_DEVICES=200 for a quick look. */
const DEVICES = Number(process.env.PANOS_BENCH_FLEET_DEVICES ?? 1000);
/**
 * The readiness policy of the jobs. `default`: the shipped policy (readiness checks, pre- and post-upgrade
 * snapshots); `scheduling` (PANOS_BENCH_FLEET_POLICY=scheduling): no check and no snapshot area, what an
 * upgrade costs without them.
 */
const POLICY_NAME = process.env.PANOS_BENCH_FLEET_POLICY === 'scheduling' ? 'scheduling' : 'default';
const POLICY: Record<string, unknown> | undefined =
  POLICY_NAME === 'default' ? undefined : { name: 'bench-scheduling', checks: {}, snapshots: Object.fromEntries(SNAPSHOT_AREAS.map((a) => [a, { enabled: false }])) };
const TIME_SCALE = 0.1;
const POLL_SECONDS = 0.1;
/** Submits in flight at once (each is a durable append in the daemon). */
const SUBMIT_WINDOW = 32;
/** Wall ÷ ideal the fleet runs aim at (issue #18: fleet-250 within 1.5 × its ideal on this machine). */
const WALL_GOAL = 1.5;

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

export interface FleetBenchOptions {
  /** Default `fleet-<concurrency>`. */
  id?: string;
  /** Default `fleet`. */
  group?: string;
  /** Default 1,000 (PANOS_BENCH_FLEET_DEVICES). */
  devices?: number;
  budgetMs?: number;
  /** Submit one `job.submit` per unit in the scenario's order (default), or the whole fleet in one `upgrade.queue {all}`. */
  submit?: 'each' | 'queue';
  /** Stop waiting this long before the runner's deadline and report what finished by then (stats of a busy daemon take a while). */
  reportMarginMs?: number;
  /** The private nats-server's max_payload (Panorama's device list outgrows 8 MB past ~6,000 firewalls). */
  maxPayloadMiB?: number;
}

/**
 * A fleet (1,000 firewalls by default, HA pairs among them) upgraded over two hops through the gateway, at
 * a time scale of 0.1, with the daemon in its own process; wall time against the FIFO makespan of the
 * units' critical paths. When the run does not finish before its budget, the units finished so far, their
 * rate and the projected wall time are reported instead (the benchmark stops cleanly, it does not hang).
 */
export function fleetBench(concurrency: number, options: FleetBenchOptions = {}): BenchDef {
  const id = options.id ?? `fleet-${concurrency}`;
  const devices = options.devices ?? DEVICES;
  const submitMode = options.submit ?? 'each';
  const marginMs = options.reportMarginMs ?? 30_000;
  const label = `fleet c=${concurrency}`;
  return {
    id,
    group: options.group ?? 'fleet',
    budgetMs: options.budgetMs ?? 240_000,
    async run(ctx) {
      let stopGraceMs = 60_000;
      const sim = await startService<FleetSimInfo>('bench/fleet-sim.child.ts', {
        role: `${id}-sim`,
        args: [String(devices), String(TIME_SCALE), String(options.maxPayloadMiB ?? 0)],
        profile: ctx.profile,
        startTimeoutMs: 300_000,
      });
      const info = sim.info;
      ctx.progress(`simulator and gateway up: ${info.devices} firewalls, ${info.haPairs} HA pairs, ${info.units.length} units; policy ${POLICY_NAME}`);
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
        const discoverStarted = performance.now();
        const discovered = await requestJson<{ discovered: number }>(nc, subjects.cmd('device.discover'), {}, 300_000);
        if (discovered.discovered !== info.devices) throw new Error(`discovered ${discovered.discovered} of ${info.devices} firewalls`);
        const discoverMs = performance.now() - discoverStarted;
        ctx.progress(`${info.devices} firewalls discovered in ${(discoverMs / 1000).toFixed(1)} s`);
        const unitOf = new Map<string, FleetUnit>();
        for (const u of info.units) for (const d of u.devices) unitOf.set(d, u);
        const unitOfJob = new Map<string, FleetUnit>();
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
        const want = (jobId: string, u: FleetUnit | undefined): void => {
          if (wanted.has(jobId)) return;
          wanted.add(jobId);
          if (u) unitOfJob.set(jobId, u);
          if (outcome.has(jobId)) settled++;
        };
        if (submitMode === 'queue') {
          const r = await requestJson<{ queued: number; queuedDevices: Array<{ device: string; jobId: string }> }>(nc, subjects.cmd('upgrade.queue'), { all: true, ...(POLICY ? { policy: POLICY } : {}) }, 300_000);
          for (const q of r.queuedDevices) want(q.jobId, unitOf.get(q.device));
        } else {
          const submitOne = async (u: FleetUnit): Promise<void> => {
            const r = await requestJson<{ job: { job_id: string } }>(nc, subjects.cmd('job.submit'), { device: u.submit, ...(POLICY ? { policy: POLICY } : {}) }, 60_000);
            want(r.job.job_id, u);
          };
          await Promise.all(
            Array.from({ length: SUBMIT_WINDOW }, async () => {
              for (let u = queue.shift(); u; u = queue.shift()) await submitOne(u);
            }),
          );
        }
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
        let timeBox: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'time box'>((resolve) => (timeBox = setTimeout(() => resolve('time box'), Math.max(0, ctx.deadline - marginMs - performance.now()))));
        const ended = await Promise.race([done.then(() => 'done' as const), timedOut, aborted]).finally(() => {
          clearInterval(ticker);
          clearTimeout(timeBox);
        });
        const wallMs = performance.now() - t0;
        const finished = ended === 'done';
        if (!finished) stopGraceMs = 15_000;
        const settledNow = settled;
        const devicesDone = [...wanted].filter((j) => outcome.get(j) === 'completed').reduce((n, j) => n + (unitOfJob.get(j)?.devices.length ?? 1), 0);
        if (!finished) ctx.progress(`time box: ${settledNow}/${wanted.size} units finished (${devicesDone} devices upgraded) in ${(wallMs / 1000).toFixed(1)} s; reporting what was measured`);
        const after = await daemon.call<Stats>('stats');
        const simStats = await sim.call<Stats>('stats');
        // A daemon still running its jobs answers slowly: what it cannot say in time is left out.
        const optional = <T>(p: Promise<T>): Promise<T | undefined> => p.catch((err: unknown) => (ctx.progress(`left out: ${(err as Error).message.slice(0, 120)}`), undefined));
        const versions = await optional(sim.call<Record<string, number>>('versions', undefined, 30_000));
        const daemonEvents = await optional(daemon.call<number>('eventCount', undefined, 30_000));
        const daemonCommits = await optional(daemon.call<number>('commits', undefined, 30_000));
        const apiCalls = await optional(daemon.call<{ total: number } & Record<string, unknown>>('apiCalls', undefined, finished ? 60_000 : marginMs / 3));
        const steps = await optional(daemon.call<Record<string, unknown>>('steps', undefined, finished ? 60_000 : marginMs / 4));
        const eventTypes = await optional(daemon.call<Record<string, number>>('eventTypes', undefined, finished ? 60_000 : marginMs / 4));
        const deviceSequence = process.env.PANOS_BENCH_FLEET_SEQUENCE ? await optional(daemon.call<string[]>('deviceSequence', undefined, 60_000)) : undefined;
        const tlsConnections = await optional(daemon.call<{ connections: number; resumed: number }>('tlsConnections', undefined, 30_000));
        const timeline = await optional(daemon.call<Record<string, unknown>>('timeline', undefined, finished ? 60_000 : marginMs / 4));
        const natsPeak = await peakRssOfPid(info.natsPid);
        const natsCpu = ((await cpuSecondsOfPid(info.natsPid)) ?? 0) - (natsBefore ?? 0);
        const failed = [...wanted].filter((j) => outcome.has(j) && outcome.get(j) !== 'completed').length;

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
        const per = Math.max(1, finished ? info.devices : devicesDone);
        const perNote = finished ? undefined : `÷ the ${devicesDone} devices upgraded in the time box; includes the work of the ${wanted.size - settledNow} units still running`;
        const rate = settledNow / (wallMs / 1000);
        const projectedMs = rate > 0 ? (info.units.length / rate) * 1000 : undefined;
        const figures: Figure[] = [
          finished
            ? {
                bench: id,
                name: `${label}: wall time, ${info.devices} devices over 2 hops`,
                value: wallMs / 1000,
                unit: 's',
                baseline: { label: 'ideal (FIFO makespan of critical paths)', value: ideal / 1000, unit: 's' },
                ratio: wallMs / ideal,
                goal: { op: '<=', value: WALL_GOAL },
                command: cmd,
                ...(failed > 0 ? { note: `${failed} units did not complete` } : {}),
              }
            : {
                bench: id,
                name: `${label}: units finished within the time box, ${info.devices} devices over 2 hops`,
                value: settledNow,
                unit: 'units',
                baseline: { label: 'units submitted', value: wanted.size, unit: 'units' },
                ratio: settledNow / Math.max(1, wanted.size),
                command: cmd,
                note: `stopped after ${round(wallMs / 1000, 1)} s of ${round(ideal / 1000, 1)} s ideal; ${round(rate, 2)} units/s${failed > 0 ? `; ${failed} failed` : ''}`,
              },
          ...(!finished
            ? [
                {
                  bench: id,
                  name: `${label}: projected wall time at the rate of the time box`,
                  value: projectedMs === undefined ? 0 : projectedMs / 1000,
                  unit: 's',
                  baseline: { label: 'ideal (FIFO makespan of critical paths)', value: ideal / 1000, unit: 's' },
                  ...(projectedMs === undefined ? {} : { ratio: projectedMs / ideal }),
                  goal: { op: '<=' as const, value: WALL_GOAL },
                  command: cmd,
                  note: projectedMs === undefined ? 'no unit finished: no rate to project from' : `${info.units.length} units at ${round(rate, 2)} units/s`,
                },
              ]
            : []),
          {
            bench: id,
            name: `${label}: CPU floor (daemon + simulator/gateway + nats-server CPU ÷ ${availableParallelism()} cores)`,
            value: cpuBoundMs / 1000,
            unit: 's',
            baseline: { label: 'wall time', value: wallMs / 1000, unit: 's' },
            ratio: cpuBoundMs / wallMs,
            command: cmd,
          },
          ...(finished || devicesDone > 0
            ? [
                { bench: id, name: `${label}: daemon CPU per device upgrade`, value: (cpuS / per) * 1000, unit: 'ms', command: cmd, note: `${round(cpuS, 1)} CPU s in all${perNote ? `; ${perNote}` : ''}` },
                { bench: id, name: `${label}: simulator+gateway CPU per device upgrade`, value: (simCpuS / per) * 1000, unit: 'ms', command: cmd, ...(perNote ? { note: perNote } : {}) },
                ...(apiCalls
                  ? [
                      {
                        bench: id,
                        name: `${label}: API calls per device upgrade`,
                        value: apiCalls.total / per,
                        unit: 'calls',
                        command: cmd,
                        note: `most: ${Object.entries((apiCalls.commands ?? {}) as Record<string, { count: number }>)
                          .slice(0, 6)
                          .map(([k, v]) => `${k} ${round(v.count / per, 1)}`)
                          .join(', ')}${perNote ? `; ${perNote}` : ''}`,
                      },
                    ]
                  : []),
              ]
            : [
                // Nothing finished: no per-device figure, the totals of the time box.
                { bench: id, name: `${label}: daemon CPU in the time box (no device upgraded)`, value: cpuS, unit: 's', command: cmd },
                { bench: id, name: `${label}: simulator+gateway CPU in the time box`, value: simCpuS, unit: 's', command: cmd },
                ...(apiCalls ? [{ bench: id, name: `${label}: API calls in the time box`, value: apiCalls.total, unit: 'calls', command: cmd }] : []),
              ]),
          { bench: id, name: `${label}: peak RSS daemon`, value: after.maxRssMiB, unit: 'MiB', command: cmd },
          { bench: id, name: `${label}: peak RSS simulator+gateway`, value: simStats.maxRssMiB, unit: 'MiB', command: cmd },
          ...(natsPeak !== undefined ? [{ bench: id, name: `${label}: peak RSS nats-server`, value: natsPeak, unit: 'MiB', command: cmd }] : []),
        ];
        return {
          figures,
          details: {
            devices: info.devices,
            policy: POLICY_NAME,
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
            finished,
            unitsFinished: settledNow,
            devicesUpgraded: devicesDone,
            unitsPerSecond: round(rate, 3),
            discoverMs: Math.round(discoverMs),
            submit: submitMode,
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
            daemonCommits,
            eventTypes,
            ...(deviceSequence ? { deviceSequence } : {}),
            apiCalls,
            steps,
            tlsConnections,
            timeline,
            daemonProcess: after,
            simProcess: simStats,
            natsPeakRssMiB: natsPeak,
          },
        };
      } finally {
        for (const s of subs) s.unsubscribe();
        await nc.close();
        // A daemon stopped in the middle of its jobs may take long to wind them down: it is killed sooner then.
        await daemon.stop(stopGraceMs);
        await sim.stop();
      }
    },
  };
}
