import { z } from 'zod';
import { compareContentVersions } from '../panos/model.ts';
import { panrepoAvailMb } from '../panos/parsers.ts';
import { meanDataplaneCpu } from '../panos/parsers-readiness.ts';
import { compareVersions, featureRelease, isVersion } from '../panos/version.ts';
import type { ReadingName, ReadingValues } from './readings.ts';

export type Severity = 'block' | 'warn';

/** What one check found. `unavailable`: it could not run (command refused on that version, …); never blocks. */
export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'unavailable';

/** What a check needs to know besides the device's answers. */
export interface CheckContext {
  /** ms since the epoch, from the caller's clock. */
  now: number;
  targetVersion: string | null;
  /** Versions the job still has to fetch (its plan from the current hop), in order; empty when there is no plan. */
  planVersions: string[];
  /** Install hops still to do (reboots). */
  installHops: number;
  model: string;
  /** The job's budget for one reboot of this model, ms. */
  rebootBudgetMs: number | null;
  /** Minutes until the maintenance window starts (0 = now), when the job has one. */
  windowStartsInMinutes?: number;
}

export interface CheckOutcome {
  status: Exclude<CheckStatus, 'unavailable'>;
  message: string;
}

type ReadArgs<R extends ReadingName> = { [K in R]: ReadingValues[K] };

export interface CheckDefinition<P extends z.ZodType = z.ZodType, R extends ReadingName = ReadingName> {
  name: string;
  title: string;
  /** What it reads from the device. */
  reads: readonly R[];
  /**
   * False when, with these parameters, the check skips without looking at the device: its readings are
   * then not read at all (a session table of hundreds of kilobytes for a check with nothing to look for).
   */
  readsWith?: (p: z.infer<P>) => boolean;
  severity: Severity;
  /** Its parameters in the policy (snake_case, with defaults). */
  params: P;
  run(r: ReadArgs<R>, p: z.infer<P>, ctx: CheckContext): CheckOutcome;
}

function define<P extends z.ZodType, R extends ReadingName>(d: CheckDefinition<P, R>): CheckDefinition<P, R> {
  return d;
}

const pass = (message: string): CheckOutcome => ({ status: 'pass', message });
const fail = (message: string): CheckOutcome => ({ status: 'fail', message });
const skipped = (message: string): CheckOutcome => ({ status: 'skipped', message });
const none = z.object({}).strict();
const pct = z.number().min(0).max(100);
const list = (xs: readonly string[], max = 5) => (xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Minutes from `now` (device clock, ms) to the next run of a schedule; undefined when it never runs. */
export function minutesToNextRun(s: ReadingValues['updateSchedules'][number], now: number): number | undefined {
  const d = new Date(now);
  const minuteOfDay = d.getUTCHours() * 60 + d.getUTCMinutes() + d.getUTCSeconds() / 60;
  const hm = (t: string | undefined) => {
    const m = /^(\d{1,2}):(\d{2})$/.exec(t ?? '');
    return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
  };
  const every = /^every-(\d+)-mins?$/.exec(s.recurrence);
  switch (true) {
    case s.recurrence === 'none':
      return undefined;
    case s.recurrence === 'real-time':
      return 0;
    case every !== null: {
      const n = Number(every![1]);
      const at = Number(s.at ?? 0);
      return (((at - d.getUTCMinutes()) % n) + n) % n;
    }
    case s.recurrence === 'hourly': {
      const at = Number(s.at ?? 0);
      return (((at - d.getUTCMinutes()) % 60) + 60) % 60;
    }
    case s.recurrence === 'daily':
      return (((hm(s.at) - minuteOfDay) % 1440) + 1440) % 1440;
    case s.recurrence === 'weekly': {
      const target = DAYS.indexOf((s.dayOfWeek ?? '').toLowerCase());
      const week = (target < 0 ? 0 : target) * 1440 + hm(s.at);
      const nowInWeek = d.getUTCDay() * 1440 + minuteOfDay;
      return (((week - nowInWeek) % 10080) + 10080) % 10080;
    }
    default:
      return 0;
  }
}

/**
 * The readiness checks: pure functions from the device's parsed answers to a verdict. The names are the
 * keys of the policy's `checks:` map. Checks follow pan-os-upgrade-assurance's rules where it has one.
 */
export const CHECKS = [
  define({
    name: 'panorama_connected',
    title: 'Panorama connected',
    reads: ['panoramaStatus'],
    severity: 'block',
    params: none,
    run: ({ panoramaStatus: s }) => {
      if (!s.configured) return fail('no Panorama is configured on the device');
      const up = s.servers.filter((x) => x.connected);
      return up.length > 0
        ? pass(`connected to ${up.map((x) => x.address).join(', ')}`)
        : fail(`not connected to Panorama (${s.servers.map((x) => `${x.address}: connected no`).join(', ')})`);
    },
  }),
  define({
    name: 'ha',
    title: 'HA state, peer state and config sync',
    reads: ['ha'],
    severity: 'block',
    params: z.object({ skip_config_sync: z.boolean().default(false), ignore_non_functional: z.boolean().default(false) }).strict(),
    run: ({ ha }, p) => {
      if (!ha.enabled) return skipped('HA is not enabled');
      const ok = p.ignore_non_functional ? ['active', 'passive', 'non-functional'] : ['active', 'passive'];
      const local = ha.local?.state ?? 'unknown';
      const peer = ha.peer?.state ?? 'unknown';
      if (ha.mode && !/active-passive/i.test(ha.mode)) return fail(`HA mode is ${ha.mode}; only Active-Passive pairs are upgraded`);
      if (!ok.includes(local)) return fail(`local HA state is ${local}, expected active or passive`);
      if (ha.peer?.connStatus === 'down' || !ok.includes(peer)) return fail(`HA peer state is ${peer}${ha.peer?.connStatus ? ` (connection ${ha.peer.connStatus})` : ''}, expected active or passive`);
      if (local === peer) return fail(`both HA peers are ${local}`);
      if (!p.skip_config_sync && ha.runningSyncEnabled !== false && ha.runningSync !== undefined && ha.runningSync !== 'synchronized') {
        return fail(`HA configuration is not synchronised (running-sync: ${ha.runningSync}); run "request high-availability sync-to-remote running-config" or commit on the active peer`);
      }
      return pass(`${local}, peer ${peer}${ha.runningSync ? `, config ${ha.runningSync}` : ''}`);
    },
  }),
  define({
    name: 'ntp_sync',
    title: 'NTP synchronised',
    reads: ['ntp'],
    severity: 'warn',
    params: none,
    run: ({ ntp }) => {
      if (ntp.synched === 'LOCAL') {
        if (ntp.servers.length === 0) return fail('no NTP server is configured (clock is LOCAL)');
        return fail(`not synchronised to NTP: ${ntp.servers.map((s) => `${s.name} ${s.status}${s.reachable ? '' : ' (unreachable)'}`).join(', ')}`);
      }
      return ntp.servers.some((s) => s.name === ntp.synched) ? pass(`synchronised to ${ntp.synched}`) : fail(`NTP synchronisation in an unknown state: ${ntp.synched}`);
    },
  }),
  define({
    name: 'no_pending_changes',
    title: 'No pending changes, no full commit required',
    reads: ['fullCommitRequired', 'pendingChanges'],
    severity: 'block',
    params: none,
    run: ({ fullCommitRequired, pendingChanges }) => {
      if (fullCommitRequired) return fail('a full commit is required on the device; commit before upgrading');
      if (pendingChanges) return fail('the candidate configuration has uncommitted changes; commit or revert them before upgrading');
      return pass('nothing to commit');
    },
  }),
  define({
    name: 'licenses',
    title: 'Licenses not expired',
    reads: ['licenses'],
    severity: 'warn',
    params: z.object({ skip: z.array(z.string()).default([]) }).strict(),
    run: ({ licenses }, p, ctx) => {
      if (licenses.length === 0) return fail('the device lists no licenses (not licensed?)');
      const expired = licenses.filter((l) => !p.skip.includes(l.feature) && (l.expired || (l.expiresAtMs !== undefined && l.expiresAtMs < ctx.now)));
      return expired.length > 0 ? fail(`expired license(s): ${list(expired.map((l) => `${l.feature} (${l.expires})`))}`) : pass(`${licenses.length} license(s) valid`);
    },
  }),
  define({
    name: 'support_active',
    title: 'Support active',
    reads: ['support'],
    severity: 'block',
    params: none,
    run: ({ support }, _p, ctx) => {
      if (support.expiresAtMs === undefined) return fail(`no support expiry date on the update server${support.description ? ` (${support.description})` : ''}`);
      return support.expiresAtMs < ctx.now
        ? fail(`support license expired on ${support.expiryDate ?? day(support.expiresAtMs)}: images cannot be downloaded; renew support`)
        : pass(`${support.level ?? 'support'} until ${support.expiryDate}`);
    },
  }),
  define({
    name: 'content_version',
    title: "Content version at least the target's minimum",
    reads: ['systemInfo'],
    severity: 'block',
    params: z.object({ minimum_by_release: z.record(z.string(), z.string().regex(/^\d+-\d+$/, 'a content version such as 8799-8509')).default({}) }).strict(),
    run: ({ systemInfo }, p, ctx) => {
      const installed = systemInfo.appVersion;
      if (!installed) return fail('the device reports no content (app) version');
      if (!ctx.targetVersion || !isVersion(ctx.targetVersion)) return skipped(`no target version; installed content ${installed}`);
      const release = featureRelease(ctx.targetVersion);
      const min = p.minimum_by_release[ctx.targetVersion] ?? p.minimum_by_release[release];
      if (!min) return skipped(`no minimum content version known for ${release} in the policy; installed ${installed}`);
      return compareContentVersions(installed, min) >= 0
        ? pass(`content ${installed} ≥ ${min} required by ${release}`)
        : fail(`content ${installed} is older than ${min}, the minimum for ${release}; install content ${min} or later first`);
    },
  }),
  define({
    name: 'free_disk',
    title: 'Free disk for every image still to download',
    reads: ['disk', 'software'],
    severity: 'block',
    params: z.object({ headroom_pct: z.number().min(0).default(10), minimum_mb_without_plan: z.number().min(0).default(3072) }).strict(),
    run: ({ disk, software }, p, ctx) => {
      const free = panrepoAvailMb(disk);
      if (free === undefined) return fail('no /opt/panrepo in show system disk-space');
      const have = new Set(software.entries.filter((e) => e.downloaded).map((e) => e.version));
      const sizes = new Map(software.entries.map((e) => [e.version, e.sizeMb]));
      const fetch = [...new Set(ctx.planVersions)].filter((v) => !have.has(v));
      const need = fetch.length > 0 ? Math.ceil((fetch.reduce((s, v) => s + (sizes.get(v) ?? 0), 0) * (100 + p.headroom_pct)) / 100) : ctx.planVersions.length > 0 ? 0 : p.minimum_mb_without_plan;
      if (free >= need) return pass(`${Math.floor(free)} MB free on /opt/panrepo, ${need} MB needed${fetch.length ? ` for ${fetch.join(', ')}` : ''}`);
      return fail(`not enough free disk on /opt/panrepo: ${Math.floor(free)} MB free, ${need} MB needed${fetch.length ? ` for ${fetch.join(', ')} (+${p.headroom_pct}%)` : ''}; delete old images`);
    },
  }),
  define({
    name: 'no_running_jobs',
    title: 'No running jobs',
    reads: ['jobs'],
    severity: 'block',
    params: z.object({ ignore_types: z.array(z.string()).default([]) }).strict(),
    run: ({ jobs }, p) => {
      const running = jobs.filter((j) => !j.finished && !p.ignore_types.includes(j.type));
      return running.length > 0
        ? fail(`job(s) still running: ${list(running.map((j) => `${j.type} ${j.id ?? '?'} (${j.status}, ${j.progress ?? 0}%)`))}; wait for them to finish`)
        : pass(`${jobs.length} job(s), all finished`);
    },
  }),
  define({
    name: 'critical_sessions',
    title: 'Critical sessions exist',
    reads: ['sessions'],
    readsWith: (p) => p.sessions.length > 0,
    severity: 'warn',
    params: z
      .object({ sessions: z.array(z.object({ source: z.string(), destination: z.string(), port: z.number().int().min(0).max(65535) }).strict()).default([]) })
      .strict(),
    run: ({ sessions }, p) => {
      if (p.sessions.length === 0) return skipped('no critical sessions listed in the policy');
      if (sessions.length === 0) return fail('the session table is empty');
      const missing = p.sessions.filter((c) => !sessions.some((s) => s.source === c.source && s.xdst === c.destination && s.dport === c.port));
      return missing.length > 0
        ? fail(`session(s) not found: ${list(missing.map((m) => `${m.source} → ${m.destination}:${m.port}`))}`)
        : pass(`${p.sessions.length} critical session(s) present`);
    },
  }),
  define({
    name: 'arp_entries',
    title: 'ARP entries exist',
    reads: ['arp'],
    severity: 'warn',
    params: z.object({ entries: z.array(z.object({ ip: z.string(), interface: z.string().optional() }).strict()).default([]) }).strict(),
    run: ({ arp }, p) => {
      if (p.entries.length === 0) return arp.entries.length > 0 || arp.total > 0 ? pass(`${arp.total} ARP entries`) : fail('the ARP table is empty');
      const missing = p.entries.filter((w) => !arp.entries.some((e) => e.ip === w.ip && (w.interface === undefined || e.interface === w.interface)));
      return missing.length > 0 ? fail(`ARP entr(ies) not found: ${list(missing.map((m) => (m.interface ? `${m.ip} on ${m.interface}` : m.ip)))}`) : pass(`${p.entries.length} ARP entr(ies) present`);
    },
  }),
  define({
    name: 'ipsec_tunnels',
    title: 'IPsec tunnels up',
    reads: ['tunnels'],
    severity: 'warn',
    params: z.object({ tunnels: z.array(z.string()).default([]) }).strict(),
    run: ({ tunnels }, p) => {
      const ipsec = tunnels.filter((t) => t.type === 'IPSec');
      const base = (n: string) => n.split(':')[0] ?? n;
      const wanted = p.tunnels.length > 0 ? p.tunnels : [...new Set(ipsec.map((t) => base(t.name)))];
      if (wanted.length === 0) return skipped('no IPsec tunnels configured');
      const bad: string[] = [];
      for (const name of wanted) {
        const mine = ipsec.filter((t) => base(t.name) === name);
        if (mine.length === 0) bad.push(`${name} not found`);
        else if (!mine.some((t) => t.state === 'active')) bad.push(`${name} ${mine.map((t) => t.state).join('/')}`);
      }
      return bad.length > 0 ? fail(`IPsec tunnel(s) not up: ${list(bad)}`) : pass(`${wanted.length} IPsec tunnel(s) active`);
    },
  }),
  define({
    name: 'bgp_peers',
    title: 'BGP peers established',
    reads: ['bgpPeers'],
    severity: 'warn',
    params: z.object({ peers: z.array(z.string()).default([]) }).strict(),
    run: ({ bgpPeers }, p) => {
      const wanted = p.peers.length > 0 ? bgpPeers.filter((b) => p.peers.includes(b.peer) || p.peers.includes(b.key)) : bgpPeers;
      const absent = p.peers.filter((n) => !bgpPeers.some((b) => b.peer === n || b.key === n));
      if (wanted.length === 0 && absent.length === 0) return skipped('no BGP peers configured');
      const down = wanted.filter((b) => b.status !== 'Established');
      const bad = [...absent.map((n) => `${n} not configured`), ...down.map((b) => `${b.peer} (${b.virtualRouter}) ${b.status}`)];
      return bad.length > 0 ? fail(`BGP peer(s) not established: ${list(bad)}`) : pass(`${wanted.length} BGP peer(s) established`);
    },
  }),
  define({
    name: 'clocks_in_sync',
    title: 'Management and data-plane clocks in sync',
    reads: ['mpClock', 'dpClocks'],
    severity: 'warn',
    params: z.object({ max_drift_seconds: z.number().int().min(0).default(5) }).strict(),
    run: ({ mpClock, dpClocks }, p) => {
      const drift = Math.max(...dpClocks.map((d) => Math.abs(d - mpClock))) / 1000;
      if (dpClocks.length > 1 && Math.max(...dpClocks) - Math.min(...dpClocks) > p.max_drift_seconds * 1000) return fail(`the data-plane clocks differ from each other (${dpClocks.length} different times)`);
      return drift > p.max_drift_seconds ? fail(`data-plane clock is ${drift} s from the management clock (allowed ${p.max_drift_seconds} s)`) : pass(`clocks within ${drift} s`);
    },
  }),
  define({
    name: 'certificates',
    title: 'Certificate requirements (key size, algorithm)',
    reads: ['certificates'],
    severity: 'warn',
    params: z
      .object({
        rsa: z.object({ min_key_size: z.number().int().default(2048), hash: z.enum(['sha1', 'sha224', 'sha256', 'sha384', 'sha512']).default('sha256') }).strict().default({ min_key_size: 2048, hash: 'sha256' }),
        ecdsa: z.object({ min_key_size: z.number().int().default(256), hash: z.enum(['sha1', 'sha224', 'sha256', 'sha384', 'sha512']).default('sha256') }).strict().default({ min_key_size: 256, hash: 'sha256' }),
      })
      .strict(),
    run: ({ certificates }, p) => {
      if (certificates.length === 0) return skipped('no certificates installed');
      const order = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
      const bad: string[] = [];
      for (const c of certificates) {
        const req = /^ec/i.test(c.algorithm) ? p.ecdsa : p.rsa;
        if (c.keySize !== undefined && c.keySize < req.min_key_size) bad.push(`${c.name} ${c.algorithm} ${c.keySize} bits < ${req.min_key_size}`);
        if (c.hash !== undefined && order.indexOf(c.hash) < order.indexOf(req.hash)) bad.push(`${c.name} signed with ${c.hash} (< ${req.hash})`);
      }
      const unread = certificates.filter((c) => c.keySize === undefined).map((c) => c.name);
      if (bad.length > 0) return fail(`certificate(s) below requirements: ${list(bad)}`);
      return pass(`${certificates.length - unread.length} certificate(s) meet the requirements${unread.length ? `; ${unread.length} could not be read (${list(unread, 3)})` : ''}`);
    },
  }),
  define({
    name: 'dynamic_updates',
    title: 'Dynamic-update schedules not colliding with the window',
    reads: ['updateSchedules', 'mpClock'],
    severity: 'warn',
    params: z.object({ window_minutes: z.number().int().min(1).max(10080).default(60) }).strict(),
    run: ({ updateSchedules, mpClock }, p, ctx) => {
      const active = updateSchedules.filter((s) => s.recurrence !== 'none');
      if (active.length === 0) return skipped('no dynamic-update schedules');
      const start = ctx.windowStartsInMinutes ?? 0;
      const hits = active
        .map((s) => ({ s, at: minutesToNextRun(s, mpClock + start * 60_000) }))
        .filter((x): x is { s: (typeof active)[number]; at: number } => x.at !== undefined && x.at <= p.window_minutes);
      return hits.length > 0
        ? fail(`update schedule(s) run within the ${p.window_minutes}-minute window: ${list(hits.map(({ s, at }) => `${s.name} (${s.recurrence}${s.at ? ` at ${s.at}` : ''}, in ${Math.round(at)} min)`))}`)
        : pass(`${active.length} schedule(s), none in the next ${p.window_minutes} minutes`);
    },
  }),
  define({
    name: 'jumbo_frames',
    title: 'Jumbo frame setting known',
    reads: ['jumboFrames'],
    severity: 'warn',
    params: z.object({ expected: z.boolean().nullable().default(null) }).strict(),
    run: ({ jumboFrames }, p) => {
      const now = jumboFrames ? 'on' : 'off';
      if (p.expected === null) return pass(`jumbo frames ${now}`);
      return jumboFrames === p.expected ? pass(`jumbo frames ${now} as expected`) : fail(`jumbo frames are ${now}, the policy expects ${p.expected ? 'on' : 'off'}`);
    },
  }),
  define({
    name: 'environmentals',
    title: 'Environmentals without alarms',
    reads: ['environmentals'],
    severity: 'block',
    params: z.object({ components: z.array(z.enum(['thermal', 'fantray', 'fan', 'power', 'power-supply'])).default([]) }).strict(),
    run: ({ environmentals }, p) => {
      if (environmentals.length === 0) return skipped('the device reports no environmentals (a VM?)');
      const alarms = environmentals.filter((e) => e.alarm && (p.components.length === 0 || (p.components as string[]).includes(e.component)));
      return alarms.length > 0 ? fail(`environmental alarm(s): ${list(alarms.map((a) => `${a.component}: ${a.description}`))}`) : pass(`${environmentals.length} sensor(s), no alarm`);
    },
  }),
  define({
    name: 'dataplane_cpu',
    title: 'Data-plane CPU below threshold',
    reads: ['dpCpu'],
    severity: 'warn',
    params: z.object({ max_pct: pct.default(80), minutes: z.number().int().min(1).max(60).default(5) }).strict(),
    run: ({ dpCpu }, p) => {
      const mean = meanDataplaneCpu(dpCpu);
      if (mean === undefined) return fail('no data-plane CPU samples');
      return mean < p.max_pct ? pass(`data-plane CPU ${mean.toFixed(1)}%`) : fail(`data-plane CPU ${mean.toFixed(1)}% over the last ${p.minutes} min, at or above ${p.max_pct}%`);
    },
  }),
  define({
    name: 'management_cpu',
    title: 'Management CPU below threshold',
    reads: ['mpCpu'],
    severity: 'warn',
    params: z.object({ max_pct: pct.default(80) }).strict(),
    run: ({ mpCpu }, p) => (mpCpu < p.max_pct ? pass(`management CPU ${mpCpu}%`) : fail(`management CPU ${mpCpu}% (1-minute average), at or above ${p.max_pct}%`)),
  }),
  define({
    name: 'management_memory',
    title: 'Management memory below threshold',
    reads: ['mpMemory'],
    severity: 'warn',
    params: z.object({ max_pct: pct.default(90) }).strict(),
    run: ({ mpMemory: m }, p) => {
      if (m.totalMib <= 0) return fail('show system resources reports no memory total');
      const used = (100 * m.usedMib) / m.totalMib;
      return used < p.max_pct ? pass(`management memory ${used.toFixed(1)}% used`) : fail(`management memory ${used.toFixed(1)}% used (${m.usedMib} of ${m.totalMib} MiB), at or above ${p.max_pct}%`);
    },
  }),
  define({
    name: 'no_locks',
    title: 'No config or commit locks',
    reads: ['configLocks', 'commitLocks'],
    severity: 'block',
    params: none,
    run: ({ configLocks, commitLocks }) => {
      const all = [...configLocks.map((l) => `config lock by ${l.owner}${l.location ? ` on ${l.location}` : ''}`), ...commitLocks.map((l) => `commit lock by ${l.owner}${l.location ? ` on ${l.location}` : ''}`)];
      return all.length > 0 ? fail(`${list(all)}; remove the lock(s) before upgrading`) : pass('no locks');
    },
  }),
  define({
    name: 'panorama_version',
    title: "Panorama runs a release at least the target's",
    reads: ['panoramaInfo'],
    severity: 'block',
    params: none,
    run: ({ panoramaInfo }, _p, ctx) => {
      if (!ctx.targetVersion || !isVersion(ctx.targetVersion)) return skipped('no target version');
      const pano = panoramaInfo.swVersion;
      if (!isVersion(pano)) return fail(`Panorama reports version ${JSON.stringify(pano)}`);
      return compareVersions(`${featureRelease(pano)}.0`, `${featureRelease(ctx.targetVersion)}.0`) >= 0
        ? pass(`Panorama ${pano} can manage ${ctx.targetVersion}`)
        : fail(`Panorama runs ${pano}, older than the target ${ctx.targetVersion}: upgrade Panorama first (it must run the same feature release or later)`);
    },
  }),
  define({
    name: 'reboot_budget',
    title: "The model's expected reboot time fits the job's budget",
    reads: ['systemInfo'],
    severity: 'block',
    params: z
      .object({
        expected_minutes_by_model: z.record(z.string(), z.number().positive()).default({}),
        default_expected_minutes: z.number().positive().default(15),
        /** The whole upgrade's reboots must fit this, when set (e.g. the maintenance window). */
        window_minutes: z.number().positive().nullable().default(null),
      })
      .strict(),
    run: ({ systemInfo }, p, ctx) => {
      const model = systemInfo.model || ctx.model;
      const listed = p.expected_minutes_by_model[model];
      const budget = ctx.rebootBudgetMs !== null ? ctx.rebootBudgetMs / 60_000 : null;
      // The policy's figure for the model, else the job's own reboot budget for it (timeouts.reboot_seconds_by_model).
      const expected = listed ?? budget ?? p.default_expected_minutes;
      const hops = Math.max(1, ctx.installHops);
      const min = (m: number) => `${Math.round(m * 10) / 10} min`;
      if (listed !== undefined && budget !== null && listed > budget) {
        return fail(`a ${model} is expected to take ${min(listed)} to reboot, more than the job's reboot budget of ${min(budget)}: the job would give up on a healthy reboot; raise timeouts.reboot_seconds_by_model`);
      }
      if (p.window_minutes !== null && expected * hops > p.window_minutes) {
        return fail(`${hops} reboot(s) of a ${model} take about ${min(expected * hops)}, more than the ${p.window_minutes}-minute window`);
      }
      return pass(`${hops} reboot(s) × ~${min(expected)}${p.window_minutes !== null ? ` within the ${p.window_minutes}-minute window` : ''}`);
    },
  }),
] as const;

export type CheckName = (typeof CHECKS)[number]['name'];

export const CHECK_NAMES: readonly CheckName[] = CHECKS.map((c) => c.name);

export function checkDefinition(name: string): CheckDefinition | undefined {
  return (CHECKS as readonly CheckDefinition[]).find((c) => c.name === name);
}
