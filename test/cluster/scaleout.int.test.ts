import test from 'ava';
import { checkDuplicates } from '../../forensics/duplicate-check.ts';
import { partitionOf } from '../../cluster/partitions.ts';
import type { JobStatusRecord } from '../../machines/upgrade-job.fold.ts';
import { waitFor } from '../helpers/index.ts';
import { startTestNatsCluster } from '../helpers/nats-cluster.ts';
import { startStack } from '../helpers/stack.ts';
import { command, jobEnded, LONG, servedCalls } from '../actors/orchestrator-fixture.ts';
import { repeatedSteps, scaleoutConfig, startNode, writersByJob, type TestNode } from './scaleout-fixture.ts';

// Issue #19, point 3: several daemons share a fleet on a real 3-node JetStream cluster.
const nats = startTestNatsCluster(test);
const PARTITIONS = 8;

interface QueueReply {
  queued: number;
  queuedDevices: Array<{ device: string; jobId: string | null }>;
}

const statusOf = (n: TestNode) => n.node.daemon.status() as { devices: number; jobs: Record<string, number>; cluster: { node: string; partitions: number[]; members: unknown[] } };

test.serial('scale-out: three daemons share the partitions fairly, a fleet queued through any of them completes with every fact under a partition lease, and each daemon’s status shows the whole fleet', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02, daemon: false, config: (c) => scaleoutConfig(c, PARTITIONS) });
  const nodes = [await startNode(t, stack, nats, 'a'), await startNode(t, stack, nats, 'b'), await startNode(t, stack, nats, 'c')];
  // Fair shares once every daemon has seen the others: 3/3/2 of eight partitions, each held once.
  await waitFor(() => nodes.map((n) => n.node.keeper.partitions().length).sort().join() === '2,3,3', LONG, 50);
  const held = nodes.flatMap((n) => n.node.keeper.partitions());
  t.deepEqual([...held].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7]);

  const discovered = (await command<{ discovered: number }>(stack, 'device.discover')).discovered;
  t.is(discovered, stack.scenario.devices.length);
  const queued = await command<QueueReply>(stack, 'upgrade.queue', { all: true });
  t.true(queued.queued >= 3, JSON.stringify(queued));
  const jobIds = [...new Set(queued.queuedDevices.map((d) => d.jobId!))];
  for (const id of jobIds) {
    const done = await jobEnded(stack, id, 3 * LONG);
    t.is(done.upgrade_status, 'complete', `${id}: ${done.upgrade_message}`);
  }

  // Each job's facts carry the epoch of its partition's lease, and the work was shared by more than one daemon.
  const writers = writersByJob(nodes[0]!.store);
  for (const row of queued.queuedDevices) {
    const events = nodes[0]!.store.readStream(`job:${row.jobId}`);
    t.true(events.length > 0 && events.every((e) => typeof e.epoch === 'number' && e.epoch > 0), `${row.device}: every fact under a lease`);
  }
  t.log(JSON.stringify([...writers].map(([id, w]) => [id, [...w]])));
  t.true(new Set([...writers.values()].flatMap((w) => [...w])).size >= 2, 'the work is shared');

  // Each daemon's status and job list show the whole fleet, whichever daemon answers.
  for (const n of nodes) {
    await n.node.daemon.command('job.list', {}); // the projection has caught up when the last job's end is there
    const s = statusOf(n);
    t.is(s.devices, discovered, n.name);
    t.is(s.jobs['complete'], queued.queuedDevices.length, `${n.name}: ${JSON.stringify(s.jobs)}`);
    t.is(s.cluster.members.length, 3);
  }
  t.deepEqual(repeatedSteps(stack), []);
  const dup = checkDuplicates(nodes[1]!.store);
  t.true(dup.ok, JSON.stringify(dup.duplicates));
});

test.serial('scale-out: a command sent to a daemon that does not own the device reaches the owner, and its reply comes back through the first', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02, daemon: false, config: (c) => scaleoutConfig(c, PARTITIONS) });
  const nodes = [await startNode(t, stack, nats, 'a'), await startNode(t, stack, nats, 'b')];
  await waitFor(() => nodes.every((n) => n.node.keeper.partitions().length === PARTITIONS / 2), LONG, 50);
  await nodes[0]!.node.daemon.command('device.discover', {});
  const serial = '001234567890';
  const device = nodes[0]!.node.daemon.devices().find((d) => d.serial === serial)!;
  const p = partitionOf(device, PARTITIONS);
  const owner = nodes.find((n) => n.node.keeper.partitions().includes(p))!;
  const other = nodes.find((n) => n !== owner)!;

  const reply = (await other.node.daemon.command('job.submit', { device: serial, downloadOnly: true })) as { job: JobStatusRecord };
  t.is(reply.job.device_serial, serial);
  // A second submit through the other daemon is refused by the owner, which knows the device's active job.
  const dupErr = await t.throwsAsync(other.node.daemon.command('job.submit', { device: serial, downloadOnly: true }));
  t.is((dupErr as { code?: string }).code, 'DUPLICATE_JOB');
  t.is((dupErr as { existingJobId?: string }).existingJobId, reply.job.job_id);
  const done = await jobEnded(stack, reply.job.job_id, 2 * LONG);
  t.is(done.upgrade_status, 'download_complete', done.upgrade_message);
  t.deepEqual([...(writersByJob(owner.store).get(reply.job.job_id) ?? [])], [owner.name]);
  // The non-owner sees it too, from its own projection.
  await waitFor(() => (other.node.daemon.get(reply.job.job_id).job.upgrade_status === 'download_complete'), LONG, 50);
  t.true(servedCalls(stack).some((c) => c.serial === serial && c.kind === 'request.system.software.download'));
});

test.serial('scale-out: a daemon joining mid-run takes its share as the other hands partitions over, and no step is repeated', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.05, daemon: false, config: (c) => scaleoutConfig(c, PARTITIONS) });
  const a = await startNode(t, stack, nats, 'a');
  await waitFor(() => a.node.keeper.partitions().length === PARTITIONS, LONG, 50);
  await a.node.daemon.command('device.discover', {});
  const queued = (await a.node.daemon.command('upgrade.queue', { all: true })) as QueueReply;
  t.true(queued.queued >= 3);
  // Mid-run: installs have begun on the fleet.
  await waitFor(() => servedCalls(stack).some((c) => c.kind === 'request.system.software.install' && c.outcome === 'answered'), LONG, 10);
  const b = await startNode(t, stack, nats, 'b');
  await waitFor(() => b.node.keeper.partitions().length === PARTITIONS / 2 && a.node.keeper.partitions().length === PARTITIONS / 2, LONG, 50);
  for (const id of new Set(queued.queuedDevices.map((d) => d.jobId!))) {
    const done = await jobEnded(stack, id, 3 * LONG);
    t.is(done.upgrade_status, 'complete', `${id}: ${done.upgrade_message}`);
  }
  const writers = writersByJob(b.store);
  t.true([...writers.values()].some((w) => w.has('b')), 'b took over work in flight');
  t.deepEqual(repeatedSteps(stack), []);
  const dup = checkDuplicates(b.store);
  t.true(dup.ok, JSON.stringify(dup.duplicates));
});
