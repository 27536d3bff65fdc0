import test from 'ava';
import { DEFAULT_THRESHOLDS, evaluateChecks, type CheckThresholds, type SnapshotMetrics } from '../../machines/index.ts';

const PRE: SnapshotMetrics = { tcpSessions: 45_000, routes: 1200, arpEntries: 500, freeDiskMb: 9000 };

const byMetric = (pre: SnapshotMetrics, post: Partial<SnapshotMetrics>, t: CheckThresholds = DEFAULT_THRESHOLDS) =>
  Object.fromEntries(evaluateChecks(pre, { ...pre, ...post }, t).map((r) => [r.metric, r]));

test('evaluateChecks: when nothing changed then every check passes with the default limits', (t) => {
  t.deepEqual(evaluateChecks(PRE, PRE, DEFAULT_THRESHOLDS), [
    { metric: 'tcpSessions', before: 45_000, after: 45_000, limit: '±10%', ok: true },
    { metric: 'routes', before: 1200, after: 1200, limit: 'exact', ok: true },
    { metric: 'arpEntries', before: 500, after: 500, limit: '±25', ok: true },
  ]);
});

test('evaluateChecks: when TCP sessions move by exactly the allowed percentage then it passes, and by one more then it fails', (t) => {
  t.true(byMetric(PRE, { tcpSessions: 49_500 }).tcpSessions?.ok);
  t.true(byMetric(PRE, { tcpSessions: 40_500 }).tcpSessions?.ok);
  t.false(byMetric(PRE, { tcpSessions: 49_501 }).tcpSessions?.ok);
  t.false(byMetric(PRE, { tcpSessions: 40_499 }).tcpSessions?.ok);
});

test('evaluateChecks: when routes must be exact then one route more fails, and a routesDelta allows it', (t) => {
  t.false(byMetric(PRE, { routes: 1201 }).routes?.ok);
  const loose = byMetric(PRE, { routes: 1202 }, { ...DEFAULT_THRESHOLDS, routesDelta: 2 }).routes;
  t.like(loose, { ok: true, limit: '±2' });
  t.false(byMetric(PRE, { routes: 1203 }, { ...DEFAULT_THRESHOLDS, routesDelta: 2 }).routes?.ok);
});

test('evaluateChecks: when the ARP table is small then the absolute delta is the limit, and when large the percentage is', (t) => {
  const small = { ...PRE, arpEntries: 20 };
  t.like(byMetric(small, { arpEntries: 25 }).arpEntries, { ok: true, limit: '±5' });
  t.false(byMetric(small, { arpEntries: 26 }).arpEntries?.ok);
  t.like(byMetric(PRE, { arpEntries: 475 }).arpEntries, { ok: true, limit: '±25' });
  t.false(byMetric(PRE, { arpEntries: 474 }).arpEntries?.ok);
});

test('evaluateChecks: when free disk changes then it is not checked', (t) => {
  const results = evaluateChecks(PRE, { ...PRE, freeDiskMb: 10 }, DEFAULT_THRESHOLDS);
  t.deepEqual(results.map((r) => r.metric), ['tcpSessions', 'routes', 'arpEntries']);
  t.true(results.every((r) => r.ok));
});
