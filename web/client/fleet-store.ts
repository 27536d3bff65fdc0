import { getJson } from './api.ts';
import type { CampaignRow, DeviceRow, FleetPatch, JobRow } from './types.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * The fleet as the page holds it: one snapshot (`/api/fleet`), then the changed rows the server
 * pushes (`/api/stream`, server-sent events). After a reconnect the snapshot is read again, so
 * nothing missed while away is lost.
 */
export class FleetStore {
  readonly devices = new Map<string, DeviceRow>();
  readonly jobs = new Map<string, JobRow>();
  readonly campaigns = new Map<string, CampaignRow>();
  state: LiveState = 'connecting';
  position = 0;
  /** Patches applied since the page opened (the browser test watches it). */
  patches = 0;
  version = 0;
  private source: EventSource | undefined;
  private pending: FleetPatch[] | undefined;
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    requestAnimationFrame(() => {
      this.notifyQueued = false;
      for (const l of this.listeners) l();
    });
  }

  start(): void {
    if (this.source) return;
    const source = new EventSource('/api/stream');
    this.source = source;
    source.addEventListener('hello', () => {
      void this.resync();
    });
    source.addEventListener('patch', (e) => {
      const patch = JSON.parse((e as MessageEvent<string>).data) as FleetPatch;
      if (this.pending) this.pending.push(patch);
      else this.apply(patch);
    });
    source.onerror = () => {
      this.state = 'reconnecting';
      this.changed();
    };
  }

  private async resync(): Promise<void> {
    // Patches that arrive while the snapshot loads are kept, and those newer than it applied after it.
    this.pending = [];
    let snap: FleetPatch;
    try {
      snap = await getJson<FleetPatch>('/api/fleet');
    } catch {
      this.pending = undefined;
      this.state = 'reconnecting';
      this.changed();
      return;
    }
    const later = this.pending.filter((p) => p.position > snap.position);
    this.pending = undefined;
    this.devices.clear();
    this.jobs.clear();
    this.campaigns.clear();
    this.apply(snap);
    for (const p of later) this.apply(p);
    this.state = 'live';
    this.changed();
  }

  private apply(patch: FleetPatch): void {
    for (const d of patch.devices) this.devices.set(d.serial, d);
    for (const j of patch.jobs) this.jobs.set(j.jobId, j);
    for (const c of patch.campaigns ?? []) this.campaigns.set(c.campaign_id, c);
    this.position = Math.max(this.position, patch.position);
    this.patches++;
    this.changed();
  }
}

export const fleet = new FleetStore();
