import type { Logger } from 'pino';
import { API_CALL_RECORDED, API_CALLS_RECORDED, CallBatcher } from '../eventstore/call-batches.ts';
import type { LmdbEventStore } from '../eventstore/index.ts';
import { PanosClient, type ApiCallRecord, type PanosClientOptions } from '../panos/client.ts';
import type { DaemonConfig } from './config.ts';
import { checkRunnable } from './config.ts';
import type { DeviceAccess } from './daemon.ts';
import type { JobDevice } from '../machines/upgrade-job.events.ts';
import { clientDeviceApi } from './device-api.ts';
import { CertificateNotRecordedError, FirewallTrust, firewallTrustAdvice, type TrustSummary } from './firewall-trust.ts';
import { panoramaTrustAdvice } from './tls-advice.ts';

function portOf(host: string): number | undefined {
  const m = /:(\d+)$/.exec(host);
  return m ? Number(m[1]) : undefined;
}

/**
 * Build the daemon's way to devices from its configuration: one rate-limited client for Panorama
 * (every call to a firewall through it carries `target=`), and one client per firewall management
 * address for direct downloads. Every API call is recorded in the `api` stream, without secrets.
 */
/**
 * Each firewall's Panorama device group, or undefined when Panorama does not answer `show devicegroups`
 * (an older release refuses it): discovery then goes on without groups and keeps the ones known before.
 */
async function deviceGroupsOrNone(panorama: PanosClient, log: Logger): Promise<Map<string, string> | undefined> {
  try {
    return await panorama.deviceGroups();
  } catch (err) {
    log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'Panorama did not list its device groups (show devicegroups); devices are discovered without them');
    return undefined;
  }
}

/** The calls of a few milliseconds go in one `api.calls.recorded` event (eventstore/call-batches.ts): `data` is `{ calls: ApiCallRecord[] }`. */
export { API_CALL_RECORDED, API_CALLS_RECORDED };
/** What a record weighs beside its command and answer, for MAX_BATCH_TEXT. */
const RECORD_OVERHEAD = 320;

/**
 * Records each API call in the `api` stream. The calls of RECORD_BATCH_MS go in one `api.calls.recorded`
 * event (one append, one LMDB put, one NATS message) instead of one each: with hundreds of jobs polling,
 * one event per call cost about a twelfth of the daemon's CPU. The records are the log's account of what
 * was sent; a job's own facts (request, acknowledgement) are appended by the job, durably, before and after
 * each mutating call. `close` appends what waits and waits for it.
 */
export function apiCallRecorder(store: LmdbEventStore, log: Logger, stream = 'api'): { record: (call: ApiCallRecord) => void; written(): Promise<void>; close(): Promise<void> } {
  const batcher = new CallBatcher<ApiCallRecord>({
    append: (calls) => store.append(stream, [{ type: API_CALLS_RECORDED, data: { calls } }]),
    weigh: (call) => RECORD_OVERHEAD + call.command.length + (call.response?.length ?? 0) + (call.error?.length ?? 0),
    failed: (err, calls) => log.warn({ err, calls: calls.length }, 'could not record API calls'),
  });
  return {
    record: (call) => {
      if (!batcher.isClosed && !store.isClosed) batcher.add(call);
    },
    written: () => batcher.written(),
    close: () => batcher.close(),
  };
}

export function createDeviceAccess(
  config: DaemonConfig,
  deps: {
    store?: LmdbEventStore;
    log: Logger;
    extra?: Partial<PanosClientOptions>;
    /**
     * The stream the calls are recorded in: `api`, or on a cluster `api:<node id>`, one per daemon, so that
     * daemons recording at once never race for the head of one stream of the replicated log.
     */
    apiStream?: string;
  },
): DeviceAccess & { callsRecorded(): Promise<void>; close(): Promise<void> } {
  checkRunnable(config);
  const recorder = deps.store ? apiCallRecorder(deps.store, deps.log, deps.apiStream) : undefined;
  const common: Partial<PanosClientOptions> = {
    protocol: config.protocol,
    ...(config.tls.caFile ? { caFile: config.tls.caFile } : {}),
    ...(config.tls.fingerprint ? { fingerprint: config.tls.fingerprint } : {}),
    insecure: config.tls.insecure,
    trustAdvice: panoramaTrustAdvice,
    timeoutMs: config.timeouts.apiSeconds * 1000,
    ...(recorder ? { recorder: recorder.record } : {}),
    logger: deps.log,
    ...deps.extra,
  };
  const panorama = new PanosClient({
    ...common,
    host: config.panorama.host,
    ...(config.panorama.apiKey ? { apiKey: config.panorama.apiKey } : { username: config.panorama.username, password: config.panorama.password }),
    requestsPerSecond: config.rateLimit,
    // Every job of the fleet talks through this one client: 8 sockets (the default) queue them behind each other.
    maxSockets: Math.max(8, Math.min(64, config.concurrency)),
    // But no more than 16 answers awaited at once from a busy Panorama (calls slower than a second aside):
    // more only lengthens its queue, and an HA pair's calls, which go first, would wait behind it.
    callSlots: Math.max(8, Math.min(16, config.concurrency)),
  });
  const port = config.firewall.port ?? portOf(config.panorama.host);
  const fwKey = config.firewall.apiKey || (config.firewall.username ? '' : config.panorama.apiKey);
  const fwUser = config.firewall.username || config.panorama.username;
  const fwPassword = config.firewall.password || config.panorama.password;
  const fwTls = config.firewall.tls;
  const trust = new FirewallTrust(deps.store, deps.log);
  const tlsPort = port ?? 443;
  /** Panorama's tls.* never applies here: each firewall has its own certificate. */
  const directTrust = (device: JobDevice): Partial<PanosClientOptions> => {
    if (config.protocol === 'http') return {};
    if (fwTls.insecure) return { insecure: true, trustAdvice: firewallTrustAdvice(device.serial) };
    if (fwTls.caFile) return { caFile: fwTls.caFile, trustAdvice: firewallTrustAdvice(device.serial) };
    if (fwTls.trustOnFirstUse) {
      const recorded = trust.recorded(device.serial);
      if (!recorded) throw new CertificateNotRecordedError(device.serial, device.mgmtIp);
      return { fingerprint: recorded.fingerprint, trustAdvice: firewallTrustAdvice(device.serial, recorded) };
    }
    // The system's CAs and the address as the name: a real firewall's certificate seldom passes, and the error says what to set.
    return { trustAdvice: firewallTrustAdvice(device.serial) };
  };
  const direct = new Map<string, PanosClient>();
  const directClient = (device: JobDevice): PanosClient => {
    const tlsOptions = directTrust(device);
    // A re-trusted certificate gets a new client (and new connections).
    const key = `${device.mgmtIp}|${tlsOptions.fingerprint ?? ''}`;
    let c = direct.get(key);
    if (!c) {
      const { caFile: _ca, fingerprint: _fp, insecure: _in, trustAdvice: _ad, ...panoramaless } = common;
      c = new PanosClient({
        ...panoramaless,
        ...tlsOptions,
        host: port ? `${device.mgmtIp}:${port}` : device.mgmtIp,
        ...(fwKey ? { apiKey: fwKey } : { username: fwUser, password: fwPassword }),
      });
      direct.set(key, c);
    }
    return c;
  };
  return {
    async discover() {
      const devices = await panorama.devicesConnected();
      let certificates: TrustSummary | undefined;
      if (fwTls.trustOnFirstUse && config.protocol === 'https') {
        const seen = await trust.observe(
          devices.map((d) => ({ serial: d.serial, mgmtIp: d.ipAddress })),
          tlsPort,
        );
        deps.log.info({ recorded: seen.recorded, unchanged: seen.unchanged, changed: seen.changed.length, unreachable: seen.unreachable }, 'firewall certificates (trust on first use)');
        certificates = seen;
      }
      const groups = await deviceGroupsOrNone(panorama, deps.log);
      const found = devices.map((d) => ({
        ...(groups ? { deviceGroup: groups.get(d.serial) ?? null } : {}),
        serial: d.serial,
        hostname: d.hostname,
        mgmtIp: d.ipAddress,
        model: d.model,
        family: d.family,
        swVersion: d.swVersion,
        appVersion: d.appVersion,
        connected: d.connected,
        haState: d.haState ?? null,
        haPeer: d.haPeerSerial ?? null,
      }));
      return { devices: found, ...(certificates ? { certificates } : {}) };
    },
    viaPanorama: (device, options) => clientDeviceApi(panorama, device.serial, options?.precedence === true),
    direct: (device) => clientDeviceApi(directClient(device)),
    async trustCertificate(device) {
      const accepted = await trust.accept(device.serial, device.mgmtIp, tlsPort);
      for (const [key, c] of direct) {
        if (key.startsWith(`${device.mgmtIp}|`)) {
          c.close();
          direct.delete(key);
        }
      }
      return accepted;
    },
    /** Appends the call records waiting for their batch now, and resolves once every call made so far is in the log. */
    async callsRecorded() {
      await recorder?.written();
    },
    /** Closes the clients, then appends the call records still waiting, and resolves once they are in the log. */
    async close() {
      panorama.close();
      for (const c of direct.values()) c.close();
      await recorder?.close();
    },
  };
}
