import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { RemoteError } from '../../bus/errors.ts';
import type { DryRunPlan } from '../../actors/campaign-runner.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { CAMPAIGN_PLAN_SCHEMA, parsePlanFile, placePlanError, planIssues, withExcluded, withSelection, type CampaignPlan } from '../../machines/campaign.plan-file.ts';
import type { CampaignRecord } from '../../machines/campaign.record.ts';
import { ValidationError } from '../../panos/errors.ts';
import { loadScenarioFile, timingsOfScenario } from '../../scenarios/index.ts';
import { campaignPlanLines, eventLine, statusLines } from '../campaign-view.ts';
import { DaemonClient, withDaemon } from '../client.ts';
import { CliError } from '../errors.ts';
import { connectionNotice, untilInterrupted } from '../follow.ts';
import { policyPayload } from './check.ts';
import { parsePositiveInt, parseSerial, parseVersion } from '../options.ts';
import { outputTo, printJson, table, type Output } from '../output.ts';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function collectSerial(value: string, previous: string[] = []): string[] {
  return [...previous, parseSerial(value)];
}

function parseCampaignId(value: string): string {
  if (!/^[0-9a-z-]{1,24}$/.test(value)) throw new InvalidArgumentError(`expected a campaign id (as printed by campaign create or campaign list), got "${value}"`);
  return value;
}

interface CreateOptions {
  plan?: string;
  name?: string;
  target?: string;
  all?: boolean;
  device?: string[];
  hostname?: string[];
  model?: string[];
  deviceGroup?: string[];
  fromVersion?: string[];
  exclude?: string[];
  waves?: string;
  concurrency?: number;
  soak?: string;
  approval?: boolean;
  window?: string[];
  maxFailures?: string;
  maxWaveFailures?: string;
  groupBy?: 'none' | 'site' | 'device-group';
  groups?: 'spread' | 'together';
  prestage?: boolean;
  scenario?: string;
  policy?: string;
  timeScale?: string;
  dryRun?: boolean;
  watch?: boolean;
  json?: boolean;
}

/** Expected durations and time scale of a simulator scenario: the middle of each range, unscaled, in seconds. */
function scenarioTimings(file: string): { timings: NonNullable<CampaignPlan['timings']>; timeScale: number } {
  return timingsOfScenario(loadScenarioFile(file));
}

/** A `--plan` file: its text and what it says. */
interface PlanSource {
  file: string;
  text: string;
  plan: CampaignPlan;
}

function readPlanSource(file: string): PlanSource {
  const text = readText(file);
  return { file, text, plan: parsePlanFile(text, file) };
}

/** The plan: the `--plan` file, then each option given on the command line over it; checked with the daemon's schema. */
export function buildPlan(o: CreateOptions, source: PlanSource | undefined = o.plan ? readPlanSource(o.plan) : undefined): CampaignPlan {
  const base: CampaignPlan = source?.plan ?? {};
  const select = withSelection(base.select, {
    ...(o.all ? { all: true } : {}),
    ...(o.device ? { serials: o.device } : {}),
    ...(o.hostname ? { hostnames: o.hostname } : {}),
    ...(o.model ? { models: o.model } : {}),
    ...(o.deviceGroup ? { deviceGroups: o.deviceGroup } : {}),
    ...(o.fromVersion ? { versions: o.fromVersion } : {}),
  });
  const exclude = withExcluded(base.exclude, o.exclude ?? []);
  const sim = o.scenario ? scenarioTimings(o.scenario) : undefined;
  const plan: Record<string, unknown> = {
    ...base,
    ...(select ? { select } : {}),
    ...(exclude ? { exclude } : {}),
    ...(o.name ? { name: o.name } : {}),
    ...(o.target ? { target: o.target } : {}),
    ...(o.waves ? { waves: o.waves } : {}),
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    ...(o.soak ? { soak: o.soak } : {}),
    ...(o.approval ? { approval: true } : {}),
    ...(o.window?.length ? { windows: o.window } : {}),
    ...(o.maxFailures ? { maxFailures: o.maxFailures } : {}),
    ...(o.maxWaveFailures ? { maxWaveFailures: o.maxWaveFailures } : {}),
    ...(o.groupBy ? { groupBy: o.groupBy } : {}),
    ...(o.groups ? { groups: o.groups } : {}),
    ...(o.prestage ? { prestage: true } : {}),
    ...(sim ? { timings: { ...sim.timings, ...(base.timings ?? {}) }, timeScale: base.timeScale ?? sim.timeScale } : {}),
    ...(o.timeScale ? { timeScale: Number(o.timeScale) } : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
    ...policyPayload(o.policy),
  };
  const result = CAMPAIGN_PLAN_SCHEMA.safeParse(plan);
  if (!result.success) {
    const problems = planIssues(result.error).map((i) => `${i.path.join('.') || 'plan'}: ${i.message}`);
    throw new ValidationError(`invalid campaign: ${problems.join('; ')}`);
  }
  return result.data;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(`${file}: cannot read the campaign plan: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** A plan error the daemon found, named by its field: placed at its file and line when the plan file gave that value. */
function inPlanFile(err: unknown, source: PlanSource | undefined, sent: CampaignPlan): unknown {
  if (!source || !(err instanceof RemoteError) || err.code !== 'VALIDATION') return err;
  const field = typeof err.details.field === 'string' ? err.details.field : '';
  const problem = typeof err.details.problem === 'string' ? err.details.problem : err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
  return placePlanError(source.file, source.text, source.plan, sent, field, problem) ?? err;
}

const ENDED = new Set(['completed', 'halted', 'aborted']);

/**
 * Campaign events from one subscription opened before anything is asked of the daemon (so that none is
 * missed between a create and following it); they queue until `follow` takes them.
 */
export class CampaignFeed {
  private readonly queued: EventEnvelope[] = [];
  private take: ((e: EventEnvelope) => void) | undefined;
  private sub: Subscription | undefined;

  static async open(client: DaemonClient): Promise<CampaignFeed> {
    const feed = new CampaignFeed();
    feed.sub = await client.subscribe(client.subjects.streamEvents('campaign'), (msg: Msg) => feed.push(msg.json<EventEnvelope>()));
    return feed;
  }

  private push(e: EventEnvelope): void {
    if (this.take) this.take(e);
    else this.queued.push(e);
  }

  /** Hand every event, queued ones first, to `take`. */
  follow(take: (e: EventEnvelope) => void): void {
    this.take = take;
    for (const e of this.queued.splice(0)) take(e);
  }

  close(): void {
    this.sub?.unsubscribe();
  }
}

/** How long an event is held for the ones before it (by seq) before it is printed anyway. */
const GAP_WAIT_MS = 1000;

/**
 * Print live progress lines for one campaign until it ends, each event once and in the order of its
 * stream (seq). `feed`: a subscription opened before the campaign was created (its events then start
 * at the first); without one, a subscription opened now (what came before is in the status printed).
 * When the connection to NATS comes back, units that started or ended meanwhile are printed from the
 * campaign record. `onEvent` sees each event once, after its line.
 */
export async function followCampaign(
  client: DaemonClient,
  out: Output,
  id: string,
  options: {
    /** Opened before the campaign was created: follow it from its first event. */
    feed?: CampaignFeed;
    onEvent?: (e: EventEnvelope) => void;
    /** Told when the connection is lost and when it is back (default: a warning on stderr). */
    onConnection?: (change: 'lost' | 'back') => void;
  } = {},
): Promise<CampaignRecord> {
  const { feed, onEvent, onConnection = connectionNotice(client) } = options;
  const fromStart = feed !== undefined;
  const own = feed ?? (await CampaignFeed.open(client));
  const { campaign } = await client.request<{ campaign: CampaignRecord }>('campaign.get', { campaignId: id, units: true });
  const names = new Map<number, string>();
  for (const w of campaign.waves) for (const m of w.members ?? []) names.set(m.unit, m.hostnames.join(' / '));
  const started = new Set<string>();
  const ended = new Set<string>();
  let resolveEnd!: () => void;
  const done = new Promise<void>((r) => (resolveEnd = r));
  const print = (e: EventEnvelope): void => {
    const d = (e.data ?? {}) as Record<string, unknown>;
    if (e.type === 'campaign.unit.started') started.add(String(d.jobId));
    if (e.type === 'campaign.unit.ended') ended.add(String(d.jobId));
    const line = eventLine(e, names);
    if (line) out.line(`${e.at.slice(11, 19)}  ${line}`);
    onEvent?.(e);
    if (e.type === 'campaign.completed' || e.type === 'campaign.halted' || e.type === 'campaign.aborted') resolveEnd();
  };
  // In seq order: an event waits for those before it, at most GAP_WAIT_MS (one may have been missed).
  let next: number | undefined = fromStart ? 1 : undefined;
  const pending = new Map<number, EventEnvelope>();
  let gapTimer: NodeJS.Timeout | undefined;
  const drain = (): void => {
    if (pending.size === 0) return;
    next ??= Math.min(...pending.keys());
    for (let e = pending.get(next); e; e = pending.get(next)) {
      pending.delete(next);
      next++;
      print(e);
    }
    clearTimeout(gapTimer);
    if (pending.size > 0) {
      gapTimer = setTimeout(() => {
        next = Math.min(...pending.keys());
        drain();
      }, GAP_WAIT_MS);
    }
  };
  const accept = (e: EventEnvelope): void => {
    if (e.stream !== `campaign:${id}` || (next !== undefined && e.seq < next) || pending.has(e.seq)) return;
    pending.set(e.seq, e);
    drain();
  };
  // Back after a lost connection: what happened meanwhile is in the record, not in the events.
  const reconcile = async (): Promise<void> => {
    const now = (await client.request<{ campaign: CampaignRecord }>('campaign.get', { campaignId: id, units: true })).campaign;
    const at = new Date().toISOString().slice(11, 19);
    for (const w of now.waves) {
      for (const m of w.members ?? []) {
        const name = m.hostnames.join(' / ');
        for (const jobId of [m.stage_job_id, m.job_id]) {
          if (!jobId || started.has(jobId)) continue;
          started.add(jobId);
          out.line(`${at}    ${name}: ${jobId === m.stage_job_id ? 'pre-staging images' : 'upgrade started'} (job ${jobId}) (while disconnected)`);
        }
        if ((m.status === 'complete' || m.status === 'failed' || m.status === 'cancelled') && m.job_id && !ended.has(m.job_id)) {
          ended.add(m.job_id);
          out.line(`${at}    ${name}: ${m.status}: ${m.message} (while disconnected)`);
        }
      }
    }
    // Live events go on from here: a gap before them is no reason to wait.
    next = undefined;
    if (ENDED.has(now.status)) {
      out.line(`${at}  ${now.message}`);
      resolveEnd();
    }
  };
  // A daemon restarted with its NATS server answers a moment after the server is back: read until it does.
  let finished = false;
  const reconcileUntilAnswered = async (): Promise<void> => {
    for (let attempt = 0; !finished; attempt++) {
      try {
        return await reconcile();
      } catch (err) {
        if (err instanceof RemoteError) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** attempt)).unref());
      }
    }
  };
  const stopWatching = await client.onConnection((change) => {
    onConnection(change);
    if (change === 'back') void reconcileUntilAnswered();
  });
  own.follow(accept);
  // Events before the subscription are in the record: end soon if it already ended (its last events may still be on their way).
  const now = await client.request<{ campaign: CampaignRecord }>('campaign.get', { campaignId: id });
  let endTimer: NodeJS.Timeout | undefined;
  if (ENDED.has(now.campaign.status)) endTimer = setTimeout(resolveEnd, fromStart ? 2 * GAP_WAIT_MS : 0);
  try {
    await untilInterrupted(done, `stopped following; campaign ${id} goes on in the daemon (see: panos-upgrade campaign status ${id})`);
  } finally {
    finished = true;
    clearTimeout(gapTimer);
    clearTimeout(endTimer);
    stopWatching();
    own.close();
  }
  return (await client.request<{ campaign: CampaignRecord }>('campaign.get', { campaignId: id })).campaign;
}

/** One row per campaign, with a header, as the other lists. */
export function campaignTable(out: Output, campaigns: readonly CampaignRecord[]): string {
  return table(
    campaigns,
    [
      { header: 'CAMPAIGN', value: (c) => c.campaign_id },
      { header: 'NAME', value: (c) => c.name },
      { header: 'STATUS', value: (c) => c.status },
      { header: 'WAVE', value: (c) => `${Math.max(c.wave, 0)}/${c.waves.length}`, right: true },
      { header: 'COMPLETE', value: (c) => `${c.totals.complete}/${c.totals.units}`, right: true },
      { header: 'FAILED', value: (c) => String(c.totals.failed), right: true },
      { header: 'MESSAGE', value: (c) => c.message },
    ],
    out,
  );
}

/** How a watched campaign ends: exit 1 when it halted or was aborted; under --json one reply either way. */
function finishWatch(out: Output, c: CampaignRecord, json: boolean): void {
  const stopped = c.status === 'halted' || c.status === 'aborted' ? `campaign ${c.campaign_id} ${c.status}: ${c.message}` : undefined;
  if (stopped === undefined) {
    if (json) printJson(out, { ok: true, campaign: c });
    return;
  }
  throw new CliError(stopped, 1, json ? { ok: false, campaign: c, error: { code: `CAMPAIGN_${c.status.toUpperCase()}`, message: stopped, exitCode: 1 } } : undefined);
}

export function registerCampaign(program: Command): void {
  const campaign = program.command('campaign').description('upgrade a fleet in waves: canaries, maintenance windows, gates and a failure budget');

  campaign
    .command('create')
    .description('plan a campaign and start it (with --dry-run: print the whole plan and record nothing)')
    .option(
      '--plan <file>',
      'a YAML plan (selection, waves, windows, gates, budget); options below override it: --all, --device and --hostname together replace its select all, serials and hostnames; --model, --device-group and --from-version each replace its list of that kind',
    )
    .option('--name <name>', 'a name for reports')
    .option('-t, --target <version>', 'upgrade to this version (default: each device’s configured upgrade path)', parseVersion)
    .option('--all', 'select every discovered device (instead of the plan’s devices)')
    .option('-d, --device <serial>', 'select a device (repeat; instead of the plan’s all, serials and hostnames)', collectSerial)
    .option('--hostname <glob>', 'select hostnames matching a glob, e.g. "fw-dc*" (repeat; instead of the plan’s all, serials and hostnames)', collect)
    .option('--model <model>', 'only this model (repeat; instead of the plan’s models)', collect)
    .option('--device-group <name>', 'only this Panorama device group (repeat; instead of the plan’s deviceGroups)', collect)
    .option('--from-version <version>', 'only devices running this version or glob, e.g. "10.1.*" (repeat; instead of the plan’s versions)', collect)
    .option('--exclude <serial|glob>', 'leave out a device or hostname glob (repeat); an excluded HA peer leaves out its pair', collect)
    .option('--waves <spec>', 'waves, e.g. canary:2,10%,25%,rest (default: one wave)')
    .option('-c, --concurrency <n>', 'units of a wave upgraded at the same time (default: the daemon’s concurrency)', parsePositiveInt)
    .option('--soak <duration>', 'wait after each wave before the next, e.g. 30m')
    .option('--approval', 'an operator approves each next wave (panos-upgrade campaign approve ID)')
    .option('--window <window>', 'maintenance window, e.g. "Sat 01:00-05:00 Europe/Berlin" (repeat)', collect)
    .option('--max-failures <n|p%>', 'failed units the whole campaign tolerates before it halts (default 0)')
    .option('--max-wave-failures <n|p%>', 'failed units one wave tolerates before the campaign halts')
    .option('--group-by <key>', 'group units by site (from the hostname) or device-group')
    .option('--groups <how>', 'spread a group over the waves, or keep it together in one wave')
    .option('--prestage', 'download the images of a wave while waiting for its window')
    .option('--policy <file>', 'readiness policy YAML for every job of the campaign (default: the shipped one)')
    .option('--scenario <file>', 'take expected durations and the time scale from a simulator scenario (rehearsals)')
    .option('--time-scale <x>', 'campaign time runs 1/x as fast as wall time (rehearsals on a scaled simulator)')
    .option('--dry-run', 'print the plan: waves, devices, windows, estimated duration; record nothing')
    .option('-w, --watch', 'follow the campaign with live progress until it ends; exit 1 if it halts or is aborted')
    .option('--json', "print the daemon's reply as JSON")
    .action(async (opts: CreateOptions, cmd: Command) => {
      const out = outputTo();
      const source = opts.plan ? readPlanSource(opts.plan) : undefined;
      const plan = buildPlan(opts, source);
      await withDaemon(cmd, async (client) => {
        // One subscription, from before the request: every event of the new campaign, none twice.
        const feed = opts.watch && !opts.dryRun ? await CampaignFeed.open(client) : undefined;
        try {
          const reply = await client.request<{ campaign: CampaignRecord } | DryRunPlan>('campaign.create', plan, 60_000).catch((err: unknown) => {
            throw inPlanFile(err, source, plan);
          });
          if (opts.json && !opts.watch) return printJson(out, reply);
          if ('dryRun' in reply) {
            for (const line of campaignPlanLines(reply.campaign, Date.now(), out)) out.line(line);
            return;
          }
          const c = reply.campaign;
          // Under --watch --json, stdout holds the one reply: what happens meanwhile goes to stderr.
          const progress = opts.json ? outputTo(process.stderr) : out;
          progress.line(`Created campaign ${progress.paint('bold', c.campaign_id)} (${c.name}): ${c.totals.units} unit(s) in ${c.waves.length} wave(s)`);
          for (const e of c.excluded) progress.line(`  excluded: ${e.hostname} (${e.serial}): ${e.reason}`);
          if (!opts.watch) {
            out.line(`Follow it with: panos-upgrade campaign status ${c.campaign_id} --watch`);
            return;
          }
          const end = await followCampaign(client, progress, c.campaign_id, { feed });
          finishWatch(out, end, opts.json === true);
        } finally {
          feed?.close();
        }
      });
    });

  campaign
    .command('list')
    .description('list campaigns, oldest first')
    .option('-a, --active', 'only campaigns that have not ended')
    .option('--json', "print the daemon's reply as JSON")
    .action(async (opts: { active?: boolean; json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ campaigns: CampaignRecord[] }>('campaign.list', opts.active ? { active: true } : {});
        if (opts.json) return printJson(out, reply);
        if (reply.campaigns.length === 0) return out.line('No campaigns.');
        out.write(campaignTable(out, reply.campaigns));
      });
    });

  campaign
    .command('status')
    .description('per-wave progress, what the campaign waits for, and its ETA')
    .argument('<campaign>', 'campaign id', parseCampaignId)
    .option('-u, --units', 'list every unit that started, with its job')
    .option('-w, --watch', 'then follow it with live progress until it ends')
    .option('--json', "print the daemon's reply as JSON")
    .action(async (id: string, opts: { units?: boolean; watch?: boolean; json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ campaign: CampaignRecord }>('campaign.get', { campaignId: id, ...(opts.units ? { units: true } : {}) });
        if (opts.json && !opts.watch) return printJson(out, reply);
        if (!opts.json) for (const line of statusLines(reply.campaign, Date.now(), out)) out.line(line);
        if (!opts.watch) return;
        // Under --json, stdout holds the one reply: what happens meanwhile goes to stderr.
        const end = await followCampaign(client, opts.json ? outputTo(process.stderr) : out, id);
        if (!opts.json) for (const line of statusLines(end, Date.now(), out)) out.line(line);
        finishWatch(out, end, opts.json === true);
      });
    });

  for (const [name, verb, what] of [
    ['pause', 'pause', 'nothing new starts; running jobs finish'],
    ['resume', 'resume', 'continue a paused campaign'],
    ['approve', 'approve', 'let the next wave start (at an approval gate)'],
    ['abort', 'abort', 'cancel queued jobs; running ones stop after their current step; nothing new starts'],
  ] as const) {
    campaign
      .command(name)
      .description(what)
      .argument('<campaign>', 'campaign id', parseCampaignId)
      .option('--by <name>', 'who does it, for the record (default: $USER)')
      .option('--json', "print the daemon's reply as JSON")
      .action(async (id: string, opts: { by?: string; json?: boolean }, cmd: Command) => {
        const out = outputTo();
        await withDaemon(cmd, async (client) => {
          const reply = await client.request<{ campaign: CampaignRecord }>(`campaign.${verb}`, { campaignId: id, by: opts.by ?? process.env.USER ?? 'operator' });
          if (opts.json) return printJson(out, reply);
          out.line(`Campaign ${id}: ${reply.campaign.status}: ${reply.campaign.message}`);
          if (reply.campaign.waiting_for) out.line(`  waits for: ${reply.campaign.waiting_for}`);
        });
      });
  }
}
