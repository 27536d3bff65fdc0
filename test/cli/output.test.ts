import { PassThrough } from 'node:stream';
import test from 'ava';
import type { InventoryDevice } from '../../actors/inventory.ts';
import { queueSummaryLines } from '../../cli/commands/download.ts';
import { pickDevices, upgradePlan } from '../../cli/demo-run.ts';
import { countsLine, outputTo, table } from '../../cli/output.ts';
import { workLines } from '../../cli/commands/status.ts';
import { printDiscovered } from '../../cli/commands/device.ts';
import { campaignTable } from '../../cli/commands/campaign.ts';
import { printJobChecks } from '../../cli/commands/job.ts';
import type { JobStatusRecord } from '../../machines/upgrade-job.fold.ts';
import type { CampaignRecord } from '../../machines/campaign.record.ts';

// Not a terminal: no colour codes in the text.
const plain = outputTo(new PassThrough() as unknown as NodeJS.WriteStream);

test('countsLine: when statuses are counted then they read from waiting to finished, zeros left out', (t) => {
  t.is(countsLine({ failed: 5, download_complete: 150, downloading: 10, pending: 0 }), '10 downloading, 150 download_complete, 5 failed');
  t.is(countsLine({}), 'none');
});

test('table: when rows are printed then columns align, numbers right, and the last column is not padded', (t) => {
  const rows = [
    { a: 'x', n: '5%', m: 'short' },
    { a: 'longer', n: '100%', m: 'a longer message' },
  ];
  const text = table(rows, [
    { header: 'A', value: (r) => r.a },
    { header: 'N', value: (r) => r.n, right: true },
    { header: 'MESSAGE', value: (r) => r.m },
  ], plain);
  t.is(text, ['A          N  MESSAGE', 'x         5%  short', 'longer  100%  a longer message', ''].join('\n'));
});

test('queueSummaryLines: when devices are skipped then they are grouped by reason, job ids beside the device, largest group first', (t) => {
  const lines = queueSummaryLines({
    dryRun: false,
    queued: 2,
    skipped: 3,
    queuedDevices: [],
    skippedDevices: [
      { device: '001', hostname: 'fw-a', reason: 'no upgrade path configured for 11.1.0 and no target version given' },
      { device: '002', hostname: 'fw-b', reason: 'already has an active download-only job mwr1-abc123' },
      { device: '003', hostname: '', reason: 'already has an active download-only job mwr1-def456' },
    ],
  });
  t.deepEqual(lines, [
    'Queued 2 devices, skipped 3',
    'Skipped:',
    '  already has an active download-only job (2):',
    '    fw-b (002)  mwr1-abc123',
    '    003  mwr1-def456',
    '  no upgrade path configured for 11.1.0 and no target version given (1):',
    '    fw-a (001)',
  ]);
});

test('queueSummaryLines: when nothing is queued because no device has an upgrade path then it says how to give them one', (t) => {
  const noPath = (device: string, version: string) => ({ device, hostname: `fw-${device}`, reason: `no upgrade path configured for ${version} and no target version given` });
  const lines = queueSummaryLines({ dryRun: false, queued: 0, skipped: 2, queuedDevices: [], skippedDevices: [noPath('001', '10.0.2'), noPath('002', '10.1.0')] });
  t.is(lines.at(-1), 'No device has an upgrade path: map their versions in a paths file, set it with panos-upgrade config set upgrade.paths_file FILE, then restart the daemon');
  t.is(queueSummaryLines({ dryRun: false, queued: 0, skipped: 0, queuedDevices: [], skippedDevices: [] }).at(-1), 'No device in the inventory: panos-upgrade device discover asks Panorama for its firewalls');
  // Devices already on their last version are skipped the same way beside others queued: no advice then.
  const some = queueSummaryLines({ dryRun: false, queued: 1, skipped: 1, queuedDevices: [{ device: '003', hostname: 'fw-c', jobId: 'j-1', versions: ['11.1.0'] }], skippedDevices: [noPath('001', '11.1.0')] });
  t.false(some.some((l) => l.includes('paths_file')));
});

test('queueSummaryLines: when a reason holds more than 20 devices then the first ten are shown and the rest counted', (t) => {
  const skippedDevices = Array.from({ length: 25 }, (_, i) => ({ device: String(i).padStart(3, '0'), hostname: `fw-${i}`, reason: 'not connected to Panorama at the last discovery' }));
  const lines = queueSummaryLines({ dryRun: true, queued: 0, skipped: 25, queuedDevices: [], skippedDevices });
  t.is(lines[0], 'Would queue 0 devices, skip 25 (dry run: nothing was queued)');
  t.is(lines.length, 2 + 1 + 10 + 1);
  t.is(lines.at(-1), '    … and 15 more (--json lists them all)');
});

function device(serial: string, swVersion: string, extra: Partial<InventoryDevice> = {}): InventoryDevice {
  return {
    serial,
    hostname: `fw-${serial}`,
    mgmtIp: '127.0.0.1',
    model: 'PA-440',
    family: '400',
    swVersion,
    appVersion: '8700-7000',
    connected: true,
    haState: null,
    haPeer: null,
    deviceGroup: null,
    discoveredAt: '',
    updatedAt: '',
    ...extra,
  };
}

test('pickDevices: when upgrades are picked then staged standalone devices on different versions come first, and an HA pair counts once', (t) => {
  const devices = [
    device('a1', '10.0.2'),
    device('a2', '10.0.2'),
    device('b1', '10.1.6'),
    device('c1', '10.2.4', { connected: false }),
    device('d1', '10.2.9', { model: 'PA-5220' }),
    device('e1', '10.2.9'),
    device('h1', '10.2.4', { haState: 'active', haPeer: 'h2' }),
    device('h2', '10.2.4', { haState: 'passive', haPeer: 'h1' }),
    device('u1', '10.0.8'),
  ];
  const staged = new Set(['a1', 'a2', 'b1', 'c1', 'd1', 'e1', 'h1', 'h2']);
  const picked = pickDevices(devices, staged, upgradePlan({ upgrades: 4, haPairs: 1 }));
  t.deepEqual(
    picked.map((d) => d.serial),
    ['a1', 'b1', 'e1', 'a2', 'h1'],
  );
  t.deepEqual(
    pickDevices(devices, staged, upgradePlan({ upgrades: 0, haPairs: 2 })).map((d) => d.serial),
    ['h1'],
  );
});

test('status: HA pair jobs are counted beside device jobs, and a paused pair says how to go on', (t) => {
  const reply = { runId: 'r1', devices: 6, jobs: { complete: 1, download_complete: 2 }, haPairJobs: { paused: 1 }, running: 1, waiting: 0, concurrency: 10, panorama: 'p:443' };
  t.deepEqual(workLines(reply), [
    '  devices:  6 in the inventory',
    '  jobs:     2 download_complete, 1 complete',
    '  HA pairs: 1 paused',
    '  running:  1 (at most 10 at a time), 0 waiting',
    '  paused:   1 HA pair job(s) wait between their peers: panos-upgrade job list --status paused, then panos-upgrade job resume JOB_ID',
  ]);
  t.is(workLines({ ...reply, haPairJobs: undefined })[2], '  HA pairs: none');
});

test('printDiscovered: devices no longer connected are named; firewalls presenting another certificate than the one trusted are named with both fingerprints and the device trust command', (t) => {
  const stream = new PassThrough();
  const out = outputTo(stream as unknown as NodeJS.WriteStream);
  printDiscovered(out, {
    discovered: 5,
    devices: [],
    inventoryFile: '/d/inventory.json',
    disconnected: [{ serial: '001234567893', hostname: 'fw-branch-01' }],
    certificates: { recorded: 0, unchanged: 4, changed: [{ serial: '001234567890', hostname: 'fw-dc1-01', address: '127.0.1.1', expected: 'AA:BB', presented: 'CC:DD' }], unreachable: 0 },
  });
  t.is(
    String(stream.read()),
    [
      'Discovered 5 devices',
      '  inventory: /d/inventory.json',
      '  no longer listed by Panorama as connected, now marked not connected (skipped by queues and campaigns): fw-branch-01 (001234567893)',
      'warning: 1 firewall(s) present another certificate than the one trusted: work on them stops until you accept the new one',
      '  fw-dc1-01 (001234567890) at 127.0.1.1: expected SHA-256 AA:BB, received CC:DD',
      '    if it was replaced on purpose: panos-upgrade device trust 001234567890',
      '',
    ].join('\n'),
  );
});

test('campaignTable: campaign list has a header and one aligned row per campaign', (t) => {
  const c = (id: string, name: string, status: string, message: string) =>
    ({ campaign_id: id, name, status, wave: 1, waves: [{}, {}], totals: { complete: 1, units: 4, failed: 0 }, message }) as unknown as CampaignRecord;
  t.is(
    campaignTable(plain, [c('c1', 'night one', 'running', 'wave 1 running'), c('c22', 'n2', 'paused', 'paused by ops')]),
    ['CAMPAIGN  NAME       STATUS   WAVE  COMPLETE  FAILED  MESSAGE', 'c1        night one  running   1/2       1/4       0  wave 1 running', 'c22       n2         paused    1/2       1/4       0  paused by ops', ''].join('\n'),
  );
});

test('printJobChecks: a job that ended before its snapshot comparison says it never came, not "not yet"', (t) => {
  const stream = new PassThrough();
  const out = outputTo(stream as unknown as NodeJS.WriteStream);
  printJobChecks(out, { job_id: 'j1', hostname: 'fw-a', device_serial: '001', upgrade_status: 'cancelled', readiness: null } as unknown as JobStatusRecord, null);
  t.is(String(stream.read()), ['Job j1 on fw-a (001): cancelled', 'Readiness: not run', 'Snapshot comparison: none (the job ended cancelled before it)', ''].join('\n'));
});
