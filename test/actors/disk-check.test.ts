import { DurationEstimates } from '../../panos/poll-schedule.ts';
import test from 'ava';
import pino from 'pino';
import type { DeviceApi } from '../../actors/device-api.ts';
import { validateStep, type StepDeps } from '../../actors/step-effects.ts';
import { DEFAULT_POLICY, evolveJob, initialJobState, type JobFact } from '../../machines/index.ts';
import { DEFAULT_PATH_RULES } from '../../panos/upgrade-path.ts';

/** A device that answers the validate step's reads, with `freeMb` free on /opt/panrepo; each call is noted under `who`. */
function device(who: string, freeMb: number, calls: string[]): DeviceApi {
  const answers: Record<string, () => unknown> = {
    systemInfo: () => ({ swVersion: '10.0.2', appVersion: '8800-8100', uptimeSeconds: 5000 }),
    chassisReady: () => true,
    jobsAll: () => [],
    softwareInfo: () => ({ entries: [{ version: '10.1.0', downloaded: false, sizeMb: 900 }] }),
    diskSpace: () => [{ filesystem: '/dev/sda8', sizeMb: 20_000, usedMb: 20_000 - freeMb, availMb: freeMb, mount: '/opt/panrepo' }],
  };
  return new Proxy({} as DeviceApi, {
    get: (_t, name: string) => async () => {
      calls.push(`${who}.${name}`);
      const f = answers[name];
      if (!f) throw new Error(`unexpected call ${name}`);
      return f();
    },
  });
}

function run(directDownloads: boolean, panoramaFreeMb: number, firewallFreeMb: number) {
  const calls: string[] = [];
  const deps: StepDeps = {
    api: () => device('panorama', panoramaFreeMb, calls),
    directApi: () => device('firewall', firewallFreeMb, calls),
    directDownloads,
    installVia: 'panorama',
    updateContent: false,
    pollJobMs: 1,
    estimates: new DurationEstimates(),
    jobTimeoutMs: 1000,
    pollRebootMs: 1,
    rebootBudgetMs: () => 1000,
    rebootStartGraceMs: 1000,
    pathRules: { ...DEFAULT_PATH_RULES, staticPaths: { '10.0.2': ['10.1.0'] } },
    durable: async () => undefined,
    current: () => undefined,
    now: () => 0,
    log: pino({ level: 'silent' }),
  };
  const submitted: JobFact = {
    type: 'job.submitted',
    data: {
      jobId: 'j1',
      kind: 'download-only',
      dryRun: false,
      device: { serial: 'S1', hostname: 'fw1', mgmtIp: '10.0.0.1', model: 'PA-440', swVersion: '10.0.2', haState: null, haPeer: null },
      targetVersion: null,
      plan: [{ version: '10.1.0', action: 'install', reason: 'test' }],
      planSource: 'static',
      policy: DEFAULT_POLICY,
    },
  };
  const job = evolveJob(initialJobState(), submitted);
  const recorded: JobFact[] = [];
  const ctx = { signal: new AbortController().signal, record: async (f: JobFact) => void recorded.push(f), note: (f: JobFact) => void recorded.push(f) };
  return { calls, recorded, done: validateStep(deps)({ job, step: 'validate', hop: 0 }, ctx) };
}

// issue 12: with direct downloads the images land on the firewall, but its disk was read through Panorama.
test('validate step: when downloads go direct then the free disk is read on the firewall itself', async (t) => {
  const short = run(true, 19_000, 100);
  const err = await t.throwsAsync(short.done);
  t.regex(err?.message ?? '', /^not enough free disk on \/opt\/panrepo: 10\.1\.0 need 991 MB with headroom, 100 MB free/);
  t.true(short.calls.includes('firewall.diskSpace'), short.calls.join(' '));
  t.false(short.calls.includes('panorama.diskSpace'));

  const enough = run(true, 100, 19_000);
  await enough.done;
  t.is(enough.recorded.at(-1)?.type, 'job.validated');
});

test('validate step: when downloads go through Panorama then the free disk is read through Panorama', async (t) => {
  const r = run(false, 19_000, 100);
  await r.done;
  t.true(r.calls.includes('panorama.diskSpace'));
  t.false(r.calls.some((c) => c.startsWith('firewall.')));
});
