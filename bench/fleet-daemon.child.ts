// The orchestrator in its own process, composed as `panos-upgrade daemon` composes it: its own event
// log with durable events published on NATS, the XML client to the gateway, commands on panos.cmd.*.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { open } from 'lmdb';
import pino from 'pino';
import { DEFAULT_CONFIG, simulatedFleetAccess, saveConfig, type DaemonConfig } from '../actors/config.ts';
import { Daemon } from '../actors/daemon.ts';
import { createDeviceAccess } from '../actors/device-access.ts';
import { connectNats, eventPublisher, Subjects } from '../bus/index.ts';
import { LmdbEventStore, oneEventPerCall } from '../eventstore/index.ts';
import { busCopy } from '../actors/bus-copy.ts';
import { commandLabel } from '../web/metrics.ts';
import { processStats, serveParent } from './lib/child.ts';
import { summarize } from './lib/stats.ts';

/** The daemon's API calls from its `api` stream: how many, how long, and through which host kind. */
function apiCallSummary(store: LmdbEventStore, panoramaHost: string): Record<string, unknown> {
  const byCommand = new Map<string, number[]>();
  let viaPanorama = 0;
  let direct = 0;
  const outcomes: Record<string, number> = {};
  for (const e of oneEventPerCall(store.readStream('api'))) {
    const d = e.data as { host: string; type?: string; command: string; durationMs: number; outcome: string };
    if (d.host === panoramaHost) viaPanorama++;
    else direct++;
    outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
    const label = commandLabel(d.type, d.command);
    const name = label === 'other' ? d.command.slice(0, 30) : label;
    const list = byCommand.get(name) ?? [];
    list.push(d.durationMs);
    byCommand.set(name, list);
  }
  const commands = Object.fromEntries(
    [...byCommand]
      .sort((a, b) => b[1].length - a[1].length)
      .map(([k, v]) => {
        const s = summarize(v);
        return [k, { count: s.count, p50Ms: s.p50, p99Ms: s.p99 }];
      }),
  );
  return { total: viaPanorama + direct, viaPanorama, direct, outcomes, commands };
}

export interface FleetDaemonArgs {
  natsUrl: string;
  prefix: string;
  port: number;
  fingerprint: string;
  caCert: string;
  apiKey: string;
  concurrency: number;
  upgradePaths: Record<string, string[]>;
  pollSeconds: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as FleetDaemonArgs;

// Counted for the report: every TLS connection the daemon's clients open, and how many of them resumed a
// session (the others are full handshakes).
const tlsCounts = { connections: 0, resumed: 0 };
const connect = tls.connect;
(tls as { connect: typeof tls.connect }).connect = ((...a: Parameters<typeof tls.connect>) => {
  tlsCounts.connections++;
  const socket = connect(...a);
  socket.once('secureConnect', () => {
    if (socket.isSessionReused()) tlsCounts.resumed++;
  });
  return socket;
}) as typeof tls.connect;

/** How long each job step took (step started → completed, from the job streams), p50 and p99 per step. */
function stepSummary(store: LmdbEventStore): Record<string, { count: number; p50Ms: number; p99Ms: number }> {
  const durations = new Map<string, number[]>();
  for (const stream of store.streamNames('job:')) {
    const open = new Map<string, number>();
    for (const e of store.readStream(stream)) {
      const d = e.data as { step?: string; hop?: number };
      if (e.type === 'job.step.started' || e.type === 'job.ha.step.started') open.set(`${d.step}`, Date.parse(e.at));
      else if (e.type === 'job.step.completed') {
        const started = open.get(`${d.step}`);
        if (started === undefined) continue;
        const list = durations.get(`${d.step}`) ?? [];
        list.push(Date.parse(e.at) - started);
        durations.set(`${d.step}`, list);
      }
    }
  }
  return Object.fromEntries(
    [...durations].map(([k, v]) => {
      const s = summarize(v);
      return [k, { count: s.count, p50Ms: s.p50, p99Ms: s.p99 }];
    }),
  );
}

/** One device's calls and job facts in order, from the first (a development aid): the sixth serial called through Panorama, in order. */
function deviceSequence(store: LmdbEventStore): string[] {
  const calls = new Map<string, Array<[number, string]>>();
  for (const e of oneEventPerCall(store.readStream('api'))) {
    const d = e.data as { target?: string; type?: string; command: string; outcome: string; at: string };
    if (!d.target) continue;
    const list = calls.get(d.target) ?? [];
    list.push([Date.parse(d.at), `  call ${commandLabel(d.type, d.command)} ${d.outcome}`]);
    calls.set(d.target, list);
  }
  const serial = [...calls.keys()].sort()[5];
  if (!serial) return [];
  const lines = calls.get(serial)!;
  for (const stream of store.streamNames('job:')) {
    const events = store.readStream(stream);
    if (!JSON.stringify(events[0]?.data ?? {}).includes(serial)) continue;
    for (const e of events) lines.push([Date.parse(e.at), `fact ${e.type} ${JSON.stringify(e.data).slice(0, 80)}`]);
  }
  lines.sort((a, b) => a[0] - b[0]);
  const t0 = lines[0]?.[0] ?? 0;
  return [serial, ...lines.map(([t, l]) => `${String(t - t0).padStart(6)} ${l}`)];
}

/** How many events of each type the daemon's log holds (a batch of call records is one event). */
function eventTypes(store: LmdbEventStore): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of store.readAll()) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}

/**
 * When the units finished, from the first submission: standalone jobs and HA pair jobs apart (a pair's child
 * jobs are not units); each pair's steps and its child jobs' steps (start and end, from the first
 * submission), to see where its critical path goes.
 */
function unitTimeline(store: LmdbEventStore): Record<string, unknown> {
  type Job = { pair: boolean; parent?: string; started: number; ended?: number; steps: [string, number, number?][] };
  const jobs = new Map<string, Job>();
  for (const stream of store.streamNames('job:')) {
    let job: Job | undefined;
    for (const e of store.readStream(stream)) {
      const at = Date.parse(e.at);
      const d = e.data as { step?: string; hop?: number; parentId?: string };
      const step = `${d.step}${d.hop !== undefined ? `#${d.hop}` : ''}`;
      if (e.type === 'job.ha.submitted' || e.type === 'job.submitted') {
        job = { pair: e.type === 'job.ha.submitted', started: at, steps: [], ...(d.parentId ? { parent: d.parentId } : {}) };
      } else if (!job) continue;
      else if (e.type === 'job.ha.step.started' || e.type === 'job.step.started') job.steps.push([step, at]);
      else if (e.type === 'job.step.completed' || e.type === 'job.step.failed') {
        const open = job.steps.findLast((st) => st[0] === step && st[2] === undefined);
        if (open) open[2] = at;
      } else if (/^job\.(ha\.)?(completed|failed|cancelled)$/.test(e.type)) job.ended = at;
    }
    if (job) jobs.set(stream.slice('job:'.length), job);
  }
  const t0 = Math.min(...[...jobs.values()].map((j) => j.started));
  const rel = (t: number | undefined): number | undefined => (t === undefined ? undefined : t - t0);
  const standalone = [...jobs.values()].filter((j) => !j.pair && !j.parent && j.ended !== undefined).map((j) => j.ended! - t0);
  const pairs = [...jobs].filter(([, j]) => j.pair).map(([id, j]) => ({
    finishedMs: rel(j.ended),
    steps: j.steps.map(([name, at]) => [name, rel(at)]),
    children: [...jobs.values()].filter((c) => c.parent === id).map((c) => c.steps.map(([name, at, end]) => [name, rel(at), rel(end)])),
  }));
  const s = summarize(standalone);
  return { standaloneFinishedMs: { count: s.count, p50: s.p50, p99: s.p99, max: Math.max(0, ...standalone) }, pairs };
}

await serveParent<{ pid: number; config: DaemonConfig }>(async () => {
  const nc = await connectNats(args.natsUrl, 'bench daemon');
  const subjects = new Subjects(args.prefix);
  const dataDir = mkdtempSync(join(tmpdir(), 'panos-bench-daemon-'));
  const log = pino({ level: 'error' });
  const config: DaemonConfig = {
    ...DEFAULT_CONFIG,
    ...simulatedFleetAccess({ port: args.port, fingerprint: args.fingerprint, apiKey: args.apiKey, caFile: args.caCert ? (writeFileSync(join(dataDir, 'sim-ca.pem'), args.caCert), join(dataDir, 'sim-ca.pem')) : '' }),
    concurrency: args.concurrency,
    // The ideal counts no rate limit, so none binds here (the default, 20/s, is for a real Panorama).
    rateLimit: 100_000,
    upgrade: { ...DEFAULT_CONFIG.upgrade, paths: args.upgradePaths },
    retries: { maxAttempts: 3, backoffSeconds: 0.1 },
    timeouts: { apiSeconds: 30, jobSeconds: 120, rebootSeconds: 120, rebootSecondsByModel: {}, rebootStartGraceSeconds: 10 },
    poll: { jobSeconds: args.pollSeconds, rebootSeconds: args.pollSeconds },
  };
  saveConfig(dataDir, config);
  const store = LmdbEventStore.open({ path: join(dataDir, 'events'), runId: 'daemon' });
  const off = store.onAppend(eventPublisher(nc, subjects, { busCopy }));
  const access = createDeviceAccess(config, { store, log: log.child({ component: 'client' }) });
  const daemon = await Daemon.start({ store, log: log.child({ component: 'daemon' }), config, access, dataDir, nc, subjects });
  return {
    info: { pid: process.pid, config: { ...config, panorama: { ...config.panorama, apiKey: '[redacted]' } } },
    handlers: {
      stats: () => processStats(),
      eventCount: () => store.lastGseq(),
      // LMDB's last transaction id: how many commits the daemon's log took (group commit shares them). The
      // handle is lmdb-js's, shared with the store's environment in this process: not closed here.
      commits: () => (open({ path: join(dataDir, 'events'), noSubdir: false }).getStats() as { lastTxnId: number }).lastTxnId,
      apiCalls: () => apiCallSummary(store, config.panorama.host),
      steps: () => stepSummary(store),
      eventTypes: () => eventTypes(store),
      deviceSequence: () => deviceSequence(store),
      timeline: () => unitTimeline(store),
      tlsConnections: () => tlsCounts,
    },
    async onStop() {
      await daemon.stop();
      await access.close();
      off();
      await store.close();
      await nc.close();
      if (process.env.PANOS_BENCH_KEEP_DATA) process.stderr.write(`kept ${dataDir}\n`); else rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
