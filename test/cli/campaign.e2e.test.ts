import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNats, tempDir, waitFor } from '../helpers/index.ts';
import { command, control } from '../actors/orchestrator-fixture.ts';
import type { CampaignRecord } from '../../machines/campaign.record.ts';
import { startStack } from '../helpers/stack.ts';
import { shippedScenario } from '../../cli/paths.ts';
import { runCli, stackEnv } from './run-cli.ts';

const nats = startTestNats(test);

const PLAN = `name: night-one
target: 11.1.0
select:
  versions: ["10.*"]
waves:
  - name: canary
    size: 1
    soak: 20m
    approval: true
  - size: rest
    concurrency: 2
windows: ["Sat 01:00-05:00 Europe/Berlin"]
maxFailures: 1
`;

test('cli campaign: create --dry-run prints the waves, devices, windows, budget and estimate; a bad plan names file:line and field', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const env = stackEnv(nats.url, stack);
  const dir = tempDir(t);
  const args = ['--data-dir', dir];
  await command(stack, 'device.discover');
  const plan = join(dir, 'plan.yaml');
  writeFileSync(plan, PLAN);
  const dry = await runCli(t, ['campaign', 'create', '--plan', plan, '--scenario', shippedScenario('basic'), '--dry-run', ...args], { env });
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /^Campaign night-one: dry run, nothing recorded$/m);
  t.regex(dry.stdout, /^ {2}4 unit\(s\) \(4 device\(s\); an HA pair is one unit\) in 2 wave\(s\)$/m);
  t.regex(dry.stdout, /maintenance windows: Sat 01:00-05:00 Europe\/Berlin/);
  t.regex(dry.stdout, /failure budget: per wave no limit, overall 1 failed unit/);
  t.regex(dry.stdout, /^Wave 1 canary: 1 unit\(s\), 1 device\(s\), 10 at a time, then soak 20 min and approval$/m);
  t.regex(dry.stdout, /^ {2}fw-branch-01 \(001234567893\) {2}~\d+ (s|min)$/m);
  t.regex(dry.stdout, /^Wave 2 wave 2: 3 unit\(s\)/m);
  t.regex(dry.stdout, /^Estimated duration: .* \(assumes the 1 approval\(s\) are given at once\)$/m);
  const json = await runCli(t, ['campaign', 'create', '--plan', plan, '--dry-run', '--json', ...args], { env });
  t.like(JSON.parse(json.stdout), { ok: true, dryRun: true, campaign: { name: 'night-one', windows: ['Sat 01:00-05:00 Europe/Berlin'] } });
  t.deepEqual((await command<{ campaigns: unknown[] }>(stack, 'campaign.list')).campaigns, [], 'a dry run records nothing');

  writeFileSync(plan, PLAN.replace('size: rest', 'size: most'));
  const bad = await runCli(t, ['campaign', 'create', '--plan', plan, '--dry-run', ...args], { env });
  t.is(bad.code, 2);
  t.regex(bad.stderr, new RegExp(`^error: ${plan.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:10: waves\\.1\\.size: "most" is not a wave size \\(a count such as 2, a percentage such as 10%, or rest\\)$`, 'm'));
});

test('cli campaign: create --watch follows the canary to the gate; approve from another shell; status shows the waves', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const env = stackEnv(nats.url, stack);
  const args = ['--data-dir', tempDir(t)];
  await command(stack, 'device.discover');
  const created = await runCli(t, ['campaign', 'create', '--target', '11.1.0', '--from-version', '10.*', '--waves', 'canary:1,rest', '--approval', '--json', ...args], { env });
  t.is(created.code, 0, created.stderr);
  const id = (JSON.parse(created.stdout) as { campaign: { campaign_id: string } }).campaign.campaign_id;
  await waitFor(async () => (await command<{ campaign: CampaignRecord }>(stack, 'campaign.get', { campaignId: id })).campaign.waves[0]!.status === 'awaiting-approval', 60_000, 50);
  const status = JSON.parse((await runCli(t, ['campaign', 'status', id, '--json', ...args], { env })).stdout) as { campaign: CampaignRecord };
  t.is(status.campaign.waves[0]!.status, 'awaiting-approval');
  const human = await runCli(t, ['campaign', 'status', id, ...args], { env });
  // The hint repeats the --data-dir given, so pasting it reaches this daemon.
  t.true(human.stdout.split('\n').includes(`  waits for: an operator's approval of wave 2: panos-upgrade --data-dir ${args[1]} campaign approve ${id}`), human.stdout);
  t.regex(human.stdout, /^WAVE\s+NAME\s+STATUS\s+UNITS\s+DONE\s+FAILED\s+RUNNING\s+WAITING\s+STARTED\s+ENDS \(EST\.\)$/m);
  t.regex(human.stdout, /^\s+1\s+canary\s+awaiting-approval\s+1\s+1\s+0\s+0\s+0\s/m);
  const approve = await runCli(t, ['campaign', 'approve', id, '--by', 'alice', ...args], { env });
  t.is(approve.code, 0, approve.stderr);
  t.regex(approve.stdout, /Approved by alice|Wave 2 started/);
  const watch = await runCli(t, ['campaign', 'status', id, '--watch', ...args], { env });
  t.is(watch.code, 0, watch.stderr);
  t.regex(watch.stdout, /Campaign complete: 4 complete, 0 failed/);
  const again = await runCli(t, ['campaign', 'approve', id, ...args], { env });
  // Its state does not allow it (CAMPAIGN_STATE): the operation failed, not the usage.
  t.is(again.code, 1);
  t.regex(again.stderr, /already ended \(completed\)/);
});

test('cli campaign: status --watch --json of a campaign that halts prints one reply, ok false with the campaign, and exits 1', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', config: (c) => ({ ...c, retries: { maxAttempts: 1, backoffSeconds: 0.1 } }) });
  const env = stackEnv(nats.url, stack);
  const args = ['--data-dir', tempDir(t)];
  await command(stack, 'device.discover');
  for (const d of stack.scenario.devices) await control(stack, d.serial, 'faults', { faults: { download: { rate: 1, error: 'Failed to download: checksum mismatch' } } });
  const created = await runCli(t, ['campaign', 'create', '--target', '11.1.0', '--from-version', '10.*', '--waves', 'canary:1,rest', '--json', ...args], { env });
  t.is(created.code, 0, created.stderr);
  const id = (JSON.parse(created.stdout) as { campaign: { campaign_id: string } }).campaign.campaign_id;
  const watch = await runCli(t, ['campaign', 'status', id, '--watch', '--json', ...args], { env });
  t.is(watch.code, 1, watch.stderr);
  const reply = JSON.parse(watch.stdout) as { ok: boolean; campaign: CampaignRecord; error: { code: string; exitCode: number } };
  t.false(reply.ok);
  t.is(reply.campaign.status, 'halted');
  t.like(reply.error, { code: 'CAMPAIGN_HALTED', exitCode: 1 });
});

test('cli campaign: selection flags on top of a plan replace its select: --device over select all is that one device', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const env = stackEnv(nats.url, stack);
  const dir = tempDir(t);
  const args = ['--data-dir', dir];
  await command(stack, 'device.discover');
  const plan = join(dir, 'all.yaml');
  writeFileSync(plan, 'target: 11.1.0\nselect: { all: true }\n');
  const members = async (...flags: string[]): Promise<string[]> => {
    const r = await runCli(t, ['campaign', 'create', '--plan', plan, ...flags, '--dry-run', '--json', ...args], { env });
    t.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { campaign: CampaignRecord }).campaign.waves.flatMap((w) => w.members!.flatMap((m) => m.serials)).sort();
  };
  t.deepEqual(await members('--device', '001234567893'), ['001234567893']);
  t.deepEqual(await members('--hostname', 'fw-dc1-*'), ['001234567890', '001234567891']);
  t.deepEqual(await members('--model', 'PA-3220'), ['001234567890', '001234567891']);
  const both = await runCli(t, ['campaign', 'create', '--plan', plan, '--all', '--device', '001234567893', '--dry-run', ...args], { env });
  t.is(both.code, 2);
  t.regex(both.stderr, /--all selects every device: give --all, or --device\/--hostname, not both/);
});

test('cli campaign: plan errors only the daemon can find name the plan file, line and field', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const env = stackEnv(nats.url, stack);
  const dir = tempDir(t);
  const args = ['--data-dir', dir];
  await command(stack, 'device.discover');
  const plan = join(dir, 'p.yaml');
  const refused = async (text: string, ...flags: string[]): Promise<string> => {
    writeFileSync(plan, text);
    const r = await runCli(t, ['campaign', 'create', '--plan', plan, ...flags, '--dry-run', ...args], { env });
    t.is(r.code, 2, r.stdout);
    return r.stderr.split('\n')[0]!.replace(plan, 'p.yaml').replace(`--data-dir ${dir} `, '');
  };
  t.is(await refused('target: 11.1.0\nselect: { all: true }\nwaves: "canary:2,bogus"\n'), 'error: p.yaml:3: waves: wave 2 of "canary:2,bogus": "bogus" is not a wave size (a count such as 2, a percentage such as 10%, or rest)');
  t.is(
    await refused('target: 11.1.0\nselect: { all: true }\nwaves:\n  - size: 1\n  - devices: ["fw-nosuch-*"]\n  - size: rest\n'),
    'error: p.yaml:5: waves[1].devices: "fw-nosuch-*" matches no selected device',
  );
  t.is(
    await refused('target: 11.1.0\nselect:\n  serials:\n    - "001234567890"\n    - "009999999999"\n'),
    'error: p.yaml:5: select.serials[1]: 009999999999 is not in the inventory (run "panos-upgrade device discover" first)',
  );
  t.regex(await refused('target: 11.1.0\nselect: { all: true }\nwaves: "canary:1,1"\n'), /^error: p\.yaml:3: waves: 2 selected unit\(s\) are in no wave/);
  t.regex(await refused('target: 11.1.0\nselect: { all: true }\npolicy:\n  checks:\n    ntp_sync:\n      severity: maybe\n'), /^error: p\.yaml:6: policy\.checks\.ntp_sync\.severity: /);
  t.is(await refused('target: 11.1.0\nselect: {}\n'), 'error: p.yaml:2: select: select some devices: all, serials, hostnames, models, deviceGroups or versions');
  // A value the command line gave is not the file's: no line of the file is named.
  t.is(await refused('target: 11.1.0\nselect: { all: true }\n', '--device', '009999999999'), 'error: select.serials[0]: 009999999999 is not in the inventory (run "panos-upgrade device discover" first)');
});

test('cli campaign: create --watch prints every event of the campaign once, in order, and --json says ok true', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', config: (c) => ({ ...c, retries: { maxAttempts: 1, backoffSeconds: 0.1 } }) });
  const env = stackEnv(nats.url, stack);
  const args = ['--data-dir', tempDir(t)];
  await command(stack, 'device.discover');
  await control(stack, '001234567893', 'faults', { faults: { download: { rate: 1, error: 'Failed to download: checksum mismatch' } } });
  const watch = await runCli(t, ['campaign', 'create', '--target', '11.1.0', '--device', '001234567893', '--device', '001234567892', '--waves', 'canary:1,rest', '--watch', ...args], { env });
  t.is(watch.code, 1, watch.stderr);
  const lines = watch.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}/.test(l)).map((l) => l.slice(10).trim());
  const order = [/^wave 1 started$/, /^fw-branch-01: upgrade started/, /^fw-branch-01: failed: /, /^halting: /, /^Halted: /];
  const at = order.map((re) => lines.findIndex((l) => re.test(l)));
  t.true(at.every((i) => i >= 0), lines.join('\n'));
  t.deepEqual([...at].sort((a, b) => a - b), at, `in order:\n${lines.join('\n')}`);
  t.is(new Set(lines).size, lines.length, `each once:\n${lines.join('\n')}`);

  await control(stack, '001234567893', 'faults', { faults: { download: { rate: 0 } } });
  const ok = await runCli(t, ['campaign', 'create', '--target', '11.1.0', '--device', '001234567892', '--watch', '--json', ...args], { env });
  t.is(ok.code, 0, ok.stderr);
  t.like(JSON.parse(ok.stdout), { ok: true, campaign: { status: 'completed' } });
});
