// The production shape of the devices' side: nats-server, the simulator and its gateway (HTTPS, each
// firewall on its own management address) in one process, on a 1,000-firewall fleet that every device
// leaves over two hops. Reports the units of work and the critical path of each from the scenario.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { connectNats, eventPublisher, startNatsServer, Subjects } from '../bus/index.ts';
import { busCopyOf, LmdbEventStore } from '../eventstore/index.ts';
import { startGateway } from '../gateway/index.ts';
import { compareContentVersions } from '../panos/model.ts';
import { FLEET_UPGRADE_PATHS, type Scenario } from '../scenarios/index.ts';
import { firewallInput, Simulator } from '../simulator/index.ts';
import { processStats, serveParent } from './lib/child.ts';
import { FLEET_FROM_VERSION, twoHopFleet } from './lib/fleet-scenario.ts';

export interface FleetUnit {
  /** The serial a job is submitted for (an HA pair: its first member; the daemon makes it a pair job). */
  submit: string;
  devices: string[];
  /** Time the devices need for this unit with zero orchestration overhead, from the scenario's durations. */
  criticalPathMs: number;
}

export interface FleetSimInfo {
  natsUrl: string;
  natsPid: number | undefined;
  ownedPids: Array<number | undefined>;
  prefix: string;
  port: number;
  fingerprint: string;
  /** The simulated CA (PEM) that issued each firewall's certificate. */
  caCert: string;
  apiKey: string;
  upgradePaths: Record<string, string[]>;
  devices: number;
  haPairs: number;
  hops: string[];
  timeScale: number;
  units: FleetUnit[];
  /** Per-device timings (ms) of the first device, for the report. */
  timing: Record<string, number>;
}

/**
 * The critical path of each unit, as the daemon's steps meet the simulator's durations: a content update
 * when newer content is offered (download + install), then per hop download (unless already present),
 * install, and reboot until the post-boot auto-commit has finished. An HA pair downloads once on its first
 * peer (sync-to-peer copies to the other), then upgrades its peers one after the other.
 */
function units(scenario: Scenario, now: number): { units: FleetUnit[]; timing: Record<string, number> } {
  const hops = scenario.upgradePaths[FLEET_FROM_VERSION] ?? [];
  const bySerial = new Map(scenario.devices.map((d) => [d.serial, d]));
  const perDevice = (serial: string) => {
    const spec = bySerial.get(serial)!;
    const t = firewallInput(scenario, spec, now).timing;
    const newest = spec.content.available.map((c) => c.version).sort(compareContentVersions).at(-1);
    const content = newest && compareContentVersions(newest, spec.content.installed) > 0 ? t.contentDownloadMs + t.contentInstallMs : 0;
    const downloads = hops.filter((v) => !spec.downloaded.includes(v)).length * t.downloadMs;
    const upgrade = hops.length * (t.installMs + t.rebootMs + t.autoCommitMs);
    return { content, downloads, upgrade, t };
  };
  const out: FleetUnit[] = [];
  const seen = new Set<string>();
  for (const d of scenario.devices) {
    if (seen.has(d.serial)) continue;
    seen.add(d.serial);
    const a = perDevice(d.serial);
    if (d.ha && bySerial.has(d.ha.peerSerial)) {
      seen.add(d.ha.peerSerial);
      const b = perDevice(d.ha.peerSerial);
      // Passive first: the scenario's passive member is upgraded first, and downloads come first on it too.
      const first = d.ha.initialState === 'passive' ? a : b;
      out.push({ submit: d.serial, devices: [d.serial, d.ha.peerSerial], criticalPathMs: first.downloads + a.content + a.upgrade + b.content + b.upgrade });
    } else {
      out.push({ submit: d.serial, devices: [d.serial], criticalPathMs: a.content + a.downloads + a.upgrade });
    }
  }
  const first = perDevice(scenario.devices[0]!.serial);
  return { units: out, timing: { ...first.t, contentStepMs: first.content } };
}

const devices = Number(process.argv[2] ?? 1000);
const timeScale = Number(process.argv[3] ?? 0.1);
/** Panorama's `show devices connected` grows by ~1.3 KB a firewall: past ~6,000 it exceeds the default 8 MB NATS payload. */
const maxPayloadMiB = Number(process.argv[4] ?? 0);

await serveParent<FleetSimInfo>(async () => {
  const server = await startNatsServer({ jetstream: false, ...(maxPayloadMiB > 0 ? { maxPayloadBytes: maxPayloadMiB * 2 ** 20 } : {}) });
  const nc = await connectNats(server.url, 'bench fleet simulator');
  const prefix = 'bench';
  const subjects = new Subjects(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'panos-bench-fleet-sim-'));
  const log = pino({ level: 'error' });
  const store = LmdbEventStore.open({ path: dir, runId: 'sim' });
  const off = store.onAppend(eventPublisher(nc, subjects, { busCopy: busCopyOf }));
  const scenario = twoHopFleet(devices, timeScale);
  const sim = await Simulator.start({ scenario, store, log: log.child({ component: 'simulator' }), nc, subjects, fresh: true });
  const gateway = await startGateway({
    nc,
    subjects,
    store,
    log: log.child({ component: 'gateway' }),
    description: sim.describe(),
    // As `panos-upgrade sim` runs them: the gateway calls the simulator of its own process in-process.
    simulator: sim,
    port: 0,
    protocol: 'https',
    direct: true,
    // The fleet's certificates (one per firewall, each with its own key: ~10 ms apiece, minutes for 10,000)
    // are kept between runs, as `panos-upgrade sim` keeps them in its data dir; the fleet is the same every run.
    tlsDir: join(tmpdir(), `panos-bench-fleet-tls-${devices}`),
  });
  if (gateway.skipped.length > 0) throw new Error(`${gateway.skipped.length} firewall addresses could not be bound (first: ${JSON.stringify(gateway.skipped[0])})`);
  const planned = units(scenario, Date.now());
  return {
    info: {
      natsUrl: server.url,
      natsPid: server.pid,
      ownedPids: [server.pid],
      prefix,
      port: gateway.port,
      fingerprint: gateway.fingerprint ?? '',
      caCert: gateway.identity?.caCert ?? '',
      apiKey: scenario.apiKey,
      upgradePaths: scenario.upgradePaths,
      devices: scenario.devices.length,
      haPairs: planned.units.filter((u) => u.devices.length === 2).length,
      hops: [...(FLEET_UPGRADE_PATHS[FLEET_FROM_VERSION] ?? [])],
      timeScale,
      units: planned.units,
      timing: planned.timing,
    },
    handlers: {
      stats: () => processStats(),
      versions: () => {
        const counts: Record<string, number> = {};
        for (const d of sim.allDevices()) counts[d.context.record.swVersion] = (counts[d.context.record.swVersion] ?? 0) + 1;
        return counts;
      },
    },
    async onStop() {
      await gateway.close();
      await sim.stop();
      off();
      await store.close();
      await nc.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
