import type { LmdbEventStore } from '../eventstore/index.ts';
import type { CampaignFact } from '../machines/campaign.events.ts';
import { campaignFold, type CampaignState } from '../machines/campaign.fold.ts';
import type { PairFact, PairState } from '../machines/ha-pair.fold.ts';
import { pairFold } from '../machines/ha-pair.fold.ts';
import { jobFold, type JobState } from '../machines/upgrade-job.fold.ts';

interface Cached<S> {
  head: number;
  state: S;
}

/**
 * The whole fleet as the local projection of the replicated log has it (cluster mode): every job, HA pair
 * job and campaign, whichever daemon runs it, folded from the store. Each stream is folded again only when
 * its head moved, so a read costs one head lookup per stream.
 */
export class LogView {
  private readonly jobs = new Map<string, Cached<JobState>>();
  private readonly pairs = new Map<string, Cached<PairState>>();
  private readonly campaigns = new Map<string, Cached<CampaignState>>();

  constructor(private readonly store: LmdbEventStore) {}

  private refresh(): void {
    for (const stream of this.store.streamNames('job:')) {
      const id = stream.slice(4);
      const head = this.store.streamHead(stream);
      if ((this.jobs.get(id) ?? this.pairs.get(id))?.head === head) continue;
      const events = this.store.readStream(stream);
      if (events[0]?.type === 'job.ha.submitted') {
        this.pairs.set(id, { head, state: events.reduce((s, e) => pairFold.evolve(s, e as unknown as PairFact & { at: string }), pairFold.initialState()) });
      } else {
        this.jobs.set(id, { head, state: events.reduce((s, e) => jobFold.evolve(s, e as never), jobFold.initialState()) });
      }
    }
  }

  /** Device jobs (HA pair children included), oldest first. */
  allJobs(): JobState[] {
    this.refresh();
    return [...this.jobs.values()].map((c) => c.state).sort((a, b) => (a.submittedAt ?? '').localeCompare(b.submittedAt ?? ''));
  }

  allPairs(): PairState[] {
    this.refresh();
    return [...this.pairs.values()].map((c) => c.state).sort((a, b) => (a.submittedAt ?? '').localeCompare(b.submittedAt ?? ''));
  }

  job(id: string): JobState | undefined {
    return this.one(id, this.jobs);
  }

  pair(id: string): PairState | undefined {
    return this.one(id, this.pairs);
  }

  private one<S>(id: string, map: Map<string, Cached<S>>): S | undefined {
    const head = this.store.streamHead(`job:${id}`);
    if (head === 0) return undefined;
    if (map.get(id)?.head !== head) this.refresh();
    return map.get(id)?.state;
  }

  /** Every campaign, oldest first. */
  allCampaigns(): CampaignState[] {
    for (const stream of this.store.streamNames('campaign:')) this.campaign(stream.slice('campaign:'.length));
    return [...this.campaigns.values()].map((c) => c.state).sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  }

  campaign(id: string): CampaignState | undefined {
    const stream = `campaign:${id}`;
    const head = this.store.streamHead(stream);
    if (head === 0) return undefined;
    const cached = this.campaigns.get(id);
    if (cached?.head === head) return cached.state;
    const state = this.store.readStream(stream).reduce((s, e) => campaignFold.evolve(s, e as unknown as CampaignFact & { at: string }), campaignFold.initialState());
    this.campaigns.set(id, { head, state });
    return state;
  }
}
