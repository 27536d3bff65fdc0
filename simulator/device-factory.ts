import { createHash } from 'node:crypto';
import type { FirewallRecord, PanoramaRecord } from '../panos/model.ts';
import type { DeviceFaults, DeviceTiming } from '../machines/firewall.logic.ts';
import type { FirewallInput } from '../machines/firewall.machine.ts';
import { drawBetween, seedFor } from '../machines/random.ts';
import type { DeviceSpec, FailureSpec, Scenario } from '../scenarios/types.ts';
import { unitHash } from '../scenarios/scenario-defaults.ts';
import { READINESS_FAULT_MODES } from '../panos/readiness-model.ts';

/** The time a simulated device booted before the simulation started: uptimes look like a real fleet's. */
const FLEET_UPTIME_MS = 37 * 86_400_000;

const BOOT_AUTOCOMMIT_DETAILS: readonly string[] = Object.freeze(['Configuration committed successfully']);
const NO_LINES: readonly string[] = Object.freeze([]);

/** The first actor input of a device, from its scenario entry; its timings are drawn from the seed. */
export function firewallInput(scenario: Scenario, spec: DeviceSpec, now: number): FirewallInput {
  let rng = seedFor(scenario.seed, spec.serial);
  const t = scenario.timing;
  const pick = (range: [number, number]): number => {
    const [v, next] = drawBetween(rng, range[0], range[1]);
    rng = next;
    return Math.round(v);
  };
  const timing: DeviceTiming = {
    downloadMs: pick(t.downloadMs),
    installMs: pick(t.installMs),
    rebootMs: pick(t.rebootMs),
    contentDownloadMs: pick(t.contentDownloadMs),
    contentInstallMs: pick(t.contentInstallMs),
    autoCommitMs: pick(t.autoCommitMs),
  };
  const [bootJitter, next] = drawBetween(rng, 0, 20 * 86_400_000);
  rng = next;
  const record: FirewallRecord = {
    serial: spec.serial,
    hostname: spec.hostname,
    model: spec.model,
    family: spec.family,
    mgmtIp: spec.mgmtIp,
    netmask: '255.255.255.0',
    defaultGateway: gatewayOf(spec.mgmtIp),
    macAddress: macFor(spec.serial),
    swVersion: spec.swVersion,
    bootedAt: Math.round(now - FLEET_UPTIME_MS + bootJitter),
    multiVsys: false,
    images: spec.images,
    downloaded: [...spec.downloaded],
    content: { installed: spec.content.installed, available: spec.content.available, downloaded: [] },
    avVersion: '0',
    metrics: { ...spec.metrics },
    disk: { ...spec.disk },
    jobs: [],
    nextJobId: 1,
  };
  // A device that booted before the simulation has the auto-commit of that boot in its job list, as a
  // real one does: `show jobs all` right after boot is never empty.
  const autoCommitAt = record.bootedAt + 60_000 + (Math.abs(Math.round(bootJitter)) % 60_000);
  record.jobs.push({
    id: record.nextJobId++,
    type: 'AutoCom',
    user: '',
    enqueuedAt: autoCommitAt,
    startedAt: autoCommitAt,
    endsAt: autoCommitAt + 31_000,
    finishedAt: autoCommitAt + 31_000,
    status: 'FIN',
    result: 'OK',
    // Shared by every device (frozen): nothing edits a job's lines in place.
    details: BOOT_AUTOCOMMIT_DETAILS as string[],
    warnings: NO_LINES as string[],
    description: '',
  });
  if (spec.ha) {
    record.ha = {
      config: { peerSerial: spec.ha.peerSerial, priority: spec.ha.priority, preemptive: spec.ha.preemptive, mode: 'Active-Passive', groupId: spec.ha.groupId },
      state: spec.ha.initialState,
      stateSince: record.bootedAt,
      runningSync: 'synchronized',
      stateSync: 'Complete',
    };
  }
  const faults = faultsFor(scenario.failures, spec.serial, scenario.seed);
  // A device the scenario declares disconnected stays so until the chaos control reconnects it.
  if (!spec.connected) faults.api = { ...faults.api, notConnected: true };
  return { record, timing, faults, rng };
}

/** The scenario's `failures` that apply to one device, as machine faults. */
export function faultsFor(failures: readonly FailureSpec[], serial: string, seed = 0): DeviceFaults {
  const faults: DeviceFaults = {};
  const api = (change: NonNullable<DeviceFaults['api']>): void => {
    faults.api = { ...faults.api, ...change };
  };
  for (const f of failures) {
    if (f.device !== '*' && f.device !== serial) continue;
    const rate = { rate: f.failureRate, error: f.error };
    switch (f.operation) {
      case 'download':
        if (f.mode === 'stall') faults.downloadStalls = Math.max(1, Math.round(f.failureRate * 10) || 1);
        else if (f.mode === 'slow') faults.downloadSlowFactor = slowFactor(f);
        else if (f.mode === 'disk_full') faults.download = { ...rate, mode: 'disk_full' };
        else faults.download = rate;
        break;
      case 'install':
        if (f.mode === 'slow') faults.installSlowFactor = slowFactor(f);
        else faults.install = rate;
        break;
      case 'content_download':
        faults.content_download = rate;
        break;
      case 'content_install':
        faults.content_install = rate;
        break;
      case 'autocommit':
        faults.autocommit = rate;
        break;
      case 'reboot':
        if (f.mode === 'slow') faults.rebootSlowFactor = slowFactor(f);
        else faults.reboot = { ...rate, mode: f.mode === 'wrong_version' ? 'wrong_version' : 'never_returns' };
        break;
      case 'busy':
        faults.busy = rate;
        break;
      case 'crash':
        faults.crash = { ...rate, on: 'peer_install', ...(f.durationMs !== undefined ? { downMs: f.durationMs } : {}) };
        break;
      case 'readiness': {
        // `failure_rate` is the share of the matching devices that have the fault, chosen by the seed.
        const key = f.mode !== undefined ? READINESS_FAULT_MODES[f.mode] : undefined;
        if (key && unitHash(`${seed}:${serial}:readiness:${f.mode}`) < f.failureRate) faults.readiness = { ...faults.readiness, [key]: key === 'clockSkewSeconds' ? 30 : true };
        break;
      }
      case 'api':
        switch (f.mode) {
          case 'latency':
            api({ latencyMs: f.durationMs ?? 2000, ...(f.failureRate < 1 ? { latencyRate: f.failureRate } : {}) });
            break;
          case 'hang':
            api({ hangRate: f.failureRate });
            break;
          case 'http_5xx':
            api({ http5xxRate: f.failureRate });
            break;
          case 'drop':
            api({ dropRate: f.failureRate });
            break;
          case 'not_connected':
            api({ notConnectedRate: f.failureRate });
            break;
        }
        break;
    }
  }
  return faults;
}

/** `factor`, or the seed's way of writing it into the error text (`x4`); 4 when neither says. */
function slowFactor(f: FailureSpec): number {
  if (f.factor !== undefined) return f.factor;
  const m = /x\s*(\d+(?:\.\d+)?)/i.exec(f.error);
  return m ? Number(m[1]) : 4;
}

export function panoramaRecord(scenario: Scenario, now: number): PanoramaRecord {
  const p = scenario.panorama;
  return { serial: p.serial, hostname: p.hostname, model: p.model, mgmtIp: p.mgmtIp, swVersion: p.swVersion, bootedAt: now - 90 * 86_400_000 };
}

function gatewayOf(ip: string): string {
  const parts = ip.split('.');
  return parts.length === 4 ? `${parts.slice(0, 3).join('.')}.254` : '0.0.0.0';
}

function macFor(serial: string): string {
  const h = createHash('sha1').update(serial).digest();
  return ['00', '1b', '17', h[0], h[1], h[2]].map((b) => (typeof b === 'number' ? b.toString(16).padStart(2, '0') : b)).join(':');
}

/**
 * The API keys a scenario accepts: its `api_key`, and one key per admin, as keygen returns it.
 * Keygen keys are deterministic per user and password, as a PAN-OS key is until regenerated.
 */
export function keygenKey(scenario: Scenario, username: string, password: string): string {
  const digest = createHash('sha256').update(`${scenario.seed}\u0000${username}\u0000${password}`).digest('base64');
  return `LUFRPT${digest.replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}==`;
}

/** SHA-256 digests of every valid key: the gateway compares digests in constant time and never holds the keys. */
export function keyDigests(scenario: Scenario): string[] {
  const keys = [scenario.apiKey, ...scenario.admins.map((a) => keygenKey(scenario, a.username, a.password))];
  return [...new Set(keys)].map((k) => createHash('sha256').update(k).digest('hex'));
}
