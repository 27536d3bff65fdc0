import { API_CALL_RECORDED, oneEventPerCall, type EventEnvelope } from '../eventstore/index.ts';
import { MUTATING_COMMANDS } from './duplicate-check.ts';
import { commandOf } from './replay.ts';
import type { ChaosPlan, InvariantResult } from './chaos-check.ts';
import type { Scenario } from '../scenarios/types.ts';
import { nextRandom, seedFor } from '../machines/random.ts';

/**
 * The disruptions of `chaos --cluster` (pure): the machine of the daemon holding most partitions is lost
 * (kill -9, data dir deleted), a NATS node is stopped and started again, and a daemon is frozen
 * (SIGSTOP) past its lease and woken (SIGCONT); each at a moment drawn from the seed within the upgrade.
 */
export function clusterChaosPlan(scenario: Scenario, estimateMs: number, nodes = 3): ChaosPlan {
  let state = seedFor(scenario.seed, 'cluster-chaos');
  const rnd = (): number => {
    const [v, next] = nextRandom(state);
    state = next;
    return v;
  };
  const at = (from: number, to: number): number => Math.round(estimateMs * (from + (to - from) * rnd()));
  return {
    seed: scenario.seed,
    estimateMs,
    disruptions: [
      { what: 'machine-lost', atMs: at(0.15, 0.3) },
      { what: 'nats-node-stop', atMs: at(0.35, 0.5), node: Math.floor(rnd() * nodes) },
      { what: 'leader-pause', atMs: at(0.55, 0.7) },
    ],
    injections: [],
    declared: [],
  };
}

/** What the cluster checks need beyond the single daemon's: the whole replicated log, and the frozen daemon's run. */
export interface ClusterEvidence {
  daemonEvents: readonly EventEnvelope[];
  /** The daemon frozen past its lease: its run id, and when it was woken (ms since the epoch). */
  paused?: { runId: string; resumedAt: number };
  /** Calls already on the wire when a process froze arrive when they arrive: how long after waking they may still be recorded. */
  graceMs?: number;
}

/**
 * The invariants of a cluster chaos run: every job and campaign fact was appended under a lease and no
 * stream went back to an older lease's epoch (a fenced writer never appended after its successor); and
 * the daemon frozen past its lease sent no mutating command after it woke.
 */
export function checkClusterInvariants(ev: ClusterEvidence): InvariantResult[] {
  const out: InvariantResult[] = [];
  {
    const violations: string[] = [];
    const last = new Map<string, number>();
    let owned = 0;
    for (const e of ev.daemonEvents) {
      if (!e.stream.startsWith('job:') && !e.stream.startsWith('campaign:')) continue;
      owned++;
      if (typeof e.epoch !== 'number') {
        violations.push(`${e.stream} #${e.seq} ${e.type} was appended without a lease epoch`);
        continue;
      }
      const before = last.get(e.stream);
      if (before !== undefined && e.epoch < before) violations.push(`${e.stream} #${e.seq} ${e.type} was appended under epoch ${e.epoch} after epoch ${before}: a fenced writer`);
      last.set(e.stream, Math.max(before ?? 0, e.epoch));
    }
    out.push({ name: 'every job and campaign fact was appended under its lease, never under an older one', ok: violations.length === 0, detail: `${owned} fact(s) of ${last.size} stream(s)`, violations });
  }
  if (ev.paused) {
    const { runId, resumedAt } = ev.paused;
    const grace = ev.graceMs ?? 5_000;
    const violations: string[] = [];
    for (const e of oneEventPerCall(ev.daemonEvents)) {
      if (e.type !== API_CALL_RECORDED || e.runId !== runId) continue;
      const d = e.data as { command?: string | null; outcome?: string; target?: string | null; host?: string };
      const { kind, version } = commandOf(d.command);
      if (!kind || !MUTATING_COMMANDS.has(kind) || d.outcome !== 'ok') continue;
      if (Date.parse(e.at) > resumedAt + grace) violations.push(`run ${runId} sent ${kind}${version ? ` ${version}` : ''} to ${d.target ?? d.host ?? '?'} at ${e.at}, after it was woken past its lease`);
    }
    out.push({ name: 'the daemon frozen past its lease sent nothing after it woke', ok: violations.length === 0, detail: `run ${runId}, woken at ${new Date(resumedAt).toISOString()}`, violations });
  }
  return out;
}
