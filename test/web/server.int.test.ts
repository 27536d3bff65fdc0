import test, { type ExecutionContext } from 'ava';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { shippedScenario } from '../../cli/paths.ts';
import type { QueueSummary } from '../../actors/daemon.ts';
import { startWebServer, type WebServerHandle, type WebServerOptions } from '../../web/server.ts';
import type { DeviceRow, FleetPatch, FleetSnapshot } from '../../web/fleet-view.ts';
import { operatorTokenPath } from '../../web/operator-token.ts';
import { startTestNats, waitFor } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { command, discover, LONG } from '../actors/orchestrator-fixture.ts';
import { SseReader } from './sse-reader.ts';

const nats = startTestNats(test);
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

async function startView(t: ExecutionContext, stack: Stack, deviceLabels = false, extra: Partial<WebServerOptions> = {}): Promise<WebServerHandle> {
  const web = await startWebServer({
    store: stack.daemonStore!,
    nc: stack.nc,
    subjects: stack.subjects,
    log,
    listen: '127.0.0.1:0',
    dataDir: stack.dataDir,
    patchIntervalMs: 50,
    metrics: { processMetrics: false, deviceLabels },
    ...extra,
  });
  t.teardown(() => web.close());
  return web;
}

/** The device table as a browser holding every patch so far would have it. */
function tableOf(reader: SseReader): Map<string, DeviceRow> {
  const rows = new Map<string, DeviceRow>();
  for (const m of reader.messages) if (m.event === 'patch') for (const d of (m.data as FleetPatch).devices) rows.set(d.serial, d);
  return rows;
}

/** `name{labels} value` lines of an exposition, as a lookup. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

test('live view: devices, the progress of a download job and a failure with its reason are pushed to the feed; /metrics counts them without serials', async (t) => {
  const scenario = loadScenarioFile(shippedScenario('basic'), { timeScale: 0.02, env: {} });
  const broken = '001234567891';
  const error = 'Failed to download 10.5.1: connection to the update server timed out';
  scenario.failures = [{ device: broken, operation: 'download', failureRate: 1, error }];
  // Generous API timeouts: on a loaded machine a slow answer must not pass for the scenario's failure.
  const stack = await startStack(t, nats, { scenario, config: (c) => ({ ...c, retries: { maxAttempts: 2, backoffSeconds: 0.1 }, timeouts: { ...c.timeouts, apiSeconds: 60 } }) });
  const web = await startView(t, stack);
  const feed = await SseReader.open(t, `${web.url}/api/stream`);
  await feed.next((m) => m.event === 'hello');

  t.is(await discover(stack), 5);
  await waitFor(() => tableOf(feed).size === 5, LONG);
  const summary = await command<QueueSummary>(stack, 'download.queue-all', {});
  t.is(summary.queued, 4);
  const good = '001234567890';
  const jobOf = (serial: string): string => summary.queuedDevices.find((d) => d.device === serial)!.jobId!;

  const done = await waitFor(() => {
    const rows = tableOf(feed);
    return rows.get(good)?.status === 'download_complete' && rows.get(broken)?.status === 'failed' ? rows : undefined;
  }, LONG);
  t.like(done.get(good), { progress: 100, jobId: jobOf(good), jobKind: 'download-only', version: '10.0.2', hostname: 'fw-dc1-01' });
  t.true(done.get(broken)!.reason!.includes(error), done.get(broken)!.reason!);
  // The progress came live, in steps, not only as the end state.
  const seen = feed.messages.flatMap((m) => (m.event === 'patch' ? (m.data as FleetPatch).devices.filter((d) => d.serial === good) : []));
  t.true(seen.some((d) => d.status === 'downloading' && d.progress > 0 && d.progress < 100), JSON.stringify(seen.map((d) => [d.status, d.progress])));

  // A page opened now gets the same rows at once.
  const snapshot = (await (await fetch(`${web.url}/api/fleet`)).json()) as FleetSnapshot;
  t.is(snapshot.devices.length, 5);
  t.like(snapshot.devices.find((d) => d.serial === good), { status: 'download_complete', progress: 100 });
  t.true(snapshot.jobs.some((j) => j.jobId === jobOf(broken) && j.status === 'failed'));

  // The job page: its record and its timeline from the log.
  const page = (await (await fetch(`${web.url}/api/jobs/${jobOf(broken)}`)).json()) as { record: { upgrade_status: string }; timeline: Array<{ type: string; summary: string }> };
  t.is(page.record.upgrade_status, 'failed');
  t.is(page.timeline[0]!.type, 'job.submitted');
  const last = page.timeline.at(-1)!;
  t.is(last.type, 'job.failed');
  t.true(last.summary.includes('connection to the update server timed out'), last.summary);

  await waitFor(async () => {
    const text = await (await fetch(`${web.url}/metrics`)).text();
    return sample(text, 'panos_upgrade_jobs{status="download_complete",kind="download-only"}') === 3 ? text : undefined;
  }, LONG);
  const res = await fetch(`${web.url}/metrics`);
  t.regex(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  t.is(sample(text, 'panos_upgrade_jobs{status="failed",kind="download-only"}'), 1);
  t.is(sample(text, 'panos_upgrade_devices{version="10.0.2"}'), 3);
  t.is(sample(text, 'panos_upgrade_devices{version="11.1.0"}'), 1);
  t.true(sample(text, 'panos_upgrade_job_step_duration_seconds_count{step="download",kind="download-only",outcome="completed"}')! >= 2);
  t.true(sample(text, 'panos_upgrade_job_step_duration_seconds_count{step="download",kind="download-only",outcome="failed"}')! >= 1);
  t.true(sample(text, 'panos_upgrade_xml_api_calls_total{command="show.devices.connected",outcome="ok"}')! >= 1);
  t.true(sample(text, 'panos_upgrade_xml_api_calls_total{command="request.system.software.download",outcome="ok"}')! >= 1);
  t.is(sample(text, 'panos_upgrade_live_clients'), 1);
  t.is(sample(text, 'panos_upgrade_nats_connected'), 1);
  t.is(sample(text, 'panos_upgrade_up'), 1);
  // No serial, hostname or address of a device as a label value unless configured.
  for (const d of scenario.devices) {
    t.false(text.includes(d.serial), d.serial);
    t.false(text.includes(d.hostname), d.hostname);
  }
});

test('live view: a job page feed gets the events of its job as they are logged, and per-device series appear only when configured', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  const web = await startView(t, stack, true);
  await discover(stack);
  const serial = '001234567893';
  const job = (await command<{ job: { job_id: string } }>(stack, 'job.submit', { device: serial, downloadOnly: true })).job;
  const feed = await SseReader.open(t, `${web.url}/api/stream?job=${job.job_id}`);
  const completed = await feed.next((m) => (m.event === 'job' && (m.data as { type: string }).type === 'job.completed' ? m.data : undefined), LONG);
  t.like(completed, { stream: `job:${job.job_id}` });
  const types = feed.messages.filter((m) => m.event === 'job').map((m) => (m.data as { type: string }).type);
  t.true(types.includes('job.download.completed'), types.join(' '));
  t.true(types.every((ty) => ty.startsWith('job.')));
  const text = await (await fetch(`${web.url}/metrics`)).text();
  t.is(sample(text, `panos_upgrade_device_job_progress{serial="${serial}"}`), 100);
});

function post(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { error?: { code: string; message: string }; job?: { job_id: string } } }> {
  return fetch(url, { method: 'POST', headers }).then(async (r) => ({ status: r.status, body: (await r.json()) as never }));
}

test('live view: actions need the operator token from the data dir; with it they reach the daemon', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 1 });
  const web = await startView(t, stack);
  await discover(stack);
  const token = readFileSync(operatorTokenPath(stack.dataDir), 'utf8').trim();
  t.true(token.length >= 16);
  const session = async (h: Record<string, string>): Promise<unknown> => (await fetch(`${web.url}/api/session`, { headers: h })).json();
  t.deepEqual(await session({}), { operator: false });
  t.deepEqual(await session({ authorization: `Bearer ${token}` }), { operator: true });

  // Downloads take seconds at time scale 1: the job is still running when it is cancelled.
  const job = (await command<{ job: { job_id: string } }>(stack, 'job.submit', { device: '001234567890', downloadOnly: true })).job;
  const anonymous = await post(`${web.url}/api/jobs/${job.job_id}/cancel`);
  t.is(anonymous.status, 401);
  t.regex(anonymous.body.error!.message, /operator token/);
  t.is((await post(`${web.url}/api/jobs/${job.job_id}/cancel`, { authorization: 'Bearer not-the-token-at-all' })).status, 403);
  t.is((await post(`${web.url}/api/jobs/nope/cancel`, { authorization: `Bearer ${token}` })).status, 404);
  t.is((await post(`${web.url}/api/jobs/${job.job_id}/explode`, { authorization: `Bearer ${token}` })).status, 404);
  const cancelled = await post(`${web.url}/api/jobs/${job.job_id}/cancel`, { authorization: `Bearer ${token}` });
  t.is(cancelled.status, 200, JSON.stringify(cancelled.body));
  t.is(cancelled.body.job!.job_id, job.job_id);
  // Resuming a job that is not a paused HA pair is the daemon's error, passed on.
  const resumed = await post(`${web.url}/api/jobs/${job.job_id}/resume`, { authorization: `Bearer ${token}` });
  t.is(resumed.status, 409);
  t.is(resumed.body.error!.code, 'JOB_STATE');
});

test('live view: a request naming another host (DNS rebinding) is refused', async (t) => {
  const stack = await startStack(t, nats, { daemon: true });
  const web = await startView(t, stack);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${web.url}/api/fleet`, { headers: { host: `attacker.example:${web.port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  t.is(status, 403);
  const ok = await fetch(`${web.url}/api/fleet`);
  t.is(ok.status, 200);
  // Not to be framed by another origin's page (the Host check lets a loopback frame through), nor sniffed.
  for (const path of ['/', '/api/fleet']) {
    const r = await fetch(`${web.url}${path}`);
    t.is(r.headers.get('x-frame-options'), 'DENY', path);
    t.is(r.headers.get('content-security-policy'), "frame-ancestors 'none'", path);
    t.is(r.headers.get('x-content-type-options'), 'nosniff', path);
    t.is(r.headers.get('referrer-policy'), 'no-referrer', path);
  }
});

test('live view: a campaign shows its waves and what it waits for; an operator approves its gate over HTTP; /metrics has its progress by wave', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic' });
  const web = await startView(t, stack);
  const feed = await SseReader.open(t, `${web.url}/api/stream`);
  await discover(stack);
  const plan = { target: '11.1.0', select: { versions: ['10.*'] }, waves: 'canary:1,rest', approval: true, concurrency: 2 };
  const { campaign } = await command<{ campaign: { campaign_id: string } }>(stack, 'campaign.create', plan);
  const id = campaign.campaign_id;
  type Row = FleetPatch['campaigns'][number];
  const gate = await feed.next((m) => (m.event === 'patch' ? (m.data as FleetPatch).campaigns.find((c: Row) => c.campaign_id === id && c.waves[0]!.status === 'awaiting-approval') : undefined), LONG);
  t.regex(gate.waiting_for, new RegExp(`campaign approve ${id}`));
  t.like(gate.waves[0], { complete: 1, units: 1 });
  t.like(gate.waves[1], { units: 3, running: 0 });

  const text = await (await fetch(`${web.url}/metrics`)).text();
  t.is(sample(text, `panos_upgrade_campaign_units{campaign="${id}",wave="1",status="complete"}`), 1);
  t.is(sample(text, `panos_upgrade_campaign_units{campaign="${id}",wave="2",status="waiting"}`), 3);
  t.is(sample(text, `panos_upgrade_campaign_wave{campaign="${id}"}`), 1);
  t.is(sample(text, 'panos_upgrade_campaigns{status="running"}'), 1);

  t.is((await post(`${web.url}/api/campaigns/${id}/approve`)).status, 401);
  const token = readFileSync(operatorTokenPath(stack.dataDir), 'utf8').trim();
  const approved = await post(`${web.url}/api/campaigns/${id}/approve`, { authorization: `Bearer ${token}` });
  t.is(approved.status, 200, JSON.stringify(approved.body));
  const done = await feed.next((m) => (m.event === 'patch' ? (m.data as FleetPatch).campaigns.find((c: Row) => c.campaign_id === id && c.status === 'completed') : undefined), LONG);
  t.like(done.totals, { units: 4, complete: 4, failed: 0 });
  const again = await post(`${web.url}/api/campaigns/${id}/approve`, { authorization: `Bearer ${token}` });
  t.is(again.status, 409);
  t.regex(again.body.error!.message, /already ended/);
  const detail = (await (await fetch(`${web.url}/api/campaigns/${id}`)).json()) as { campaign: { waves: Array<{ members: unknown[] }> } };
  t.is(detail.campaign.waves[1]!.members.length, 3);
});

test('live view: a feed client that stops reading is dropped once its backlog passes the limit, one that reads is kept, and feeds past the most open are refused with a clear error', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  const web = await startView(t, stack, false, { patchIntervalMs: 20, maxFeedBacklogBytes: 256 * 1024, maxFeedClients: 2 });
  // A client that connects and never reads.
  let stalledClosed = false;
  const stalled = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(`${web.url}/api/stream`, { headers: { accept: 'text/event-stream' } }, resolve);
    req.on('error', reject);
    req.end();
  });
  stalled.pause();
  // Its socket: the paused response holds what it has not read.
  stalled.socket.on('close', () => (stalledClosed = true));
  stalled.on('error', () => undefined);
  const reading = await SseReader.open(t, `${web.url}/api/stream`);
  await waitFor(() => web.clients === 2, LONG, 20);
  const third = await fetch(`${web.url}/api/stream`);
  t.is(third.status, 503);
  t.like(((await third.json()) as { error: { code: string; message: string } }).error, { code: 'TOO_MANY_FEEDS', message: '2 live feeds are open, the most this view serves: close a page, then reload this one' });

  // Rows change by the thousand, published as the daemon publishes them: megabytes of patches.
  const serials = Array.from({ length: 3000 }, (_, i) => String(900_000_000_000 + i));
  const at = new Date().toISOString();
  for (let round = 1; round <= 12 && web.clients > 1; round++) {
    for (const serial of serials) {
      const device = { serial, hostname: `fw-flood-${serial}-${'x'.repeat(40)}`, mgmtIp: '10.9.9.9', model: 'PA-3220', family: '3200', swVersion: `10.1.${round}`, appVersion: '8800-7000', connected: true, haState: null, haPeer: null, deviceGroup: null };
      stack.nc.publish(stack.subjects.event(`device:${serial}`, 'device.discovered'), JSON.stringify({ gseq: round * 10_000 + Number(serial.slice(-4)), stream: `device:${serial}`, seq: round, type: 'device.discovered', at, data: device }));
    }
    await stack.nc.flush();
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitFor(() => web.clients === 1, LONG, 20);
  // Its connection was closed: once it reads again it gets what was sent before the drop, then the end.
  t.false(stalledClosed);
  stalled.resume();
  await waitFor(() => stalledClosed, LONG, 20);
  t.is(web.clients, 1, 'the reading client is still served');
  // The reader got the rows as they changed.
  await waitFor(() => reading.messages.some((m) => m.event === 'patch' && (m.data as FleetPatch).devices.some((d) => d.serial === serials[0])), LONG, 20);
});

test('live view: connections are bounded in number and a request that never finishes its headers is closed, so a local flood cannot take the daemon\'s file descriptors; /metrics answers once they go', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  const web = await startView(t, stack, false, { maxConnections: 8, headersTimeoutMs: 8_000 });
  const { connect } = await import('node:net');
  // Half-sent requests, far more than the bound.
  const sockets = Array.from({ length: 40 }, () => {
    const s = connect(web.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('connect', () => s.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    s.resume();
    return s;
  });
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  // Those past the bound are closed at once, long before the headers timeout.
  await waitFor(() => sockets.filter((s) => s.destroyed).length >= 32, 5_000, 20);
  t.is(web.connections(), 8);
  // The held ones end at the headers timeout; then /metrics answers.
  await waitFor(() => sockets.every((s) => s.destroyed), LONG, 50);
  const res = await fetch(`${web.url}/metrics`);
  t.is(res.status, 200);
  t.is(sample(await res.text(), 'panos_upgrade_nats_connected'), 1);
});

test('live view: panos_upgrade_nats_connected is 0 while the NATS connection is down (it retries for ever, so it is never closed) and 1 once it is back', async (t) => {
  const stack = await startStack(t, nats, { timeScale: 0.02 });
  const { startNatsServer } = await import('../../bus/nats-server.ts');
  const { connectNats } = await import('../../bus/connect.ts');
  const { join } = await import('node:path');
  const storeDir = join(stack.dataDir, 'own-nats');
  const first = await startNatsServer({ storeDir, guard: 'none' });
  let server = first;
  t.teardown(() => server.stop());
  const nc = await connectNats(server.url, 'live view test');
  t.teardown(() => nc.close());
  const web = await startView(t, stack, false, { nc });
  const gauge = async (): Promise<number | undefined> => sample(await (await fetch(`${web.url}/metrics`)).text(), 'panos_upgrade_nats_connected');
  t.is(await gauge(), 1);
  await server.stop();
  await waitFor(async () => (await gauge()) === 0, LONG, 100);
  server = await startNatsServer({ storeDir, port: first.port, guard: 'none' });
  await waitFor(async () => (await gauge()) === 1, LONG, 100);
  t.is(await gauge(), 1);
});
