/**
 * A seeded generator kept as a single number in actor context (mulberry32), so that a persisted
 * snapshot carries it and one seed replays the same draws.
 */
export function nextRandom(state: number): [value: number, next: number] {
  const next = (state + 0x6d2b79f5) | 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

/** A 32-bit seed from a scenario seed and a name (FNV-1a), so each device has its own stream of draws. */
export function seedFor(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Draw a number in [min, max]. */
export function drawBetween(state: number, min: number, max: number): [value: number, next: number] {
  const [r, next] = nextRandom(state);
  return [min + (max - min) * r, next];
}
