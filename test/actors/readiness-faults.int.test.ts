import test from 'ava';
import type { FleetCheckResult } from '../../actors/readiness.ts';
import { startTestNats } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { MUTATING_KINDS, command, control, discover, jobEnded, servedCalls } from './orchestrator-fixture.ts';

const nats = startTestNats(test);
const SEED_DEVICE = '001234567890';

/** Simulator readiness fault → the check it must fail, and what the operator reads. */
const SIM_FAULTS: Array<[string, Record<string, unknown>, RegExp]> = [
  ['ntp_sync', { ntpUnsynced: true }, /not synchronised to NTP: 0\.pool\.ntp\.org rejected/],
  ['no_pending_changes', { pendingChanges: true }, /uncommitted changes/],
  ['no_pending_changes', { fullCommitRequired: true }, /a full commit is required/],
  ['licenses', { licenseExpired: true }, /expired license\(s\): /],
  ['support_active', { supportExpired: true }, /support license expired on /],
  ['free_disk', { lowDisk: true }, /not enough free disk on \/opt\/panrepo: \d+ MB free, \d+ MB needed for 10\.1\.0, 10\.5\.1, 11\.1\.0/],
  ['ipsec_tunnels', { tunnelDown: true }, /IPsec tunnel\(s\) not up: tun-site-1 /],
  ['bgp_peers', { bgpPeerDown: true }, /BGP peer\(s\) not established: peer-1 \(default\) /],
  ['clocks_in_sync', { clockSkewSeconds: 30 }, /data-plane clock is 3\d s from the management clock/],
  ['certificates', { weakCertificate: true }, /RSA 1024 bits < 2048/],
  ['environmentals', { environmentalAlarm: 'fan' }, /environmental alarm\(s\): fan: /],
  ['dataplane_cpu', { highDpCpu: true }, /data-plane CPU \d+\.\d% over the last 5 min, at or above 80%/],
  ['management_cpu', { highMpCpu: true }, /management CPU \d+% \(1-minute average\), at or above 80%/],
  ['management_memory', { highMemory: true }, /management memory \d+\.\d% used/],
  ['no_locks', { configLock: true }, /config lock by admin/],
  ['no_locks', { commitLock: true }, /commit lock by admin/],
];

/** Checks failed by a policy parameter the healthy simulated device does not meet. */
const POLICY_FAULTS: Array<[string, Record<string, unknown>, RegExp]> = [
  ['critical_sessions', { sessions: [{ source: '198.51.100.7', destination: '203.0.113.9', port: 8443 }] }, /session\(s\) not found: 198\.51\.100\.7 → 203\.0\.113\.9:8443/],
  ['arp_entries', { entries: [{ ip: '203.0.113.250' }] }, /ARP entr\(ies\) not found: 203\.0\.113\.250/],
  ['content_version', { minimum_by_release: { '11.1': '9999-9999' } }, /older than 9999-9999, the minimum for 11\.1/],
  ['dynamic_updates', { window_minutes: 10080 }, /update schedule\(s\) run within the 10080-minute window/],
  ['jumbo_frames', { expected: true }, /jumbo frames are off, the policy expects on/],
  ['reboot_budget', { window_minutes: 1 }, /3 reboot\(s\) of a .* more than the 1-minute window/],
];

async function verdict(stack: Parameters<typeof command>[0], serial: string, name: string, policy?: object) {
  const r = await command<FleetCheckResult>(stack, 'device.check', { devices: [serial], ...(policy ? { policy } : {}) });
  const v = r.devices[0]?.report?.verdicts.find((x) => x.check === name);
  if (!v) throw new Error(`no ${name} verdict: ${JSON.stringify(r.devices[0])}`);
  return { v, ok: r.ok };
}

test('readiness on the simulator: every check passes on a healthy device, and fails on the matching simulator fault with the message an operator needs', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  await discover(stack);
  const healthy = await command<FleetCheckResult>(stack, 'device.check', { devices: [SEED_DEVICE] });
  t.true(healthy.ok);
  const notPassing = healthy.devices[0]!.report!.verdicts.filter((v) => v.status !== 'pass').map((v) => `${v.check} ${v.status}`);
  // Skipped: HA is off on this device, and the default policy names no sessions and no minimum content version.
  t.deepEqual(notPassing, ['ha skipped', 'content_version skipped', 'critical_sessions skipped']);

  for (const [name, fault, message] of SIM_FAULTS) {
    await control(stack, SEED_DEVICE, 'faults', { faults: { readiness: fault } });
    const { v } = await verdict(stack, SEED_DEVICE, name);
    t.is(v.status, 'fail', `${name} with ${JSON.stringify(fault)}: ${v.message}`);
    t.regex(v.message, message, name);
    await control(stack, SEED_DEVICE, 'faults', { faults: { readiness: Object.fromEntries(Object.keys(fault).map((k) => [k, typeof fault[k] === 'number' ? 0 : false])) } });
    t.is((await verdict(stack, SEED_DEVICE, name)).v.status, 'pass', `${name} passes again once ${JSON.stringify(fault)} is cleared`);
  }
  for (const [name, params, message] of POLICY_FAULTS) {
    const { v } = await verdict(stack, SEED_DEVICE, name, { checks: { [name]: params } });
    t.is(v.status, 'fail', `${name}: ${v.message}`);
    t.regex(v.message, message, name);
  }
});

test('readiness on the simulator: HA state and config sync are checked on a pair member; an unsynchronised pair blocks', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  await discover(stack);
  t.regex((await verdict(stack, SEED_DEVICE, 'ha')).v.message, /^active, peer passive/);
  await control(stack, SEED_DEVICE, 'faults', { faults: { readiness: { haNotSynced: true } } });
  const { v, ok } = await verdict(stack, SEED_DEVICE, 'ha');
  t.like(v, { status: 'fail', blocking: true });
  t.regex(v.message, /HA configuration is not synchronised/);
  t.false(ok);
});

test('readiness on the simulator: an HA pair checks both peers before touching either; a blocking fault on the peer upgraded second stops the pair with nothing changed', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'ha-pair', timeScale: 0.02 });
  await discover(stack);
  const PEER = '001234567891';
  // The active peer is upgraded second (passive first): its lock must stop the pair before the passive is touched.
  await control(stack, SEED_DEVICE, 'faults', { faults: { readiness: { configLock: 'ops-admin' } } });
  const before = servedCalls(stack).length;
  const { job } = await command<{ job: { job_id: string } }>(stack, 'job.submit', { device: PEER });
  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'failed');
  t.regex(done.upgrade_message, /readiness check failed on \S+ \(001234567890\): no_locks: config lock by ops-admin/);
  const served = servedCalls(stack).slice(before).filter((c) => c.serial === SEED_DEVICE || c.serial === PEER);
  t.true(served.length > 0);
  t.deepEqual(served.filter((c) => MUTATING_KINDS.has(c.kind)), []);
  t.deepEqual([SEED_DEVICE, PEER].map((s) => stack.sim.device(s)?.context.record.swVersion), stack.scenario.devices.filter((d) => d.serial === SEED_DEVICE || d.serial === PEER).map((d) => d.swVersion));
});
