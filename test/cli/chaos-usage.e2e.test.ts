import test from 'ava';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/index.ts';
import { runCli } from './run-cli.ts';

test('chaos --work-dir: when the dir holds an earlier run then chaos refuses it with exit 2, naming the dir and what to do, and leaves it as it was', async (t) => {
  const dir = tempDir(t, 'panos-chaos-used-');
  mkdirSync(join(dir, 'daemon'));
  mkdirSync(join(dir, 'sim'));
  writeFileSync(join(dir, 'report.json'), '{"ok":true}\n');
  const r = await runCli(t, ['chaos', '--seed', '7', '--devices', '2', '--work-dir', dir]);
  t.is(r.code, 2, r.stderr);
  t.is(r.stdout, '');
  t.is(
    r.stderr.trim(),
    `error: --work-dir ${dir} is not empty: it holds an earlier chaos run (daemon, report.json, sim), whose logs would be checked with this run's. Give chaos a new or empty --work-dir, or remove that one first (rm -r ${dir})`,
  );
  t.deepEqual(readdirSync(dir).sort(), ['daemon', 'report.json', 'sim']);
});

test('chaos --cluster with --campaign or --kills: the refusal is printed, exit 2', async (t) => {
  for (const extra of [['--campaign'], ['--kills', '3']]) {
    const r = await runCli(t, ['chaos', '--seed', '1', '--cluster', ...extra]);
    t.is(r.code, 2, extra.join(' '));
    t.is(r.stdout, '');
    t.is(r.stderr.trim(), 'error: --cluster has its own disruptions: it cannot be combined with --campaign or --kills\n(run with --help for usage)', extra.join(' '));
  }
});
