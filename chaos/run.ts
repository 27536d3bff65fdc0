import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, requestJson, startNatsServer, Subjects, type NatsServerHandle } from '../bus/index.ts';
import type { EventEnvelope } from '../eventstore/index.ts';
import { saveConfig } from '../actors/config.ts';
import { chaosPlan, checkCampaignInvariants } from '../forensics/index.ts';
import { writeCaFile, type GatewayHandle } from '../gateway/index.ts';
import { Simulator, handleControl } from '../simulator/index.ts';
import { awaitChaosCampaign, startChaosCampaign } from './campaign-run.ts';
import { allJobsEnded, askDaemon, beginRehearsal, chaosConfig, checkRun, cleanUp, sleep, spawnDaemon, startChaosGateway, submitJobs, TERMINAL, until, type ChaosOptions, type ChaosReport } from './rehearsal.ts';

/** The daemon as a child process (`panos-upgrade daemon`), its output in the work dir. */
class DaemonChild {
  private child: ChildProcess | undefined;
  private starts = 0;

  constructor(
    private readonly cliBin: string,
    private readonly dataDir: string,
    private readonly natsUrl: string,
    private readonly workDir: string,
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  /** Spawn a daemon; resolves its exit as `exited <signal or code>`. */
  private spawn(): Promise<string> {
    this.starts++;
    const child = spawnDaemon(this.cliBin, this.dataDir, this.natsUrl, join(this.workDir, `daemon-${this.starts}.log`), 'w');
    this.child = child;
    return new Promise<string>((r) => child.once('exit', (code, signal) => r(`exited ${signal ?? code}`)));
  }

  /** Start a daemon and SIGKILL it `afterMs` after it was spawned: while it loads, opens its log and resumes its jobs. */
  async killDuringStartUp(afterMs: number): Promise<string> {
    const exited = this.spawn();
    const early = await Promise.race([exited, sleep(afterMs).then(() => undefined)]);
    if (early) return `daemon ${this.starts} ${early} by itself within ${afterMs} ms of its start; see ${this.workDir}/daemon-${this.starts}.log`;
    await this.kill();
    return `daemon ${this.starts} killed with SIGKILL ${afterMs} ms after it was started`;
  }

  async start(): Promise<string> {
    const exited = this.spawn();
    const up = until(async () => {
      const s = await requestJson<{ runId?: string }>(this.nc, this.subjects.cmd('daemon.status'), {}, 1000);
      return s.runId;
    }, 60_000);
    const runId = await Promise.race([up, exited.then((why) => Promise.reject(new Error(`the daemon ${why} before it was up; see ${this.workDir}/daemon-${this.starts}.log`)))]);
    if (!runId) throw new Error(`the daemon did not answer within 60 s; see ${this.workDir}/daemon-${this.starts}.log`);
    return runId;
  }

  /** SIGKILL: no goodbye, no run.stopped; what is on disk is all the next daemon gets. */
  kill(): Promise<void> {
    return this.end('SIGKILL');
  }

  /** SIGTERM, and SIGKILL if it has not exited within 15 s. */
  stop(): Promise<void> {
    return this.end('SIGTERM', 15_000);
  }

  private async end(signal: NodeJS.Signals, killAfterMs?: number): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    await gone;
    clearTimeout(timer);
  }
}

/**
 * A fleet upgrade under faults: private NATS, simulator and gateway in this process, the daemon as a
 * child process; while it runs, the daemon is SIGKILLed and restarted, the simulator stopped and
 * started on the same log, NATS restarted on the same port, and live faults switched on and off, each
 * at a moment drawn from the seed. Then the invariants are checked on the logs. Bounded in time.
 */
export async function runChaos(o: ChaosOptions, log: Logger = pino({ level: 'silent' })): Promise<ChaosReport> {
  // Generous: a safety bound, not a measure; HTTPS handshakes and kills cost real time on a busy machine.
  const run = beginRehearsal(o, (scenario, estimateMs) => chaosPlan(scenario, estimateMs, { kills: o.kills ?? 1 }), { tmpPrefix: 'panos-chaos-', minSeconds: 120, extraSeconds: 60 });
  const { scenario, concurrency, plan, timeoutMs, workDir, runId, simLog, simStore, disruptions, submitted } = run;
  const dataDir = join(workDir, 'daemon');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  let nats: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;
  let sim: Simulator | undefined;
  let gateway: GatewayHandle | undefined;
  let daemon: DaemonChild | undefined;
  let startedAt = Date.now();
  let timedOut = false;
  let disruptionError: string | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    await simStore.append(`run:${runId}`, [{ type: 'run.started', data: { role: 'chaos', pid: process.pid, scenario: scenario.name, seed: scenario.seed, devices: scenario.devices.length } }]);
    await simStore.append('chaos', [{ type: 'chaos.planned', data: { plan } }]);
    nats = await startNatsServer({ storeDir: join(workDir, 'nats') });
    nc = await connectNats(nats.url, 'panos-upgrade chaos');
    const subjects = new Subjects('panos');
    const startSim = async (): Promise<Simulator> => Simulator.start({ scenario, store: simStore, log: simLog.child({ component: 'simulator' }), nc: nc!, subjects });
    sim = await startSim();
    const g = await startChaosGateway({ nc, subjects, run, sim });
    gateway = g;
    saveConfig(dataDir, chaosConfig(scenario, g, concurrency, writeCaFile(g.identity, dataDir)));
    daemon = new DaemonChild(o.cliBin, dataDir, nats.url, workDir, nc, subjects);
    await daemon.start();
    const ask = askDaemon(nc, subjects, 10_000);

    const discovered = await until(async () => (await ask<{ discovered: number }>('device.discover')).discovered, 30_000, 200);
    if (discovered === undefined) throw new Error('discovery did not answer within 30 s');
    const campaignId = o.campaign ? await startChaosCampaign(ask, scenario, concurrency) : undefined;
    if (!campaignId) await submitJobs(ask, scenario, submitted);
    startedAt = Date.now();
    log.info({ jobs: submitted.filter((s) => s.jobId).length, estimateMs: plan.estimateMs }, 'jobs submitted');

    // Live faults on and off, at their moments, on a device still being worked on: the planned one if its
    // job is running then, else the first of its candidates whose job is (a fault on a finished device shows nothing).
    const faulted = new Set<string>();
    const inProgress = async (): Promise<Set<string>> => {
      const r = await ask<{ jobs: Array<{ device_serial: string; upgrade_status: string }> }>('job.list', { active: true });
      return new Set(r.jobs.filter((j) => j.upgrade_status !== 'pending' && j.upgrade_status !== 'paused').flatMap((j) => j.device_serial.split('+')));
    };
    for (const i of plan.injections) {
      let device: string | undefined;
      timers.push(
        setTimeout(() => {
          void (async () => {
            const busy = await inProgress().catch(() => new Set<string>());
            device = i.candidates.find((c) => busy.has(c) && !faulted.has(c));
            if (!device) {
              await simStore.append('chaos', [{ type: 'chaos.fault.skipped', data: { fault: i.fault, reason: 'no candidate device had a running job', atMs: Date.now() - startedAt } }]);
              return;
            }
            faulted.add(device);
            await handleControl(sim!, device, 'faults', { faults: i.faults });
            await simStore.append('chaos', [{ type: 'chaos.fault.injected', data: { device, planned: i.device, fault: i.fault, faults: i.faults, atMs: Date.now() - startedAt } }]);
          })().catch((err: unknown) => log.warn({ err, device: i.device }, 'could not inject a fault'));
        }, i.atMs),
        setTimeout(() => {
          if (!device) return;
          const on = device;
          void handleControl(sim!, on, 'faults', { faults: {}, replace: true })
            .then(() => simStore.append('chaos', [{ type: 'chaos.fault.cleared', data: { device: on, fault: i.fault, atMs: Date.now() - startedAt } }]))
            .then(() => faulted.delete(on))
            .catch((err: unknown) => log.warn({ err, device: on }, 'could not clear a fault'));
        }, i.untilMs),
      );
    }
    // Disruptions one after the other, each at its moment (or as soon as the previous one is over).
    const disrupting = (async () => {
      for (const [index, d] of plan.disruptions.entries()) {
        const wait = startedAt + d.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        const t0 = Date.now();
        let detail = '';
        if (d.what === 'daemon-kill') {
          // A start-up or resume kill that follows hits the daemon started after this one: start it there.
          const next = plan.disruptions[index + 1];
          const followed = next?.what === 'daemon-kill' && (next.kill === 'start-up' || next.kill === 'resume');
          if (d.kill === 'start-up') {
            detail = await daemon!.killDuringStartUp(d.afterMs ?? 0);
          } else if (d.kill === 'resume') {
            const run = await daemon!.start();
            await sleep(d.afterMs ?? 0);
            await daemon!.kill();
            detail = `run ${run} killed with SIGKILL ${d.afterMs ?? 0} ms after it answered, while it resumed its jobs`;
          } else {
            await daemon!.kill();
            detail = 'killed with SIGKILL';
          }
          if (!followed) detail += `; restarted as run ${await daemon!.start()}`;
        } else if (d.what === 'simulator-restart') {
          await sim!.stop();
          sim = await startSim();
          detail = `stopped and started on the same log: ${sim.restored} device(s) resumed from their snapshots`;
        } else {
          await nats!.restart();
          detail = `restarted on port ${nats!.port}`;
        }
        disruptions.push({ what: d.what, ...(d.kill ? { kill: d.kill } : {}), plannedMs: d.atMs, atMs: t0 - startedAt, tookMs: Date.now() - t0, detail });
        await simStore.append('chaos', [{ type: 'chaos.disruption.completed', data: { ...disruptions.at(-1)! } }]);
        log.info({ what: d.what, tookMs: Date.now() - t0 }, 'disruption done');
      }
    })().catch((err: unknown) => {
      // A disruption that cannot be undone (the daemon does not come back) leaves the jobs unfinished: the report says so.
      disruptionError = err instanceof Error ? err.message : String(err);
      log.error({ err }, 'a disruption failed');
    });

    if (campaignId) timedOut = !(await awaitChaosCampaign(ask, campaignId, timeoutMs, submitted));
    const ids = new Set(submitted.filter((s) => s.jobId).map((s) => s.jobId!));
    const finished = await until(allJobsEnded(ask, ids), timeoutMs, 250);
    timedOut = finished === undefined;
    // Every disruption happens, even after the jobs ended, so that each run exercises them all.
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([disrupting, new Promise((r) => (guard = setTimeout(r, Math.max(0, startedAt + timeoutMs - Date.now()) + 30_000)))]);
    clearTimeout(guard);
    // A job that ended after a late disruption is checked as it is now.
    if (!timedOut) {
      await until(async () => {
        const r = await ask<{ jobs: Array<{ job_id: string; upgrade_status: string }> }>('job.list', {});
        return r.jobs.every((j) => !ids.has(j.job_id) || TERMINAL.has(j.upgrade_status)) ? true : undefined;
      }, 30_000, 250);
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    if (daemon) await cleanUp(log, 'stop the daemon', () => daemon!.stop());
    if (gateway) await cleanUp(log, 'close the gateway', () => gateway!.close());
    if (sim) await cleanUp(log, 'stop the simulator', () => sim!.stop());
    if (nc) await cleanUp(log, 'close the NATS connection', () => nc!.close());
    if (nats) await cleanUp(log, 'stop nats-server', () => nats!.stop());
  }

  // The checks read both logs as they are on disk.
  return checkRun(run, {
    startedAt,
    timedOut,
    disruptionError,
    daemonDataDir: dataDir,
    moreInvariants: (daemonEvents) => (o.campaign ? checkCampaignInvariants(daemonEvents) : []),
    live: liveFaults,
  });
}

/** The chaos stream's record of the live faults switched on and off. */
function liveFaults(events: readonly EventEnvelope[]): ChaosReport['live'] {
  const out: ChaosReport['live'] = [];
  for (const e of events) {
    if (e.stream !== 'chaos') continue;
    const d = e.data as { device?: string; planned?: string; fault?: string; atMs?: number };
    if (e.type === 'chaos.fault.injected' && d.device) out.push({ device: d.device, planned: d.planned ?? d.device, fault: d.fault ?? '?', atMs: d.atMs ?? 0, clearedMs: null });
    if (e.type === 'chaos.fault.cleared') {
      const open = out.find((f) => f.device === d.device && f.clearedMs === null);
      if (open) open.clearedMs = d.atMs ?? null;
    }
  }
  return out;
}

