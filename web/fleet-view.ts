import type { EventEnvelope } from '../eventstore/index.ts';
import { evolveDevice, type InventoryDevice } from '../machines/device.fold.ts';
import type { JobFact } from '../machines/upgrade-job.events.ts';
import { jobFold, type JobState } from '../machines/upgrade-job.fold.ts';
import type { PairFact, PairState } from '../machines/ha-pair.fold.ts';
import { pairFold } from '../machines/ha-pair.fold.ts';
import type { CampaignFact } from '../machines/campaign.events.ts';
import { campaignFold, isCampaignTerminal, type CampaignState } from '../machines/campaign.fold.ts';
import { toCampaignRecord, type CampaignRecord } from '../machines/campaign.record.ts';
import { siteOf } from '../machines/campaign.plan.ts';
import type { DeviceRow, JobRow } from './fleet-rows.ts';

export type { DeviceRow, JobRow } from './fleet-rows.ts';

/** What changed since the last patch: rows to replace on the page. */
export interface FleetPatch {
  position: number;
  devices: DeviceRow[];
  jobs: JobRow[];
  campaigns: CampaignRecord[];
}

export interface FleetSnapshot extends FleetPatch {
  at: string;
}

/** The stream kinds the view folds (campaigns, jobs, devices); every other event (sim:, run:, api) passes it by. */
const VIEW_KINDS = ['job:', 'device:', 'campaign:'] as const;

export function isViewStream(stream: string): boolean {
  return VIEW_KINDS.some((k) => stream.startsWith(k));
}

/** A job row from a device job's state. */
export function jobRow(s: JobState): JobRow {
  return {
    jobId: s.jobId,
    kind: s.kind,
    devices: s.device ? [s.device.serial] : [],
    hostname: s.device?.hostname ?? '',
    status: s.status,
    progress: s.progress,
    message: s.message,
    step: s.step,
    reason: s.error?.reason ?? null,
    parentId: s.parentId,
    paused: false,
    submittedAt: s.submittedAt,
    finishedAt: s.finishedAt,
  };
}

/** A job row from an HA pair job's state. */
export function pairRow(s: PairState): JobRow {
  return {
    jobId: s.jobId,
    kind: s.kind === 'download-only' ? 'ha-download-only' : 'ha-upgrade',
    devices: s.peers.map((p) => p.serial),
    hostname: s.peers.map((p) => p.hostname).join(' / '),
    status: s.status,
    progress: s.progress,
    message: s.message,
    step: s.step,
    reason: s.error?.reason ?? null,
    parentId: null,
    paused: s.paused,
    submittedAt: s.submittedAt,
    finishedAt: s.finishedAt,
  };
}

/**
 * The live fleet as the page shows it: a pure fold of the daemon's `job:` and `device:` streams, fed
 * once from the log and then event by event from NATS. Each stream's events are applied in `seq`
 * order exactly once: a duplicate is dropped, a gap is reported so that the caller reads the missing
 * events from the log first. It remembers which rows changed, for the next patch.
 */
export class FleetView {
  readonly devices = new Map<string, InventoryDevice>();
  readonly jobs = new Map<string, JobState>();
  readonly pairs = new Map<string, PairState>();
  readonly campaigns = new Map<string, CampaignState>();
  private readonly dirtyCampaigns = new Set<string>();
  /** The job (device or pair) each device was last given, by submission order. */
  private readonly latestBySerial = new Map<string, string>();
  private readonly seqs = new Map<string, number>();
  private readonly dirtyDevices = new Set<string>();
  private readonly dirtyJobs = new Set<string>();
  position = 0;

  /** The seq of the last event applied on a stream (0: none). */
  seqOf(stream: string): number {
    return this.seqs.get(stream) ?? 0;
  }

  /**
   * Offer one event. `applied`: folded; `duplicate`: seen already; `gap`: events before it are
   * missing (read them with `seqOf(stream) + 1 … e.seq - 1` and offer them first); `ignored`: not a view stream.
   */
  offer(e: EventEnvelope): 'applied' | 'duplicate' | 'gap' | 'ignored' {
    if (!isViewStream(e.stream)) return 'ignored';
    const last = this.seqOf(e.stream);
    if (e.seq <= last) return 'duplicate';
    if (e.seq > last + 1) return 'gap';
    this.seqs.set(e.stream, e.seq);
    this.position = Math.max(this.position, e.gseq);
    this.apply(e);
    return 'applied';
  }

  private apply(e: EventEnvelope): void {
    if (e.stream.startsWith('campaign:')) {
      const id = e.stream.slice('campaign:'.length);
      this.campaigns.set(id, campaignFold.evolve(this.campaigns.get(id) ?? campaignFold.initialState(), e as unknown as CampaignFact & { at: string }));
      this.dirtyCampaigns.add(id);
      return;
    }
    if (e.stream.startsWith('device:')) {
      const serial = e.stream.slice('device:'.length);
      const next = evolveDevice(this.devices.get(serial) ?? null, e);
      if (next) {
        this.devices.set(serial, next);
        this.dirtyDevices.add(serial);
      }
      return;
    }
    const jobId = e.stream.slice('job:'.length);
    if (e.type.startsWith('job.ha.')) {
      const prev = this.pairs.get(jobId) ?? pairFold.initialState();
      const next = pairFold.evolve(prev, e as unknown as PairFact & { at: string });
      this.pairs.set(jobId, next);
      this.dirtyJobs.add(jobId);
      for (const p of next.peers) {
        if (e.type === 'job.ha.submitted') this.latestBySerial.set(p.serial, jobId);
        if (this.latestBySerial.get(p.serial) === jobId) this.dirtyDevices.add(p.serial);
      }
      return;
    }
    const prev = this.jobs.get(jobId) ?? jobFold.initialState();
    const next = jobFold.evolve(prev, e as unknown as JobFact & { at: string });
    this.jobs.set(jobId, next);
    this.dirtyJobs.add(jobId);
    const serial = next.device?.serial;
    if (!serial) return;
    if (e.type === 'job.submitted') this.latestBySerial.set(serial, jobId);
    if (this.latestBySerial.get(serial) === jobId) this.dirtyDevices.add(serial);
  }

  deviceRow(serial: string): DeviceRow | undefined {
    const d = this.devices.get(serial);
    if (!d) return undefined;
    const latest = this.latestBySerial.get(serial);
    const job = latest ? this.jobs.get(latest) : undefined;
    const pair = latest && !job ? this.pairs.get(latest) : undefined;
    const row = job ? jobRow(job) : pair ? pairRow(pair) : undefined;
    return {
      serial: d.serial,
      hostname: d.hostname,
      model: d.model,
      version: d.swVersion,
      connected: d.connected,
      haState: d.haState,
      haPeer: d.haPeer,
      group: (d as InventoryDevice & { deviceGroup?: string }).deviceGroup ?? null,
      site: siteOf(d.hostname),
      status: row?.status ?? 'idle',
      progress: row?.progress ?? 0,
      message: row?.message ?? '',
      reason: row?.reason ?? null,
      jobId: row?.jobId ?? null,
      jobKind: row?.kind ?? null,
      updatedAt: row ? (job?.updatedAt ?? pair?.updatedAt ?? null) : d.updatedAt,
    };
  }

  jobRow(jobId: string): JobRow | undefined {
    const job = this.jobs.get(jobId);
    if (job) return jobRow(job);
    const pair = this.pairs.get(jobId);
    return pair ? pairRow(pair) : undefined;
  }

  /** A campaign with its waves, progress and what it waits for, as of `now` (ms). */
  campaignRecord(id: string, now: number, members = false): CampaignRecord | undefined {
    const c = this.campaigns.get(id);
    return c ? toCampaignRecord(c, now, { members }) : undefined;
  }

  /** What a running campaign waits for changes with time (a soak, a window): its row goes out again. */
  touchActiveCampaigns(): void {
    for (const [id, c] of this.campaigns) if (!isCampaignTerminal(c)) this.dirtyCampaigns.add(id);
  }

  /** Every row, for a page that has just opened. */
  snapshot(now: string): FleetSnapshot {
    const devices: DeviceRow[] = [];
    for (const serial of [...this.devices.keys()].sort()) devices.push(this.deviceRow(serial)!);
    const jobs: JobRow[] = [...[...this.jobs.values()].map(jobRow), ...[...this.pairs.values()].map(pairRow)].sort((a, b) =>
      (a.submittedAt ?? '').localeCompare(b.submittedAt ?? ''),
    );
    const ms = Date.parse(now);
    const campaigns = [...this.campaigns.keys()].flatMap((id) => this.campaignRecord(id, ms) ?? []);
    return { at: now, position: this.position, devices, jobs, campaigns };
  }

  /** The rows that changed since the last call, or undefined when nothing did. */
  takePatch(now: number): FleetPatch | undefined {
    if (this.dirtyDevices.size === 0 && this.dirtyJobs.size === 0 && this.dirtyCampaigns.size === 0) return undefined;
    const devices = [...this.dirtyDevices].flatMap((s) => this.deviceRow(s) ?? []);
    const jobs = [...this.dirtyJobs].flatMap((j) => this.jobRow(j) ?? []);
    const campaigns = [...this.dirtyCampaigns].flatMap((c) => this.campaignRecord(c, now) ?? []);
    this.dirtyDevices.clear();
    this.dirtyJobs.clear();
    this.dirtyCampaigns.clear();
    return { position: this.position, devices, jobs, campaigns };
  }
}
