/**
 * Shared test helpers. Integration files start their own nats-server (`startTestNats`), use their own temp
 * dirs (`tempDir`, `openTestStore`), give every test its own subjects (`uniquePrefix`) and poll instead of
 * sleeping (`waitFor`).
 */
export { tempDir } from './temp-dir.ts';
export { openTestStore, logProblems, servedCallEvents } from './event-store.ts';
export { waitFor } from './wait-for.ts';
export { startTestNats, uniquePrefix, type TestNats } from './nats.ts';
export { spawnTs, onLines, exited, repoRoot } from './child.ts';
export { startTestNatsCluster, type TestNatsCluster } from './nats-cluster.ts';
