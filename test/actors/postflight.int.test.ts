import test from 'ava';
import { formatComparison, type SnapshotComparison } from '../../checks/index.ts';
import { startTestNats } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { JobEvents, control, discover, jobEnded, submit } from './orchestrator-fixture.ts';

const nats = startTestNats(test);

test('post-flight: a BGP peer lost after the reboot fails the job at the comparison, with the diff naming the peer', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  const events = new JobEvents(t, stack);
  await discover(stack);
  const serial = '001234567893';
  const job = await submit(stack, { device: serial, targetVersion: '10.5.1' });
  await events.next(job.job_id, 'job.snapshot.taken');
  await control(stack, serial, 'faults', { faults: { readiness: { bgpPeerDown: true } } });

  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'failed');
  t.is(done.current_version, '10.5.1');
  t.like(done.error, { step: 'compare' });
  t.regex(done.upgrade_message, new RegExp(`^Post-upgrade check failed on ${serial}: .*bgp peers: 1 state change: \\S+ status Established → \\w+`));
  const bgp = done.checks.find((c) => c.area === 'bgp_peers');
  t.like(bgp, { ok: false, severity: 'block' });
  t.is(bgp?.changed.length, 1);
  t.is(bgp?.changed[0]?.field, 'status');
  // The routes learned from that peer left the routing table and the FIB with it; nothing else regressed.
  t.deepEqual(done.checks.filter((c) => !c.ok && c.severity === 'block').map((c) => c.area), ['routes', 'fib', 'bgp_peers']);
  const routes = done.checks.find((c) => c.area === 'routes');
  t.true((routes?.missing.length ?? 0) > 0 && routes!.after < routes!.before);
  const text = formatComparison({ ok: false, areas: done.checks } as SnapshotComparison).join('\n');
  t.regex(text, /FAIL bgp_peers/);
  t.regex(text, /changed: \S+ status Established → /);
  // The pre- and post-snapshots are in the job's events, so replay shows them.
  const snaps = stack.daemonStore!.readStream(`job:${job.job_id}`).filter((e) => e.type === 'job.snapshot.taken');
  t.is(snaps.length, 2);
});
