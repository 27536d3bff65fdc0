import { PanosUpgradeError } from '../panos/errors.ts';
import type { DeviceApi } from './device-api.ts';
import { throwIfStopped } from './step-stopped.ts';

/**
 * Fencing on a cluster (docs/cluster.md): the work on a device is owned through a lease, and nothing is
 * sent to the device on behalf of a lease this daemon no longer holds. Absent in single-server mode.
 */
export interface Fence {
  /** The lease epoch under which this daemon drives `serial` now; throws when it holds no lease for it. */
  epoch(serial: string): number;
  /**
   * Right before a mutating call: resolves only when the lease of `serial` is still held under `epoch`,
   * by the local clock AND in the lease bucket; throws otherwise.
   */
  confirm(serial: string, epoch: number): Promise<void>;
}

/** A mutating call refused because this daemon does not hold the device's lease: nothing was sent. */
export class FencedOffError extends PanosUpgradeError {
  constructor(
    readonly serial: string,
    readonly call: string,
    options?: ErrorOptions,
  ) {
    super('FENCED', `${call} to ${serial} not sent: this daemon does not hold its lease (${options?.cause instanceof Error ? options.cause.message : 'lost'})`, options);
  }
}

/** The DeviceApi calls that change a device: each is fenced. */
export const MUTATING_CALLS = ['download', 'install', 'restart', 'contentDownloadLatest', 'contentInstall', 'haSuspend', 'haFunctional'] as const satisfies ReadonlyArray<keyof DeviceApi>;

/** The facts recorded just before a mutating call is sent (the intent of "record intent, send, record ack"): they carry the epoch. */
export const INTENT_FACTS: ReadonlySet<string> = new Set([
  'job.download.requested',
  'job.install.requested',
  'job.reboot.requested',
  'job.content.download.requested',
  'job.content.install.requested',
  'job.ha.peer.suspended',
  'job.ha.peer.functional.requested',
]);

/**
 * The device's API with every mutating call checked against the fence first: the epoch the daemon holds
 * now, confirmed locally and in the bucket, or a FencedOffError and nothing sent. Reads pass as they are.
 */
export function fencedDeviceApi(api: DeviceApi, serial: string, fence: Fence): DeviceApi {
  const guard = async (call: string, o: { signal?: AbortSignal } | undefined): Promise<void> => {
    try {
      await fence.confirm(serial, fence.epoch(serial));
    } catch (err) {
      throw new FencedOffError(serial, call, { cause: err });
    }
    // The step that asked was stopped while the lease was confirmed (its lease lost, maybe taken again since
    // by this same daemon for a new run of the job): the epoch held now is not the one it worked under.
    if (o?.signal) throwIfStopped(o.signal, `${call} to ${serial}: the step`);
  };
  return {
    ...api,
    download: async (version, o) => (await guard('download', o), api.download(version, o)),
    install: async (version, o) => (await guard('install', o), api.install(version, o)),
    restart: async (o) => (await guard('restart', o), api.restart(o)),
    contentDownloadLatest: async (o) => (await guard('content download', o), api.contentDownloadLatest(o)),
    contentInstall: async (version, o) => (await guard('content install', o), api.contentInstall(version, o)),
    haSuspend: async (o) => (await guard('HA suspend', o), api.haSuspend(o)),
    haFunctional: async (o) => (await guard('HA functional', o), api.haFunctional(o)),
  };
}

/** An intent fact with the epoch it is recorded under (the device's lease now); any other fact as it is. */
export function withEpoch<F extends { type: string; data: unknown }>(fact: F, serial: string | undefined, fence: Fence | undefined): F {
  if (!fence || !serial || !INTENT_FACTS.has(fact.type)) return fact;
  let epoch: number;
  try {
    epoch = fence.epoch(serial);
  } catch (err) {
    throw new FencedOffError(serial, fact.type, { cause: err });
  }
  return { ...fact, data: { ...(fact.data as object), epoch } };
}
