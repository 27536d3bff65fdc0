import test, { type ExecutionContext } from 'ava';
import { SimulatedClock, createActor, fromCallback, type Snapshot } from 'xstate';
import {
  DEFAULT_POLICY,
  deadlineEffect,
  foldJob,
  submittedJobState,
  toStatusRecord,
  upgradeJobMachine,
  type JobDevice,
  type JobFact,
  type JobKind,
  type JobPolicy,
  type JobState,
  type JobStatusRecord,
  type JobSnapshot,
  type StampedJobFact,
  type StepInput,
  type UpgradeJobEvent,
} from '../../machines/index.ts';
import { planUpgrade, DEFAULT_PATH_RULES, type PlannedHop } from '../../panos/upgrade-path.ts';

const T0 = Date.parse('2025-11-23T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const SERIAL = '001234567890';
const SEED_PATH = ['10.1.0', '10.5.1', '11.1.0'];

const DEVICE: JobDevice = { serial: SERIAL, hostname: 'fw-dc1-01', mgmtIp: '10.1.1.10', model: 'PA-3220', swVersion: '10.0.2', haState: null, haPeer: null };
/** A device snapshot with this many routes, active sessions and ARP entries (checks/snapshot.ts's shape). */
function snap(routes: number, sessions: number, arp: number): JobSnapshot {
  const table = (n: number, key: (i: number) => string) => ({ count: n, entries: Object.fromEntries(Array.from({ length: n }, (_, i) => [key(i), { interface: 'ethernet1/1' }])) });
  return {
    areas: {
      routes: table(routes, (i) => `default 10.${i >> 8}.${i & 255}.0/24 via 10.0.0.1`),
      arp: table(arp, (i) => `ethernet1/1 10.1.${i >> 8}.${i & 255}`),
      sessions: { count: sessions, entries: {} },
    },
    unavailable: {},
  };
}
const PRE: JobSnapshot = snap(1200, 45_000, 500);

/** The seed's static path for fw-dc1-01, as the planner makes it. */
function seedPlan(): PlannedHop[] {
  const r = planUpgrade({ current: '10.0.2', available: ['10.0.2', ...SEED_PATH], rules: { ...DEFAULT_PATH_RULES, staticPaths: { '10.0.2': SEED_PATH } } });
  if (!r.ok) throw new Error(r.reason);
  return r.plan.hops;
}

/** What a fake step effect can do, as actors/step-effects.ts does through `sendBack`. */
interface StepIo {
  fact(fact: JobFact): void;
  done(): void;
  failed(reason: string, retryable: boolean): void;
}

type StepHandler = (input: StepInput, io: StepIo) => void;
type StepName = 'validate' | 'snapshot' | 'updateContent' | 'download' | 'install' | 'reboot';

interface Call {
  step: string;
  hop: number;
  version: string | null;
  attempt: number;
  /** The machine stopped the effect (left its state) before the effect said it was done. */
  stopped: boolean;
  settled: boolean;
}

/** A device the default fakes act on: what is in its software manager, what it runs, what it measures after. */
interface FakeDevice {
  swVersion: string;
  downloaded: Set<string>;
  nextJobId: number;
  post: JobSnapshot;
  contentUpdate: boolean;
}

function defaultHandlers(dev: FakeDevice): Record<StepName, StepHandler> {
  return {
    validate: (_input, io) => {
      io.fact({
        type: 'job.validated',
        data: { swVersion: dev.swVersion, freeDiskMb: 9000, neededMb: 0, contentUpdate: dev.contentUpdate, notes: dev.contentUpdate ? ['content update needed'] : [] },
      });
      io.done();
    },
    snapshot: ({ step }, io) => {
      io.fact({ type: 'job.snapshot.taken', data: step === 'pre-snapshot' ? { phase: 'pre', snapshot: PRE } : { phase: 'post', snapshot: dev.post } });
      io.done();
    },
    updateContent: (_input, io) => {
      io.fact({ type: 'job.content.updated', data: { version: '8900-9000' } });
      io.done();
    },
    download: ({ job, hop }, io) => {
      const version = job.plan[hop]!.version;
      if (dev.downloaded.has(version)) {
        io.fact({ type: 'job.download.skipped', data: { version, hop } });
        return io.done();
      }
      const panosJobId = dev.nextJobId++;
      io.fact({ type: 'job.download.requested', data: { version, hop, baselineJobId: panosJobId - 1, direct: true } });
      io.fact({ type: 'job.download.enqueued', data: { version, hop, panosJobId } });
      dev.downloaded.add(version);
      io.fact({ type: 'job.download.completed', data: { version, hop } });
      io.done();
    },
    install: ({ job, hop }, io) => {
      const version = job.plan[hop]!.version;
      const panosJobId = dev.nextJobId++;
      io.fact({ type: 'job.install.requested', data: { version, hop, baselineJobId: panosJobId - 1 } });
      io.fact({ type: 'job.install.enqueued', data: { version, hop, panosJobId } });
      io.fact({ type: 'job.install.completed', data: { version, hop } });
      io.done();
    },
    reboot: ({ job, hop }, io) => {
      const version = job.plan[hop]!.version;
      io.fact({ type: 'job.reboot.requested', data: { version, hop, uptimeBefore: 86_400 } });
      io.fact({ type: 'job.reboot.acknowledged', data: { version, hop } });
      io.fact({ type: 'job.reboot.phase-changed', data: { version, hop, phase: 'waiting-for-device' } });
      dev.swVersion = version;
      io.fact({ type: 'job.reboot.completed', data: { version, hop, uptime: 120 } });
      io.done();
    },
  };
}

interface JobOptions {
  kind?: JobKind;
  plan?: PlannedHop[];
  policy?: Partial<JobPolicy>;
  /** Versions already in the software manager. */
  downloaded?: string[];
  post?: JobSnapshot;
  contentUpdate?: boolean;
  handlers?: Partial<Record<StepName, StepHandler>>;
  /** Restore: the persisted snapshot, the clock it ran on and the facts it had recorded. */
  restore?: { snapshot: Snapshot<unknown>; clock: SimulatedClock; history: StampedJobFact[]; submitted: JobState };
}

type Harness = ReturnType<typeof makeJob>;

function makeJob(opts: JobOptions = {}) {
  const clock = opts.restore?.clock ?? new SimulatedClock();
  if (!opts.restore) clock.set(T0);
  const plan = opts.plan ?? seedPlan();
  const kind = opts.kind ?? 'upgrade';
  const submitted =
    opts.restore?.submitted ??
    submittedJobState(
      {
        type: 'job.submitted',
        data: {
          jobId: 'job-1',
          kind,
          dryRun: false,
          device: DEVICE,
          targetVersion: kind === 'upgrade' ? (plan.at(-1)?.version ?? null) : null,
          plan,
          planSource: 'static',
          policy: { ...DEFAULT_POLICY, ...opts.policy },
        },
      },
      iso(T0),
    );
  const dev: FakeDevice = {
    swVersion: DEVICE.swVersion,
    downloaded: new Set(opts.downloaded ?? []),
    nextJobId: 100,
    post: opts.post ?? snap(1200, 44_100, 497),
    contentUpdate: opts.contentUpdate ?? false,
  };
  const handlers = { ...defaultHandlers(dev), ...opts.handlers };
  const calls: Call[] = [];
  const fake = (name: StepName) =>
    fromCallback<{ type: string }, StepInput>(({ input, sendBack }) => {
      const call: Call = { step: input.step, hop: input.hop, version: input.job.plan[input.hop]?.version ?? null, attempt: input.job.attempt, stopped: false, settled: false };
      calls.push(call);
      const send = (e: UpgradeJobEvent) => {
        if (!call.stopped) sendBack(e);
      };
      const io: StepIo = {
        fact: (fact) => send({ type: 'fact', fact, now: clock.now() }),
        done: () => {
          call.settled = true;
          send({ type: 'step.done', now: clock.now() });
        },
        failed: (reason, retryable) => {
          call.settled = true;
          send({ type: 'step.failed', reason, retryable, now: clock.now() });
        },
      };
      // Effects answer asynchronously, as the real ones do.
      queueMicrotask(() => {
        if (!call.stopped) handlers[name](input, io);
      });
      return () => {
        if (!call.settled) call.stopped = true;
      };
    });
  const machine = upgradeJobMachine.provide({
    actors: {
      validate: fake('validate'),
      snapshot: fake('snapshot'),
      updateContent: fake('updateContent'),
      download: fake('download'),
      install: fake('install'),
      reboot: fake('reboot'),
      deadline: deadlineEffect(clock),
    },
  });
  const input = { state: submitted };
  const actor = createActor(machine, opts.restore ? { input, snapshot: opts.restore.snapshot } : { input });
  const facts: StampedJobFact[] = [...(opts.restore?.history ?? [])];
  const states: string[] = [];
  const statuses: JobStatusRecord[] = [];
  actor.on('facts', (e) => facts.push(...e.facts));
  actor.subscribe((s) => {
    const name = typeof s.value === 'string' ? s.value : JSON.stringify(s.value);
    if (states.at(-1) !== name) states.push(name);
    statuses.push(toStatusRecord(s.context));
  });
  actor.start();
  states.splice(0, states.length, String(actor.getSnapshot().value));
  return {
    clock,
    actor,
    dev,
    calls,
    facts,
    states,
    statuses,
    submitted,
    send(event: { type: 'start' } | { type: 'cancel'; by: string }): void {
      actor.send({ ...event, now: clock.now() });
    },
    get ctx(): JobState {
      return actor.getSnapshot().context;
    },
    get value(): string {
      return String(actor.getSnapshot().value);
    },
    get status(): JobStatusRecord {
      return toStatusRecord(actor.getSnapshot().context);
    },
    /** Move the clock to `at`, firing the retry deadline if it is due. */
    advanceTo(at: number): void {
      clock.set(at);
    },
    factTypes(): string[] {
      return facts.map((f) => f.type);
    },
    stepCalls(): string[] {
      return calls.map((c) => `${c.step}@${c.hop}${c.version ? `:${c.version}` : ''}#${c.attempt}`);
    },
  };
}

/** One turn of the event loop: every fake effect (a microtask chain) has answered. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * A job test: whatever the test does, the context of every job it made must be the fold of the facts the
 * job emitted, starting from the submitted state.
 */
function jobTest(title: string, body: (t: ExecutionContext, job: (opts?: JobOptions) => Harness) => Promise<void>): void {
  test(title, async (t) => {
    const made: Harness[] = [];
    await body(t, (opts) => {
      const h = makeJob(opts);
      made.push(h);
      return h;
    });
    for (const h of made) {
      t.deepEqual(h.ctx, foldJob(h.facts, h.submitted), 'context = fold of the emitted facts');
    }
  });
}

function pick<K extends keyof JobStatusRecord>(r: JobStatusRecord | undefined, keys: readonly K[]): Pick<JobStatusRecord, K> | undefined {
  if (!r) return undefined;
  return Object.fromEntries(keys.map((k) => [k, r[k]])) as Pick<JobStatusRecord, K>;
}

const SEED_KEYS = ['upgrade_status', 'upgrade_message', 'progress', 'downloaded_versions', 'skipped_versions'] as const;
const SEED_FINAL_KEYS = [...SEED_KEYS, 'ready_for_install'] as const;

jobTest('upgrade job: when a full upgrade runs over 3 hops then it passes every state in order and completes on the target', async (t, job) => {
  const j = job();
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'complete');
  t.deepEqual(j.states, [
    'pending',
    'validating',
    'preSnapshot',
    ...['downloading', 'installing', 'rebooting'],
    ...['downloading', 'installing', 'rebooting'],
    ...['downloading', 'installing', 'rebooting'],
    'postSnapshot',
    'complete',
  ]);
  t.deepEqual(j.stepCalls(), [
    'validate@0:10.1.0#1',
    'pre-snapshot@0:10.1.0#1',
    'download@0:10.1.0#1',
    'install@0:10.1.0#1',
    'reboot@0:10.1.0#1',
    'download@1:10.5.1#1',
    'install@1:10.5.1#1',
    'reboot@1:10.5.1#1',
    'download@2:11.1.0#1',
    'install@2:11.1.0#1',
    'reboot@2:11.1.0#1',
    'post-snapshot@3#1',
  ]);
  t.false(j.calls.some((c) => c.stopped));
  t.like(j.status, {
    upgrade_status: 'complete',
    upgrade_message: 'Upgrade complete: 10.0.2 → 11.1.0 (3 hop(s)), post-checks passed',
    progress: 100,
    current_version: '11.1.0',
    target_version: '11.1.0',
    path: SEED_PATH,
    downloaded_versions: SEED_PATH,
    skipped_versions: [],
    ready_for_install: false,
    error: null,
    finished_at: iso(T0),
  });
  t.deepEqual(
    j.status.panos_jobs.map((p) => `${p.kind}:${p.version}`),
    ['download:10.1.0', 'install:10.1.0', 'download:10.5.1', 'install:10.5.1', 'download:11.1.0', 'install:11.1.0'],
  );
  t.true(j.status.checks.length > 0 && j.status.checks.every((c) => c.ok));
  const progress = j.statuses.map((s) => s.progress);
  t.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes back');
  t.deepEqual(j.factTypes().slice(0, 3), ['job.started', 'job.step.started', 'job.validated']);
  t.is(j.factTypes().at(-1), 'job.completed');
});

jobTest('upgrade job: when validation says the content is old then content is updated before the pre-upgrade snapshot', async (t, job) => {
  const j = job({ contentUpdate: true });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'complete');
  t.deepEqual(j.stepCalls().slice(0, 3), ['validate@0:10.1.0#1', 'content@0:10.1.0#1', 'pre-snapshot@0:10.1.0#1']);
  t.true(j.ctx.notes.includes('content updated to 8900-9000'));
});

jobTest('upgrade job: when a download-only job finds 1 of 3 versions present then its status is the seed complete example', async (t, job) => {
  const j = job({ kind: 'download-only', downloaded: ['10.1.0'] });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'complete');
  t.deepEqual(j.stepCalls(), ['validate@0:10.1.0#1', 'download@0:10.1.0#1', 'download@1:10.5.1#1', 'download@2:11.1.0#1']);
  t.deepEqual(pick(j.status, SEED_FINAL_KEYS), {
    upgrade_status: 'download_complete',
    upgrade_message: 'Downloaded 2 version(s): 10.5.1, 11.1.0. Skipped 1 (already present): 10.1.0',
    progress: 100,
    downloaded_versions: ['10.5.1', '11.1.0'],
    skipped_versions: ['10.1.0'],
    ready_for_install: true,
  });
  t.like(j.status, { download_only: true, device_serial: SERIAL, job_id: 'job-1', current_version: '10.0.2' });
  // The seed's "After Download (with skipped)" example is the status right after the skip.
  t.deepEqual(
    pick(
      j.statuses.find((s) => s.skipped_versions.length === 1),
      SEED_KEYS,
    ),
    {
      upgrade_status: 'downloading',
      upgrade_message: 'Version 10.1.0 already downloaded, skipping (1/3)',
      progress: 40,
      downloaded_versions: [],
      skipped_versions: ['10.1.0'],
    },
  );
});

jobTest('upgrade job: when a download-only job starts fetching the first of 3 versions then its status is the seed during-download example', async (t, job) => {
  let release: (() => void) | undefined;
  const j = job({
    kind: 'download-only',
    handlers: {
      download: (input, io) => {
        // As the real effect: the request is recorded, and the device reports the download running.
        const version = input.job.plan[input.hop]!.version;
        io.fact({ type: 'job.download.requested', data: { version, hop: input.hop, baselineJobId: 0, direct: true } });
        io.fact({ type: 'job.download.progressed', data: { version, hop: input.hop, percent: 0 } });
        release = () => {
          const version = input.job.plan[input.hop]!.version;
          io.fact({ type: 'job.download.completed', data: { version, hop: input.hop } });
          io.done();
        };
      },
    },
  });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'downloading');
  t.deepEqual(pick(j.status, SEED_KEYS), {
    upgrade_status: 'downloading',
    upgrade_message: 'Downloading version 10.1.0 (1/3)',
    progress: 30,
    downloaded_versions: [],
    skipped_versions: [],
  });
  for (let i = 0; i < 3; i++) {
    release!();
    await settle();
  }
  t.deepEqual(pick(j.status, SEED_FINAL_KEYS), {
    upgrade_status: 'download_complete',
    upgrade_message: 'Downloaded 3 version(s): 10.1.0, 10.5.1, 11.1.0',
    progress: 100,
    downloaded_versions: SEED_PATH,
    skipped_versions: [],
    ready_for_install: true,
  });
});

jobTest('upgrade job: when every version of a download-only job is present then it completes with the seed all-present example', async (t, job) => {
  const j = job({ kind: 'download-only', downloaded: SEED_PATH });
  j.send({ type: 'start' });
  await settle();
  t.deepEqual(pick(j.status, SEED_FINAL_KEYS), {
    upgrade_status: 'download_complete',
    upgrade_message: 'All 3 version(s) already downloaded: 10.1.0, 10.5.1, 11.1.0',
    progress: 100,
    downloaded_versions: [],
    skipped_versions: SEED_PATH,
    ready_for_install: true,
  });
  t.false(j.factTypes().includes('job.download.requested'));
});

jobTest('upgrade job: when a step fails retryably then it is retried after retryBackoffMs and the job then succeeds', async (t, job) => {
  let failures = 1;
  const j = job({
    policy: { retryBackoffMs: 30_000 },
    handlers: {
      download: (input, io) => {
        if (failures-- > 0) return io.failed('The software manager is currently in use. Please try again later.', true);
        defaultHandlers(j.dev).download(input, io);
      },
    },
  });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'retrying');
  t.is(j.ctx.retryAt, T0 + 30_000);
  t.is(j.status.upgrade_message, 'Download failed (attempt 1): The software manager is currently in use. Please try again later.; retrying');
  t.deepEqual(j.facts.filter((f) => f.type === 'job.retry.scheduled').map((f) => f.data), [{ step: 'download', attempt: 2, at: T0 + 30_000 }]);

  j.advanceTo(T0 + 29_999);
  await settle();
  t.is(j.value, 'retrying');
  j.advanceTo(T0 + 30_000);
  await settle();
  t.is(j.value, 'complete');
  t.deepEqual(
    j.calls.filter((c) => c.step === 'download' && c.hop === 0).map((c) => c.attempt),
    [1, 2],
  );
  const retried = j.facts.find((f) => f.type === 'job.step.started' && f.data.step === 'download' && f.data.attempt === 2);
  t.is(retried?.at, iso(T0 + 30_000));
});

jobTest('upgrade job: when retries are exhausted then the job fails naming the step, version, device and reason', async (t, job) => {
  const j = job({
    policy: { maxAttempts: 3, retryBackoffMs: 30_000 },
    handlers: { download: (_input, io) => io.failed('Connection timeout', true) },
  });
  j.send({ type: 'start' });
  await settle();
  j.advanceTo(T0 + 30_000);
  await settle();
  t.is(j.value, 'retrying');
  t.is(j.ctx.retryAt, T0 + 30_000 + 60_000, 'the delay doubles');
  j.advanceTo(T0 + 90_000);
  await settle();
  t.is(j.value, 'failed');
  t.deepEqual(
    j.calls.filter((c) => c.step === 'download').map((c) => c.attempt),
    [1, 2, 3],
  );
  t.like(j.status, {
    upgrade_status: 'failed',
    upgrade_message: `Download of 10.1.0 failed on ${SERIAL}: Connection timeout`,
    error: { step: 'download', reason: `Download of 10.1.0 failed on ${SERIAL}: Connection timeout` },
    finished_at: iso(T0 + 90_000),
  });
  t.false(j.calls.some((c) => c.step === 'install'));
});

jobTest('upgrade job: when a step fails non-retryably then the job fails at once', async (t, job) => {
  const j = job({ handlers: { install: (_input, io) => io.failed('Image 10.1.0 is corrupt', false) } });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'failed');
  t.false(j.factTypes().includes('job.retry.scheduled'));
  t.deepEqual(j.calls.filter((c) => c.step === 'install').length, 1);
  t.like(j.status, { upgrade_status: 'failed', error: { step: 'install', reason: `Install of 10.1.0 failed on ${SERIAL}: Image 10.1.0 is corrupt` } });
  t.false(j.calls.some((c) => c.step === 'reboot'));
});

jobTest('upgrade job: when it is cancelled while pending then it is cancelled at once and no step runs', async (t, job) => {
  const j = job();
  j.send({ type: 'cancel', by: 'operator' });
  t.is(j.value, 'cancelled');
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'cancelled');
  t.deepEqual(j.calls, []);
  t.deepEqual(j.factTypes(), ['job.cancelled']);
  t.like(j.status, { upgrade_status: 'cancelled', upgrade_message: 'Cancelled before it started', finished_at: iso(T0) });
});

jobTest('upgrade job: when it is cancelled during an install then the install runs to its end and the job stops after it, without a reboot', async (t, job) => {
  let finishInstall: (() => void) | undefined;
  const j = job({
    handlers: {
      install: (input, io) => {
        const version = input.job.plan[input.hop]!.version;
        io.fact({ type: 'job.install.requested', data: { version, hop: input.hop, baselineJobId: 7 } });
        io.fact({ type: 'job.install.enqueued', data: { version, hop: input.hop, panosJobId: 8 } });
        finishInstall = () => {
          io.fact({ type: 'job.install.completed', data: { version, hop: input.hop } });
          io.done();
        };
      },
    },
  });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'installing');
  j.send({ type: 'cancel', by: 'operator' });
  await settle();
  t.is(j.value, 'installing', 'never inside the install');
  t.true(j.ctx.cancelRequested);
  t.is(j.status.upgrade_message, 'Installing version 10.1.0 (1/3) (cancel requested: stopping after this step)');
  const install = j.calls.find((c) => c.step === 'install');
  t.false(install?.stopped);

  finishInstall!();
  await settle();
  t.is(j.value, 'cancelled');
  t.false(install?.stopped);
  t.false(j.calls.some((c) => c.step === 'reboot'));
  t.deepEqual(j.factTypes().slice(-3), ['job.install.completed', 'job.step.completed', 'job.cancelled']);
  t.like(j.status, { upgrade_status: 'cancelled', upgrade_message: 'Cancelled after install (10.1.0): the device runs 10.0.2, and 10.1.0 is installed and runs at its next reboot' });
});

jobTest('upgrade job: when it is cancelled during a reboot then the reboot finishes and the job stops before the next hop', async (t, job) => {
  let finishReboot: (() => void) | undefined;
  const j = job({
    handlers: {
      reboot: (input, io) => {
        finishReboot = () => defaultHandlers(j.dev).reboot(input, io);
      },
    },
  });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'rebooting');
  j.send({ type: 'cancel', by: 'operator' });
  t.is(j.value, 'rebooting');
  finishReboot!();
  await settle();
  t.is(j.value, 'cancelled');
  t.false(j.calls.some((c) => c.stopped));
  t.false(j.calls.some((c) => c.hop === 1));
  t.like(j.status, { current_version: '10.1.0', upgrade_message: 'Cancelled after the last step (10.1.0): the device runs 10.1.0' });
});

jobTest('upgrade job: when it is cancelled while waiting for a retry then it is cancelled at once', async (t, job) => {
  const j = job({ handlers: { validate: (_input, io) => io.failed('the chassis is not ready (show chassis-ready: no)', true) } });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'retrying');
  j.advanceTo(T0 + 1_000);
  j.send({ type: 'cancel', by: 'operator' });
  t.is(j.value, 'cancelled');
  t.is(j.ctx.retryAt, null);
  j.advanceTo(T0 + 10 * 60_000);
  await settle();
  t.deepEqual(j.calls.map((c) => c.attempt), [1]);
  t.deepEqual(j.factTypes().slice(-2), ['job.cancel.requested', 'job.cancelled']);
});

jobTest('upgrade job: when the post-upgrade checks exceed a threshold then the job fails naming the metric', async (t, job) => {
  const j = job({ post: snap(1190, 30_000, 500) });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'failed');
  t.like(j.status, {
    upgrade_status: 'failed',
    upgrade_message: `Post-upgrade check failed on ${SERIAL}: routes: count 1200 → 1190 (-10, -0.83%), allowed ±0%; sessions: count 45000 → 30000 (-15000, -33.33%), allowed ±10%`,
    error: { step: 'compare' },
  });
  t.deepEqual(
    j.status.checks.filter((c) => !c.unavailable).map((c) => [c.area, c.ok]),
    [
      ['routes', false],
      ['arp', true],
      ['sessions', false],
    ],
  );
});

jobTest('upgrade job: when a hop is a base-image download then it is downloaded but neither installed nor rebooted into', async (t, job) => {
  const r = planUpgrade({ current: '10.0.2', target: '10.1.3', available: ['10.0.2', '10.1.0', '10.1.3'], rules: DEFAULT_PATH_RULES });
  if (!r.ok) return t.fail(r.reason);
  const j = job({ plan: r.plan.hops });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'complete');
  t.deepEqual(j.stepCalls(), [
    'validate@0:10.1.0#1',
    'pre-snapshot@0:10.1.0#1',
    'download@0:10.1.0#1',
    'download@1:10.1.3#1',
    'install@1:10.1.3#1',
    'reboot@1:10.1.3#1',
    'post-snapshot@2#1',
  ]);
  t.like(j.status, {
    path: ['10.1.0 (download only)', '10.1.3'],
    downloaded_versions: ['10.1.0', '10.1.3'],
    current_version: '10.1.3',
    upgrade_message: 'Upgrade complete: 10.0.2 → 10.1.3 (1 hop(s)), post-checks passed',
  });
});

jobTest('upgrade job: when a snapshot persisted during a retry wait is restored then the step is retried at the original time', async (t, job) => {
  let failures = 1;
  const flaky: StepHandler = (input, io) => {
    if (failures-- > 0) return io.failed('Connection timeout', true);
    defaultHandlers(restored!.dev).download(input, io);
  };
  let restored: Harness | undefined;
  const first = job({ policy: { retryBackoffMs: 30_000 }, handlers: { download: flaky } });
  first.send({ type: 'start' });
  await settle();
  t.is(first.value, 'retrying');
  first.advanceTo(T0 + 10_000);
  const snapshot = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as Snapshot<unknown>;
  first.actor.stop();

  restored = job({ handlers: { download: flaky }, restore: { snapshot, clock: first.clock, history: [...first.facts], submitted: first.submitted } });
  t.is(restored.value, 'retrying');
  restored.advanceTo(T0 + 29_999);
  await settle();
  t.is(restored.value, 'retrying');
  t.deepEqual(restored.calls, []);
  restored.advanceTo(T0 + 30_000);
  await settle();
  t.is(restored.value, 'complete');
  t.is(restored.calls[0]?.attempt, 2);
  const retried = restored.facts.find((f) => f.type === 'job.step.started' && f.data.step === 'download' && f.data.attempt === 2);
  t.is(retried?.at, iso(T0 + 30_000));
  t.deepEqual(first.calls.map((c) => c.step), ['validate', 'pre-snapshot', 'download']);
});

jobTest('upgrade job: when a cancel is requested during a step that then fails retryably then the job is cancelled instead of retrying', async (t, job) => {
  let fail: (() => void) | undefined;
  const j = job({
    handlers: {
      install: (_input, io) => {
        fail = () => io.failed('The software manager is currently in use. Please try again later.', true);
      },
    },
  });
  j.send({ type: 'start' });
  await settle();
  t.is(j.value, 'installing');
  j.send({ type: 'cancel', by: 'operator' });
  fail!();
  await settle();
  t.is(j.value, 'cancelled');
  j.advanceTo(T0 + 10 * 60_000);
  await settle();
  t.is(j.calls.filter((c) => c.step === 'install').length, 1, 'the install is not tried again after the cancel');
  t.false(j.calls.some((c) => c.step === 'reboot'));
  t.like(j.status, { upgrade_status: 'cancelled', upgrade_message: 'Cancelled after install (10.1.0): the device runs 10.0.2', error: null });
  t.is(j.ctx.retryAt, null);
});
