import test from 'ava';
import { CAMPAIGN_PLAN_SCHEMA, CampaignFileError, parseDuration, parsePlanFile, planInput, withExcluded, withSelection } from '../../machines/campaign.plan-file.ts';
import { CampaignPlanError, parseWaveSpec, planCampaign, siteOf, type PlannerDevice, type PlanInput } from '../../machines/campaign.plan.ts';

function fleet(): PlannerDevice[] {
  const out: PlannerDevice[] = [];
  // Two HA pairs in dc1, 18 branches over three sites.
  out.push({ serial: 'P1A', hostname: 'fw-dc1-01', model: 'PA-5220', swVersion: '10.1.3', haPeer: 'P1B', connected: true, deviceGroup: 'dc' });
  out.push({ serial: 'P1B', hostname: 'fw-dc1-02', model: 'PA-5220', swVersion: '10.1.3', haPeer: 'P1A', connected: true, deviceGroup: 'dc' });
  out.push({ serial: 'P2A', hostname: 'fw-dc1-03', model: 'PA-5220', swVersion: '10.1.3', haPeer: 'P2B', connected: true, deviceGroup: 'dc' });
  out.push({ serial: 'P2B', hostname: 'fw-dc1-04', model: 'PA-5220', swVersion: '10.1.3', haPeer: 'P2A', connected: true, deviceGroup: 'dc' });
  const sites = ['berlin', 'paris', 'rome'];
  for (let i = 0; i < 18; i++) {
    const site = sites[i % 3]!;
    out.push({ serial: `B${i}`, hostname: `fw-${site}-${String(Math.floor(i / 3) + 1).padStart(2, '0')}`, model: i % 2 ? 'PA-440' : 'PA-220', swVersion: i < 9 ? '10.1.3' : '10.2.4', haPeer: null, connected: true, deviceGroup: 'branch' });
  }
  return out;
}

function input(change: Partial<PlanInput> = {}): PlanInput {
  return { campaignId: 'c1', devices: fleet(), selection: { all: true }, targetVersion: '11.1.2', waves: 'canary:2,10%,25%,rest', concurrency: 3, ...change };
}

const members = (spec: ReturnType<typeof planCampaign>, wave: number): string[] =>
  spec.waves[wave]!.units.flatMap((id) => spec.units.find((u) => u.id === id)!.serials);

test('planner: canary:2,10%,25%,rest over 20 units (2 HA pairs + 18 devices) gives waves of 2, 2, 5 and the rest', (t) => {
  const spec = planCampaign(input());
  t.is(spec.units.length, 20);
  t.deepEqual(spec.waves.map((w) => w.units.length), [2, 2, 5, 11]);
  t.deepEqual(spec.waves.map((w) => w.name), ['canary', 'wave 2', 'wave 3', 'wave 4']);
  t.is(new Set(spec.waves.flatMap((w) => w.units)).size, 20, 'every unit in exactly one wave');
});

test('planner: an HA pair is one unit, never split across waves, and counts as one', (t) => {
  const spec = planCampaign(input({ waves: '1,rest' }));
  const pairs = spec.units.filter((u) => u.ha);
  t.is(pairs.length, 2);
  t.deepEqual(pairs.map((p) => p.serials.sort()), [['P1A', 'P1B'], ['P2A', 'P2B']]);
  for (let w = 0; w < spec.waves.length; w++) {
    const m = members(spec, w);
    t.is(m.includes('P1A'), m.includes('P1B'));
  }
  // Selecting one peer brings its pair.
  const one = planCampaign(input({ selection: { serials: ['P1A'] }, waves: 'rest' }));
  t.deepEqual(one.units.map((u) => u.serials.sort()), [['P1A', 'P1B']]);
});

test('planner: excluding one peer leaves the whole pair out and says why', (t) => {
  const spec = planCampaign(input({ selection: { all: true, exclude: { serials: ['P1B'] } }, waves: 'rest' }));
  t.false(spec.units.some((u) => u.serials.includes('P1A') || u.serials.includes('P1B')));
  const why = spec.excluded.find((e) => e.serial === 'P1A');
  t.truthy(why);
  t.regex(why!.reason, /HA peer fw-dc1-02 \(P1B\) is excluded/);
});

test('planner: selection by hostname glob, model, device group and version, minus exclusions', (t) => {
  const serials = (sel: PlanInput['selection']): string[] => planCampaign(input({ selection: sel, waves: 'rest' })).units.flatMap((u) => u.serials).sort();
  t.deepEqual(serials({ hostnames: ['fw-berlin-*'] }), ['B0', 'B12', 'B15', 'B3', 'B6', 'B9']);
  t.deepEqual(serials({ hostnames: ['fw-berlin-*'], models: ['pa-440'] }), ['B15', 'B3', 'B9']);
  t.deepEqual(serials({ versions: ['10.2.*'], exclude: { hostnames: ['fw-rome-*'] } }), ['B10', 'B12', 'B13', 'B15', 'B16', 'B9']);
  t.deepEqual(serials({ deviceGroups: ['dc'] }), ['P1A', 'P1B', 'P2A', 'P2B']);
  t.throws(() => planCampaign(input({ selection: {} })), { instanceOf: CampaignPlanError, message: /select some devices/ });
  t.throws(() => planCampaign(input({ selection: { serials: ['NOPE'] } })), { message: /NOPE is not in the inventory/ });
  t.throws(() => planCampaign(input({ selection: { models: ['PA-7050'] } })), { message: /matches no device/ });
});

test('planner: devices of a site are spread over the waves, or kept together in one wave', (t) => {
  const sel = { hostnames: ['fw-berlin-*', 'fw-paris-*', 'fw-rome-*'] };
  const spread = planCampaign(input({ selection: sel, waves: '3,rest', groupBy: 'site', groups: 'spread' }));
  t.deepEqual(spread.waves[0]!.units.map((id) => spread.units.find((u) => u.id === id)!.group), ['berlin', 'paris', 'rome']);
  const together = planCampaign(input({ selection: sel, waves: '3,rest', groupBy: 'site', groups: 'together' }));
  // The first wave asked for 3 units and takes the whole first site (6), never part of one.
  t.deepEqual(together.waves[0]!.units.map((id) => together.units.find((u) => u.id === id)!.group), Array(6).fill('berlin'));
  t.is(siteOf('fw-dc1-02'), 'dc1');
  t.is(siteOf('edge7'), 'edge');
});

test('planner: explicit wave lists take their devices first; units left in no wave are an error', (t) => {
  const spec = planCampaign(input({ waves: [{ name: 'pilot', devices: ['fw-paris-01', 'P1A'], concurrency: 1, approval: true }, { size: 'rest', soakMs: 60_000 }] }));
  t.deepEqual(members(spec, 0).sort(), ['B1', 'P1A', 'P1B']);
  t.is(spec.waves[0]!.concurrency, 1);
  t.true(spec.waves[0]!.approval);
  t.is(spec.waves[1]!.soakMs, 60_000);
  const err = t.throws(() => planCampaign(input({ waves: '2,10%' })), { instanceOf: CampaignPlanError });
  t.regex(err!.message, /in no wave .*end the waves with "rest"/);
  t.throws(() => planCampaign(input({ waves: [{ devices: ['fw-nowhere-*'] }, { size: 'rest' }] })), { message: /waves\[0\]\.devices: "fw-nowhere-\*" matches no selected device/ });
});

test('planner: wave spec syntax errors name the wave', (t) => {
  t.deepEqual(parseWaveSpec('canary:2,10%,rest'), [{ name: 'canary', size: 2 }, { size: '10%' }, { size: 'rest' }]);
  t.throws(() => parseWaveSpec('canary:2,,rest'), { message: /empty wave/ });
  t.throws(() => parseWaveSpec('canary:two,rest'), { message: /^waves: wave 1 of "canary:two,rest": "two" is not a wave size/ });
  t.throws(() => parseWaveSpec('150%'), { message: /"150%" is not a wave size/ });
});

test('planner: expected duration of a unit from the model timings; an HA pair takes both peers', (t) => {
  const spec = planCampaign(
    input({ waves: 'rest', timings: { downloadMs: 60_000, installMs: 120_000, rebootMs: 300_000, byModel: { 'PA-5220': { rebootMs: 600_000 } } }, hops: (d) => (d.swVersion === '10.1.3' ? 2 : 1) }),
  );
  const single = spec.units.find((u) => u.serials[0] === 'B9')!; // 10.2.4, PA-440
  t.is(single.expectedMs, 60_000 + 120_000 + 300_000);
  const pair = spec.units.find((u) => u.ha)!;
  t.is(pair.expectedMs, 2 * (2 * 60_000 + 2 * (120_000 + 600_000)));
});

const PLAN = `name: spring
target: 11.1.2
select:
  all: true
exclude:
  hostnames: [fw-rome-*]
waves:
  - name: canary
    size: 2
    soak: 10m
    approval: true
  - size: rest
    concurrency: 5
windows:
  - Sat 01:00-05:00 Europe/Berlin
maxFailures: 10%
maxWaveFailures: 1
groupBy: site
`;

test('plan file: a YAML plan becomes a campaign spec', (t) => {
  const plan = parsePlanFile(PLAN, 'spring.yaml');
  const spec = planCampaign(planInput(plan, { campaignId: 'c2', devices: fleet(), concurrency: 2 }));
  t.is(spec.name, 'spring');
  t.is(spec.targetVersion, '11.1.2');
  t.deepEqual(spec.waves.map((w) => [w.name, w.units.length, w.concurrency, w.soakMs, w.approval]), [
    ['canary', 2, 2, 600_000, true],
    ['wave 2', 12, 5, 0, false],
  ]);
  t.deepEqual(spec.budget, { wave: { count: 1, percent: null }, overall: { count: null, percent: 10 } });
  t.deepEqual(spec.windows, ['Sat 01:00-05:00 Europe/Berlin']);
  t.is(spec.excluded.length, 6);
});

test('plan file: errors name the file, the line and the field', (t) => {
  const bad = (text: string): CampaignFileError => t.throws(() => parsePlanFile(text, 'p.yaml'), { instanceOf: CampaignFileError })!;
  t.is(bad(PLAN.replace('    soak: 10m', '    soak: ten minutes')).message, 'p.yaml:10: waves.0.soak: a duration such as 90s, 10m, 1h30m or a number of seconds');
  t.regex(bad(PLAN.replace('Sat 01:00-05:00 Europe/Berlin', 'Sat 01:00-05:00 Berlin')).message, /^p\.yaml:15: windows\.0: maintenance window "Sat 01:00-05:00 Berlin": "Berlin" is not a time zone/);
  t.regex(bad(PLAN.replace('groupBy: site', 'groupBy: city')).message, /^p\.yaml:18: groupBy: /);
  t.regex(bad(PLAN + 'colour: blue\n').message, /^p\.yaml:1: .*colour/);
  t.regex(bad('select: [unclosed\n').message, /^p\.yaml:\d+: the YAML cannot be read/);
  t.is(parseDuration('1h30m'), 5_400_000);
  t.is(parseDuration(90), 90_000);
  t.is(parseDuration('soon'), null);
});

test('plan: --exclude takes a serial (digits) or a hostname glob; a hostname of letters and digits is a hostname', (t) => {
  t.deepEqual(withExcluded(undefined, ['fw01', '007951000012345', 'fw-lab-*']), { serials: ['007951000012345'], hostnames: ['fw01', 'fw-lab-*'] });
  t.deepEqual(withExcluded({ hostnames: ['fw-dc1-*'] }, ['fwberlin01']), { hostnames: ['fw-dc1-*', 'fwberlin01'] });
  t.is(withExcluded(undefined, []), undefined);
  const devices = fleet().map((d) => (d.serial === 'B0' ? { ...d, hostname: 'fw01' } : d));
  const spec = planCampaign(input({ devices, selection: { hostnames: ['fw01', 'fw-paris-*'], exclude: withExcluded(undefined, ['fw01']) }, waves: 'rest' }));
  t.false(spec.units.some((u) => u.serials.includes('B0')), 'fw01 is left out');
  t.deepEqual(spec.excluded.map((e) => e.hostname), ['fw01']);
});

test('plan file: durations are bounded (soak 30 days, a phase timing 7 days, also after timeScale); a huge one is refused with file:line', (t) => {
  const bad = (text: string): string => t.throws(() => parsePlanFile(text, 'p.yaml'), { instanceOf: CampaignFileError })!.message;
  t.is(bad('select: { all: true }\nsoak: 9999999999h\n'), 'p.yaml:2: soak: at most 30 days (720h), not "9999999999h"');
  t.is(bad(PLAN.replace('    soak: 10m', '    soak: 721h')), 'p.yaml:10: waves.0.soak: at most 30 days (720h), not "721h"');
  t.is(bad('select: { all: true }\ntimings:\n  install: 1e300\n'), 'p.yaml:3: timings.install: at most 7 days (168h), not 1e+300');
  t.regex(bad('select: { all: true }\ntimings:\n  byModel:\n    PA-440: { reboot: 8d }\n'), /^p\.yaml:4: timings\.byModel\.PA-440\.reboot: a duration/);
  t.is(bad('select: { all: true }\ntimeScale: 1000\nsoak: 1h\n'), 'p.yaml:3: soak: at most 30 days of wall time: "1h" at timeScale 1000 is 1000h');
  t.notThrows(() => parsePlanFile('select: { all: true }\nsoak: 720h\ntimings: { install: 168h }\ntimeScale: 0.01\n', 'p.yaml'));
  // The same schema answers the daemon's campaign.create.
  t.false(CAMPAIGN_PLAN_SCHEMA.safeParse({ select: { all: true }, timings: { install: 1e300 } }).success);
});

test('plan: selection flags override the plan: --all/--device/--hostname replace its all, serials and hostnames; a filter flag replaces its own kind', (t) => {
  t.deepEqual(withSelection({ all: true }, { serials: ['B1'] }), { serials: ['B1'] });
  t.deepEqual(withSelection({ serials: ['B1'], hostnames: ['fw-rome-*'], versions: ['10.*'] }, { all: true }), { all: true, versions: ['10.*'] });
  t.deepEqual(withSelection({ all: true, models: ['PA-220'] }, { hostnames: ['fw-paris-*'] }), { hostnames: ['fw-paris-*'], models: ['PA-220'] });
  t.deepEqual(withSelection({ all: true, models: ['PA-220'] }, { models: ['PA-440'], deviceGroups: ['branch'] }), { all: true, models: ['PA-440'], deviceGroups: ['branch'] });
  t.deepEqual(withSelection({ all: true }, {}), { all: true });
  t.is(withSelection(undefined, {}), undefined);
  t.throws(() => withSelection(undefined, { all: true, serials: ['B1'] }), { message: /--all selects every device: give --all, or --device\/--hostname, not both/ });
  // Planned: the plan's all: true with --device B1 is that one device.
  const plan = parsePlanFile(PLAN, 'spring.yaml');
  const spec = planCampaign(planInput({ ...plan, waves: 'rest', select: withSelection(plan.select, { serials: ['B1'] }) }, { campaignId: 'c3', devices: fleet(), concurrency: 2 }));
  t.deepEqual(spec.units.map((u) => u.serials), [['B1']]);
});

test('planner: no wave disappears: a wave needs size or devices, a size of 0 is refused, only the last wave is rest, a devices wave left empty is refused', (t) => {
  const refused = (waves: PlanInput['waves']): string => t.throws(() => planCampaign(input({ waves })), { instanceOf: CampaignPlanError })!.message;
  t.is(refused([{ name: 'canary', approval: true }, { name: 'rest' }]), 'waves[0]: wave 1 "canary" has neither size nor devices: give size (a count such as 2, a percentage such as 10%, or rest for the last wave) or devices');
  t.is(refused([{ size: '0' }, { size: 'rest' }]), 'waves[0].size: wave 1: a wave size is a whole number from 1 to 100000, not "0"');
  t.is(refused('rest,rest'), 'waves: wave 1 of "rest,rest": only the last wave may be rest');
  t.is(refused('0,rest'), 'waves: wave 1 of "0,rest": a wave size is a whole number from 1 to 100000, not "0"');
  t.is(refused('canary:99999999999999999999,rest'), 'waves: wave 1 of "canary:99999999999999999999,rest": a wave size is a whole number from 1 to 100000, not "99999999999999999999"');
  t.is(refused([{ size: 'rest' }, { size: 2 }]), 'waves[0].size: wave 1: only the last wave may be rest (it is wave 1 of 2)');
  t.is(
    refused([{ name: 'pilot', devices: ['fw-paris-*'] }, { name: 'again', devices: ['fw-paris-01'], approval: true }, { size: 'rest' }]),
    'waves[1].devices: wave 2 "again": every device it names is already in an earlier wave; it would be empty',
  );
  t.is(refused([{ size: 2, devices: ['B1'] }, { size: 'rest' }]), 'waves[0]: wave 1: give either devices or size, not both');
});

test('plan file: a wave that would disappear is refused with file:line and the wave', (t) => {
  const bad = (text: string): string => t.throws(() => parsePlanFile(text, 'p.yaml'), { instanceOf: CampaignFileError })!.message;
  t.regex(bad('select: { all: true }\nwaves:\n  - name: canary\n    approval: true\n  - name: rest\n'), /^p\.yaml:3: waves\.0: wave 1 "canary" has neither size nor devices/);
  t.is(bad('select: { all: true }\nwaves:\n  - size: "0"\n  - size: rest\n'), 'p.yaml:3: waves.0.size: a wave size is a whole number from 1 to 100000, not "0"');
  t.is(bad('select: { all: true }\nwaves: "rest,rest"\n'), 'p.yaml:2: waves: wave 1 of "rest,rest": only the last wave may be rest');
  t.is(bad('select: { all: true }\nwaves: "canary:2,bogus"\n'), 'p.yaml:2: waves: wave 2 of "canary:2,bogus": "bogus" is not a wave size (a count such as 2, a percentage such as 10%, or rest)');
  t.regex(bad('select: { all: true }\nwaves:\n  - size: 2\n  - size: rest\n    soak: 1m\n  - size: 1\n'), /^p\.yaml:4: waves\.1\.size: wave 2: only the last wave may be rest/);
});

test('planner: devices that cannot be upgraded are left out with why (an active job, on or past the target, no path without a target); an HA pair goes with its busy peer', (t) => {
  const devices = fleet().map((d) =>
    d.serial === 'B0' ? { ...d, busy: 'already has an active download-only job j1' } : d.serial === 'B1' ? { ...d, swVersion: '11.1.2' } : d.serial === 'B2' ? { ...d, swVersion: '12.1.0' } : d.serial === 'P1B' ? { ...d, busy: 'is a unit of campaign c9 (running, wave 1, waiting)' } : d,
  );
  const spec = planCampaign(input({ devices, waves: 'rest' }));
  const why = new Map(spec.excluded.map((e) => [e.serial, e.reason]));
  t.is(why.get('B0'), 'already has an active download-only job j1');
  t.is(why.get('B1'), 'already runs the target 11.1.2');
  t.is(why.get('B2'), 'already runs 12.1.0, newer than the target 11.1.2');
  t.is(why.get('P1B'), 'is a unit of campaign c9 (running, wave 1, waiting)');
  t.is(why.get('P1A'), 'its HA peer fw-dc1-02 (P1B) is excluded; a pair is never split');
  t.false(spec.units.some((u) => u.serials.some((s) => ['B0', 'B1', 'B2', 'P1A', 'P1B'].includes(s))));
  t.is(spec.units.length, 20 - 4);
  // Selecting one peer of a pair whose other peer is busy: the pair is left out, and says why.
  const one = t.throws(() => planCampaign(input({ devices, selection: { serials: ['P1A'] }, waves: 'rest' })), { instanceOf: CampaignPlanError });
  t.is(one!.message, 'select: the selection matches no device that can be upgraded (1 left out: fw-dc1-01 (P1A): its HA peer fw-dc1-02 (P1B) is a unit of campaign c9 (running, wave 1, waiting); a pair is never split)');
  // Without a target, a device whose version has no configured path.
  const noPath = planCampaign(input({ devices: devices.map((d) => (d.serial === 'B3' ? { ...d, path: [] } : d)), targetVersion: null, waves: 'rest' }));
  t.is(noPath.excluded.find((e) => e.serial === 'B3')?.reason, 'no upgrade path configured for version 10.1.3 (and no target version given)');
  t.true(noPath.units.some((u) => u.serials.includes('B1')), 'without a target, the version alone does not say it is done');
  // With a target, a device whose configured path does not reach it is left out at create, not failed at its start.
  const short = planCampaign(input({ devices: devices.map((d) => (d.serial === 'B3' ? { ...d, path: ['10.2.9', '11.0.6'] } : d)), waves: 'rest' }));
  t.is(short.excluded.find((e) => e.serial === 'B3')?.reason, 'the upgrade path configured for 10.1.3 (10.2.9 → 11.0.6) does not reach the target 11.1.2');
  const reaches = planCampaign(input({ devices: devices.map((d) => (d.serial === 'B3' ? { ...d, path: ['10.2.9', '11.1.2', '12.1.0'] } : d)), waves: 'rest' }));
  t.true(reaches.units.some((u) => u.serials.includes('B3')), 'a path that passes through the target reaches it');
  // The rest of another version's path (a device stopped partway along it) does not bind a target past it: the job derives one.
  const borrowed = planCampaign(input({ devices: devices.map((d) => (d.serial === 'B3' ? { ...d, path: ['10.2.9', '11.0.6'], pathIsOwn: false } : d)), waves: 'rest' }));
  t.true(borrowed.units.some((u) => u.serials.includes('B3')));
});

test('planner: a maintenance window too short for any unit to fit is refused at create (the campaign halted at once), naming the unit and both durations; windows that join up count as one', (t) => {
  const timings = { downloadMs: 60_000, installMs: 120_000, rebootMs: 180_000 };
  const err = t.throws(() => planCampaign(input({ selection: { serials: ['B1'] }, waves: 'rest', windows: ['Sun 04:41-04:44 UTC'], timings })), { instanceOf: CampaignPlanError });
  t.is(err!.message, 'windows: no maintenance window is long enough for fw-paris-01 (expected 6 min: download, install and reboot), the longest lasts 3 min: lengthen a window, or give the models their real timings (timings:)');
  // Sat 23:00-24:00 and Sun 00:00-00:10 UTC join up: 70 minutes.
  const joined = planCampaign(input({ selection: { serials: ['B1'] }, waves: 'rest', windows: ['Sat 23:00-24:00 UTC', 'Sun 00:00-00:10 UTC'], timings: { ...timings, rebootMs: 65 * 60_000 } }));
  t.is(joined.units.length, 1);
});
