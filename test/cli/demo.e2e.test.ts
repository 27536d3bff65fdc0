import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers/index.ts';
import { runCli } from './run-cli.ts';

test('demo: when run on a small generated fleet then it discovers, pre-stages, upgrades, summarises and exits 0', async (t) => {
  const dir = join(tempDir(t), 'demo');
  const started = Date.now();
  const r = await runCli(t, ['demo', '--devices', '24', '--time-scale', '0.02', '--upgrades', '2', '--ha-pairs', '0', '--data-dir', dir], { timeoutMs: 90_000 });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.log(`demo took ${Date.now() - started} ms`);
  const out = r.stdout;
  t.regex(out, /^panos-upgrade demo: 24 simulated firewalls behind one Panorama \(a generated fleet of 24\), time scale 0\.02$/m);
  t.regex(out, /^ {2}Discovered 24 devices \(4 in HA pairs\)$/m);
  t.regex(out, /^ {2}Queued 22 devices, skipped 2$/m);
  t.regex(out, /^Downloads: 22\/22 finished \(100%\): 22 download_complete$/m);
  t.regex(out, /^\[3\/4\] Upgrade 2 standalone firewall\(s\) in a campaign: a canary, a gate, then the rest/m);
  // The campaign: the canary wave, its gate (soak, then the demo's approval), then the rest.
  const campaign = out.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}(wave|gate|Campaign)/.test(l)).map((l) => l.slice(10));
  t.deepEqual(campaign.slice(0, 2), ['wave 1 started', 'wave 1 ended: 1 complete, 0 failed']);
  t.true(campaign.includes("gate after wave 1: waiting for an operator's approval"));
  t.true(campaign.indexOf('gate after wave 1: approved by demo') < campaign.indexOf('wave 2 started'));
  t.is(campaign.at(-1), 'Campaign complete: 2 complete, 0 failed, 0 not started');
  t.regex(out, /^ {2}Upgrades: {2}2 complete$/m);
  t.is(out.match(/^ {4}fw-[a-z0-9-]+ \(\d{12}\) {2}complete {2}Upgrade complete: /gm)?.length, 2);
  t.regex(out, /^ {2}Failures: {2}none$/m);
  t.regex(out, new RegExp(`^ {2}Event log: ${dir}/events `, 'm'));
  t.regex(out, /^Demo finished in \d+\.\d s: every job succeeded\./m);
  // Where its seconds went, phase by phase (the demo benchmark reads this line).
  t.regex(out, /^ {2}Time: {6}start-up \d+\.\d s, discovery \d+\.\d s, pre-staging \d+\.\d s, campaign \d+\.\d s$/m);
  t.true(existsSync(join(dir, 'events')));
  t.false(existsSync(join(dir, 'daemon.json')), 'the demo daemon is no longer announced once it stopped');

  const again = await runCli(t, ['demo', '--devices', '3', '--data-dir', dir]);
  t.is(again.code, 2);
  t.regex(again.stderr, /already holds an event log; give the demo an empty --data-dir/);
});
