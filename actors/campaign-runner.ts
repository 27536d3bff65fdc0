import { randomBytes } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Snapshot } from 'xstate';
import { z } from 'zod';
import { serveJson, type Subjects } from '../bus/index.ts';
import type { LmdbEventStore } from '../eventstore/index.ts';
import { deadlineEffect, type DeadlineClock } from '../machines/effects.ts';
import type { CampaignFact, CampaignJobKind } from '../machines/campaign.events.ts';
import { campaignFold, claimedDevices, isCampaignTerminal, unitInFlight, type CampaignState } from '../machines/campaign.fold.ts';
import { campaignMachine, createdCampaignState, type CampaignEvent, type StampedCampaignFact } from '../machines/campaign.machine.ts';
import { CAMPAIGN_PLAN_SCHEMA, planInput, planIssues, type CampaignPlan } from '../machines/campaign.plan-file.ts';
import { CampaignPlanError, planCampaign, type PlannerDevice, type Timings } from '../machines/campaign.plan.ts';
import { PolicyError } from '../checks/policy.ts';
import { campaignList, toCampaignRecord, type CampaignRecord } from '../machines/campaign.record.ts';
import type { UpgradeStatus } from '../machines/upgrade-job.fold.ts';
import { CampaignStateError, NotFoundError, ValidationError } from '../panos/errors.ts';
import { JobRunner } from './job-runner.ts';

/** What a campaign needs from the daemon: its inventory, and jobs made the way `job submit` makes them. */
export interface CampaignHost {
  /** The inventory, each device with `busy` (its active job) and `path` (the one the paths file configures for its version). */
  devices(): PlannerDevice[];
  /** Upgrade hops a device needs by the configured paths (1 when unknown). */
  hops(device: PlannerDevice): number;
  /** The daemon's concurrency: a plan's default per-wave concurrency. */
  concurrency(): number;
  /** Whether a job with this id exists (running, queued or ended). */
  hasJob(jobId: string): boolean;
  /** Create and queue the job for a unit (a pair job for an HA pair) under the given id, with the campaign's readiness policy. */
  createJob(jobId: string, serials: readonly string[], kind: CampaignJobKind, targetVersion: string | null, readiness?: Record<string, unknown>): Promise<void>;
  /** Throws a ValidationError naming the field when a readiness policy is not valid. */
  checkPolicy(readiness: Record<string, unknown>): void;
  /** Resolves with the job's terminal status once it is on disk. */
  jobEnded(jobId: string): Promise<{ status: UpgradeStatus; message: string }>;
  /** Cancel a job: a queued one at once, a running one after its current step. */
  cancelJob(jobId: string): Promise<void>;
}

export interface CampaignRunnerOptions {
  store: LmdbEventStore;
  log: Logger;
  clock: DeadlineClock;
  host: CampaignHost;
}

const campaignId = z.string().regex(/^[0-9a-z-]{1,24}$/, 'a campaign id');
const by = z.string().min(1).max(64).optional();

/** The payloads of `panos.cmd.campaign.*`; `campaign.create` is the plan schema itself. */
export const CAMPAIGN_PAYLOADS = {
  'campaign.create': CAMPAIGN_PLAN_SCHEMA,
  'campaign.list': z.strictObject({ active: z.boolean().optional() }),
  'campaign.get': z.strictObject({ campaignId, units: z.boolean().optional() }),
  'campaign.pause': z.strictObject({ campaignId, by }),
  'campaign.resume': z.strictObject({ campaignId, by }),
  'campaign.approve': z.strictObject({ campaignId, by }),
  'campaign.abort': z.strictObject({ campaignId, by }),
} as const;

export type CampaignCommand = keyof typeof CAMPAIGN_PAYLOADS;

/** Validate a `panos.cmd.campaign.*` payload; the error names each bad field. */
export function validateCampaignPayload<K extends CampaignCommand>(name: K, payload: unknown): z.infer<(typeof CAMPAIGN_PAYLOADS)[K]> {
  const result = CAMPAIGN_PAYLOADS[name].safeParse(payload);
  if (result.success) return result.data as z.infer<(typeof CAMPAIGN_PAYLOADS)[K]>;
  const problems = planIssues(result.error).map((i) => `${i.path.length > 0 ? i.path.join('.') : 'payload'}: ${i.message}`);
  throw new ValidationError(`invalid ${name} payload: ${problems.join('; ')}`, String(result.error.issues[0]?.path[0] ?? ''));
}

export interface DryRunPlan {
  dryRun: true;
  campaign: CampaignRecord;
}

/**
 * Hosts campaigns: one campaign machine each, its facts appended to `campaign:<id>` with its snapshot.
 * A recorded `campaign.unit.started` is the intent; only once it is durable does the runner create the
 * job under the id it names (exactly once: the job stream's first append expects seq 0), wait for its
 * end and report it. On restart every unit in flight is re-attached to its job (created then if the
 * crash came between the intent and the job), and the campaign looks at the clock again.
 */
export class CampaignRunner {
  private readonly runners = new Map<string, JobRunner<CampaignState>>();
  private readonly finished = new Map<string, CampaignState>();
  private readonly launched = new Set<string>();
  private readonly machine;
  private stopping = false;

  constructor(private readonly options: CampaignRunnerOptions) {
    this.machine = campaignMachine.provide({ actors: { deadline: deadlineEffect(options.clock) } });
  }

  private get now(): number {
    return this.options.clock.now();
  }

  /** Rebuild every campaign from the log and resume the unfinished ones. */
  restore(): void {
    let resumed = 0;
    for (const stream of this.options.store.streamNames('campaign:')) {
      const id = stream.slice('campaign:'.length);
      const events = this.options.store.readStream(stream);
      const state = events.reduce((s, e) => campaignFold.evolve(s, e as unknown as CampaignFact & { at: string }), campaignFold.initialState());
      if (isCampaignTerminal(state)) {
        this.finished.set(id, state);
        continue;
      }
      const snap = this.options.store.getSnapshot<Snapshot<unknown>>(stream);
      const runner = this.makeRunner(id, snap ? { snapshot: snap.state } : { state });
      runner.start();
      for (const u of runner.state.units) {
        if (!unitInFlight(u)) continue;
        const jobId = u.kind === 'download-only' ? u.stageJobId : u.jobId;
        if (jobId) this.launch(id, u.id, jobId, u.kind ?? 'upgrade');
      }
      // A campaign is started when it is created: one that a crash left created but not started starts now.
      runner.send(runner.state.status === 'pending' ? { type: 'start', now: this.now } : { type: 'tick', now: this.now });
      resumed++;
    }
    if (resumed > 0) this.options.log.info({ resumed }, 'resumed unfinished campaigns from the event log');
  }

  private makeRunner(id: string, from: { state: CampaignState } | { snapshot: Snapshot<unknown> }): JobRunner<CampaignState> {
    const runner = new JobRunner<CampaignState>({
      jobId: id,
      stream: `campaign:${id}`,
      machine: this.machine,
      store: this.options.store,
      log: this.options.log.child({ campaignId: id }),
      isTerminal: isCampaignTerminal,
      ...from,
      onChange: (state, facts) => this.onFacts(id, state, facts as readonly StampedCampaignFact[]),
    });
    this.runners.set(id, runner);
    return runner;
  }

  private onFacts(id: string, state: CampaignState, facts: readonly StampedCampaignFact[]): void {
    for (const f of facts) {
      if (f.type === 'campaign.unit.started') this.launch(id, f.data.unit, f.data.jobId, f.data.kind);
      if (f.type === 'campaign.abort.requested') {
        for (const u of state.units.filter(unitInFlight)) {
          const jobId = u.kind === 'download-only' ? u.stageJobId : u.jobId;
          if (jobId && this.options.host.hasJob(jobId)) void this.options.host.cancelJob(jobId).catch(() => undefined);
        }
      }
    }
    if (isCampaignTerminal(state)) {
      this.finished.set(id, state);
      this.runners.delete(id);
    }
  }

  /** Make sure the unit's job exists (once), wait for its end, and tell the campaign. */
  private launch(id: string, unit: number, jobId: string, kind: CampaignJobKind): void {
    if (this.launched.has(jobId)) return;
    this.launched.add(jobId);
    const host = this.options.host;
    void (async () => {
      let outcome: { status: UpgradeStatus; message: string };
      try {
        const runner = this.runners.get(id);
        const spec = runner?.state.spec;
        const members = spec?.units.find((u) => u.id === unit);
        if (!runner || !spec || !members) return;
        if (!host.hasJob(jobId)) await host.createJob(jobId, members.serials, kind, spec.targetVersion, spec.readiness);
        if (runner.state.abortRequested) await host.cancelJob(jobId).catch(() => undefined);
        outcome = await host.jobEnded(jobId);
      } catch (err) {
        outcome = { status: 'failed', message: `the job could not be created: ${(err as Error).message}` };
      }
      if (this.stopping) return;
      this.runners.get(id)?.send({ type: 'job.ended', unit, jobId, kind, status: outcome.status, message: outcome.message, now: this.now } satisfies CampaignEvent);
    })();
  }

  private newId(): string {
    return `c${this.now.toString(36)}-${randomBytes(2).toString('hex')}`;
  }

  /** Plan a campaign; unless it is a dry run, record it and start it. */
  async create(plan: CampaignPlan, defaults: { timings?: Timings } = {}): Promise<{ campaign: CampaignRecord } | DryRunPlan> {
    const host = this.options.host;
    if (plan.policy) {
      try {
        host.checkPolicy(plan.policy);
      } catch (err) {
        // Its field as a place in the plan (`policy.checks.ntp_sync.severity`), so a plan file's line can be named.
        if (err instanceof PolicyError) throw new CampaignPlanError(err.path ? `policy.${err.path}` : 'policy', err.problem);
        throw err;
      }
    }
    const id = this.newId();
    // A device that cannot take a new job (an active job, a unit of another running campaign) is left out with why.
    const claimed = claimedDevices([...this.runners.values()].map((r) => r.recorded));
    const devices = host.devices().map((d) => (d.busy || !claimed.has(d.serial) ? d : { ...d, busy: claimed.get(d.serial)! }));
    const spec = planCampaign(planInput(plan, { campaignId: id, devices, now: this.now, concurrency: host.concurrency(), hops: (d) => host.hops(d), ...(defaults.timings ? { timings: defaults.timings } : {}) }));
    const at = new Date(this.now).toISOString();
    const created: Extract<CampaignFact, { type: 'campaign.created' }> = { type: 'campaign.created', data: { spec } };
    const state = createdCampaignState(created, at);
    if (plan.dryRun) return { dryRun: true, campaign: toCampaignRecord(state, this.now, { members: true }) };
    const runner = this.makeRunner(id, { state });
    try {
      await this.options.store.append(`campaign:${id}`, [{ ...created, at }], { expectedSeq: 0 });
    } catch (err) {
      this.runners.delete(id);
      throw err;
    }
    runner.start();
    runner.send({ type: 'start', now: this.now });
    await runner.durable();
    return { campaign: toCampaignRecord(runner.recorded, this.now) };
  }

  private state(id: string): CampaignState | undefined {
    return this.runners.get(id)?.recorded ?? this.finished.get(id);
  }

  get(id: string, members = false): { campaign: CampaignRecord } {
    const s = this.state(id);
    if (!s) throw new NotFoundError('campaign', id);
    return { campaign: toCampaignRecord(s, this.now, { members }) };
  }

  list(active = false): { campaigns: CampaignRecord[] } {
    return { campaigns: campaignList([...this.finished.values(), ...[...this.runners.values()].map((r) => r.recorded)], this.now, active) };
  }

  /** An operator's command; refused with the reason when it would change nothing. */
  async command(id: string, type: 'pause' | 'resume' | 'approve' | 'abort', who = 'operator'): Promise<{ campaign: CampaignRecord }> {
    const runner = this.runners.get(id);
    if (!runner) {
      const done = this.finished.get(id);
      if (done) throw new CampaignStateError(id, done.status, `campaign ${id} already ended (${done.status}): ${done.message}`);
      throw new NotFoundError('campaign', id);
    }
    const s = runner.state;
    const wave = s.waves[s.wave];
    if (type === 'pause' && s.paused) throw new CampaignStateError(id, s.status, `campaign ${id} is already paused`);
    if (type === 'resume' && !s.paused) throw new CampaignStateError(id, s.status, `campaign ${id} is not paused (${s.status})`);
    if (type === 'abort' && s.abortRequested) throw new CampaignStateError(id, s.status, `campaign ${id} is already being aborted`);
    if (type === 'approve' && !(wave && wave.status === 'awaiting-approval' && wave.approvedBy === null)) {
      throw new CampaignStateError(id, s.status, `campaign ${id} is not waiting for an approval; it waits for ${toCampaignRecord(runner.recorded, this.now).waiting_for || 'nothing'}`);
    }
    runner.send({ type, by: who, now: this.now });
    await runner.durable();
    return this.get(id);
  }

  /** Answer `panos.cmd.campaign.*`. */
  listen(nc: NatsConnection, subjects: Subjects, onError: (err: unknown, subject: string) => void): Subscription[] {
    const serve = <K extends CampaignCommand>(name: K, handler: (p: z.infer<(typeof CAMPAIGN_PAYLOADS)[K]>) => Promise<object> | object): Subscription =>
      serveJson(nc, subjects.cmd(name), (payload) => handler(validateCampaignPayload(name, payload)), { queue: 'daemon', onError: (err) => onError(err, name) });
    return [
      serve('campaign.create', (p) => this.create(p)),
      serve('campaign.list', (p) => this.list(p.active === true)),
      serve('campaign.get', (p) => this.get(p.campaignId, p.units === true)),
      serve('campaign.pause', (p) => this.command(p.campaignId, 'pause', p.by)),
      serve('campaign.resume', (p) => this.command(p.campaignId, 'resume', p.by)),
      serve('campaign.approve', (p) => this.command(p.campaignId, 'approve', p.by)),
      serve('campaign.abort', (p) => this.command(p.campaignId, 'abort', p.by)),
    ];
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }
}
