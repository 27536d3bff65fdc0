import test from 'ava';
import { configuredPath, DEFAULT_PATH_RULES, planUpgrade, type PathRules, type PlanResult, type PlannedHop } from '../../panos/upgrade-path.ts';

const SEED_RULES: PathRules = { ...DEFAULT_PATH_RULES, staticPaths: { '10.0.2': ['10.1.0', '10.5.1', '11.1.0'] } };
const SEED_OFFER = ['10.0.2', '10.1.0', '10.5.1', '11.1.0'];

function hops(r: PlanResult): PlannedHop[] {
  if (!r.ok) throw new Error(`expected a plan, got: ${r.reason}`);
  return r.plan.hops;
}

const steps = (r: PlanResult) => hops(r).map((h) => (h.action === 'download' ? `${h.version} (download)` : h.version));

function reason(r: PlanResult): string {
  if (r.ok) throw new Error(`expected no plan, got ${JSON.stringify(r.plan.hops)}`);
  return r.reason;
}

test('planUpgrade: when no base image is listed then the seed static path is planned unchanged', (t) => {
  const r = planUpgrade({ current: '10.0.2', available: SEED_OFFER, rules: SEED_RULES });
  t.deepEqual(r, {
    ok: true,
    plan: {
      from: '10.0.2',
      target: '11.1.0',
      source: 'static',
      hops: [
        { version: '10.1.0', action: 'install', reason: 'step 1 of the configured upgrade path' },
        { version: '10.5.1', action: 'install', reason: 'step 2 of the configured upgrade path' },
        { version: '11.1.0', action: 'install', reason: 'target of the configured upgrade path' },
      ],
    },
  });
});

test('planUpgrade: when the device lists a base image then it is downloaded (not installed) before the first version of its release', (t) => {
  const r = planUpgrade({ current: '10.0.2', available: [...SEED_OFFER, '10.5.0'], rules: SEED_RULES });
  t.deepEqual(steps(r), ['10.1.0', '10.5.0 (download)', '10.5.1', '11.1.0']);
  const b = hops(r)[1]!;
  t.is(b.reason, 'base image of the 10.5 feature release: PAN-OS needs it in the software manager before installing 10.5.1');
});

test('planUpgrade: when the 12.1 release is the target then its base image is 12.1.2, even when 12.1.0 is listed', (t) => {
  const r = planUpgrade({ current: '11.2.4', target: '12.1.4', available: ['11.2.4', '12.1.0', '12.1.2', '12.1.4'], rules: DEFAULT_PATH_RULES });
  t.deepEqual(steps(r), ['12.1.2 (download)', '12.1.4']);
  t.deepEqual(steps(planUpgrade({ current: '11.2.4', target: '12.1.2', available: ['12.1.2', '12.1.4'], rules: DEFAULT_PATH_RULES })), ['12.1.2']);
});

test('planUpgrade: when the path is derived then it crosses every feature release in order, installing the newest version of each', (t) => {
  const available = ['10.0.2', '10.1.3', '10.1.14', '10.1.14-h1', '10.2.4', '10.2.9-h1', '11.0.1', '11.0.3', '11.1.1', '11.1.2', '11.1.4'];
  const r = planUpgrade({ current: '10.0.2', target: '11.1.2', available, rules: DEFAULT_PATH_RULES });
  t.deepEqual(steps(r), ['10.1.14-h1', '10.2.9-h1', '11.0.3', '11.1.2']);
  t.like(r, { ok: true, plan: { from: '10.0.2', target: '11.1.2', source: 'derived' } });
  t.is(hops(r)[0]!.reason, 'intermediate feature release 10.1: PAN-OS cannot go from 10.0 to 11.1 directly');
  t.is(hops(r).at(-1)!.reason, 'target version');
});

test('planUpgrade: when a derived path crosses releases whose base images are listed then each base comes before its release', (t) => {
  const available = ['10.1.0', '10.1.6', '10.2.0', '10.2.3', '11.0.0', '11.0.2'];
  const r = planUpgrade({ current: '10.0.2', target: '11.0.2', available, rules: DEFAULT_PATH_RULES });
  t.deepEqual(steps(r), ['10.1.0 (download)', '10.1.6', '10.2.0 (download)', '10.2.3', '11.0.0 (download)', '11.0.2']);
});

test('planUpgrade: when the target is in the current release then it is one hop', (t) => {
  t.deepEqual(steps(planUpgrade({ current: '10.1.3', target: '10.1.9', available: ['10.1.0', '10.1.3', '10.1.9'], rules: DEFAULT_PATH_RULES })), ['10.1.9']);
});

test('planUpgrade: when skipping is allowed from the current release then a hop skips up to maxSkippedReleases releases', (t) => {
  const available = ['10.2.9', '11.0.3', '11.1.4', '11.2.5', '12.1.4'];
  const rules = { ...DEFAULT_PATH_RULES, maxSkippedReleases: 3 };
  // 10.2, 11.0, 11.1 and 11.2 lie between 10.1 and 12.1: one hop skips three of them, the next reaches the target.
  const r = planUpgrade({ current: '10.1.5', target: '12.1.4', available, rules });
  t.deepEqual(steps(r), ['11.2.5', '12.1.4']);
  t.is(hops(r)[0]!.reason, 'intermediate feature release 11.2: PAN-OS cannot go from 10.1 to 12.1 directly (skipping at most 3)');
  t.deepEqual(steps(planUpgrade({ current: '10.1.5', target: '11.2.5', available, rules })), ['11.2.5']);
  t.deepEqual(steps(planUpgrade({ current: '10.1.5', target: '12.1.4', available, rules: { ...rules, maxSkippedReleases: 1 } })), ['11.0.3', '11.2.5', '12.1.4']);
});

test('planUpgrade: when the current release may not skip then it moves one release before skipping', (t) => {
  const available = ['10.1.9', '10.2.9', '11.0.3', '11.1.4'];
  const rules = { ...DEFAULT_PATH_RULES, maxSkippedReleases: 3 };
  t.deepEqual(steps(planUpgrade({ current: '10.0.2', target: '11.1.4', available, rules })), ['10.1.9', '11.1.4']);
  t.deepEqual(steps(planUpgrade({ current: '10.1.5', target: '11.1.4', available, rules: { ...rules, skipFrom: [] } })), ['10.2.9', '11.0.3', '11.1.4']);
});

test('planUpgrade: when the target is not offered, not newer or missing then the reason says so', (t) => {
  t.is(reason(planUpgrade({ current: '10.0.2', target: '10.2.3', available: ['10.1.0'], rules: DEFAULT_PATH_RULES })), 'the device is not offered 10.2.3 (run a software check on it: request system software check, or Check Now in Panorama)');
  t.is(reason(planUpgrade({ current: '10.1.0', target: '10.0.2', available: ['10.0.2'], rules: DEFAULT_PATH_RULES })), 'the device already runs 10.1.0, which is not older than 10.0.2');
  t.is(reason(planUpgrade({ current: '10.1.0', target: '10.1.0', available: ['10.1.0'], rules: DEFAULT_PATH_RULES })), 'the device already runs 10.1.0, which is not older than 10.1.0');
  t.is(reason(planUpgrade({ current: '10.0.2', available: SEED_OFFER, rules: DEFAULT_PATH_RULES })), 'no upgrade path configured for 10.0.2 and no target version given');
  t.is(reason(planUpgrade({ current: '10.0.2', target: 'latest', available: SEED_OFFER, rules: DEFAULT_PATH_RULES })), 'target "latest" is not a PAN-OS version');
  t.is(reason(planUpgrade({ current: 'ten', target: '10.1.0', available: SEED_OFFER, rules: DEFAULT_PATH_RULES })), 'current version "ten" is not a PAN-OS version');
});

test('planUpgrade: when a static path is configured but not offered or not reaching the target then the reason says so', (t) => {
  t.is(
    reason(planUpgrade({ current: '10.0.2', available: ['10.1.0', '11.1.0'], rules: SEED_RULES })),
    'the device is not offered 10.5.1 of its upgrade path (run a software check on it: request system software check, or Check Now in Panorama)',
  );
  t.is(
    reason(planUpgrade({ current: '10.0.2', target: '10.2.3', available: [...SEED_OFFER, '10.2.3'], rules: SEED_RULES })),
    'the upgrade path configured for 10.0.2 (10.1.0 → 10.5.1 → 11.1.0) does not reach 10.2.3',
  );
});

test('planUpgrade: when the target lies on the static path then the path is cut after it', (t) => {
  const r = planUpgrade({ current: '10.0.2', target: '10.5.1', available: SEED_OFFER, rules: SEED_RULES });
  t.deepEqual(hops(r), [
    { version: '10.1.0', action: 'install', reason: 'step 1 of the configured upgrade path' },
    { version: '10.5.1', action: 'install', reason: 'target of the configured upgrade path' },
  ]);
  t.like(r, { ok: true, plan: { target: '10.5.1', source: 'static' } });
  // The cut path needs only what it installs to be offered.
  t.true(planUpgrade({ current: '10.0.2', target: '10.5.1', available: ['10.1.0', '10.5.1'], rules: SEED_RULES }).ok);
});

test('planUpgrade: a device stopped partway along a configured path (a cancel, a failed hop) goes on along the rest of it; one at its end is told so', (t) => {
  const r = planUpgrade({ current: '10.5.1', available: SEED_OFFER, rules: SEED_RULES });
  t.deepEqual(hops(r), [{ version: '11.1.0', action: 'install', reason: 'target of the configured upgrade path' }]);
  t.like(r, { ok: true, plan: { from: '10.5.1', target: '11.1.0', source: 'static' } });
  t.deepEqual(steps(planUpgrade({ current: '10.1.0', available: SEED_OFFER, rules: SEED_RULES })), ['10.5.1', '11.1.0']);
  // Its own configured path wins over the rest of another's.
  const own: PathRules = { ...DEFAULT_PATH_RULES, staticPaths: { ...SEED_RULES.staticPaths, '10.5.1': ['11.0.3'] } };
  t.deepEqual(steps(planUpgrade({ current: '10.5.1', available: [...SEED_OFFER, '11.0.3'], rules: own })), ['11.0.3']);
  // Of two paths through it, the one that leads furthest.
  const two: PathRules = { ...DEFAULT_PATH_RULES, staticPaths: { '10.0.2': ['10.1.0', '10.5.1'], '9.1.9': ['10.1.0', '10.5.1', '11.1.0'] } };
  t.deepEqual(steps(planUpgrade({ current: '10.1.0', available: SEED_OFFER, rules: two })), ['10.5.1', '11.1.0']);
  t.is(reason(planUpgrade({ current: '11.1.0', available: SEED_OFFER, rules: SEED_RULES })), 'already runs 11.1.0, the end of the upgrade path configured for 10.0.2 (give a target version to go further)');
  t.deepEqual(configuredPath(SEED_RULES.staticPaths, '10.5.1'), { versions: ['11.1.0'], from: '10.0.2' });
  t.deepEqual(configuredPath(SEED_RULES.staticPaths, '10.0.2'), { versions: ['10.1.0', '10.5.1', '11.1.0'], from: '10.0.2' });
  t.deepEqual(configuredPath(SEED_RULES.staticPaths, '9.0.0'), { versions: [], from: null });
  // Toward a target on the rest of that path, the rest is followed; toward one past it, the path is derived, not refused.
  t.deepEqual(steps(planUpgrade({ current: '10.1.0', target: '10.5.1', available: SEED_OFFER, rules: SEED_RULES })), ['10.5.1']);
  const beyond = planUpgrade({ current: '10.5.1', target: '11.2.3', available: [...SEED_OFFER, '11.2.3'], rules: SEED_RULES });
  t.like(beyond, { ok: true, plan: { source: 'derived', target: '11.2.3' } });
});
