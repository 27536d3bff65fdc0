import { DurationEstimates } from '../../panos/poll-schedule.ts';
import test from 'ava';
import pino from 'pino';
import type { DeviceApi, RebootWaitOptions, WaitJobOptions } from '../../actors/device-api.ts';
import { contentStep, downloadStep, installStep, rebootStep, RecentReadings, snapshotStep, validateStep, type StepDeps } from '../../actors/step-effects.ts';
import { DeviceNotConnectedError } from '../../panos/errors.ts';
import { DEFAULT_PATH_RULES } from '../../panos/upgrade-path.ts';
import { DEFAULT_POLICY, evolveJob, initialJobState, type JobFact, type JobState } from '../../machines/index.ts';
import type { ParsedJob } from '../../panos/parsers.ts';
import { policyFromObject } from '../../checks/index.ts';

/**
 * Step effects against a scripted device: what a resumed step sends (and what it does not) follows
 * from the job's log, and its waits count from the logged time of the request (DESIGN.md).
 */
const NOW = Date.parse('2026-01-10T10:00:00.000Z');
const GRACE = 60_000;
const BUDGET = 600_000;
const POLL = 50;
/** What a content step records, download then install, when both are sent. */
const CONTENT_STEP_FACTS = [
  'job.content.download.requested',
  'job.content.download.enqueued',
  'job.content.download.completed',
  'job.content.install.requested',
  'job.content.install.enqueued',
  'job.content.updated',
];

function jobWith(...facts: Array<JobFact & { at?: string }>): JobState {
  const submitted: JobFact = {
    type: 'job.submitted',
    data: {
      jobId: 'j1',
      kind: 'upgrade',
      dryRun: false,
      device: { serial: 'S1', hostname: 'fw1', mgmtIp: '10.0.0.1', model: 'PA-440', swVersion: '10.1.0', haState: null, haPeer: null },
      targetVersion: '10.5.1',
      plan: [{ version: '10.5.1', action: 'install', reason: 'test' }],
      planSource: 'static',
      policy: DEFAULT_POLICY,
    },
  };
  return [submitted, ...facts].reduce((s, f) => evolveJob(s, f), initialJobState());
}

/** A device whose answers the test gives; every call is counted, a call nobody scripted fails the step. */
function device(answers: Record<string, (...args: never[]) => unknown>): { api: DeviceApi; calls: string[] } {
  const calls: string[] = [];
  const api = new Proxy({} as DeviceApi, {
    get: (_t, name: string) => {
      const f = (answers as Record<string, unknown>)[name];
      return (...args: unknown[]) => {
        calls.push(name);
        if (typeof f !== 'function') throw new Error(`unexpected call ${name}`);
        return (f as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
  return { api, calls };
}

function deps(api: DeviceApi): StepDeps {
  return {
    api: () => api,
    directApi: () => api,
    directDownloads: false,
    installVia: 'panorama',
    updateContent: true,
    pollJobMs: 1,
    estimates: new DurationEstimates(),
    jobTimeoutMs: 1000,
    pollRebootMs: POLL,
    rebootBudgetMs: () => BUDGET,
    rebootStartGraceMs: GRACE,
    pathRules: { ...DEFAULT_PATH_RULES, staticPaths: { '10.1.0': ['10.5.1'] } },
    durable: async () => undefined,
    current: () => undefined,
    now: () => NOW,
    log: pino({ level: 'silent' }),
  };
}

function context(recorded: JobFact[]) {
  return { signal: new AbortController().signal, record: async (f: JobFact) => void recorded.push(f), note: (f: JobFact) => void recorded.push(f) };
}

const finished = (id: number, type: string): ParsedJob => ({ id, type, status: 'FIN', result: 'OK', finished: true, ok: true, progress: 100, details: [] }) as unknown as ParsedJob;

test('reboot step: when it resumes a restart requested ten minutes ago then the start grace and budget count from the recorded request, and nothing is sent', async (t) => {
  const requestedAt = new Date(NOW - 10 * 60_000).toISOString();
  const job = jobWith(
    { type: 'job.step.started', data: { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 } },
    { type: 'job.reboot.requested', at: requestedAt, data: { version: '10.5.1', hop: 0, uptimeBefore: 5000 } },
    { type: 'job.reboot.acknowledged', data: { version: '10.5.1', hop: 0 } },
  );
  let seen: RebootWaitOptions | undefined;
  const { api, calls } = device({
    waitForReboot: async (o: RebootWaitOptions) => {
      seen = o;
      return { version: '10.5.1', uptimeSeconds: 30 };
    },
  });
  const recorded: JobFact[] = [];
  await rebootStep(deps(api))({ job, step: 'reboot', hop: 0 }, context(recorded));
  t.deepEqual(calls, ['waitForReboot']);
  // The wait counts grace and budget from the recorded request (both spent): no fresh grace for a restarted daemon.
  t.like(seen, { startGraceMs: GRACE, budgetMs: BUDGET, elapsedMs: 10 * 60_000 });
  t.is(seen?.previousVersion, '10.1.0');
  t.deepEqual(recorded.map((f) => f.type), ['job.reboot.completed']);
});

test('reboot step: when it resumes a restart requested 20 s ago then the wait is told so, and counts grace and budget from the request', async (t) => {
  const job = jobWith(
    { type: 'job.step.started', data: { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 } },
    { type: 'job.reboot.requested', at: new Date(NOW - 20_000).toISOString(), data: { version: '10.5.1', hop: 0, uptimeBefore: 5000 } },
  );
  let seen: RebootWaitOptions | undefined;
  const { api } = device({
    waitForReboot: async (o: RebootWaitOptions) => {
      seen = o;
      return { version: '10.5.1', uptimeSeconds: 30 };
    },
  });
  await rebootStep(deps(api))({ job, step: 'reboot', hop: 0 }, context([]));
  t.like(seen, { startGraceMs: GRACE, budgetMs: BUDGET, elapsedMs: 20_000 });
});

test('reboot step: the wait for an HA peer that is down counts from when the step began, as logged, so a resumed step gets no fresh budget', async (t) => {
  const withPeer = (startedAgo: number): JobState => {
    const job = jobWith({ type: 'job.step.started', at: new Date(NOW - startedAgo).toISOString(), data: { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 } });
    return { ...job, device: { ...job.device!, haPeer: 'S2' } };
  };
  const peerDown = () => device({ haState: async () => ({ enabled: true, local: { state: 'active' }, peer: { state: 'initial', connStatus: 'down' } }) });
  const spent = peerDown();
  const err = await t.throwsAsync(rebootStep(deps(spent.api))({ job: withPeer(BUDGET + 60_000), step: 'reboot', hop: 0 }, context([])));
  t.regex(err!.message, /^HA peer S2 is not up \(initial, connection down\): S1 is not restarted while its peer is down$/);
  t.deepEqual(spent.calls, ['haState'], 'the budget since the step began is spent: one look, then the step fails');
  const left = peerDown();
  const clock = { now: NOW };
  const d = { ...deps(left.api), now: () => (clock.now += POLL) };
  await t.throwsAsync(rebootStep(d)({ job: withPeer(BUDGET - 10 * POLL), step: 'reboot', hop: 0 }, context([])));
  t.true(left.calls.length <= 11 && left.calls.length >= 9, `${left.calls.length} looks: only what is left of the budget`);
});

test('content step: when it runs fresh then download and install are each recorded as requested before they are sent, and enqueued after', async (t) => {
  let jobs: ParsedJob[] = [finished(3, 'AutoCom')];
  const { api, calls } = device({
    contentInfo: async () => ({ current: '8700-8000', entries: [{ version: '8800-8100', downloaded: false, current: false } as never, { version: '8700-8000', downloaded: true, current: true } as never] }),
    jobsAll: async () => jobs,
    contentDownloadLatest: async () => {
      jobs = [...jobs, finished(4, 'Downld')];
      return 4;
    },
    contentInstall: async () => {
      jobs = [...jobs, finished(5, 'Content')];
      return 5;
    },
    waitForJob: async (id: number) => jobs.find((j) => j.id === id)!,
  });
  const job = jobWith({ type: 'job.step.started', data: { step: 'content', hop: 0, version: '10.5.1', attempt: 1 } });
  const recorded: JobFact[] = [];
  await contentStep(deps(api))({ job, step: 'content', hop: 0 }, context(recorded));
  t.deepEqual(recorded.map((f) => f.type), CONTENT_STEP_FACTS);
  t.is(calls.filter((c) => c === 'contentDownloadLatest').length, 1);
  t.is(calls.filter((c) => c === 'contentInstall').length, 1);
  t.like(recorded[0]!.data, { baselineJobId: 3 });
});

test('content step: when it resumes after a crash between the download request and its job id then it attaches to the job show jobs all lists, and downloads nothing', async (t) => {
  const jobs = [finished(3, 'AutoCom'), finished(4, 'Downld')];
  const { api, calls } = device({
    contentInfo: async () => ({ current: '8800-8100', entries: [{ version: '8800-8100', downloaded: true, current: true } as never] }),
    jobsAll: async () => jobs,
    waitForJob: async (id: number) => jobs.find((j) => j.id === id)!,
  });
  const job = jobWith(
    { type: 'job.step.started', data: { step: 'content', hop: 0, version: '10.5.1', attempt: 1 } },
    { type: 'job.content.download.requested', data: { version: 'latest', hop: 0, baselineJobId: 3 } },
  );
  const recorded: JobFact[] = [];
  await contentStep(deps(api))({ job, step: 'content', hop: 0 }, context(recorded));
  t.false(calls.includes('contentDownloadLatest'));
  t.false(calls.includes('contentInstall'), 'the newest content is installed already');
  t.deepEqual(recorded.slice(0, 2).map((f) => [f.type, (f.data as { panosJobId?: number }).panosJobId]), [
    ['job.content.download.enqueued', 4],
    ['job.content.download.completed', undefined],
  ]);
  t.is(recorded.at(-1)?.type, 'job.content.updated');
});

test('content step: when the download is recorded done and the install enqueued then the resumed step sends nothing and waits for that install', async (t) => {
  const jobs = [finished(4, 'Downld'), finished(5, 'Content')];
  const { api, calls } = device({
    contentInfo: async () => ({ current: '8800-8100', entries: [] }),
    waitForJob: async (id: number) => jobs.find((j) => j.id === id)!,
  });
  const job = jobWith(
    { type: 'job.step.started', data: { step: 'content', hop: 0, version: '10.5.1', attempt: 1 } },
    { type: 'job.content.download.completed', data: { version: 'latest', hop: 0 } },
    { type: 'job.content.install.requested', data: { version: 'latest', hop: 0, baselineJobId: 4 } },
    { type: 'job.content.install.enqueued', data: { version: 'latest', hop: 0, panosJobId: 5 } },
  );
  const recorded: JobFact[] = [];
  await contentStep(deps(api))({ job, step: 'content', hop: 0 }, context(recorded));
  t.deepEqual(calls, ['waitForJob', 'contentInfo']);
  t.deepEqual(recorded.map((f) => f.type), ['job.content.updated']);
});

// Issue 11: one transient not-connected answer among validation's calls failed the whole attempt.
test('validate step: when one of its read calls gets a transient not-connected answer then that call is tried again and the attempt succeeds', async (t) => {
  let notConnected = 1;
  const { api, calls } = device({
    systemInfo: async () => ({ swVersion: '10.1.0', appVersion: '8800-8100', uptimeSeconds: 5000 }),
    chassisReady: async () => true,
    jobsAll: async () => [],
    softwareInfo: async () => {
      if (notConnected-- > 0) throw new DeviceNotConnectedError('S1', ['Device S1 is not connected to Panorama']);
      return { entries: [{ version: '10.5.1', downloaded: false, sizeMb: 900 }] } as never;
    },
    diskSpace: async () => [{ filesystem: '/dev/sda8', sizeMb: 20_000, usedMb: 1000, availMb: 19_000, mount: '/opt/panrepo' }],
    haState: async () => ({ enabled: false }) as never,
    contentInfo: async () => ({ current: '8800-8100', entries: [] }),
  });
  const job = jobWith({ type: 'job.step.started', data: { step: 'validate', hop: 0, version: '10.5.1', attempt: 1 } });
  const recorded: JobFact[] = [];
  await validateStep(deps(api))({ job, step: 'validate', hop: 0 }, context(recorded));
  t.is(calls.filter((c) => c === 'softwareInfo').length, 2, 'the failed call, then its retry');
  t.is(recorded.at(-1)?.type, 'job.validated');
});

test('validate step: when a read call keeps answering not connected then the attempt fails after three tries of that call', async (t) => {
  const { api, calls } = device({
    systemInfo: async () => {
      throw new DeviceNotConnectedError('S1', ['Device S1 is not connected to Panorama']);
    },
  });
  const job = jobWith({ type: 'job.step.started', data: { step: 'validate', hop: 0, version: '10.5.1', attempt: 1 } });
  await t.throwsAsync(validateStep(deps(api))({ job, step: 'validate', hop: 0 }, context([])), { instanceOf: DeviceNotConnectedError });
  t.deepEqual(calls, ['systemInfo', 'systemInfo', 'systemInfo']);
});

/** The reads of a healthy standalone firewall on 10.1.0 with room for 10.5.1 (validate and readiness). */
const HEALTHY_READS = {
    systemInfo: async () => ({ swVersion: '10.1.0', appVersion: '8800-8100', uptimeSeconds: 5000, model: 'PA-440' }),
    chassisReady: async () => true,
    jobsAll: async () => [],
    softwareInfo: async () => ({ entries: [{ version: '10.5.1', downloaded: false, sizeMb: 900 }] }) as never,
    diskSpace: async () => [{ filesystem: '/dev/sda8', sizeMb: 20_000, usedMb: 1000, availMb: 19_000, mount: '/opt/panrepo' }],
    haState: async () => ({ enabled: false }) as never,
};

test('validate step: the readiness checks get what the step read already (system info, jobs, software, disk, HA) and read only the rest', async (t) => {
  const { api, calls } = device({
    ...HEALTHY_READS,
    contentInfo: async () => ({ current: '8800-8100', entries: [] }),
    readOp: async (cmd: string) => {
      if (cmd !== '<show><ntp></ntp></show>') throw new Error(`readiness read again: ${cmd}`);
      return '<response status="success"><result><synched>LOCAL</synched></result></response>';
    },
  });
  const readiness = policyFromObject({ checks: { ha: {}, content_version: {}, free_disk: {}, no_running_jobs: {}, reboot_budget: {}, ntp_sync: {} } });
  const job = jobWith({ type: 'job.step.started', data: { step: 'validate', hop: 0, version: '10.5.1', attempt: 1 } });
  const withPolicy = { ...job, policy: { ...job.policy, readiness } };
  const recorded: JobFact[] = [];
  await validateStep(deps(api))({ job: withPolicy, step: 'validate', hop: 0 }, context(recorded));
  t.deepEqual(calls.filter((c) => c === 'readOp'), ['readOp'], 'only show ntp');
  for (const c of ['systemInfo', 'jobsAll', 'softwareInfo', 'diskSpace', 'haState']) t.is(calls.filter((x) => x === c).length, 1, c);
  const report = recorded.find((f) => f.type === 'job.readiness.evaluated') as Extract<JobFact, { type: 'job.readiness.evaluated' }> | undefined;
  t.deepEqual(report?.data.report.verdicts.map((v) => v.check).sort(), ['content_version', 'free_disk', 'ha', 'no_running_jobs', 'ntp_sync', 'reboot_budget']);
  t.false(report?.data.report.verdicts.some((v) => v.status === 'unavailable' && v.check !== 'ntp_sync'), JSON.stringify(report?.data.report.verdicts));
});

/** A device for validate then pre-snapshot: its readOp answers for ARP and licenses, every call counted. */
function readinessDevice(contentEntries: Array<{ version: string }>) {
  return device({
    ...HEALTHY_READS,
    contentInfo: async () => ({ current: '8800-8100', entries: contentEntries }),
    readOp: async (cmd: string) => {
      if (cmd.startsWith('<show><arp>'))
        return '<response status="success"><result><max>1</max><total>1</total><timeout>1800</timeout><dp>dp0</dp><entries><entry><status>c</status><ip>10.0.0.2</ip><mac>00:00:00:00:00:02</mac><ttl>1</ttl><interface>ethernet1/1</interface><port>ethernet1/1</port></entry></entries></result></response>';
      if (cmd.startsWith('<request><license>')) return '<response status="success"><result><licenses/></result></response>';
      throw new Error(`unexpected read ${cmd}`);
    },
  });
}

const arpAndLicenses = policyFromObject({
  checks: { arp_entries: {}, ha: {}, free_disk: {} },
  snapshots: { routes: { enabled: false }, fib: { enabled: false }, sessions: { enabled: false }, interfaces: { enabled: false }, bgp_peers: { enabled: false }, ipsec_tunnels: { enabled: false }, content: { enabled: false } },
});

test('pre-snapshot: right after a validate step without content update it takes what the readiness checks read (ARP) and reads only the rest (licenses)', async (t) => {
  const { api, calls } = readinessDevice([]);
  const recent = new RecentReadings(() => NOW);
  const job = jobWith({ type: 'job.step.started', data: { step: 'validate', hop: 0, version: '10.5.1', attempt: 1 } });
  const withPolicy = { ...job, policy: { ...job.policy, readiness: arpAndLicenses } };
  const recorded: JobFact[] = [];
  await validateStep(deps(api), recent)({ job: withPolicy, step: 'validate', hop: 0 }, context(recorded));
  t.is(calls.filter((c) => c === 'readOp').length, 1, 'the ARP table, for the check');
  await snapshotStep(deps(api), recent)({ job: withPolicy, step: 'pre-snapshot', hop: 0 }, context(recorded));
  t.is(calls.filter((c) => c === 'readOp').length, 2, 'then only the licenses');
  const snap = recorded.find((f) => f.type === 'job.snapshot.taken') as Extract<JobFact, { type: 'job.snapshot.taken' }> | undefined;
  t.is(snap?.data.snapshot.areas.arp?.count, 1);
  t.truthy(snap?.data.snapshot.areas.licenses);
  // Taken once: the post-upgrade snapshot (and any later one) reads the device.
  await snapshotStep(deps(api), recent)({ job: withPolicy, step: 'post-snapshot', hop: 0 }, context(recorded));
  t.is(calls.filter((c) => c === 'readOp').length, 4);
  t.is(recent.size, 0);
});

test('pre-snapshot: after a validate step that found a content update it reads everything again (the update may change it)', async (t) => {
  const { api, calls } = readinessDevice([{ version: '8900-8200' }]);
  const recent = new RecentReadings(() => NOW);
  const job = jobWith({ type: 'job.step.started', data: { step: 'validate', hop: 0, version: '10.5.1', attempt: 1 } });
  const withPolicy = { ...job, policy: { ...job.policy, readiness: arpAndLicenses } };
  const recorded: JobFact[] = [];
  await validateStep(deps(api), recent)({ job: withPolicy, step: 'validate', hop: 0 }, context(recorded));
  t.true((recorded.find((f) => f.type === 'job.validated') as Extract<JobFact, { type: 'job.validated' }>).data.contentUpdate);
  await snapshotStep(deps(api), recent)({ job: withPolicy, step: 'pre-snapshot', hop: 0 }, context(recorded));
  t.is(calls.filter((c) => c === 'readOp').length, 3, 'ARP for the check, then ARP and licenses for the snapshot');
});

test('pre-snapshot: readings older than the bound are not taken', async (t) => {
  let now = NOW;
  const recent = new RecentReadings(() => now, 30_000);
  recent.keep('j1', { mpClock: { ok: true, value: 1 }, ntp: { ok: false, reason: 'refused' } });
  t.deepEqual(Object.keys(recent.take('j1') ?? {}), ['mpClock'], 'a refused reading is read again');
  recent.keep('j1', { mpClock: { ok: true, value: 1 } });
  now += 30_001;
  t.is(recent.take('j1'), undefined);
});

/** A healthy standalone firewall offered newer content, through validate, its content step and downloads. */
function upgradingDevice(overrides: Record<string, unknown> = {}) {
  let jobs: ParsedJob[] = [finished(3, 'AutoCom')];
  const add = (type: string): number => {
    const id = (jobs.at(-1)?.id ?? 0) + 1;
    jobs = [...jobs, finished(id, type)];
    return id;
  };
  return device({
    ...HEALTHY_READS,
    jobsAll: async () => jobs,
    contentInfo: async () => ({ current: '8800-8100', entries: [{ version: '8900-8200', downloaded: false, current: false } as never, { version: '8800-8100', downloaded: true, current: true } as never] }),
    contentDownloadLatest: async () => add('Downld'),
    contentInstall: async () => add('Content'),
    download: async () => add('Downld'),
    waitForJob: async (id: number) => jobs.find((j) => j.id === id)!,
    ...overrides,
  });
}

test('content step: right after a validate step that found a content update it takes validate’s content list, and after its own download asks nothing before the install', async (t) => {
  const { api, calls } = upgradingDevice();
  const recent = new RecentReadings(() => NOW);
  const job = jobWith({ type: 'job.step.started', data: { step: 'validate', hop: 0, version: '10.5.1', attempt: 1 } });
  const recorded: JobFact[] = [];
  await validateStep(deps(api), recent)({ job, step: 'validate', hop: 0 }, context(recorded));
  t.is(calls.filter((c) => c === 'contentInfo').length, 1, 'validate’s own read');
  const before = calls.length;
  await contentStep(deps(api), recent)({ job, step: 'content', hop: 0 }, context(recorded));
  const content = calls.slice(before);
  // Only the read that says what was installed; each request still gets its `show jobs all` baseline before it is sent.
  t.deepEqual(content, ['jobsAll', 'contentDownloadLatest', 'waitForJob', 'jobsAll', 'contentInstall', 'waitForJob', 'contentInfo']);
  t.deepEqual(recorded.filter((f) => f.type.startsWith('job.content.')).map((f) => f.type), CONTENT_STEP_FACTS);
  t.is(recent.answersKept, 1, 'the software list, for the download');
});

test('content step: without validate’s list (a retry, a resumed step) it reads the device before the download, and not again before the install it follows', async (t) => {
  const { api, calls } = upgradingDevice();
  const job = jobWith({ type: 'job.step.started', data: { step: 'content', hop: 0, version: '10.5.1', attempt: 2 } });
  await contentStep(deps(api), new RecentReadings(() => NOW))({ job, step: 'content', hop: 0 }, context([]));
  t.deepEqual(calls, ['contentInfo', 'jobsAll', 'contentDownloadLatest', 'waitForJob', 'jobsAll', 'contentInstall', 'waitForJob', 'contentInfo']);
});

test('content step: when the download was found in flight after a restart then the install asks the device whether it is needed', async (t) => {
  const { api, calls } = upgradingDevice();
  const job = jobWith(
    { type: 'job.step.started', data: { step: 'content', hop: 0, version: '10.5.1', attempt: 1 } },
    { type: 'job.content.download.requested', data: { version: 'latest', hop: 0, baselineJobId: 3 } },
    { type: 'job.content.download.enqueued', data: { version: 'latest', hop: 0, panosJobId: 3 } },
  );
  await contentStep(deps(api), new RecentReadings(() => NOW))({ job, step: 'content', hop: 0 }, context([]));
  t.deepEqual(calls, ['waitForJob', 'contentInfo', 'jobsAll', 'contentInstall', 'waitForJob', 'contentInfo']);
});

test('download step: the download of validate’s hop takes validate’s software list (taken once: another attempt reads the device)', async (t) => {
  const { api, calls } = upgradingDevice();
  const recent = new RecentReadings(() => NOW);
  const job = jobWith({ type: 'job.step.started', data: { step: 'validate', hop: 0, version: '10.5.1', attempt: 1 } });
  await validateStep(deps(api), recent)({ job, step: 'validate', hop: 0 }, context([]));
  t.is(calls.filter((c) => c === 'softwareInfo').length, 1);
  const before = calls.length;
  const recorded: JobFact[] = [];
  await downloadStep(deps(api), recent)({ job, step: 'download', hop: 0 }, context(recorded));
  t.deepEqual(calls.slice(before), ['jobsAll', 'download', 'waitForJob'], 'the request still has its baseline');
  t.deepEqual(recorded.map((f) => f.type), ['job.download.requested', 'job.download.enqueued', 'job.download.completed']);
  const again = calls.length;
  await downloadStep(deps(api), recent)({ job, step: 'download', hop: 0 }, context([]));
  t.is(calls[again], 'softwareInfo');
});

test('download step: validate’s software list is not taken for another hop', async (t) => {
  const { api, calls } = upgradingDevice();
  const recent = new RecentReadings(() => NOW);
  recent.keepAnswer('j1', 'software', { hop: 1, info: { entries: [] } as never });
  await downloadStep(deps(api), recent)({ job: jobWith(), step: 'download', hop: 0 }, context([]));
  t.is(calls[0], 'softwareInfo');
});

test('reboot step: a restart it sent itself is looked at again, once seen down, when reboots of its model learnt meanwhile say it is back; a resumed wait is not given that', async (t) => {
  const seen: RebootWaitOptions[] = [];
  const { api } = device({
    systemInfo: async () => ({ swVersion: '10.1.0', uptimeSeconds: 5000 }),
    restart: async () => ({ acknowledged: true }),
    waitForReboot: async (o: RebootWaitOptions) => {
      seen.push(o);
      return { version: '10.5.1', uptimeSeconds: 30 };
    },
  });
  const d = deps(api);
  const fresh = jobWith({ type: 'job.step.started', data: { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 } });
  await rebootStep(d)({ job: fresh, step: 'reboot', hop: 0 }, context([]));
  t.is(seen[0]?.expectedMs, 0, 'nothing learnt when it began: the first look is at once, as before');
  t.is(seen[0]?.expectedBackMs?.(), undefined, 'nothing learnt yet');
  d.estimates.record('reboot PA-440', 90_000);
  t.is(seen[0]?.expectedBackMs?.(), 90_000, 'learnt while it waited: back 90 s after the restart it sent');
  const resumed = jobWith(
    { type: 'job.step.started', data: { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 } },
    { type: 'job.reboot.requested', at: new Date(NOW - 1000).toISOString(), data: { version: '10.5.1', hop: 0, uptimeBefore: 5000 } },
  );
  await rebootStep(d)({ job: resumed, step: 'reboot', hop: 0 }, context([]));
  t.is(seen[1]?.expectedBackMs, undefined);
});

test('job waits: a content download is first looked at when content downloads took, not software downloads (both are Downld jobs); each learns its wait less the round trip of the look that found it done', async (t) => {
  let clock = NOW;
  const waits: { id: number; expectedMs: number | undefined }[] = [];
  const { api } = upgradingDevice({
    waitForJob: async (id: number, o: WaitJobOptions) => {
      waits.push({ id, expectedMs: o.expectedMs });
      // Seen running, then done 5 s after it was sent by a look that took 1.2 s on the wire.
      const job = finished(id, 'Downld');
      o.onProgress?.({ ...job, status: 'ACT', finished: false, progress: 50 }, { ms: 10 });
      clock += 5000;
      o.onProgress?.(job, { ms: 1200 });
      return job;
    },
  });
  const d = { ...deps(api), now: () => clock };
  d.estimates.record('software download PA-440', 300_000);
  const job = jobWith({ type: 'job.step.started', data: { step: 'content', hop: 0, version: '10.5.1', attempt: 1 } });
  await contentStep(d, new RecentReadings(() => clock))({ job, step: 'content', hop: 0 }, context([]));
  t.deepEqual(
    waits.map((w) => w.expectedMs),
    [undefined, undefined],
    'no content download or install was seen yet: nothing is expected, whatever software downloads took',
  );
  t.is(d.estimates.expected('content download PA-440'), 3800);
  t.is(d.estimates.expected('content install PA-440'), 3800);
  t.is(d.estimates.expected('software download PA-440'), 300_000, 'untouched');
  await contentStep(d, new RecentReadings(() => clock))({ job, step: 'content', hop: 0 }, context([]));
  t.deepEqual(
    waits.slice(2).map((w) => w.expectedMs),
    [3800, 3800],
  );
});

test('reboot step: the reboot duration it learns leaves out the look that found the device back', async (t) => {
  let clock = NOW;
  const { api } = device({
    systemInfo: async () => ({ swVersion: '10.1.0', uptimeSeconds: 5000 }),
    restart: async () => ({ acknowledged: true }),
    waitForReboot: async () => {
      clock += 90_000;
      return { version: '10.5.1', uptimeSeconds: 30, seenUnfinished: true, lookMs: 4000 };
    },
  });
  const d = { ...deps(api), now: () => clock };
  const job = jobWith({ type: 'job.step.started', data: { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 } });
  await rebootStep(d)({ job, step: 'reboot', hop: 0 }, context([]));
  t.is(d.estimates.expected('reboot PA-440'), 86_000);
});

test('install step: when it resumes an install requested before a crash then the wait for its PAN-OS job counts its timeout from the recorded request, not from the resume', async (t) => {
  const waits: Array<{ timeoutMs: number; elapsedMs?: number }> = [];
  const { api } = device({ waitForJob: async (id: number, o: { timeoutMs: number; elapsedMs?: number }) => (waits.push({ timeoutMs: o.timeoutMs, ...(o.elapsedMs !== undefined ? { elapsedMs: o.elapsedMs } : {}) }), finished(id, 'SWInstall')) });
  const requestedAt = new Date(NOW - 700).toISOString();
  const job = jobWith(
    { type: 'job.step.started', data: { step: 'install', hop: 0, version: '10.5.1', attempt: 1 } },
    { type: 'job.install.requested', data: { version: '10.5.1', hop: 0, baselineJobId: 4 }, at: requestedAt },
    { type: 'job.install.enqueued', data: { version: '10.5.1', hop: 0, panosJobId: 5 }, at: requestedAt },
  );
  t.is(job.install?.requestedAt, requestedAt);
  const recorded: JobFact[] = [];
  await installStep(deps(api))({ job, step: 'install', hop: 0 }, context(recorded));
  t.deepEqual(waits, [{ timeoutMs: 1000, elapsedMs: 700 }]);
  t.deepEqual(recorded.map((f) => f.type), ['job.install.completed']);
});
