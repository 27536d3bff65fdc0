/**
 * Waiting for a firewall to reboot, done the careful way: the reboot counts as started only once the
 * device was seen down (or its uptime went back), then chassis-ready, then the post-boot auto-commit,
 * then the version. Each phase is reported; every failure names what went wrong and where.
 */
import { sleep as defaultSleep, type CallOptions, type SleepFn } from './client.ts';
import {
  AutoCommitFailedError,
  BadResponseError,
  DeviceUnreachableError,
  PanosApiError,
  PanosAuthError,
  RebootNotStartedError,
  RebootTimeoutError,
  TransportError,
  VersionMismatchError,
  type RebootPhase,
} from './errors.ts';
import type { ParsedJob, SystemInfo } from './parsers.ts';
import { parseClockText, parsePanosTime } from './time.ts';
import { BACKOFF_FACTOR, BACKOFF_GROWTH } from './poll-schedule.ts';

/** The calls waitForReboot makes; PanosClient has them. */
export interface RebootWaitClient {
  readonly host: string;
  systemInfo(opts: CallOptions): Promise<SystemInfo>;
  chassisReady(opts: CallOptions): Promise<boolean>;
  jobsAll(opts: CallOptions): Promise<ParsedJob[]>;
}

export interface RebootPhaseInfo {
  elapsedMs: number;
  /** What moved the wait into this phase: `refused`, `timeout`, `bad-response`, `auth-403`, `not-connected`, `uptime-reset`… */
  trigger?: string;
  autoCommitJobId?: number;
  version?: string;
}

export interface WaitForRebootOptions {
  /** Panorama: the serial of the rebooting firewall. */
  target?: string;
  /** Each look's; see CallOptions.precedence. */
  precedence?: boolean;
  /** Uptime before the restart was sent: a lower uptime later proves the reboot happened. */
  previousUptimeSeconds?: number;
  /**
   * The version running before the restart. PAN-OS changes `sw-version` only by booting, so seeing
   * another one proves the reboot even when it was too quick to be seen down or to show in the
   * whole-second uptime.
   */
  previousVersion?: string;
  expectedVersion?: string;
  /** The whole wait, from the call (see rebootBudgetFor), or from `elapsedMs` before it. */
  budgetMs: number;
  /**
   * How long ago the restart was requested (a wait resumed after a crash): the budget and the start grace
   * count from then, and a timeout says the time since the request. However late the resume, the device
   * is still looked at in a short last window (two polls and a request's timeout): it may have come back
   * while nobody watched.
   */
  elapsedMs?: number;
  /** Between polls. */
  pollMs: number;
  /** How long the device may go on answering as before; default the budget, at most 5 min. */
  startGraceMs?: number;
  /** Per poll, capped by the time left; default 10 s. */
  requestTimeoutMs?: number;
  /**
   * How long the device is expected to take until it is back (what reboots of this model took before).
   * Given, the first poll waits for it (at most half the start grace), and each phase's polls back off
   * from `pollMs` (× 1.5, up to 4 × `pollMs`) instead of coming every `pollMs`.
   */
  expectedMs?: number;
  /**
   * Asked each time the device was seen down and is looked at again: how long after the start of this wait
   * it is expected back, as far as is known by then (reboots of the same model that finished meanwhile
   * count too); undefined when nothing is known. While it is down, it is not looked at before then: once the
   * reboot has been seen to start, the start grace no longer bounds the wait, only the budget does.
   */
  expectedBackMs?: () => number | undefined;
  /** Polls without a post-boot AutoCom job before going on without one; default 3. */
  autoCommitPolls?: number;
  signal?: AbortSignal;
  onPhase?: (phase: RebootPhase, info: RebootPhaseInfo) => void;
  sleep?: SleepFn;
  now?: () => number;
}

export interface RebootResult {
  version: string;
  uptimeSeconds?: number;
  elapsedMs: number;
  systemInfo: SystemInfo;
  /** The post-boot AutoCom job, when one was seen. */
  autoCommit?: ParsedJob;
  /** What showed the reboot had started. */
  startedBy: string;
  /**
   * A look found the reboot not over (the device not yet down, down, booting, its auto-commit running):
   * the end lies after that look. False when every look found its phase done at once, so that the first
   * look came late (a duration learnt from it is an upper bound, see DurationEstimates).
   */
  seenUnfinished: boolean;
  /**
   * From the start of the look that found the reboot over (its auto-commit done, or none to come) to the
   * end of the wait: that look's round trips, and the read of the version after it. A duration learnt
   * from this wait leaves it out (a loaded Panorama's latency is not the reboot's).
   */
  lookMs: number;
}

/** Per-model reboot budgets in ms; keys are exact models (`PA-5450`), series (`PA-5400` = PA-54xx) or prefixes (`PA-7*`). */
export interface RebootBudgets {
  defaultMs: number;
  byModel?: Readonly<Record<string, number>>;
}

/** Chassis-based and large platforms boot much slower than VMs and small appliances. */
export const DEFAULT_REBOOT_BUDGETS: RebootBudgets = {
  defaultMs: 30 * 60_000,
  byModel: { 'PA-7000': 60 * 60_000, 'PA-5400': 45 * 60_000 },
};

/** How specifically `key` names `model`: 0 for no match, higher is more specific. */
function modelMatch(key: string, model: string): number {
  const k = key.trim().toUpperCase();
  const m = model.trim().toUpperCase();
  if (k === '' || m === '') return 0;
  if (k === m) return 1000;
  if (k.endsWith('*')) {
    const prefix = k.slice(0, -1);
    return m.startsWith(prefix) ? prefix.length : 0;
  }
  const ks = /^(.*-)(\d+)$/.exec(k);
  const ms = /^(.*-)(\d+)(.*)$/.exec(m);
  if (!ks || !ms || ks[1] !== ms[1]) return 0;
  const kDigits = ks[2] ?? '';
  const mDigits = ms[2] ?? '';
  const significant = kDigits.replace(/0+$/, '');
  if (significant === '' || significant === kDigits || kDigits.length !== mDigits.length) return 0;
  return mDigits.startsWith(significant) ? (ks[1] ?? '').length + significant.length : 0;
}

/** The reboot budget for a model: the most specific matching entry of `budgets.byModel`, else `defaultMs`. */
export function rebootBudgetFor(model: string, budgets: RebootBudgets = DEFAULT_REBOOT_BUDGETS): number {
  let best = 0;
  let budget = budgets.defaultMs;
  for (const [key, ms] of Object.entries(budgets.byModel ?? {})) {
    const score = modelMatch(key, model);
    if (score > best) {
      best = score;
      budget = ms;
    }
  }
  return budget;
}

/** The post-boot auto-commit may be stamped a little before `<time>` minus uptime (one-second fields, clock steps). */
const BOOT_SLACK_MS = 30_000;

type Signal = { kind: 'down'; trigger: string } | { kind: 'no-info' } | { kind: 'fatal' };

/**
 * What an error says about a rebooting device. Through Panorama, a failure to reach Panorama itself
 * (nothing was sent) says nothing about the firewall.
 */
function classify(err: unknown, viaPanorama: boolean): Signal {
  if (err instanceof TransportError) {
    if (err.certificate) return { kind: 'fatal' };
    if (viaPanorama && !err.requestSent) return { kind: 'no-info' };
    return { kind: 'down', trigger: err.reason };
  }
  if (err instanceof DeviceUnreachableError) return { kind: 'down', trigger: err.reason };
  if (err instanceof BadResponseError) return { kind: 'down', trigger: 'bad-response' };
  if (err instanceof PanosAuthError) return { kind: 'down', trigger: 'auth-403' };
  if (err instanceof PanosApiError) return { kind: 'no-info' };
  return { kind: 'fatal' };
}

/** Boot time on the device's own clock: `<time>` minus uptime; undefined when either is unreadable. */
function deviceBootTime(info: SystemInfo): number | undefined {
  if (info.time === undefined || info.uptimeSeconds === undefined) return undefined;
  const t = parseClockText(info.time);
  return t === undefined ? undefined : t - info.uptimeSeconds * 1000;
}

/** The newest AutoCom job enqueued after `bootAt` (device clock); without a boot time, the newest AutoCom. */
function postBootAutoCommit(jobs: readonly ParsedJob[], bootAt: number | undefined): ParsedJob | undefined {
  let best: ParsedJob | undefined;
  for (const j of jobs) {
    if (j.type !== 'AutoCom' || j.id === undefined) continue;
    if (bootAt !== undefined) {
      const enq = j.tenq !== undefined ? parsePanosTime(j.tenq) : undefined;
      if (enq === undefined || enq < bootAt - BOOT_SLACK_MS) continue;
    }
    if (!best || (best.id ?? -1) < j.id) best = j;
  }
  return best;
}

class BackToShutdown {}

/**
 * Wait for a restarted firewall to be back in service.
 *
 * @remarks Phases: waiting-for-shutdown → rebooting → waiting-for-chassis → waiting-for-autocommit →
 * verifying → done. Throws RebootNotStartedError (no sign of a reboot within `startGraceMs`),
 * RebootTimeoutError (budget spent; names the phase), AutoCommitFailedError, VersionMismatchError.
 */
export async function waitForReboot(client: RebootWaitClient, options: WaitForRebootOptions): Promise<RebootResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const { target, signal, previousUptimeSeconds, expectedVersion, budgetMs, pollMs } = options;
  const viaPanorama = target !== undefined;
  const device = target ?? client.host;
  const graceMs = Math.min(options.startGraceMs ?? Math.min(budgetMs, 5 * 60_000), budgetMs);
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const autoCommitPolls = Math.max(1, options.autoCommitPolls ?? 3);
  const start = now();
  const resumed = (options.elapsedMs ?? 0) > 0;
  const origin = start - Math.max(0, options.elapsedMs ?? 0);
  // However late a resumed wait, time for a look or two, each with its whole request timeout.
  const lastLook = resumed ? start + 2 * pollMs + requestTimeoutMs : 0;
  let budgetDeadline = Math.max(origin + budgetMs, lastLook);
  const graceDeadline = Math.max(origin + graceMs, lastLook);
  /**
   * A device found back after the budget since the request was spent (the reboot ended while nobody
   * watched) still gets the time to be verified: chassis ready, its auto-commit, its version. One that
   * never answers gets none. A wait not resumed has its budget.
   */
  const verifyDeadline = resumed ? start + Math.min(graceMs, budgetMs) : 0;
  let phase: RebootPhase = 'waiting-for-shutdown';
  let lastError: unknown;
  let seenUnfinished = false;
  /** When the latest look of the auto-commit phase began (see RebootResult.lookMs). */
  let lookStarted = start;

  const enter = (p: RebootPhase, info: Omit<RebootPhaseInfo, 'elapsedMs'> = {}) => {
    phase = p;
    if (p !== 'waiting-for-shutdown' && p !== 'rebooting') budgetDeadline = Math.max(budgetDeadline, verifyDeadline);
    phasePolls = 0;
    options.onPhase?.(p, { elapsedMs: now() - start, ...info });
  };
  const deadline = () => (phase === 'waiting-for-shutdown' ? Math.min(graceDeadline, budgetDeadline) : budgetDeadline);
  const checkDeadline = () => {
    signal?.throwIfAborted();
    const t = now();
    if (phase === 'waiting-for-shutdown' && t >= graceDeadline) throw new RebootNotStartedError(device, t - origin, graceMs);
    if (t >= budgetDeadline) {
      throw new RebootTimeoutError(device, phase, t - origin, budgetMs, lastError !== undefined ? { cause: lastError } : undefined);
    }
  };
  const callOptions = (): CallOptions => ({
    ...(target !== undefined ? { target } : {}),
    ...(signal ? { signal } : {}),
    ...(options.precedence ? { precedence: true } : {}),
    maxAttempts: 1,
    timeoutMs: Math.max(1, Math.min(requestTimeoutMs, deadline() - now())),
  });
  const adaptive = options.expectedMs !== undefined;
  let phasePolls = 0;
  const pause = async () => {
    phasePolls += 1;
    let interval = adaptive ? Math.min(pollMs * BACKOFF_GROWTH ** (phasePolls - 1), pollMs * BACKOFF_FACTOR) : pollMs;
    // Down (or not answering yet): nothing will answer before the device is expected back.
    const back = phase === 'rebooting' ? options.expectedBackMs?.() : undefined;
    if (back !== undefined) interval = Math.max(interval, start + back - now());
    const wait = Math.min(interval, deadline() - now());
    if (wait > 0) await sleep(wait, signal);
  };
  /** Remember a failure to wait out; rethrow one that no amount of waiting fixes. */
  const tolerate = (err: unknown): Signal => {
    const s = classify(err, viaPanorama);
    if (s.kind === 'fatal') throw err;
    lastError = err;
    return s;
  };

  /**
   * Uptime grew past the old one: what looked like the shutdown was a blip, the reboot is still to come.
   * Strictly greater: uptime has whole-second resolution, and a fast reboot can land on the same second.
   */
  const stillRebooted = (info: SystemInfo): SystemInfo => {
    if (versionChanged(info)) return info;
    if (previousUptimeSeconds !== undefined && info.uptimeSeconds !== undefined && info.uptimeSeconds > previousUptimeSeconds) {
      throw new BackToShutdown();
    }
    return info;
  };

  const versionChanged = (info: SystemInfo): boolean => options.previousVersion !== undefined && info.swVersion !== '' && info.swVersion !== options.previousVersion;

  if (adaptive) {
    // Nothing to see while the device goes down and boots: the first look is when it may be back.
    const first = Math.min(options.expectedMs ?? 0, graceMs / 2, deadline() - now());
    if (first > 0) await sleep(first, signal);
  }
  for (;;) {
    // Phase 1: the device answers as before until it goes down; that alone proves nothing.
    enter('waiting-for-shutdown');
    let startedBy: string | undefined;
    /** The answer that proved the boot, when it was one: it already tells the boot time. */
    let bootInfo: SystemInfo | undefined;
    while (startedBy === undefined) {
      checkDeadline();
      try {
        const info = await client.systemInfo(callOptions());
        if (previousUptimeSeconds !== undefined && info.uptimeSeconds !== undefined && info.uptimeSeconds < previousUptimeSeconds) {
          startedBy = 'uptime-reset';
          bootInfo = info;
          break;
        }
        if (versionChanged(info)) {
          startedBy = 'version-changed';
          bootInfo = info;
          break;
        }
      } catch (err) {
        const s = tolerate(err);
        if (s.kind === 'down') {
          startedBy = s.trigger;
          seenUnfinished = true;
          break;
        }
      }
      seenUnfinished = true;
      await pause();
    }
    // It answered with a new boot: it is back, and gets the time to be verified.
    if (bootInfo !== undefined) budgetDeadline = Math.max(budgetDeadline, verifyDeadline);
    enter('rebooting', { trigger: startedBy });

    try {
      // Phases 2 and 3: refused, not-connected, HTML and 403 all mean "still booting"; an answer means the API is up.
      let answering = false;
      // Seen down just now: a look at once would find it down again.
      if (bootInfo === undefined) await pause();
      for (;;) {
        checkDeadline();
        try {
          const ready = await client.chassisReady(callOptions());
          if (!answering) {
            answering = true;
            enter('waiting-for-chassis', { trigger: 'answering' });
          }
          if (ready) break;
        } catch (err) {
          tolerate(err);
        }
        seenUnfinished = true;
        await pause();
      }

      // Phase 4: the auto-commit that follows this boot; commits and installs fail until it is done.
      enter('waiting-for-autocommit');
      let bootAt: number | undefined | null = null;
      let autoCommit: ParsedJob | undefined;
      let emptyPolls = 0;
      /**
       * A system info read for the boot time in the same poll as the `show jobs all` that ended this phase,
       * the call just before it: it is what phase 5 would read a moment later (PAN-OS changes `sw-version`
       * only by booting, and the device answered both calls), so it is not asked for again. The boot time
       * taken from phase 1's answer is not one: chassis-ready came between, time enough to boot again.
       */
      let justRead: SystemInfo | undefined;
      for (;;) {
        checkDeadline();
        lookStarted = now();
        try {
          let readNow: SystemInfo | undefined;
          if (bootAt === null) {
            if (bootInfo === undefined) readNow = stillRebooted(await client.systemInfo(callOptions()));
            bootAt = deviceBootTime(bootInfo ?? readNow!);
          }
          const job = postBootAutoCommit(await client.jobsAll(callOptions()), bootAt);
          if (job === undefined) {
            emptyPolls += 1;
            if (emptyPolls >= autoCommitPolls) {
              justRead = readNow;
              break;
            }
          } else {
            autoCommit = job;
            if (job.finished) {
              if (!job.ok) throw new AutoCommitFailedError(device, String(job.id), job.details);
              justRead = readNow;
              break;
            }
            seenUnfinished = true;
          }
        } catch (err) {
          if (err instanceof AutoCommitFailedError || err instanceof BackToShutdown) throw err;
          tolerate(err);
          seenUnfinished = true;
        }
        await pause();
      }

      // Phase 5: what is running now.
      enter('verifying', autoCommit?.id !== undefined ? { autoCommitJobId: autoCommit.id } : {});
      let info: SystemInfo | undefined = justRead;
      while (info === undefined) {
        checkDeadline();
        try {
          info = await client.systemInfo(callOptions());
        } catch (err) {
          tolerate(err);
          seenUnfinished = true;
          await pause();
        }
      }
      stillRebooted(info);
      if (expectedVersion !== undefined && info.swVersion !== expectedVersion) {
        throw new VersionMismatchError(device, info.swVersion, expectedVersion);
      }
      enter('done', { version: info.swVersion });
      const end = now();
      const result: RebootResult = { version: info.swVersion, elapsedMs: end - start, systemInfo: info, startedBy, seenUnfinished, lookMs: end - lookStarted };
      if (info.uptimeSeconds !== undefined) result.uptimeSeconds = info.uptimeSeconds;
      if (autoCommit) result.autoCommit = autoCommit;
      return result;
    } catch (err) {
      if (err instanceof BackToShutdown) {
        seenUnfinished = true;
        continue;
      }
      throw err;
    }
  }
}
