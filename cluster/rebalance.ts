import { allPartitions, fnv1a32 } from './partitions.ts';

/** What a daemon should do with the partitions, from one view of the cluster. */
export interface RebalancePlan {
  /** The owner each partition should have (every partition, when at least one daemon is live). */
  target: Map<number, string>;
  /** Per live daemon: the partitions it should hold, keep holding, take up and hand back, each ascending. */
  byMember: Map<string, { holds: number[]; keep: number[]; acquire: number[]; release: number[] }>;
  /** Partitions whose current owner is not live: a daemon that left or whose lease expired. */
  orphaned: number[];
}

/**
 * Fair share with minimal movement (pure): every live daemon ends with ⌊P/n⌋ or ⌈P/n⌉ partitions, and a
 * partition moves only when its owner is gone or holds more than its share.
 *
 * - Owners that are not live lose their partitions (they are picked up by the others).
 * - The ⌈P/n⌉ shares go to the daemons that already hold the most, so nobody gives one up to take another.
 * - A daemon over its share keeps its lowest-numbered partitions and releases the rest.
 * - Each free partition goes, ascending, to the daemon under its share that ranks highest for it by
 *   rendezvous hash, so the outcome depends only on the inputs, never on the order a daemon saw them in.
 *
 * Every daemon computes the same plan from the same view; leases make sure a partition is never held by two
 * while views differ (a daemon acquires only a free partition, after its owner released it or lost its lease).
 */
export function rebalance(count: number, live: Iterable<string>, owners: ReadonlyMap<number, string>): RebalancePlan {
  const partitions = allPartitions(count);
  const members = [...new Set(live)].sort();
  const orphaned = partitions.filter((p) => owners.has(p) && !members.includes(owners.get(p)!));
  const byMember: RebalancePlan['byMember'] = new Map();
  const target = new Map<number, string>();
  if (members.length === 0) return { target, byMember, orphaned };

  const held = new Map<string, number[]>(members.map((m) => [m, []]));
  for (const p of partitions) {
    const o = owners.get(p);
    if (o !== undefined) held.get(o)?.push(p);
  }
  const base = Math.floor(count / members.length);
  let extra = count % members.length;
  const quota = new Map<string, number>();
  for (const m of [...members].sort((a, b) => held.get(b)!.length - held.get(a)!.length || a.localeCompare(b))) {
    quota.set(m, base + (extra > 0 ? 1 : 0));
    if (extra > 0) extra--;
  }

  const free: number[] = [];
  for (const p of partitions) {
    const o = owners.get(p);
    if (o === undefined || !held.has(o)) free.push(p);
  }
  for (const m of members) {
    const mine = held.get(m)!;
    const q = quota.get(m)!;
    for (const p of mine.slice(0, q)) target.set(p, m);
    free.push(...mine.slice(q));
  }
  free.sort((a, b) => a - b);
  const count_ = new Map(members.map((m) => [m, Math.min(held.get(m)!.length, quota.get(m)!)]));
  for (const p of free) {
    let best: string | undefined;
    let bestScore = -1;
    for (const m of members) {
      if (count_.get(m)! >= quota.get(m)!) continue;
      const score = fnv1a32(`${m}/${p}`);
      if (score > bestScore || (score === bestScore && best !== undefined && m < best)) {
        best = m;
        bestScore = score;
      }
    }
    // Quotas add up to the partition count, so a daemon under its share always exists.
    target.set(p, best!);
    count_.set(best!, count_.get(best!)! + 1);
  }

  for (const m of members) {
    const holds = partitions.filter((p) => target.get(p) === m);
    const mine = held.get(m)!;
    byMember.set(m, {
      holds,
      keep: mine.filter((p) => target.get(p) === m),
      acquire: holds.filter((p) => owners.get(p) !== m),
      release: mine.filter((p) => target.get(p) !== m),
    });
  }
  return { target, byMember, orphaned };
}
