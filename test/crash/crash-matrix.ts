import type { ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbEventStore, type EventEnvelope } from '../../eventstore/index.ts';
import { JOB_FACT_TYPES } from '../../machines/upgrade-job.events.ts';
import { PAIR_FACT_TYPES } from '../../machines/ha-pair.fold.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/types.ts';
import { shippedScenario } from '../../cli/paths.ts';
import type { DaemonConfig } from '../../actors/config.ts';
import { waitFor, type TestNats } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { command, countBy, MUTATING_KINDS, servedCalls } from '../actors/orchestrator-fixture.ts';
import { checkDuplicates, formatCheck } from '../../forensics/duplicate-check.ts';
import { crashAfter, killDaemon, startDaemonChild, type DaemonChild } from '../actors/daemon-child.ts';

/**
 * The crash-point matrix of issue 11: for every event type a job or an HA pair job records (read from
 * their definitions, JOB_FACT_TYPES and PAIR_FACT_TYPES), in every scenario whose run records it, the
 * daemon is SIGKILLed right after the n-th such event is durable (the test-only hook of
 * actors/crash-hook.ts), started again, and must finish the job as an uninterrupted run does: the same
 * end, and the device receiving exactly the same mutating commands (one install per version, one
 * restart per hop, no second download), and for a pair never both peers down and no peer left suspended.
 */

/** Generous: these runs share two cores with everything else. */
const LONG = 180_000;
const TERMINAL = new Set(['complete', 'download_complete', 'failed', 'cancelled', 'skipped']);

export interface MatrixScenario {
  name: string;
  scenario: () => Scenario;
  config: (c: DaemonConfig) => DaemonConfig;
  /** The device the job is submitted for; an HA member gets a pair job. */
  device: string;
  downloadOnly?: boolean;
  targetVersion?: string;
  /** HA peers whose availability is checked (both never down, none left suspended). */
  pair?: readonly [string, string];
}

const TIME_SCALE = 0.02;

function shipped(name: string, change: (s: Scenario) => Scenario = (s) => s): () => Scenario {
  return () => change(loadScenarioFile(shippedScenario(name), { timeScale: TIME_SCALE, env: {} }));
}

/** Reboots long enough to be seen down by a loaded client (ha-pair.int.test.ts explains why pairs need it). */
const slowReboots = (s: Scenario): Scenario => ({ ...s, timing: { ...s.timing, rebootMs: [1500, 1500] } });

export const SCENARIOS: readonly MatrixScenario[] = [
  {
    // fw-branch-01: content update, then two hops 10.1.0 → 10.5.1 → 11.1.0, each downloaded, installed and rebooted.
    name: 'upgrade',
    scenario: shipped('basic', slowReboots),
    config: (c) => c,
    device: '001234567893',
    targetVersion: '11.1.0',
  },
  {
    // fw-dc1-02: 10.1.0 is staged already (skipped), 10.5.1 and 11.1.0 are downloaded.
    name: 'download-only',
    scenario: shipped('basic'),
    config: (c) => c,
    device: '001234567891',
    downloadOnly: true,
  },
  {
    // fw-dc1-01 (active) and fw-dc1-02 (passive) to 10.1.0: images on both, passive first, fail over, active.
    name: 'ha-pair',
    scenario: shipped('ha-pair', slowReboots),
    config: (c) => ({ ...c, upgrade: { ...c.upgrade, updateContent: false, paths: { ...c.upgrade.paths, '10.0.2': ['10.1.0'] } } }),
    device: '001234567890',
    pair: ['001234567890', '001234567891'],
  },
];

/** Every event type a job or pair job can record: the matrix's rows, whatever the scenarios reach. */
export const ALL_TYPES: readonly string[] = [...JOB_FACT_TYPES, ...PAIR_FACT_TYPES];

export interface CrashPoint {
  scenario: string;
  type: string;
  nth: number;
}

export const pointName = (p: CrashPoint): string => `${p.scenario}: ${p.type}#${p.nth}`;

/** What one run left: how it ended, what each device was sent, the HA invariants. */
export interface RunOutcome {
  status: string;
  message: string;
  /** `serial kind version` → how many times the device received it. */
  mutations: Record<string, number>;
  /** Event type → how many the job and its children recorded. */
  typeCounts: Record<string, number>;
  bothDown: string[];
  leftSuspended: string[];
  /** `replay check` of the daemon's log: the duplicates it reports. */
  duplicates: string[];
  crashed: boolean;
}

/** Two-core machine: a few runs at once, each with its own simulator, gateway and daemon processes. */
export class Limiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((r) => this.queue.push(r));
    this.running += 1;
    try {
      return await fn();
    } finally {
      this.running -= 1;
      this.queue.shift()?.();
    }
  }
}

/** The job the run is about: the submitted one, or (when the submit's reply died with the daemon) the only top-level job of the device. */
async function topJob(stack: Stack, device: string): Promise<string> {
  const { jobs } = await command<{ jobs: Array<{ job_id: string; parent_job_id?: string | null }> }>(stack, 'job.list', { device });
  const top = jobs.filter((j) => !j.parent_job_id);
  if (top.length !== 1) throw new Error(`expected one top-level job for ${device}, found ${top.length}`);
  return top[0]!.job_id;
}

async function jobEnd(stack: Stack, jobId: string): Promise<{ upgrade_status: string; upgrade_message: string }> {
  let last: { upgrade_status: string; upgrade_message: string } | undefined;
  try {
    return await waitFor(
      async () => {
        last = (await command<{ job: { upgrade_status: string; upgrade_message: string } }>(stack, 'job.get', { jobId })).job;
        return TERMINAL.has(last.upgrade_status) ? last : undefined;
      },
      LONG,
      100,
    );
  } catch (err) {
    throw new Error(`job ${jobId} did not end within ${LONG} ms; last seen ${last?.upgrade_status}: ${last?.upgrade_message}`, { cause: err });
  }
}

/**
 * From the daemon's event log (read once the daemon is gone): the job's stream and its children's, and
 * what `replay check` finds in it (a duplicate seen from the daemon's own API-call records).
 */
async function fromDaemonLog(stack: Stack, jobId: string): Promise<{ events: EventEnvelope[]; duplicates: string[] }> {
  const store = LmdbEventStore.open({ path: join(stack.dataDir, 'events') });
  try {
    const own = store.readStream(`job:${jobId}`);
    const children = own.filter((e) => e.type === 'job.ha.child.created').map((e) => (e.data as { jobId: string }).jobId);
    const check = checkDuplicates(store);
    return { events: [...own, ...children.flatMap((id) => store.readStream(`job:${id}`))], duplicates: check.ok ? [] : formatCheck(check).split('\n').filter((l) => l.includes('DUPLICATE')) };
  } finally {
    await store.close();
  }
}

const NOT_SERVING = new Set(['suspended', 'non-functional', 'initial']);

/** Each moment both peers were unavailable (rebooting, or suspended / non-functional / initial), from the simulator's log. */
export function bothUnavailable(stack: Stack, peers: readonly [string, string]): string[] {
  const now = new Map(peers.map((s) => [s, { rebooting: false, ha: stack.scenario.devices.find((d) => d.serial === s)?.ha?.initialState ?? 'unknown' }]));
  const available = (s: string): boolean => !now.get(s)!.rebooting && !NOT_SERVING.has(now.get(s)!.ha);
  const log = peers.flatMap((s) => stack.simStore.readStream(`sim:${s}`)).sort((a, b) => a.gseq - b.gseq);
  const moments: string[] = [];
  for (const e of log) {
    const p = now.get(e.stream.slice('sim:'.length))!;
    const d = e.data as Record<string, unknown>;
    if (e.type === 'sim.reboot.down') p.rebooting = true;
    if (e.type === 'sim.reboot.completed') p.rebooting = false;
    if (e.type === 'sim.ha-state.changed') p.ha = String(d.to);
    if (!available(peers[0]) && !available(peers[1])) moments.push(`#${e.gseq} ${e.type} on ${e.stream}`);
  }
  return moments;
}

/**
 * One run of a scenario on its own stack: a daemon child (armed to crash at `point` when given), the
 * job submitted, and (after a crash) a second daemon that must finish it.
 */
export async function runScenario(t: ExecutionContext, nats: TestNats, sc: MatrixScenario, point?: CrashPoint): Promise<RunOutcome> {
  const stack = await startStack(t, nats, { scenario: sc.scenario(), daemon: false, config: sc.config });
  let daemon: DaemonChild = await startDaemonChild(t, stack, nats, point ? crashAfter(point.type, point.nth) : {});
  const gone = (): boolean => daemon.child.exitCode !== null || daemon.child.signalCode !== null;
  let jobId: string | undefined;
  if (!gone()) {
    try {
      await command(stack, 'device.discover', {}, LONG);
      const payload = { device: sc.device, ...(sc.downloadOnly ? { downloadOnly: true } : {}), ...(sc.targetVersion ? { targetVersion: sc.targetVersion } : {}) };
      jobId = (await command<{ job: { job_id: string } }>(stack, 'job.submit', payload, LONG)).job.job_id;
    } catch (err) {
      if (!gone()) throw err; // the daemon died at its crash point before it answered
    }
  }
  // Either the job ends with this daemon (the point is not reached in this run), or the daemon kills itself at it.
  const ended = waitFor(async () => (gone() ? 'crashed' : jobId && TERMINAL.has((await command<{ job: { upgrade_status: string } }>(stack, 'job.get', { jobId })).job.upgrade_status) ? 'ended' : undefined), LONG, 100);
  const how = await ended.catch((err: unknown) => {
    throw new Error(`${point ? pointName(point) : sc.name}: neither crashed nor ended: ${daemon.stderr.slice(-10).join('\n')}`, { cause: err });
  });
  const crashed = how === 'crashed';
  if (crashed && daemon.child.signalCode !== 'SIGKILL') throw new Error(`the daemon ended with ${daemon.child.exitCode}, not at its crash point: ${daemon.stderr.slice(-10).join('\n')}`);
  if (crashed) daemon = await startDaemonChild(t, stack, nats);
  jobId ??= await waitFor(() => topJob(stack, sc.device), LONG, 200);
  const end = await jobEnd(stack, jobId);
  await killDaemon(daemon);
  const calls = servedCalls(stack).filter((c) => MUTATING_KINDS.has(c.kind));
  const { events, duplicates } = await fromDaemonLog(stack, jobId);
  return {
    status: end.upgrade_status,
    message: end.upgrade_message,
    mutations: Object.fromEntries(countBy(calls, (c) => `${c.serial ?? '?'} ${c.kind} ${c.version ?? ''}`.trim())),
    typeCounts: Object.fromEntries(countBy(events, (e) => e.type)),
    bothDown: sc.pair ? bothUnavailable(stack, sc.pair) : [],
    leftSuspended: (sc.pair ?? []).filter((s) => stack.sim.device(s)?.context.record.ha?.state === 'suspended'),
    duplicates,
    crashed,
  };
}

/** The points of one scenario, from its uninterrupted run: every job or pair type it recorded, at its first and last occurrence. */
export function pointsOf(sc: MatrixScenario, reference: RunOutcome): CrashPoint[] {
  return ALL_TYPES.flatMap((type) => {
    const n = reference.typeCounts[type] ?? 0;
    return [...new Set(n === 0 ? [] : [1, n])].map((nth) => ({ scenario: sc.name, type, nth }));
  });
}

/** The checks of one crashed run against the uninterrupted one; an empty list is a pass. */
export function problems(reference: RunOutcome, run: RunOutcome): string[] {
  const out: string[] = [];
  if (run.status !== reference.status) out.push(`ended ${run.status} (${run.message}), uninterrupted ${reference.status}`);
  const keys = new Set([...Object.keys(reference.mutations), ...Object.keys(run.mutations)]);
  for (const k of [...keys].sort()) {
    const want = reference.mutations[k] ?? 0;
    const got = run.mutations[k] ?? 0;
    if (got !== want) out.push(`${k}: sent ${got}×, uninterrupted ${want}×`);
  }
  for (const m of run.bothDown) out.push(`both peers down at ${m}`);
  for (const s of run.leftSuspended) out.push(`${s} left suspended`);
  for (const d of run.duplicates) out.push(`replay check: ${d.trim()}`);
  return out;
}

export interface Row {
  point: string;
  outcome: 'pass' | 'FAIL' | 'not reached' | 'not in any scenario';
  detail: string;
}

/** The matrix as a Markdown table, written to `file` and returned. */
export function writeTable(rows: readonly Row[], file: string): string {
  const sorted = [...rows].sort((a, b) => a.point.localeCompare(b.point));
  const count = (o: Row['outcome']): number => rows.filter((r) => r.outcome === o).length;
  const text = [
    `# Crash-point matrix (${new Date().toISOString()})`,
    '',
    `${rows.length} rows: ${count('pass')} pass, ${count('FAIL')} FAIL, ${count('not reached')} not reached, ${count('not in any scenario')} not in any scenario.`,
    '',
    '| point | outcome | detail |',
    '|---|---|---|',
    ...sorted.map((r) => `| ${r.point} | ${r.outcome} | ${r.detail.replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
  writeFileSync(file, text);
  return text;
}
