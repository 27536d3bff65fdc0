import test from 'ava';
import pino from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { Subjects, eventPublisher, requestJson } from '../../bus/index.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { Simulator, type SimAnswer } from '../../simulator/index.ts';
import { parseJob, parseSystemInfo, parseSoftwareInfo, parseJobEnqueued, parseDevices, parseResponse } from '../../panos/parsers.ts';
import { LmdbEventStore } from '../../eventstore/index.ts';
import { startTestNats, tempDir, uniquePrefix, waitFor } from '../helpers/index.ts';
import { shippedScenario } from '../../cli/paths.ts';

const nats = startTestNats(test);
const log = pino({ level: 'silent' });
const SERIAL = '001234567890';
const cmd = {
  info: '<show><system><info/></system></show>',
  software: '<request><system><software><info/></software></system></request>',
  download: (v: string) => `<request><system><software><download><version>${v}</version></download></software></system></request>`,
  job: (id: number) => `<show><jobs><id>${id}</id></jobs></show>`,
  devices: '<show><devices><connected/></devices></show>',
};

function body(a: SimAnswer): string {
  if (!('body' in a)) throw new Error(`expected an HTTP answer, got ${JSON.stringify(a)}`);
  return a.body;
}

async function startSim(t: import('ava').ExecutionContext, dir: string, nc: NatsConnection, subjects: Subjects, scenarioName = 'basic', timeScale = 0.02) {
  const store = LmdbEventStore.open({ path: dir, runId: `run-${t.title.length}` });
  const unsubscribe = store.onAppend(eventPublisher(nc, subjects));
  const scenario = loadScenarioFile(shippedScenario(scenarioName), { timeScale, env: {} });
  const sim = await Simulator.start({ scenario, store, log, nc, subjects });
  const stop = async (): Promise<void> => {
    await sim.stop();
    unsubscribe();
    await store.close();
  };
  return { sim, store, stop };
}

test('simulator: when a device is asked over NATS then it answers with its PAN-OS XML, directly and through Panorama', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const { sim, stop } = await startSim(t, tempDir(t), nc, subjects);
  t.teardown(stop);
  const direct = await requestJson<{ status: number; body: string }>(nc, subjects.simOp(SERIAL), { type: 'op', cmd: cmd.info });
  t.is(direct.status, 200);
  t.is(parseSystemInfo(direct.body).serial, SERIAL);
  const viaPanorama = await requestJson<{ body: string }>(nc, subjects.simOp(sim.panorama.serial), { type: 'op', cmd: cmd.info, target: SERIAL });
  t.is(parseSystemInfo(viaPanorama.body).hostname, 'fw-dc1-01');
  const panorama = await requestJson<{ body: string }>(nc, subjects.simOp(sim.panorama.serial), { type: 'op', cmd: cmd.info });
  t.true(parseSystemInfo(panorama.body).isPanorama);
  const devices = parseDevices((await requestJson<{ body: string }>(nc, subjects.simOp(sim.panorama.serial), { type: 'op', cmd: cmd.devices })).body);
  t.is(devices.length, sim.size);
});

test('simulator: when a payload is not JSON then the reply is an error and the simulator keeps serving', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const { stop } = await startSim(t, tempDir(t), nc, subjects);
  t.teardown(stop);
  const reply = await nc.request(subjects.simOp(SERIAL), 'not json{', { timeout: 2000 });
  const parsed = reply.json<{ ok: boolean; error: { code: string } }>();
  t.false(parsed.ok);
  t.is(parsed.error.code, 'BAD_PAYLOAD');
  for (const [payload, message] of [
    [{ type: 'bogus', cmd: cmd.info }, 'type must be one of op, keygen, config'],
    [{ type: 'op', cmd: 123 }, 'cmd must be a string'],
    [{ type: 'op', cmd: cmd.info, verbose: 'yes' }, 'unknown field "verbose"; an op request has type, cmd, action, xpath, target, user, password'],
  ] as const) {
    const bad = (await nc.request(subjects.simOp(SERIAL), JSON.stringify(payload), { timeout: 2000 })).json<{ ok: boolean; error: { code: string; message: string } }>();
    t.like(bad, { ok: false, error: { code: 'BAD_PAYLOAD', message } }, JSON.stringify(payload));
  }
  const again = await requestJson<{ status: number }>(nc, subjects.simOp(SERIAL), { type: 'op', cmd: cmd.info });
  t.is(again.status, 200);
});

test('simulator: a control message with a fault or metric of the wrong shape gets a VALIDATION reply naming the field, and changes nothing', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const { sim, stop } = await startSim(t, tempDir(t), nc, subjects);
  t.teardown(stop);
  const ctl = async (action: string, payload: object): Promise<{ ok?: boolean; changed?: number; error?: { code: string; message: string; field?: string } }> =>
    (await nc.request(subjects.simCtl(SERIAL, action), JSON.stringify(payload), { timeout: 5000 })).json();
  const refused = [
    ['faults', { faults: { download: 'x' } }, 'faults.download: '],
    ['faults', { faults: { download: { rate: 2 } } }, 'faults.download.rate: '],
    ['faults', { faults: { reboot: { rate: 1 } } }, 'faults.reboot.mode: '],
    ['faults', { faults: { api: { latencyMs: 'slow' } } }, 'faults.api.latencyMs: '],
    ['faults', { faults: { api: { lag: 5 } } }, 'faults.api: '],
    ['faults', { faults: { readiness: { ntpUnsynched: true } } }, 'faults.readiness: '],
    ['faults', { faults: { dowload: { rate: 1 } } }, 'faults: '],
    ['faults', { faults: [] }, 'faults: '],
    ['faults', { faultz: { download: { rate: 1 } } }, 'payload: '],
    ['faults', { faults: {}, replace: 'yes' }, 'replace: '],
    ['metrics', { metrics: { tcpSessions: 'lots' } }, 'metrics.tcpSessions: '],
    ['metrics', { metrics: { sessions: 5 } }, 'metrics: '],
    ['metrics', {}, 'metrics: '],
    ['crash', { seconds: -1 }, 'seconds: '],
    ['crash', { after: 1 }, 'payload: '],
    ['describe', { verbose: true }, 'describe takes no fields; got "verbose"'],
    ['unstall', { x: 1 }, 'unstall takes no fields'],
  ] as const;
  for (const [action, payload, start] of refused) {
    const reply = await ctl(action, payload);
    t.is(reply.error?.code, 'VALIDATION', `${action} ${JSON.stringify(payload)}`);
    t.true(reply.error?.message.startsWith(start), `${action} ${JSON.stringify(payload)}: ${reply.error?.message}`);
  }
  t.regex((await ctl('faults', { faults: { dowload: { rate: 1 } } })).error!.message, /\(dowload\); known: download, install, /);
  t.regex((await ctl('faults', { faults: { readiness: { ntpUnsynched: true } } })).error!.message, /known: licenseExpired, .*ntpUnsynced/);
  const device = sim.device(SERIAL)!;
  t.deepEqual(device.context.faults.download, undefined, 'nothing was set');
  t.false(device.stateName.startsWith('rebooting'), 'nothing crashed');
  t.is((await ctl('faults', { faults: { download: { rate: 1 } } })).changed, 1);
  t.deepEqual(device.context.faults.download, { rate: 1, error: 'Connection timeout' }, 'the scenario default error');
  t.is((await ctl('faults', { faults: { download: { rate: 1, mode: 'disk_full' } } })).changed, 1);
  t.deepEqual(device.context.faults.download, { rate: 1, error: 'Failed to download: not enough disk space on /opt/panrepo', mode: 'disk_full' });
  t.is((await ctl('metrics', { metrics: { tcpSessions: 12 } })).changed, 1);
  t.is(device.context.record.metrics.tcpSessions, 12);
});

test('simulator: when a download runs then its facts are logged and published after they are durable', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const seen: string[] = [];
  const sub = nc.subscribe(subjects.streamEvents('sim', SERIAL), { callback: (_e, m) => { seen.push(m.json<{ type: string }>().type); } });
  t.teardown(() => sub.unsubscribe());
  const { sim, store, stop } = await startSim(t, tempDir(t), nc, subjects);
  t.teardown(stop);
  const version = '10.5.1';
  const answer = body(await sim.op(SERIAL, { type: 'op', cmd: cmd.download(version) }));
  const { jobId } = parseJobEnqueued(answer);
  const job = await waitFor(async () => {
    const j = parseJob(body(await sim.op(SERIAL, { type: 'op', cmd: cmd.job(jobId) })));
    return j.finished ? j : undefined;
  }, 10_000, 20);
  t.is(job.result, 'OK');
  t.deepEqual(job.details, ['Successfully downloaded', 'Preloading into software manager', 'Successfully loaded into software manager']);
  const software = parseSoftwareInfo(body(await sim.op(SERIAL, { type: 'op', cmd: cmd.software })));
  t.true(software.entries.find((e) => e.version === version)?.downloaded);
  const logged = await waitFor(() => {
    const types = store.readStream(`sim:${SERIAL}`).map((e) => e.type);
    return types.length >= 2 ? types : undefined;
  });
  t.deepEqual(logged, ['sim.download.started', 'sim.download.completed']);
  await waitFor(() => seen.includes('sim.download.completed'));
  t.deepEqual(seen, ['sim.download.started', 'sim.download.completed']);
});

test('simulator: when it restarts mid-download then the device resumes the same job and finishes it on time', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const dir = tempDir(t);
  // A 5 s download: long enough that a stop and a start on a loaded machine still land in the middle of it.
  const first = await startSim(t, dir, nc, subjects, 'basic', 0.5);
  const { jobId } = parseJobEnqueued(body(await first.sim.op(SERIAL, { type: 'op', cmd: cmd.download('10.5.1') })));
  const running = parseJob(body(await first.sim.op(SERIAL, { type: 'op', cmd: cmd.job(jobId) })));
  t.is(running.status, 'ACT');
  await first.stop();

  const second = await startSim(t, dir, nc, subjects, 'basic', 0.5);
  t.teardown(second.stop);
  t.is(second.sim.restored, 1);
  t.is(second.sim.device(SERIAL)!.stateName, 'downloading');
  const done = await waitFor(async () => {
    const j = parseJob(body(await second.sim.op(SERIAL, { type: 'op', cmd: cmd.job(jobId) })));
    return j.finished ? j : undefined;
  }, 30_000, 50);
  t.is(done.result, 'OK');
  const jobs = second.sim.device(SERIAL)!.context.record.jobs;
  t.is(jobs.filter((j) => j.status !== 'FIN').length, 0, 'no half-finished phantom job');
  t.deepEqual(
    jobs.map((j) => j.type),
    ['AutoCom', 'Downld'],
    'the boot-time auto-commit and the download',
  );
});

test('simulator: when a device reboots then direct calls are dropped and Panorama reports it not connected until it is back', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const { sim, stop } = await startSim(t, tempDir(t), nc, subjects, 'basic', 0.02);
  t.teardown(stop);
  const restart = body(await sim.op(SERIAL, { type: 'op', cmd: '<request><restart><system/></restart></request>' }));
  t.is(parseResponse(restart).status, 'success');
  await waitFor(() => sim.device(SERIAL)!.reachability === 'down', 5000, 5);
  t.deepEqual(await sim.op(SERIAL, { type: 'op', cmd: cmd.info }), { drop: true });
  const through = parseResponse(body(await sim.op(sim.panorama.serial, { type: 'op', cmd: cmd.info, target: SERIAL })));
  t.is(through.status, 'error');
  t.regex(through.lines.join(' '), /not connected/);
  await waitFor(() => sim.device(SERIAL)!.stateName === 'online', 10_000, 10);
  t.is(parseSystemInfo(body(await sim.op(SERIAL, { type: 'op', cmd: cmd.info }))).serial, SERIAL);
});

test('simulator: when fleet-230 is loaded then 230 firewall actors answer over one wildcard subscription', async (t) => {
  const nc = await nats.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const { sim, stop } = await startSim(t, tempDir(t), nc, subjects, 'fleet-230', 0.01);
  t.teardown(stop);
  t.is(sim.size, 230);
  const answers = await Promise.all(
    sim.describe().devices.map((d) => requestJson<{ body: string }>(nc, subjects.simOp(d.serial), { type: 'op', cmd: cmd.info })),
  );
  t.deepEqual(
    answers.map((a) => parseSystemInfo(a.body).serial),
    sim.describe().devices.map((d) => d.serial),
  );
});
