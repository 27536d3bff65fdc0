import test from 'ava';
import { CHECK_NAMES, DEFAULT_POLICY_YAML, defaultReadinessPolicy, parsePolicy, policyFromObject, PolicyError, policyToObject, SNAPSHOT_AREAS } from '../../checks/index.ts';

test('policy: the shipped default enables every check and every snapshot area', (t) => {
  const p = defaultReadinessPolicy();
  t.deepEqual(Object.keys(p.checks).filter((k) => p.checks[k]?.enabled), [...CHECK_NAMES]);
  t.deepEqual(Object.keys(p.snapshots), [...SNAPSHOT_AREAS]);
  t.like(p.checks.dataplane_cpu, { severity: 'warn', params: { max_pct: 80, minutes: 5 } });
  t.like(p.snapshots.routes, { max_change_pct: 0, severity: 'block' });
  t.like(p.snapshots.arp, { max_change_pct: 5, max_change_count: 5 });
});

test('policy: parameters left out take their defaults; a check left out does not run', (t) => {
  const p = parsePolicy('checks:\n  dataplane_cpu: { max_pct: 60 }\n', 'p.yaml');
  t.deepEqual(p.checks.dataplane_cpu, { enabled: true, params: { max_pct: 60, minutes: 5 } });
  t.is(p.checks.ha, undefined);
  t.like(p.snapshots.bgp_peers, { keep_all: true, allow_state_changes: false });
});

const bad = (yaml: string) => {
  const err = (() => {
    try {
      parsePolicy(yaml, 'site.yaml');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  if (!(err instanceof PolicyError)) throw new Error(`expected a PolicyError, got ${String(err)}`);
  return err;
};

test('policy: a wrong value names the file, the line and the field', (t) => {
  const e = bad('name: site\nchecks:\n  ha: { severity: block }\n  dataplane_cpu:\n    max_pct: 180\n');
  t.is(e.line, 5);
  t.is(e.path, 'checks.dataplane_cpu.max_pct');
  t.regex(e.message, /^site\.yaml:5: checks\.dataplane_cpu\.max_pct: /);
});

test('policy: an unknown check is named with the known ones, at its line', (t) => {
  const e = bad('checks:\n  ha: {}\n  ntp_synced: {}\n');
  t.is(e.line, 3);
  t.regex(e.message, /site\.yaml:3: checks: unknown field\(s\) "ntp_synced"; known checks: panorama_connected, ha, ntp_sync/);
});

test('policy: an unknown parameter and a bad severity are refused at their lines', (t) => {
  t.is(bad('checks:\n  ha:\n    skip_sync: true\n').line, 3);
  const sev = bad('checks:\n  ha:\n    severity: fatal\n');
  t.is(sev.line, 3);
  t.is(sev.path, 'checks.ha.severity');
  const area = bad('snapshots:\n  routes:\n    max_change_pct: -1\n');
  t.is(area.path, 'snapshots.routes.max_change_pct');
  t.is(area.line, 3);
});

test('policy: broken YAML is refused with its line', (t) => {
  const e = bad('checks:\n  ha: {\n');
  t.truthy(e.line);
  t.regex(e.message, /^site\.yaml:\d+: /);
});

test('policy: the object form (NATS payloads, job records) uses the same schema', (t) => {
  t.like(policyFromObject({ checks: { no_locks: { severity: 'warn' } } }).checks.no_locks, { enabled: true, severity: 'warn' });
  const e = t.throws(() => policyFromObject({ checks: { no_locks: { severity: 'sometimes' } } }), { instanceOf: PolicyError });
  t.is(e?.path, 'checks.no_locks.severity');
  t.true(DEFAULT_POLICY_YAML.includes('snapshots:'));
});

test('policy: a validated policy goes back to the YAML shape and validates to itself (what payloads carry)', (t) => {
  const p = parsePolicy('name: site\nchecks:\n  no_locks: { severity: warn }\n  dataplane_cpu: { max_pct: 70 }\nsnapshots:\n  routes: { max_change_pct: 2 }\n', 's.yaml');
  t.deepEqual(policyFromObject(policyToObject(p)), p);
  t.deepEqual(policyFromObject(policyToObject(defaultReadinessPolicy())), defaultReadinessPolicy());
});

test('policy: a file with no checks: section (empty, cut short, only a name) is refused, since it would run no check and say Ready; checks: {} runs none on purpose', (t) => {
  for (const text of ['', '\n', '# nothing\n', 'name: site\n', 'snapshots:\n  routes: { max_change_pct: 2 }\n']) {
    const err = t.throws(() => parsePolicy(text, 'site.yaml'), { instanceOf: PolicyError });
    t.is(err!.message, 'site.yaml: checks: missing: without a checks: section no readiness check runs (to run none on purpose, write checks: {}; the shipped policy: panos-upgrade check --print-policy)', JSON.stringify(text));
  }
  t.deepEqual(Object.values(parsePolicy('checks: {}\n', 'none.yaml').checks).filter(Boolean), []);
});
