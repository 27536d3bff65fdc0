/**
 * Poll `probe` every `intervalMs` until it returns a truthy value, and resolve with that value.
 * Rejects after `timeoutMs` (with the probe's last error as `cause`, if it threw). Use it instead of fixed sleeps.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 5_000,
  intervalMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`waitFor: not true within ${timeoutMs} ms: ${probe.toString().slice(0, 200)}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
