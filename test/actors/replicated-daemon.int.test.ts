import test from 'ava';
import { jetstreamManager } from '@nats-io/jetstream';
import { logStreamName } from '../../bus/index.ts';
import { checkDuplicates } from '../../forensics/duplicate-check.ts';
import { verifyRun } from '../../forensics/replay.ts';
import { logProblems, waitFor } from '../helpers/index.ts';
import { startTestNatsCluster } from '../helpers/nats-cluster.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { command, discover, jobEnded, LONG, MUTATING_KINDS, servedCalls, submit } from './orchestrator-fixture.ts';

// Issue #19, point 1: the daemon's log on a real 3-node JetStream cluster (replicas 3), LMDB its projection.
const cluster = startTestNatsCluster(test);
const SEED_DEVICE = '001234567890';

/**
 * What `status`, `job list`, `device list` and `replay verify` show. A daemon that starts calls the API (its
 * calls are recorded in the `api` stream), so that stream's length and the global count are left out.
 */
async function views(stack: Stack) {
  const status = stack.daemon!.status() as Record<string, unknown>;
  const jobs = await command<{ jobs: unknown[] }>(stack, 'job.list');
  const devices = await command<{ devices: unknown[] }>(stack, 'device.list');
  const verify = verifyRun(stack.daemonStore!, 'daemon');
  return { status, jobs, devices, verify: { ok: verify.ok, gseqOk: verify.gseq.ok, mismatches: verify.mismatches, streams: verify.streams.filter((s) => s.stream !== 'api') } };
}

test.serial('cluster log: an upgrade on a replicated log; a daemon started with an empty data dir rebuilds its projection and status, job list, device list and replay verify match', async (t) => {
  const stack = await startStack(t, cluster, { timeScale: 0.02, replicatedLog: { replicas: 3 } });
  t.true(stack.daemonStore!.replicated);
  t.is(await discover(stack), 5);
  const job = await submit(stack, { device: SEED_DEVICE });
  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);

  // Every fact is in the replicas-3 stream, one entry per append.
  const jsm = await jetstreamManager(stack.nc);
  const info = await jsm.streams.info(logStreamName(stack.subjects));
  t.is(info.config.num_replicas, 3);
  const last = await stack.daemonLog!.catchUp();
  t.true(last >= info.state.last_seq && last > 100, `${last} entries`);
  t.true(stack.daemonLog!.position >= last);
  const before = await views(stack);
  t.true(before.verify.ok, JSON.stringify(before.verify));
  t.true(before.verify.streams.some((s) => s.stream === `job:${job.job_id}` && s.kind === 'job' && s.ok));
  const eventsBefore = [...stack.daemonStore!.readAll()];

  await stack.stopDaemon();
  stack.wipeDaemonLog();
  await stack.startDaemon();
  t.is(stack.daemonStore!.readStream(`job:${job.job_id}`).at(-1)?.type, 'job.completed', 'rebuilt from the log');
  t.deepEqual([...stack.daemonStore!.readAll()].slice(0, eventsBefore.length), eventsBefore, 'the same events at the same global positions');
  t.deepEqual(await views(stack), before);
  t.deepEqual(logProblems(stack.daemonStore!), []);
});

test.serial('cluster log: the daemon stops mid-upgrade and its data dir is deleted; a new daemon rebuilds from the log and completes the job without sending any step twice', async (t) => {
  const stack = await startStack(t, cluster, { timeScale: 0.02, replicatedLog: { replicas: 3, writer: 'first' } });
  await discover(stack);
  const job = await submit(stack, { device: SEED_DEVICE });
  // In the middle: the first install was accepted by the device.
  await waitFor(() => servedCalls(stack).some((c) => c.serial === SEED_DEVICE && c.kind === 'request.system.software.install' && c.outcome === 'answered'), LONG, 5);
  await stack.stopDaemon();
  stack.wipeDaemonLog();

  await stack.startDaemon();
  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  t.is(stack.sim.device(SEED_DEVICE)?.context.record.swVersion, '11.1.0');

  // What the device was told: every mutating command once per hop.
  const mutating = servedCalls(stack).filter((c) => c.serial === SEED_DEVICE && c.outcome === 'answered' && MUTATING_KINDS.has(c.kind));
  const changes = mutating.filter((c) => c.kind === 'request.system.software.install' || c.kind === 'request.restart.system').map((c) => (c.version ? `install ${c.version}` : 'restart'));
  t.deepEqual(changes, ['install 10.1.0', 'restart', 'install 10.5.1', 'restart', 'install 11.1.0', 'restart']);
  const downloads = mutating.filter((c) => c.kind === 'request.system.software.download').map((c) => c.version);
  t.deepEqual(downloads, [...new Set(downloads)], 'no image downloaded twice');
  const dup = checkDuplicates(stack.daemonStore!);
  t.true(dup.ok, JSON.stringify(dup.duplicates));
  t.true(verifyRun(stack.daemonStore!, 'daemon').ok);
});

test.serial('cluster log: the NATS node leading the log stream is killed mid-upgrade; the job completes, and a projection rebuilt afterwards holds every fact', async (t) => {
  const stack = await startStack(t, cluster, { timeScale: 0.02, replicatedLog: { replicas: 3 } });
  await discover(stack);
  const job = await submit(stack, { device: SEED_DEVICE });
  await waitFor(() => servedCalls(stack).some((c) => c.serial === SEED_DEVICE && c.kind === 'request.system.software.install' && c.outcome === 'answered'), LONG, 5);

  const jsm = await jetstreamManager(stack.nc);
  const name = logStreamName(stack.subjects);
  const leader = (await jsm.streams.info(name)).cluster?.leader;
  const victim = cluster.cluster.nodes.findIndex((n) => n.name === leader);
  t.true(victim >= 0);
  await cluster.stopNode(victim, { kill: true });
  t.teardown(() => cluster.startNode(victim));

  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'complete', done.upgrade_message);
  await cluster.startNode(victim);

  await stack.daemonLog!.catchUp();
  const facts = [...stack.daemonStore!.readAll()].filter((e) => e.stream === `job:${job.job_id}`);
  await stack.stopDaemon();
  stack.wipeDaemonLog();
  await stack.startDaemon();
  t.deepEqual([...stack.daemonStore!.readAll()].filter((e) => e.stream === `job:${job.job_id}`), facts, 'every fact of the job is in the log');
  t.is(facts.at(-1)?.type, 'job.completed');
  t.true(verifyRun(stack.daemonStore!, 'daemon').ok);
});
