import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPathsFile } from '../../actors/paths-file.ts';
import { ConfigError } from '../../actors/config.ts';
import { tempDir } from '../helpers/index.ts';

test('paths file: a map of versions, at the top or under upgrade_paths (a scenario file), loads as config.json would have it', (t) => {
  const dir = tempDir(t);
  const top = join(dir, 'paths.yaml');
  writeFileSync(top, '"10.0.2": ["10.1.0", "11.1.0"]\n"10.1.0": ["11.1.0"]\n');
  t.deepEqual(loadPathsFile(top), { '10.0.2': ['10.1.0', '11.1.0'], '10.1.0': ['11.1.0'] });
  const scenario = join(dir, 'scenario.yaml');
  writeFileSync(scenario, 'devices: []\nupgrade_paths:\n  "10.0.2": ["10.1.0"]\n');
  t.deepEqual(loadPathsFile(scenario), { '10.0.2': ['10.1.0'] });
});

test('paths file: a path that goes down, a key that is not a version or bad YAML is refused with the file, line and place, by the rule config.json has', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'paths.yaml');
  const refused = (text: string): string => {
    writeFileSync(file, text);
    return t.throws(() => loadPathsFile(file), { instanceOf: ConfigError })!.message;
  };
  t.is(refused('"10.0.2": ["10.1.0"]\n"10.1.0":\n  - "11.1.0"\n  - "10.2.0"\n'), `${file}:4: ["10.1.0"][1] must be newer than 11.1.0: an upgrade path only goes up`);
  t.is(refused('upgrade_paths:\n  "10.0.2": ["10.1.0"]\n  10.1: ["11.1.0"]\n'), `${file}:3: upgrade_paths["10.1"] has the key "10.1", not a PAN-OS version; write the full version in quotes, like "10.0.2"`);
  t.is(refused('"10.0.2": "10.1.0"\n'), `${file}:1: ["10.0.2"] must be a list of versions, e.g. ["10.1.0", "11.1.0"]`);
  t.regex(refused('"10.0.2": ["10.1.0"\n'), new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: the upgrade paths file is not valid YAML: `));
  t.is(refused('- "10.1.0"\n'), `${file}:1: the upgrade paths must be a map of current version → list of versions, e.g. "10.0.2": ["10.1.0", "11.1.0"]`);
  t.is(t.throws(() => loadPathsFile(join(dir, 'nope.yaml')), { instanceOf: ConfigError })!.message, `cannot read the upgrade paths file ${join(dir, 'nope.yaml')}: no such file`);
});
