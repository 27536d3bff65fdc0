import test from 'ava';
import { Subjects } from '../../bus/subjects.ts';
import { partitionLeaseKey, COORDINATOR_LEASE } from '../../cluster/partition-keeper.ts';
import { partitionOf } from '../../cluster/partitions.ts';
import { CREATE_UNIT_JOB, mergeQueueSummaries, routeCommand, type RoutingLookup } from '../../cluster/routing.ts';

const devices = new Map([
  ['A1', { serial: 'A1', haPeer: 'A2' }],
  ['A2', { serial: 'A2', haPeer: 'A1' }],
  ['B', { serial: 'B', haPeer: null }],
  ['C', { serial: 'C', haPeer: null }],
]);
const fleet: RoutingLookup = { partitions: 8, device: (s) => devices.get(s), jobDevice: (id) => (id === 'j-b' ? devices.get('B') : id === 'j-pair' ? devices.get('A2') : undefined) };
const keyOf = (serial: string): string => partitionLeaseKey(partitionOf(devices.get(serial)!, 8));

test('routing: reads are answered where they arrive; discovery and campaign commands go to the coordinator', (t) => {
  for (const name of ['job.get', 'job.list', 'download.status', 'device.list', 'device.get', 'device.check', 'daemon.status', 'campaign.list', 'campaign.get']) {
    t.deepEqual(routeCommand(name, {}, fleet), { to: 'here' }, name);
  }
  for (const name of ['device.discover', 'campaign.create', 'campaign.pause', 'campaign.resume', 'campaign.approve', 'campaign.abort']) {
    t.deepEqual(routeCommand(name, {}, fleet), { to: 'lease', key: COORDINATOR_LEASE }, name);
  }
});

test('routing: a command for one device or job goes to the owner of its partition; both HA peers to the same one', (t) => {
  t.deepEqual(routeCommand('job.submit', { device: 'B' }, fleet), { to: 'lease', key: keyOf('B') });
  t.deepEqual(routeCommand('job.submit', { device: 'A1' }, fleet), routeCommand('job.submit', { device: 'A2' }, fleet));
  t.deepEqual(routeCommand('device.trust', { serial: 'C' }, fleet), { to: 'lease', key: keyOf('C') });
  t.deepEqual(routeCommand('job.cancel', { jobId: 'j-b' }, fleet), { to: 'lease', key: keyOf('B') });
  t.deepEqual(routeCommand('job.resume', { jobId: 'j-pair' }, fleet), { to: 'lease', key: keyOf('A1') });
  t.deepEqual(routeCommand(CREATE_UNIT_JOB, { jobId: 'x', serials: ['A2', 'A1'] }, fleet), { to: 'lease', key: keyOf('A1') });
});

test('routing: an unknown device or job is answered where it arrives (refused there by name)', (t) => {
  t.deepEqual(routeCommand('job.submit', { device: 'NOPE' }, fleet), { to: 'here' });
  t.deepEqual(routeCommand('job.cancel', { jobId: 'unknown' }, fleet), { to: 'here' });
  t.deepEqual(routeCommand('upgrade.queue', { devices: ['NOPE'] }, fleet), { to: 'here' });
});

test('routing: upgrade.queue over named devices is cut by partition; over all of them, and download.queue-all, goes to every partition', (t) => {
  const route = routeCommand('upgrade.queue', { devices: ['B', 'A1', 'C', 'A2'], targetVersion: '11.1.2' }, fleet);
  if (route.to !== 'fanout') return t.fail('not a fan-out');
  const sent = route.parts.flatMap((p) => (p.payload['devices'] as string[]).map((d) => [d, p.key]));
  t.deepEqual(sent.sort(), ['A1', 'A2', 'B', 'C'].map((s) => [s, keyOf(s)]));
  t.true(route.parts.every((p) => p.payload['targetVersion'] === '11.1.2'));
  for (const name of ['download.queue-all', 'upgrade.queue']) {
    const all = routeCommand(name, name === 'upgrade.queue' ? { all: true } : { dryRun: true }, fleet);
    t.is(all.to === 'fanout' ? all.parts.length : 0, 8, name);
  }
});

test('routing: queue summaries of the parts merge into one, devices by serial', (t) => {
  const merged = mergeQueueSummaries(
    [
      { dryRun: false, queued: 1, skipped: 1, queuedDevices: [{ device: 'C' }], skippedDevices: [{ device: 'B' }] },
      { dryRun: false, queued: 2, skipped: 0, queuedDevices: [{ device: 'A2' }, { device: 'A1' }], skippedDevices: [] },
    ],
    false,
  );
  t.deepEqual(merged, { dryRun: false, queued: 3, skipped: 1, queuedDevices: [{ device: 'A1' }, { device: 'A2' }, { device: 'C' }], skippedDevices: [{ device: 'B' }] });
});

test('subjects: a lease owner has its own command subjects, parsed back to the key and the command', (t) => {
  const s = new Subjects('panos');
  t.is(s.owner('partition-7', 'job.submit'), 'panos.cmd.owner.partition-7.job.submit');
  t.is(s.ownerAll('coordinator'), 'panos.cmd.owner.coordinator.>');
  t.deepEqual(s.parseOwner('panos.cmd.owner.partition-7.job.submit'), { key: 'partition-7', name: 'job.submit' });
  t.is(s.parseOwner('panos.cmd.job.submit'), undefined);
  t.throws(() => s.owner('a.b', 'job.submit'));
});
