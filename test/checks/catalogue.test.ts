import test from 'ava';
import {
  CHECK_NAMES,
  defaultReadinessPolicy,
  minutesToNextRun,
  policyFromObject,
  readingsNeeded,
  readinessReport,
  runChecks,
  type CheckContext,
  type ReadingValues,
  type Readings,
} from '../../checks/index.ts';
import { healthy, NOW } from './healthy-device.ts';


const CTX: CheckContext = { now: NOW, targetVersion: '11.1.2', planVersions: ['11.1.0', '11.1.2'], installHops: 1, model: 'PA-3220', rebootBudgetMs: 30 * 60_000 };

function readings(v: Partial<ReadingValues> = {}): Readings {
  const all = { ...healthy(), ...v };
  return Object.fromEntries(Object.entries(all).map(([k, value]) => [k, { ok: true, value }])) as Readings;
}

const policy = defaultReadinessPolicy();
const verdict = (name: string, v: Partial<ReadingValues> = {}, ctx: Partial<CheckContext> = {}, p = policy) => {
  const found = runChecks(p, readings(v), { ...CTX, ...ctx }).find((x) => x.check === name);
  if (!found) throw new Error(`no verdict for ${name}`);
  return found;
};

test('catalogue: every check passes on a healthy device with the default policy', (t) => {
  const all = runChecks(policy, readings(), CTX);
  t.deepEqual(all.map((v) => v.check), [...CHECK_NAMES]);
  const notPassed = all.filter((v) => v.status !== 'pass' && v.status !== 'skipped');
  t.deepEqual(notPassed, []);
  t.true(readinessReport('001', 'fw1', new Date(NOW).toISOString(), all).ok);
});

/** One row per check: the fault that fails it, and words the operator's message must contain. */
const FAULTS: Array<[string, Partial<ReadingValues>, RegExp, Partial<CheckContext>?]> = [
  ['panorama_connected', { panoramaStatus: { configured: true, servers: [{ index: 1, address: '10.0.0.100', connected: false }] } }, /not connected to Panorama \(10\.0\.0\.100/],
  ['ha', { ha: { enabled: true, panorama: false, mode: 'Active-Passive', local: { state: 'active', priorityText: '' }, peer: { state: 'passive', priorityText: '' }, runningSync: 'not synchronized', runningSyncEnabled: true } }, /not synchronised \(running-sync: not synchronized\)/],
  ['ntp_sync', { ntp: { synched: 'LOCAL', servers: [{ key: 'ntp-server-1', name: '0.pool.ntp.org', status: 'rejected', reachable: false }] } }, /not synchronised to NTP: 0\.pool\.ntp\.org rejected \(unreachable\)/],
  ['no_pending_changes', { pendingChanges: true }, /uncommitted changes/],
  ['licenses', { licenses: [{ feature: 'Threat Prevention', description: '', expires: 'January 01, 2025', expired: true, expiresAtMs: Date.UTC(2025, 0, 1) }] }, /expired license\(s\): Threat Prevention \(January 01, 2025\)/],
  ['support_active', { support: { expiryDate: 'January 01, 2025', expiresAtMs: Date.UTC(2025, 0, 1) } }, /support license expired on January 01, 2025/],
  ['free_disk', { disk: [{ filesystem: 'x', sizeMb: 4000, usedMb: 3000, availMb: 1000, mount: '/opt/panrepo' }] }, /1000 MB free, 1650 MB needed for 11\.1\.0, 11\.1\.2/],
  ['no_running_jobs', { jobs: [{ id: 7, type: 'Downld', status: 'ACT', result: 'PEND', progress: 40, user: '', stoppable: true, description: '', details: [], warnings: [], finished: false, ok: false }] }, /Downld 7 \(ACT, 40%\)/],
  ['arp_entries', { arp: { total: 0, entries: [] } }, /ARP table is empty/],
  ['ipsec_tunnels', { tunnels: [{ type: 'IPSec', name: 'to-dc', state: 'init' }] }, /to-dc init/],
  ['bgp_peers', { bgpPeers: [{ virtualRouter: 'default', peer: 'isp1', group: 'g', status: 'Idle', peerAddress: '', remoteAs: '1', key: 'default_g_isp1' }] }, /isp1 \(default\) Idle/],
  ['clocks_in_sync', { dpClocks: [NOW + 90_000] }, /90 s from the management clock/],
  ['certificates', { certificates: [{ name: 'old', algorithm: 'RSA', keySize: 1024, hash: 'sha1' }] }, /old RSA 1024 bits < 2048.*old signed with sha1/],
  ['dynamic_updates', { updateSchedules: [{ name: 'anti-virus', recurrence: 'daily', at: '12:30' }] }, /anti-virus \(daily at 12:30, in 30 min\)/],
  ['environmentals', { environmentals: [{ component: 'power-supply', slot: 'Slot1', description: 'Power Supply #1 (left)', alarm: true }] }, /power-supply: Power Supply #1 \(left\)/],
  ['dataplane_cpu', { dpCpu: { dp0: { '0': [95, 96, 97] } } }, /data-plane CPU 96\.0%/],
  ['management_cpu', { mpCpu: 93 }, /management CPU 93%/],
  ['management_memory', { mpMemory: { totalMib: 1000, freeMib: 10, usedMib: 950, buffCacheMib: 40 } }, /95\.0% used \(950 of 1000 MiB\)/],
  ['no_locks', { configLocks: [{ owner: 'admin', location: 'shared' }] }, /config lock by admin on shared/],
  ['panorama_version', { panoramaInfo: { ...healthy().panoramaInfo, swVersion: '10.2.9' } }, /Panorama runs 10\.2\.9, older than the target 11\.1\.2/],
  ['reboot_budget', {}, /1 reboot\(s\) of a PA-3220 take about 30 min, more than the 20-minute window/],
];

const WINDOW = policyFromObject({ checks: { reboot_budget: { window_minutes: 20 } } });

for (const [name, fault, message, ctx] of FAULTS) {
  test(`catalogue: ${name} fails with the operator's message on a device with the matching fault`, (t) => {
    const v = verdict(name, fault, ctx, name === 'reboot_budget' ? WINDOW : policy);
    t.is(v.status, 'fail', v.message);
    t.regex(v.message, message);
  });
}

test('catalogue: checks that need parameters fail only on what the policy names', (t) => {
  const p = policyFromObject({
    checks: {
      critical_sessions: { sessions: [{ source: '10.0.0.5', destination: '10.1.0.9', port: 22 }] },
      arp_entries: { entries: [{ ip: '10.0.0.9' }] },
      content_version: { minimum_by_release: { '11.1': '8950-9000' } },
      jumbo_frames: { expected: true },
    },
  });
  t.regex(verdict('critical_sessions', {}, {}, p).message, /session\(s\) not found: 10\.0\.0\.5 → 10\.1\.0\.9:22/);
  t.regex(verdict('arp_entries', {}, {}, p).message, /ARP entr\(ies\) not found: 10\.0\.0\.9/);
  t.regex(verdict('content_version', {}, {}, p).message, /content 8900-8000 is older than 8950-9000, the minimum for 11\.1/);
  t.regex(verdict('jumbo_frames', {}, {}, p).message, /jumbo frames are off, the policy expects on/);
  t.is(verdict('content_version', { systemInfo: { ...healthy().systemInfo, appVersion: '8950-9001' } }, {}, p).status, 'pass');
});

test('catalogue: a blocking failure blocks; a warning failure is reported without blocking', (t) => {
  const all = runChecks(policy, readings({ pendingChanges: true, mpCpu: 99 }), CTX);
  const report = readinessReport('001', 'fw1', '', all);
  t.false(report.ok);
  t.deepEqual(all.filter((v) => v.blocking).map((v) => v.check), ['no_pending_changes']);
  t.is(all.find((v) => v.check === 'management_cpu')?.blocking, false);
  t.like(report.counts, { fail: 1, warn: 1 });
});

test('catalogue: a check whose command the device refuses is unavailable, says why, and never blocks', (t) => {
  const r = readings();
  r.environmentals = { ok: false, reason: 'PAN-OS error 17: show -> system -> environmentals is unexpected' };
  delete r.dpCpu;
  const all = runChecks(policy, r, CTX);
  const env = all.find((v) => v.check === 'environmentals');
  t.like(env, { status: 'unavailable', blocking: false, severity: 'block' });
  t.regex(env?.message ?? '', /cannot run: show system environmentals: PAN-OS error 17/);
  t.like(all.find((v) => v.check === 'dataplane_cpu'), { status: 'unavailable', blocking: false });
  t.true(readinessReport('001', 'fw1', '', all).ok);
});

test('catalogue: a disabled check does not run and its readings are not asked for', (t) => {
  const p = policyFromObject({ checks: { ha: {}, ntp_sync: { enabled: false } } });
  t.deepEqual(runChecks(p, readings(), CTX).map((v) => v.check), ['ha']);
  t.deepEqual(readingsNeeded(p), ['ha']);
  t.true(readingsNeeded(policy).includes('environmentals'));
});

test('catalogue: critical_sessions with no sessions listed does not ask for the session table, and skips without it', (t) => {
  const none = policyFromObject({ checks: { critical_sessions: {} } });
  t.deepEqual(readingsNeeded(none), []);
  t.false(readingsNeeded(policy).includes('sessions'));
  const r = readings();
  delete r.sessions;
  t.like(runChecks(none, r, CTX)[0], { check: 'critical_sessions', status: 'skipped', blocking: false });
  const some = policyFromObject({ checks: { critical_sessions: { sessions: [{ source: '10.0.0.1', destination: '10.0.0.2', port: 443 }] } } });
  t.deepEqual(readingsNeeded(some), ['sessions']);
  t.like(runChecks(some, r, CTX)[0], { check: 'critical_sessions', status: 'unavailable' });
});

test('catalogue: reboot_budget refuses a model whose listed reboot time exceeds the job budget', (t) => {
  const p = policyFromObject({ checks: { reboot_budget: { expected_minutes_by_model: { 'PA-7050': 45 } } } });
  const v = verdict('reboot_budget', { systemInfo: { ...healthy().systemInfo, model: 'PA-7050' } }, {}, p);
  t.regex(v.message, /PA-7050 is expected to take 45 min to reboot, more than the job's reboot budget of 30 min/);
  t.is(verdict('reboot_budget', {}, {}, p).status, 'pass');
});

test('catalogue: HA pair states that block, and a pair in order that passes', (t) => {
  const member = (state: string) => ({ state, priorityText: '' });
  const ha = (local: string, peer: string, extra = {}) => ({ ha: { enabled: true, panorama: false, mode: 'Active-Passive', local: member(local), peer: member(peer), runningSync: 'synchronized', runningSyncEnabled: true, ...extra } });
  t.is(verdict('ha', ha('active', 'passive')).status, 'pass');
  t.regex(verdict('ha', ha('active', 'suspended')).message, /HA peer state is suspended/);
  t.regex(verdict('ha', ha('active', 'active')).message, /both HA peers are active/);
  t.regex(verdict('ha', ha('initial', 'passive')).message, /local HA state is initial/);
  t.is(verdict('ha', { ha: { enabled: false, panorama: false } }).status, 'skipped');
});

test('catalogue: minutesToNextRun follows daily, weekly, hourly and every-N schedules from the device clock', (t) => {
  // 2026-12-04 is a Friday, 12:00.
  t.is(minutesToNextRun({ name: 'a', recurrence: 'daily', at: '12:30' }, NOW), 30);
  t.is(minutesToNextRun({ name: 'a', recurrence: 'daily', at: '11:30' }, NOW), 1410);
  t.is(minutesToNextRun({ name: 'a', recurrence: 'weekly', at: '12:10', dayOfWeek: 'saturday' }, NOW), 1450);
  t.is(minutesToNextRun({ name: 'a', recurrence: 'hourly', at: '45' }, NOW), 45);
  t.is(minutesToNextRun({ name: 'a', recurrence: 'every-15-mins', at: '4' }, NOW), 4);
  t.is(minutesToNextRun({ name: 'a', recurrence: 'none' }, NOW), undefined);
});
