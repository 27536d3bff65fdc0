import { createWriteStream, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG, simulatedFleetAccess, saveConfig, type DaemonConfig } from '../actors/config.ts';
import { Daemon } from '../actors/daemon.ts';
import { createDeviceAccess } from '../actors/device-access.ts';
import type { InventoryDevice } from '../actors/inventory.ts';
import type { StatusRecord } from '../actors/daemon.ts';
import { loadDaemonConfig } from '../actors/paths-file.ts';
import { eventPublisher, startNatsServer, type NatsServerHandle } from '../bus/index.ts';
import { LmdbEventStore } from '../eventstore/index.ts';
import { busCopy } from '../actors/bus-copy.ts';
import { startGateway, writeCaFile, type GatewayHandle } from '../gateway/index.ts';
import { generateFleetScenario, loadScenarioFile, scenarioFromObject, timingsOfScenario, type Scenario } from '../scenarios/index.ts';
import { Simulator } from '../simulator/index.ts';
import { startWebServer, type WebServerHandle } from '../web/index.ts';
import { DaemonClient } from './client.ts';
import { discoverDevices, printDiscovered } from './commands/device.ts';
import { downloadStatus, queueAllDownloads, queueSummaryLines } from './commands/download.ts';
import { resultLine, succeeded } from './commands/job.ts';
import { CampaignFeed, followCampaign } from './commands/campaign.ts';
import type { CampaignRecord } from '../machines/campaign.record.ts';
import type { EventEnvelope } from '../eventstore/index.ts';
import type { DemoOptions } from './commands/demo.ts';
import { resolveDataDir } from './data-dir.ts';
import { removeDaemonFile, writeDaemonFile } from './daemon-file.ts';
import { CliError, InterruptedError } from './errors.ts';
import { DownloadFollower, onInterrupt } from './follow.ts';
import { createLogger } from './logger.ts';
import type { GlobalOptions } from './options.ts';
import { countsLine, deviceName, formatDuration, jobName, outputTo, type Output } from './output.ts';
import { PACKAGE_ROOT, shippedScenario } from './paths.ts';
import { openRuntime, type Runtime } from './runtime.ts';

/**
 * Who the demo upgrades after the downloads, one entry per kind of device. `job submit` on an HA member
 * gives a job for the whole pair (kind 'ha-upgrade'), followed like the others.
 */
export type UpgradePick = { kind: 'standalone'; count: number } | { kind: 'ha-member'; count: number };

export function upgradePlan(options: Pick<DemoOptions, 'upgrades' | 'haPairs'>): UpgradePick[] {
  return [
    { kind: 'standalone', count: options.upgrades },
    { kind: 'ha-member', count: options.haPairs },
  ];
}

/**
 * Devices for the picks: staged (their download job completed, so the path is known and the images
 * are there), standalone or passive HA members, spread over different current versions.
 */
export function pickDevices(devices: readonly InventoryDevice[], staged: ReadonlySet<string>, picks: readonly UpgradePick[]): InventoryDevice[] {
  const chosen: InventoryDevice[] = [];
  for (const pick of picks) {
    const fits = devices.filter(
      (d) =>
        staged.has(d.serial) &&
        d.connected &&
        !chosen.some((c) => c.serial === d.serial || c.serial === d.haPeer) &&
        (pick.kind === 'standalone' ? !d.haState : d.haPeer !== null && staged.has(d.haPeer)) &&
        // The simulator's `show routing route` for a data-centre route table (PA-5200/7000: thousands of
        // routes) is larger than NATS's 1 MB max_payload today, which fails the pre-upgrade snapshot.
        !/^PA-(5|7)\d/.test(d.model),
    );
    const byVersion = new Map<string, InventoryDevice[]>();
    for (const d of fits) byVersion.set(d.swVersion, [...(byVersion.get(d.swVersion) ?? []), d]);
    // Round-robin over versions, oldest first, for paths of different lengths.
    const queues = [...byVersion.entries()].sort((a, b) => a[0].localeCompare(b[0], undefined, { numeric: true })).map(([, ds]) => ds);
    let taken = 0;
    for (let round = 0; taken < pick.count && queues.some((q) => q.length > round); round++) {
      for (const q of queues) {
        const d = q[round];
        if (d && taken < pick.count && !chosen.some((c) => c.serial === d.haPeer)) {
          chosen.push(d);
          taken++;
        }
      }
    }
  }
  return chosen;
}

/** The daemon's configuration for the simulated fleet: what `config set` would write for a lab. */
function demoConfig(gateway: GatewayHandle, scenario: Scenario, options: DemoOptions, pathsFile: string, caFile: string): DaemonConfig {
  // Waits that are real time on a real fleet shrink with the simulation, but never below what a busy machine needs.
  const k = Math.max(1, options.timeScale);
  return {
    ...DEFAULT_CONFIG,
    // Each firewall serves its own certificate, issued by the simulated CA: trusted through that CA.
    ...simulatedFleetAccess({ port: gateway.port, fingerprint: gateway.fingerprint, apiKey: scenario.apiKey, caFile }),
    concurrency: options.concurrency,
    rateLimit: 1000,
    upgrade: { ...DEFAULT_CONFIG.upgrade, pathsFile },
    // Firewalls whose loopback address could not be bound (not Linux) are reached through Panorama.
    downloads: { direct: gateway.skipped.length === 0 },
    retries: { maxAttempts: 3, backoffSeconds: 0.2 },
    timeouts: { apiSeconds: 15 * k, jobSeconds: 120 * k, rebootSeconds: 60 * k, rebootSecondsByModel: {}, rebootStartGraceSeconds: 10 * k },
    poll: { jobSeconds: 0.1 * k, rebootSeconds: 0.1 * k },
  };
}

function loadDemoScenario(options: DemoOptions): { scenario: Scenario; source: string } {
  const scale = { timeScale: options.timeScale, env: {} };
  if (options.devices === 230) {
    const file = shippedScenario('fleet-230');
    return { scenario: loadScenarioFile(file, scale), source: relative(PACKAGE_ROOT, file) };
  }
  // At least two HA pairs: the first is a PA-5220 pair, which the upgrades leave out (see pickDevices).
  const haPairs = Math.max(2, Math.round((options.devices * 5) / 230));
  return {
    scenario: scenarioFromObject(generateFleetScenario({ devices: options.devices, haPairs }), `generated fleet of ${options.devices}`, scale),
    source: `a generated fleet of ${options.devices}`,
  };
}

/** Everything the demo started, stopped in reverse order whatever happened. */
class Parts {
  nats: NatsServerHandle | undefined;
  rt: Runtime | undefined;
  simStore: LmdbEventStore | undefined;
  offSim: (() => void) | undefined;
  sim: Simulator | undefined;
  gateway: GatewayHandle | undefined;
  access: ReturnType<typeof createDeviceAccess> | undefined;
  daemon: Daemon | undefined;
  web: WebServerHandle | undefined;
  client: DaemonClient | undefined;
  dataDir = '';

  async stop(): Promise<void> {
    const quietly = async (f: () => unknown): Promise<void> => {
      try {
        await f();
      } catch {
        // shutting down: the first error has been reported already
      }
    };
    await quietly(() => this.web?.close());
    await quietly(() => this.client?.close());
    if (this.dataDir) await quietly(() => removeDaemonFile(this.dataDir));
    await quietly(() => this.daemon?.stop());
    await quietly(() => this.access?.close());
    await quietly(() => this.gateway?.close());
    await quietly(() => this.sim?.stop());
    await quietly(() => this.offSim?.());
    await quietly(() => this.simStore?.close());
    await quietly(() => this.rt?.close());
    await quietly(() => this.nats?.stop());
  }
}

/** `panos-upgrade demo`: see the command's description; exit 0 when every job succeeded, 1 otherwise. */
export async function runDemo(options: DemoOptions & GlobalOptions): Promise<void> {
  const started = performance.now();
  const out = outputTo();
  const dataDir = options.dataDir ? resolveDataDir(options.dataDir) : mkdtempSync(join(tmpdir(), 'panos-demo-'));
  if (existsSync(join(dataDir, 'events'))) throw new CliError(`${dataDir} already holds an event log; give the demo an empty --data-dir (or none for a fresh temp dir)`, 2);
  const { scenario, source } = loadDemoScenario(options);
  const logFile = join(dataDir, 'demo.log');
  const parts = new Parts();
  // Ctrl-C at any point stops every part cleanly; the followers below turn it into InterruptedError too.
  let interrupted: (() => void) | undefined;
  const interruption = new Promise<never>((_, reject) => {
    interrupted = onInterrupt(() => reject(new InterruptedError(`demo interrupted; its state is in ${dataDir}`)));
  });
  interruption.catch(() => undefined);
  const step = async <T>(work: Promise<T>): Promise<T> => Promise.race([work, interruption]);
  // Where the demo's seconds went, phase by phase, for its last line.
  const phases: Array<[string, number]> = [];
  let phaseStart = started;
  const phaseDone = (name: string): void => {
    const now = performance.now();
    phases.push([name, now - phaseStart]);
    phaseStart = now;
  };
  try {
    // The components' logs would tear the progress bars: they go to a file in the data dir.
    const log = createLogger({ destination: createWriteStream(logFile, { flags: 'a' }) });
    parts.nats = await step(startNatsServer({ storeDir: join(dataDir, 'nats'), onInstall: (m) => process.stderr.write(m + '\n') }));
    parts.rt = await step(openRuntime({ role: 'demo', log, dataDir, natsUrl: parts.nats.url, details: { scenario: scenario.name, timeScale: options.timeScale } }));
    parts.dataDir = parts.rt.dataDir;
    const { bus, subjects } = parts.rt;
    const simEvents = join(dataDir, 'sim-events');
    parts.simStore = LmdbEventStore.open({ path: simEvents, runId: parts.rt.runId });
    parts.offSim = parts.simStore.onAppend(eventPublisher(bus.nc, subjects, { busCopy }));
    parts.sim = await step(Simulator.start({ scenario, store: parts.simStore, log: log.child({ component: 'simulator' }), nc: bus.nc, subjects, fresh: true }));
    parts.gateway = await step(
      startGateway({ nc: bus.nc, subjects, store: parts.simStore, log: log.child({ component: 'gateway' }), description: parts.sim.describe(), simulator: parts.sim, port: 0, protocol: 'https', direct: true }),
    );
    const pathsFile = join(dataDir, 'upgrade-paths.yaml');
    writeFileSync(pathsFile, `# The upgrade paths of ${scenario.name}: current version → versions to install, in order.\n${stringify(scenario.upgradePaths)}`);
    const caFile = parts.gateway.identity ? writeCaFile(parts.gateway.identity, dataDir) : '';
    saveConfig(dataDir, demoConfig(parts.gateway, scenario, options, pathsFile, caFile));
    // The same path as `panos-upgrade daemon`: configuration from the data dir, then the daemon on NATS.
    const config = loadDaemonConfig(dataDir);
    parts.access = createDeviceAccess(config, { store: parts.rt.store, log: log.child({ component: 'client' }) });
    parts.daemon = await step(Daemon.start({ store: parts.rt.store, log: log.child({ component: 'daemon' }), config, access: parts.access, dataDir, nc: bus.nc, subjects }));
    writeDaemonFile(dataDir, { natsUrl: bus.url, pid: process.pid, runId: parts.rt.runId, startedAt: new Date().toISOString(), subjectPrefix: subjects.prefix });
    parts.web = await step(
      startWebServer({ store: parts.rt.store, nc: bus.nc, subjects, log: log.child({ component: 'web' }), listen: options.ui, dataDir, metrics: config.metrics }),
    );
    // The CLI's own client on its own connection: every step below is what the commands send.
    const client = new DaemonClient({ url: bus.url, source: 'the demo', prefix: subjects.prefix });
    parts.client = client;

    phaseDone('start-up');
    out.line(out.paint('bold', `panos-upgrade demo: ${scenario.devices.length} simulated firewalls behind one Panorama (${source}), time scale ${options.timeScale}`));
    out.line(`  data dir:  ${dataDir}`);
    out.line(`  NATS:      ${bus.url} (a private nats-server, subjects ${subjects.prefix}.>)`);
    out.line(`  Panorama:  ${parts.gateway.panoramaUrl}/api/ (certificate issued by the simulated CA, pinned by SHA-256 fingerprint)`);
    out.line(`  live view: ${parts.web.url}/   metrics: ${parts.web.url}/metrics`);
    out.line(`  watch it from another terminal: panos-upgrade --data-dir ${dataDir} download status --watch`);
    out.line();

    out.line(out.paint('bold', '[1/4] Discover the fleet') + out.paint('dim', '   (panos-upgrade device discover)'));
    const discovered = await step(discoverDevices(client));
    printDiscovered(out, discovered, '  ');
    phaseDone('discovery');
    out.line();

    out.line(out.paint('bold', '[2/4] Pre-stage the images of every upgrade path') + out.paint('dim', '   (panos-upgrade download queue-all)'));
    const follower = await step(DownloadFollower.start(client, out));
    try {
      const summary = await step(queueAllDownloads(client, false));
      for (const line of queueSummaryLines(summary)) follower.progress.log(`  ${line}`);
      follower.expect(summary.queuedDevices);
      await step(follower.done());
    } finally {
      follower.stop();
    }
    const downloads = await step(downloadStatus(client));
    out.line(`  Downloads: ${countsLine(downloads.counts, out)}`);
    phaseDone('pre-staging');
    out.line();

    const devices = (await step(client.request<{ devices: InventoryDevice[] }>('device.list'))).devices;
    const staged = new Set(downloads.devices.filter((r) => r.upgrade_status === 'download_complete').map((r) => r.device_serial));
    const targets = pickDevices(devices, staged, upgradePlan(options));
    const upgraded: StatusRecord[] = [];
    if (targets.length > 0) {
      const standalone = targets.filter((d) => !d.haState).length;
      const what = [standalone > 0 ? `${standalone} standalone firewall(s)` : '', targets.length > standalone ? `${targets.length - standalone} HA pair(s)` : ''].filter(Boolean).join(' and ');
      out.line(
        out.paint('bold', `[3/4] Upgrade ${what} in a campaign: a canary, a gate, then the rest`) +
          out.paint('dim', '   (panos-upgrade campaign create --waves canary:1,rest --soak 20s --approval --watch)'),
      );
      upgraded.push(...(await step(runCampaign(client, out, targets.map((d) => d.serial), scenario, options))));
      const pairs = targets.length - standalone;
      if (standalone < options.upgrades || pairs < options.haPairs) {
        out.line(`  (asked for ${options.upgrades} standalone firewall(s) and ${options.haPairs} HA pair(s); the fleet has ${standalone} and ${pairs} that fit: staged, connected, not PA-5200/7000)`);
      }
      out.line();
    } else {
      out.line(out.paint('bold', '[3/4] No upgrades (--upgrades 0 --ha-pairs 0, or no staged device to choose)'));
      out.line();
    }

    if (targets.length > 0) phaseDone('campaign');
    out.line(out.paint('bold', '[4/4] Summary'));
    const failures = printSummary(out, downloads, upgraded);
    out.line(`  Event log: ${parts.rt.store.path} (daemon: jobs, devices, API calls), ${simEvents} (simulator)`);
    out.line(`  Logs:      ${logFile}`);
    const took = formatDuration(performance.now() - started);
    out.line(`  Time:      ${phases.map(([name, ms]) => `${name} ${formatDuration(ms)}`).join(', ')}`);
    if (options.stay) {
      out.line(`  The live view stays up at ${parts.web.url}/ until Ctrl-C.`);
      await interruption.catch(() => undefined);
    }
    if (failures > 0) {
      out.line(`Demo finished in ${took} with ${failures} failure(s).`);
      throw new CliError(`${failures} job(s) failed; see the summary above and ${logFile}`);
    }
    out.line(out.paint('green', `Demo finished in ${took}: every job succeeded.`) + ` Remove its state with: rm -rf ${dataDir}`);
  } finally {
    interrupted?.();
    await parts.stop();
  }
}

/**
 * The demo's upgrades as a campaign: the first unit is the canary; after it, a short soak and an
 * operator's approval (the demo gives it, as `campaign approve` would), then the rest at once.
 */
async function runCampaign(client: DaemonClient, out: Output, serials: string[], scenario: Scenario, options: DemoOptions): Promise<StatusRecord[]> {
  // One subscription, from before the create: every event of the campaign, in order, none twice.
  const feed = await CampaignFeed.open(client);
  let id = '';
  try {
    const { timings, timeScale } = timingsOfScenario(scenario);
    const reply = await client.request<{ campaign: CampaignRecord }>('campaign.create', {
      name: 'demo',
      select: { serials },
      waves: [{ name: 'canary', size: 1 }, { name: 'rest', size: 'rest' }],
      soak: '20s',
      approval: true,
      concurrency: options.concurrency,
      timings,
      timeScale,
    });
    id = reply.campaign.campaign_id;
    out.line(`  Campaign ${id}: ${reply.campaign.waves.map((w) => `${w.name} ${w.units} unit(s)`).join(', ')}`);
  } catch (err) {
    feed.close();
    throw err;
  }
  await followCampaign(client, out, id, {
    feed,
    onEvent: (e) => {
      if (e.type !== 'campaign.approval.requested') return;
      out.line(`          the demo approves: panos-upgrade campaign approve ${id}`);
      void client.request('campaign.approve', { campaignId: id, by: 'demo' }).catch((err: unknown) => out.line(`  could not approve: ${(err as Error).message}`));
    },
  });
  const { campaign } = await client.request<{ campaign: CampaignRecord }>('campaign.get', { campaignId: id, units: true });
  const jobs: StatusRecord[] = [];
  for (const w of campaign.waves) {
    for (const m of w.members ?? []) if (m.job_id) jobs.push((await client.request<{ job: StatusRecord }>('job.get', { jobId: m.job_id })).job);
  }
  return jobs;
}

/** Counts by status, one line per upgraded device, and every failure with its reason; returns the failures. */
function printSummary(out: Output, downloads: Awaited<ReturnType<typeof downloadStatus>>, upgraded: readonly StatusRecord[]): number {
  out.line(`  Downloads: ${countsLine(downloads.counts, out)} (${downloads.total} device(s))`);
  const failedDownloads = downloads.devices.filter((r) => r.upgrade_status === 'failed' || r.upgrade_status === 'cancelled');
  if (upgraded.length > 0) {
    const counts: Record<string, number> = {};
    for (const j of upgraded) counts[j.upgrade_status] = (counts[j.upgrade_status] ?? 0) + 1;
    out.line(`  Upgrades:  ${countsLine(counts, out)}`);
    for (const j of upgraded) out.line(`    ${resultLine(out, j)}`);
  }
  const failedUpgrades = upgraded.filter((j) => !succeeded(j));
  if (failedDownloads.length + failedUpgrades.length === 0) {
    out.line('  Failures:  none');
    return 0;
  }
  out.line(`  Failures:  ${failedDownloads.length + failedUpgrades.length}`);
  for (const r of failedDownloads) out.line(`    ${deviceName(r.hostname, r.device_serial)}  download ${r.upgrade_status}: ${r.upgrade_message}`);
  for (const j of failedUpgrades) out.line(`    ${jobName(j)}  upgrade ${j.upgrade_status}: ${j.error?.reason ?? j.upgrade_message}`);
  return failedDownloads.length + failedUpgrades.length;
}
