import test, { type ExecutionContext } from 'ava';
import {
  AutoCommitFailedError,
  DEFAULT_REBOOT_BUDGETS,
  PanosClient,
  RebootNotStartedError,
  RebootTimeoutError,
  TransportError,
  VersionMismatchError,
  authErrorXml,
  chassisReadyXml,
  isOpError,
  jobsAllXml,
  notConnectedXml,
  parseOpCommand,
  rebootBudgetFor,
  systemInfoXml,
  waitForReboot,
  type PanosJob,
  type RebootPhase,
  type RebootPhaseInfo,
  type WaitForRebootOptions,
} from '../../panos/index.ts';
import { startScriptedServer, type ApiRequest, type Reply, type ScriptedServer } from '../helpers/scripted-server.ts';
import { firewall } from './samples.ts';

const SERIAL = '007954000123451';
const OLD = '10.1.3';
const NEW = '10.2.0';
/** Uptime of the device when the restart was sent. */
const PREVIOUS_UPTIME = 86_400;
const POLL_MS = 15;

/**
 * One stage of a scripted reboot. Answering stages last `requests` requests (forever when absent);
 * `refused` stops the listener for `ms`.
 */
type Stage =
  | { kind: 'old'; version?: string; requests?: number }
  | { kind: 'refused'; ms?: number }
  | { kind: 'html' | '403' | 'not-connected'; requests: number }
  | { kind: 'chassis-no'; requests?: number }
  | { kind: 'booted'; version: string; autoCommit: 'none' | { activePolls: number; result: 'OK' | 'FAIL' } };

function autoCommitJob(id: number, enqueuedAt: number, status: 'ACT' | 'FIN', result: 'OK' | 'FAIL' | 'PEND'): PanosJob {
  return {
    id,
    type: 'AutoCom',
    user: '',
    enqueuedAt,
    startedAt: enqueuedAt,
    endsAt: enqueuedAt + 60_000,
    ...(status === 'FIN' ? { finishedAt: enqueuedAt + 30_000 } : {}),
    status,
    result,
    details: status === 'FIN' ? (result === 'OK' ? ['Configuration committed successfully'] : ['Auto-commit failed: Validation Error: rulebase is invalid']) : [],
    warnings: [],
    description: '',
  };
}

/** A firewall that goes through `stages` after a restart; answers are built with panos/responses.ts. */
async function scriptedDevice(t: ExecutionContext, stages: Stage[]) {
  let index = 0;
  let served = 0;
  let jobPolls = 0;
  const now = Date.now();
  // The restart was sent a few seconds ago, when the uptime was PREVIOUS_UPTIME.
  const oldBoot = now - (PREVIOUS_UPTIME + 5) * 1000;
  let newBoot = now;
  // The AutoCom of the previous boot, days ago, failed: it must not be taken for this boot's.
  const oldAutoCommit = autoCommitJob(7, oldBoot + 60_000, 'FIN', 'FAIL');
  const stage = () => stages[index];
  let server: ScriptedServer | undefined;
  let finished = false;

  const enter = async () => {
    const s = stage();
    served = 0;
    if (s?.kind === 'refused') {
      await server?.stop();
      if (s.ms !== undefined) {
        setTimeout(() => {
          if (finished) return;
          index += 1;
          void server?.start().then(enter);
        }, s.ms).unref();
      }
    }
    if (s?.kind === 'booted' || s?.kind === 'chassis-no') newBoot = Math.min(newBoot, Date.now() - 2_000);
  };

  const systemInfo = (version: string, bootedAt: number) => systemInfoXml(firewall({ swVersion: version, bootedAt }), Date.now());

  const answer = (req: ApiRequest): Reply => {
    const s = stage();
    const parsed = parseOpCommand(req.params['cmd'] ?? '');
    const kind = isOpError(parsed) ? 'unknown' : parsed.kind;
    served += 1;
    switch (s?.kind) {
      case 'old':
        if (kind === 'show.system.info') return systemInfo(s.version ?? OLD, oldBoot);
        if (kind === 'show.chassis-ready') return chassisReadyXml(true);
        return jobsAllXml([oldAutoCommit], Date.now());
      case 'html':
        return { body: '<html><head><title>Loading</title></head><body>Please wait</body></html>', contentType: 'text/html' };
      case '403':
        return { status: 403, statusMessage: 'Invalid Credential', body: authErrorXml() };
      case 'not-connected':
        return notConnectedXml(SERIAL);
      case 'chassis-no':
        if (kind === 'show.chassis-ready') return chassisReadyXml(false);
        if (kind === 'show.system.info') return systemInfo(NEW, newBoot);
        return jobsAllXml([oldAutoCommit], Date.now());
      case 'booted': {
        if (kind === 'show.chassis-ready') return chassisReadyXml(true);
        if (kind === 'show.system.info') return systemInfo(s.version, newBoot);
        const jobs = [oldAutoCommit];
        if (s.autoCommit !== 'none') {
          jobPolls += 1;
          const done = jobPolls > s.autoCommit.activePolls;
          jobs.push(autoCommitJob(8, newBoot + 1_000, done ? 'FIN' : 'ACT', done ? s.autoCommit.result : 'PEND'));
        }
        return jobsAllXml(jobs, Date.now());
      }
      default:
        return 'reset';
    }
  };

  server = await startScriptedServer(t, answer, {
    // a pooled connection must not outlive a step into `refused` (it would read as a reset)
    connectionClose: true,
    afterReply: () => {
      const s = stage();
      if (s && 'requests' in s && s.requests !== undefined && served >= s.requests) {
        index += 1;
        void enter();
      }
    },
  });
  // registered after the server's own teardown, so it runs first: no step may restart the server after the test
  t.teardown(() => {
    finished = true;
  });
  await enter();
  const client = new PanosClient({ host: server.host, protocol: 'http', apiKey: 'LUFRPT1test==', maxAttempts: 1 });
  t.teardown(() => client.close());
  return { server, client, jobPolls: () => jobPolls };
}

function phases() {
  const seen: [RebootPhase, RebootPhaseInfo][] = [];
  return { seen, names: () => seen.map(([p]) => p), onPhase: (p: RebootPhase, i: RebootPhaseInfo) => seen.push([p, i]) };
}

const base = (o: Partial<WaitForRebootOptions> = {}): WaitForRebootOptions => ({
  previousUptimeSeconds: PREVIOUS_UPTIME,
  expectedVersion: NEW,
  // generous: the successful waits end as soon as the device is back, and a loaded CI machine is slow
  budgetMs: 15_000,
  pollMs: POLL_MS,
  startGraceMs: 8_000,
  requestTimeoutMs: 2_000,
  ...o,
});

const ALL_PHASES: RebootPhase[] = ['waiting-for-shutdown', 'rebooting', 'waiting-for-chassis', 'waiting-for-autocommit', 'verifying', 'done'];

test('reboot-wait: when the device keeps answering on its old version for a while then that is not taken as the reboot', async (t) => {
  const { server, client } = await scriptedDevice(t, [
    { kind: 'old', requests: 6 },
    { kind: 'refused', ms: 100 },
    { kind: 'booted', version: NEW, autoCommit: { activePolls: 1, result: 'OK' } },
  ]);
  const p = phases();

  const result = await waitForReboot(client, base({ onPhase: p.onPhase }));

  t.is(result.version, NEW);
  t.is(result.startedBy, 'refused');
  t.deepEqual(p.names(), ALL_PHASES);
  // the six old answers (old version, old uptime) were all seen while still waiting for the shutdown
  const oldAnswers = server.requests.slice(0, 6).map((r) => r.params['cmd']);
  t.deepEqual(oldAnswers, Array(6).fill('<show><system><info/></system></show>'));
  t.true(result.uptimeSeconds !== undefined && result.uptimeSeconds < 60);
});

test('reboot-wait: when a target goes refused → HTML → 403 → not-connected → chassis no → AutoCom ACT → OK then it succeeds on the new version', async (t) => {
  const { server, client, jobPolls } = await scriptedDevice(t, [
    { kind: 'old', requests: 2 },
    { kind: 'refused', ms: 80 },
    { kind: 'html', requests: 2 },
    { kind: '403', requests: 2 },
    { kind: 'not-connected', requests: 2 },
    { kind: 'chassis-no', requests: 2 },
    { kind: 'booted', version: NEW, autoCommit: { activePolls: 2, result: 'OK' } },
  ]);
  const p = phases();

  const result = await waitForReboot(client, base({ target: SERIAL, onPhase: p.onPhase }));

  t.is(result.version, NEW);
  t.deepEqual(p.names(), ALL_PHASES);
  // through Panorama a refused connection is Panorama's, not the firewall's: the HTML answer is the first sign
  t.is(result.startedBy, 'bad-response');
  t.is(result.autoCommit?.id, 8);
  t.is(result.autoCommit?.result, 'OK');
  t.true(jobPolls() >= 3);
  t.true(server.requests.every((r) => r.params['target'] === SERIAL));
  t.is(p.seen.find(([name]) => name === 'verifying')?.[1].autoCommitJobId, 8);
});

test('reboot-wait: when the device blips once and then answers with its old uptime then it waits for the real reboot', async (t) => {
  const { client } = await scriptedDevice(t, [
    { kind: 'old', requests: 1 },
    { kind: 'html', requests: 1 },
    { kind: 'old', requests: 4 },
    { kind: 'refused', ms: 60 },
    { kind: 'booted', version: NEW, autoCommit: { activePolls: 1, result: 'OK' } },
  ]);
  const p = phases();

  const result = await waitForReboot(client, base({ onPhase: p.onPhase }));

  t.is(result.version, NEW);
  t.is(result.autoCommit?.id, 8);
  t.deepEqual(p.names(), [
    'waiting-for-shutdown',
    'rebooting',
    'waiting-for-chassis',
    'waiting-for-autocommit',
    // the old instance's uptime showed the HTML answer was not the reboot
    ...ALL_PHASES,
  ]);
});

test('reboot-wait: when the device never comes back then RebootTimeoutError names the phase it was stuck in', async (t) => {
  const { client } = await scriptedDevice(t, [{ kind: 'refused' }]);
  const started = Date.now();

  const err = await t.throwsAsync(waitForReboot(client, base({ budgetMs: 1_000 })), { instanceOf: RebootTimeoutError });

  t.is(err?.code, 'REBOOT_TIMEOUT');
  t.is(err?.phase, 'rebooting');
  t.true((err?.elapsedMs ?? 0) >= 1_000);
  t.true(err?.cause instanceof TransportError);
  t.true(Date.now() - started < 3_000);
});

test('reboot-wait: a wait resumed after its budget since the request was spent looks at the device, then fails at once, saying the time since the request (a restarted daemon gets no fresh budget)', async (t) => {
  const { client } = await scriptedDevice(t, [{ kind: 'refused' }]);
  const started = Date.now();
  const err = await t.throwsAsync(waitForReboot(client, base({ budgetMs: 60_000, startGraceMs: 20_000, elapsedMs: 96_000 })), { instanceOf: RebootTimeoutError });
  t.is(err?.budgetMs, 60_000);
  t.true((err?.elapsedMs ?? 0) >= 96_000, String(err?.elapsedMs));
  t.true(Date.now() - started < 3_000);
  t.is(err?.phase, 'rebooting', 'looked at before giving up: refused, so down');
});

test('reboot-wait: a wait resumed after its budget was spent still sees a device that came back while nobody watched', async (t) => {
  const { client } = await scriptedDevice(t, [{ kind: 'booted', version: NEW, autoCommit: { activePolls: 0, result: 'OK' } }]);
  const r = await waitForReboot(client, base({ budgetMs: 60_000, startGraceMs: 20_000, elapsedMs: 96_000 }));
  t.is(r.version, NEW);
});

test('reboot-wait: when chassis-ready stays no then RebootTimeoutError names waiting-for-chassis', async (t) => {
  const { client } = await scriptedDevice(t, [{ kind: 'refused', ms: 50 }, { kind: 'chassis-no' }]);

  const err = await t.throwsAsync(waitForReboot(client, base({ budgetMs: 1_000 })), { instanceOf: RebootTimeoutError });

  t.is(err?.phase, 'waiting-for-chassis');
});

test('reboot-wait: when the device comes back on the wrong version then VersionMismatchError', async (t) => {
  const { client } = await scriptedDevice(t, [
    { kind: 'old', requests: 1 },
    { kind: 'refused', ms: 60 },
    { kind: 'booted', version: OLD, autoCommit: { activePolls: 0, result: 'OK' } },
  ]);

  const err = await t.throwsAsync(waitForReboot(client, base()), { instanceOf: VersionMismatchError });

  t.is(err?.code, 'VERSION_MISMATCH');
  t.is(err?.actual, OLD);
  t.is(err?.expected, NEW);
});

test('reboot-wait: when the post-boot auto-commit fails then AutoCommitFailedError with its details', async (t) => {
  const { client } = await scriptedDevice(t, [
    { kind: 'old', requests: 1 },
    { kind: 'refused', ms: 60 },
    { kind: 'booted', version: NEW, autoCommit: { activePolls: 1, result: 'FAIL' } },
  ]);

  const err = await t.throwsAsync(waitForReboot(client, base()), { instanceOf: AutoCommitFailedError });

  t.is(err?.code, 'AUTOCOMMIT_FAILED');
  t.is(err?.jobId, '8');
  t.deepEqual(err?.details, ['Auto-commit failed: Validation Error: rulebase is invalid']);
});

test('reboot-wait: when no auto-commit of this boot shows up then it goes on after a few polls', async (t) => {
  const { client } = await scriptedDevice(t, [
    { kind: 'old', requests: 1 },
    { kind: 'refused', ms: 60 },
    { kind: 'booted', version: NEW, autoCommit: 'none' },
  ]);

  const result = await waitForReboot(client, base({ autoCommitPolls: 2 }));

  t.is(result.version, NEW);
  // the failed AutoCom of the previous boot was not taken for this one
  t.is(result.autoCommit, undefined);
});

test('reboot-wait: when the uptime resets between polls without the device ever being unreachable then the reboot counts as started', async (t) => {
  const { server, client } = await scriptedDevice(t, [
    { kind: 'old', requests: 3 },
    { kind: 'booted', version: NEW, autoCommit: { activePolls: 0, result: 'OK' } },
  ]);
  const p = phases();

  const result = await waitForReboot(client, base({ onPhase: p.onPhase }));

  t.is(result.version, NEW);
  t.is(result.startedBy, 'uptime-reset');
  t.deepEqual(p.names(), ALL_PHASES);
  t.is(p.seen[1]?.[1].trigger, 'uptime-reset');
  t.true(server.listening);
});

test('reboot-wait: when the device never starts rebooting then RebootNotStartedError after startGraceMs', async (t) => {
  const { server, client } = await scriptedDevice(t, [{ kind: 'old', version: NEW }]);
  const started = Date.now();

  const err = await t.throwsAsync(waitForReboot(client, base({ startGraceMs: 250 })), { instanceOf: RebootNotStartedError });

  t.is(err?.code, 'REBOOT_NOT_STARTED');
  t.is(err?.graceMs, 250);
  t.true((err?.elapsedMs ?? 0) >= 250);
  t.true(Date.now() - started < 3_000);
  t.true(server.requests.length >= 1);
});

test('reboot-wait: when Panorama itself refuses connections then that is not taken as the target rebooting', async (t) => {
  const { client } = await scriptedDevice(t, [{ kind: 'refused', ms: 100 }, { kind: 'old' }]);

  const err = await t.throwsAsync(waitForReboot(client, base({ target: SERIAL, startGraceMs: 300 })), { instanceOf: RebootNotStartedError });

  t.is(err?.device, SERIAL);
});

test('reboot-wait: when the signal aborts then the wait stops with the abort reason', async (t) => {
  const { client } = await scriptedDevice(t, [{ kind: 'old', requests: 1 }, { kind: 'refused' }]);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('job cancelled')), 100);

  const err = await t.throwsAsync(waitForReboot(client, base({ signal: controller.signal })));

  t.is(err?.message, 'job cancelled');
});

test('reboot-wait: rebootBudgetFor: when a model belongs to a slow series then its budget is longer', (t) => {
  t.is(rebootBudgetFor('PA-7050', DEFAULT_REBOOT_BUDGETS), 60 * 60_000);
  t.is(rebootBudgetFor('PA-5450', DEFAULT_REBOOT_BUDGETS), 45 * 60_000);
  t.is(rebootBudgetFor('PA-VM', DEFAULT_REBOOT_BUDGETS), 30 * 60_000);
  t.is(rebootBudgetFor('PA-440', DEFAULT_REBOOT_BUDGETS), 30 * 60_000);
  const budgets = { defaultMs: 1, byModel: { 'PA-5400': 2, 'pa-5450': 3, 'PA-4*': 4 } };
  t.is(rebootBudgetFor('PA-5450', budgets), 3);
  t.is(rebootBudgetFor('PA-5410', budgets), 2);
  t.is(rebootBudgetFor('PA-440', budgets), 4);
  t.is(rebootBudgetFor('PA-54000', budgets), 1);
});

const SYSTEM_INFO = '<show><system><info/></system></show>';

test('reboot-wait: when the reboot is seen by the device going down and its auto-commit is done at the first look then the system info read for the boot time is the one verified (one read after the boot, not two)', async (t) => {
  const { server, client } = await scriptedDevice(t, [
    { kind: 'old', requests: 1 },
    { kind: 'refused', ms: 200 },
    { kind: 'booted', version: NEW, autoCommit: { activePolls: 0, result: 'OK' } },
  ]);
  const p = phases();
  const result = await waitForReboot(client, base({ onPhase: p.onPhase }));
  t.is(result.version, NEW);
  t.is(result.startedBy, 'refused');
  // Seen down: the reboot ended after a look, what it took is known between two looks.
  t.true(result.seenUnfinished);
  t.deepEqual(p.names(), ALL_PHASES);
  const after = server.requests.slice(1).map((r) => r.params['cmd']);
  t.is(after.filter((c) => c === SYSTEM_INFO).length, 1, after.join(' '));
  t.is(after.at(-1), '<show><jobs><all/></jobs></show>', 'the auto-commit seen done is the last call');
  // The look that found it over is a few loopback round trips; the wait before it held the 200 ms down.
  t.true(result.lookMs >= 0 && result.lookMs < result.elapsedMs - 150, `lookMs ${result.lookMs} of ${result.elapsedMs}`);
});

test('reboot-wait: when the auto-commit is still running at the first look, or the boot was proved by an earlier answer, then the version is read again at the end', async (t) => {
  const running = await scriptedDevice(t, [
    { kind: 'old', requests: 1 },
    { kind: 'refused', ms: 200 },
    { kind: 'booted', version: NEW, autoCommit: { activePolls: 1, result: 'OK' } },
  ]);
  await waitForReboot(running.client, base());
  const after = running.server.requests.slice(1).map((r) => r.params['cmd']);
  t.is(after.filter((c) => c === SYSTEM_INFO).length, 2, after.join(' '));
  t.is(after.at(-1), SYSTEM_INFO);

  // The first answer after the restart already shows the new boot (uptime reset): chassis-ready came between it and the end.
  const quick = await scriptedDevice(t, [{ kind: 'booted', version: NEW, autoCommit: { activePolls: 0, result: 'OK' } }]);
  const result = await waitForReboot(quick.client, base());
  t.is(result.startedBy, 'uptime-reset');
  // Every look found its phase over: the first came late, what the wait took is only an upper bound.
  t.false(result.seenUnfinished);
  // Back at the first look, but its auto-commit still running: the end came after a look.
  const committing = await scriptedDevice(t, [{ kind: 'booted', version: NEW, autoCommit: { activePolls: 1, result: 'OK' } }]);
  t.true((await waitForReboot(committing.client, base())).seenUnfinished);
  const calls = quick.server.requests.map((r) => r.params['cmd']);
  t.deepEqual(calls, [SYSTEM_INFO, '<show><chassis-ready/></show>', '<show><jobs><all/></jobs></show>', SYSTEM_INFO]);
});

/** The client, with the calls it was asked to make and when (a refused call never reaches the scripted server). */
function counting(client: PanosClient) {
  const calls: Array<{ name: string; at: number }> = [];
  const note = (name: string) => calls.push({ name, at: Date.now() });
  const counted = {
    host: client.host,
    systemInfo: (o: Parameters<PanosClient['systemInfo']>[0]) => (note('systemInfo'), client.systemInfo(o)),
    chassisReady: (o: Parameters<PanosClient['chassisReady']>[0]) => (note('chassisReady'), client.chassisReady(o)),
    jobsAll: (o: Parameters<PanosClient['jobsAll']>[0]) => (note('jobsAll'), client.jobsAll(o)),
  };
  return { counted, calls, looks: (name: string) => calls.filter((c) => c.name === name) };
}

test('reboot-wait: once the device is seen down it is not looked at again before it is expected back (what is known when it asks), and without an expectation it polls as before', async (t) => {
  const down = 400;
  const backAfterMs = down + 300;
  const withEstimate = await scriptedDevice(t, [{ kind: 'old', requests: 1 }, { kind: 'refused', ms: down }, { kind: 'booted', version: NEW, autoCommit: { activePolls: 0, result: 'OK' } }]);
  const a = counting(withEstimate.client);
  let asked = 0;
  const started = Date.now();
  const result = await waitForReboot(a.counted, base({ expectedMs: 0, expectedBackMs: () => (asked++, backAfterMs) }));
  t.is(result.version, NEW);
  t.true(asked >= 1);
  const chassis = a.looks('chassisReady');
  // Not looked at while down: the first look is when it is expected back (and on a slow machine, one more may follow).
  t.true(chassis.length >= 1 && chassis.length <= 2, JSON.stringify(a.calls));
  t.true(chassis[0]!.at - started >= backAfterMs - 5, `first look ${chassis[0]!.at - started} ms after the start`);

  const without = await scriptedDevice(t, [{ kind: 'old', requests: 1 }, { kind: 'refused', ms: down }, { kind: 'booted', version: NEW, autoCommit: { activePolls: 0, result: 'OK' } }]);
  const b = counting(without.client);
  await waitForReboot(b.counted, base({ expectedMs: 0, expectedBackMs: () => undefined }));
  t.true(b.looks('chassisReady').length > 3, JSON.stringify(b.calls));
});
