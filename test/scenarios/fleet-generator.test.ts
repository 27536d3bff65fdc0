import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  FLEET_UPGRADE_PATHS,
  fleetScenarioYaml,
  generateFleetScenario,
  parseScenario,
  scenarioFromObject,
} from '../../scenarios/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('generateFleetScenario: when called twice with the same options then the fleets are identical', (t) => {
  t.deepEqual(generateFleetScenario({ devices: 500 }), generateFleetScenario({ devices: 500 }));
  t.notDeepEqual(generateFleetScenario({ devices: 500, seed: 1 }).devices, generateFleetScenario({ devices: 500, seed: 2 }).devices);
});

test('generateFleetScenario: when asked for 1,000 devices then pairs and path-less devices scale with the fleet', (t) => {
  const doc = generateFleetScenario({ devices: 1000 });
  const s = scenarioFromObject(doc, 'fleet-1000', { env: {} });
  t.is(s.devices.length, 1000);
  t.is(s.name, 'fleet-1000');
  t.is(s.devices.filter((d) => d.ha).length, 2 * Math.round((1000 * 5) / 230));
  t.is(s.devices.filter((d) => !FLEET_UPGRADE_PATHS[d.swVersion]).length, Math.round((1000 * 15) / 230));
  t.is(new Set(s.devices.map((d) => d.hostname)).size, 1000);
  t.like(s.devices[0], { serial: '001234567890', hostname: 'fw-dc1-01' });
});

test('generateFleetScenario: when counts are given then they are used, and a fleet of one is the seed device', (t) => {
  const doc = generateFleetScenario({ devices: 40, haPairs: 3, noPath: 4, name: 'lab' });
  t.is(doc.ha_pairs.length, 3);
  t.is(doc.devices.filter((d) => !FLEET_UPGRADE_PATHS[d.current_version]).length, 4);
  t.is(doc.name, 'lab');
  const one = generateFleetScenario({ devices: 1 });
  t.deepEqual(one.devices.map((d) => d.hostname), ['fw-dc1-01']);
  t.deepEqual(one.ha_pairs, []);
  t.throws(() => generateFleetScenario({ devices: 0 }), { instanceOf: RangeError });
});

test('fleetScenarioYaml: when parsed then it gives the same scenario as the object', (t) => {
  const fromYaml = parseScenario(fleetScenarioYaml({ devices: 230 }), 'fleet.yaml', { env: {} });
  const fromObject = scenarioFromObject(generateFleetScenario({ devices: 230 }), 'fleet.yaml', { env: {} });
  t.deepEqual(fromYaml, fromObject);
});

test('generateFleetScenario: when 100,000 devices are built then they share image arrays and stay far below 1 GiB', (t) => {
  const before = process.memoryUsage().heapUsed;
  const s = scenarioFromObject(generateFleetScenario({ devices: 100_000 }), 'fleet-100k', { env: {} });
  const after = process.memoryUsage();
  t.is(s.devices.length, 100_000);
  t.is(new Set(s.devices.map((d) => d.mgmtIp)).size, 100_000);
  t.true(new Set(s.devices.map((d) => d.images)).size <= 2);
  t.true(new Set(s.devices.map((d) => d.content.available)).size === 1);
  t.true(after.heapUsed - before < 512 * 2 ** 20, `heap grew by ${Math.round((after.heapUsed - before) / 2 ** 20)} MB`);
  t.true(after.rss < 2 ** 30, `rss ${Math.round(after.rss / 2 ** 20)} MB`);
});

test('generate-fleet.ts: when run with a count then it prints a loadable fleet of that size, and rejects a bad argument', (t) => {
  const text = execFileSync(process.execPath, ['--import', 'tsx', 'scenarios/generate-fleet.ts', '12'], { cwd: root, encoding: 'utf8' });
  t.is(parseScenario(text, 'fleet-12.yaml', { env: {} }).devices.length, 12);
  t.is(text, fleetScenarioYaml({ devices: 12 }));
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scenarios/generate-fleet.ts', 'many'], { cwd: root, encoding: 'utf8' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /unexpected argument "many"/);
});
