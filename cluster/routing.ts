import { COORDINATOR_LEASE, partitionLeaseKey } from './partition-keeper.ts';
import { allPartitions, partitionOf, type PartitionDevice } from './partitions.ts';

/**
 * Where a command goes in a cluster (pure):
 * - `here`: a read (status, lists, job and device records, readiness checks), answered by whichever daemon
 *   got it, from its projection of the whole replicated log;
 * - `lease`: a mutating command for one device or job, answered by the holder of that device's partition
 *   lease (discovery and campaign commands: the coordinator lease);
 * - `fanout`: a command over many devices (`upgrade.queue`, `download.queue-all`), cut by partition and
 *   sent to each owner; the replies are merged.
 */
export type Route =
  | { to: 'here' }
  | { to: 'lease'; key: string }
  | { to: 'fanout'; parts: Array<{ key: string; payload: Record<string, unknown> }> };

/** What routing needs to know of the fleet: the projection's devices and jobs. */
export interface RoutingLookup {
  partitions: number;
  device(serial: string): PartitionDevice | undefined;
  /** The device a job runs on (an HA pair job: either peer). */
  jobDevice(jobId: string): PartitionDevice | undefined;
}

/** Commands that only read: any daemon answers them. */
export const READ_COMMANDS: ReadonlySet<string> = new Set([
  'job.get',
  'job.list',
  'download.status',
  'device.list',
  'device.get',
  'device.check',
  'daemon.status',
  'campaign.list',
  'campaign.get',
]);

/** Commands the coordinator answers: discovery writes the inventory; one daemon runs every campaign. */
export const COORDINATOR_COMMANDS: ReadonlySet<string> = new Set(['device.discover', 'campaign.create', 'campaign.pause', 'campaign.resume', 'campaign.approve', 'campaign.abort']);

/** Internal command between daemons: the coordinator asks a partition's owner to create a campaign unit's job. */
export const CREATE_UNIT_JOB = 'job.create-unit';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The route of a command; an unknown device or job stays `here`, where it is refused with the usual NOT_FOUND. */
export function routeCommand(name: string, payload: Record<string, unknown>, fleet: RoutingLookup): Route {
  if (READ_COMMANDS.has(name)) return { to: 'here' };
  if (COORDINATOR_COMMANDS.has(name)) return { to: 'lease', key: COORDINATOR_LEASE };
  const byDevice = (d: PartitionDevice | undefined): Route => (d ? { to: 'lease', key: partitionLeaseKey(partitionOf(d, fleet.partitions)) } : { to: 'here' });
  switch (name) {
    case 'job.submit':
      return byDevice(fleet.device(str(payload['device']) ?? ''));
    case 'device.trust':
      return byDevice(fleet.device(str(payload['serial']) ?? ''));
    case CREATE_UNIT_JOB: {
      const serials = payload['serials'];
      return byDevice(Array.isArray(serials) ? fleet.device(str(serials[0]) ?? '') : undefined);
    }
    case 'job.cancel':
    case 'job.resume':
      return byDevice(fleet.jobDevice(str(payload['jobId']) ?? ''));
    case 'download.queue-all':
      return { to: 'fanout', parts: allPartitions(fleet.partitions).map((p) => ({ key: partitionLeaseKey(p), payload })) };
    case 'upgrade.queue': {
      const devices = payload['devices'];
      if (payload['all'] === true || !Array.isArray(devices)) return { to: 'fanout', parts: allPartitions(fleet.partitions).map((p) => ({ key: partitionLeaseKey(p), payload })) };
      // Each owner gets its own devices; an unknown serial goes with the first part, to be refused there by name.
      const parts = new Map<number, string[]>();
      for (const s of devices.map(String)) {
        const d = fleet.device(s);
        const p = d ? partitionOf(d, fleet.partitions) : -1;
        parts.set(p, [...(parts.get(p) ?? []), s]);
      }
      const unknown = parts.get(-1);
      parts.delete(-1);
      const out = [...parts.entries()].sort(([a], [b]) => a - b).map(([p, serials]) => ({ key: partitionLeaseKey(p), payload: { ...payload, devices: serials } }));
      if (unknown) {
        if (out[0]) out[0].payload = { ...out[0].payload, devices: [...(out[0].payload['devices'] as string[]), ...unknown] };
        else return { to: 'here' };
      }
      return { to: 'fanout', parts: out };
    }
    default:
      return { to: 'here' };
  }
}

/** A queue command's reply (actors/daemon.ts QueueSummary), as merged from every owner's part. */
export interface QueueSummaryLike {
  dryRun: boolean;
  queued: number;
  skipped: number;
  queuedDevices: Array<{ device: string }>;
  skippedDevices: Array<{ device: string }>;
}

/** The replies of a fan-out, merged into one summary, devices ordered by serial. */
export function mergeQueueSummaries<S extends QueueSummaryLike>(parts: readonly S[], dryRun: boolean): S {
  const by = (a: { device: string }, b: { device: string }): number => a.device.localeCompare(b.device);
  return {
    dryRun,
    queued: parts.reduce((n, p) => n + p.queued, 0),
    skipped: parts.reduce((n, p) => n + p.skipped, 0),
    queuedDevices: parts.flatMap((p) => p.queuedDevices).sort(by),
    skippedDevices: parts.flatMap((p) => p.skippedDevices).sort(by),
  } as S;
}
