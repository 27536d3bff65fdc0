import { createWriteStream, existsSync, openSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { InvalidArgumentError, type Command } from 'commander';
import { LmdbEventStore } from '../../eventstore/index.ts';
import { NotFoundError } from '../../panos/errors.ts';
import { exportRun, listRuns, stateAt, timeline, verifyRun, type RunSummary, type StateAt, type TimelineEntry, type VerifyReport } from '../../forensics/replay.ts';
import { recordScenario } from '../../forensics/record-scenario.ts';
import { checkDuplicates, formatCheck } from '../../forensics/duplicate-check.ts';
import { dataDirPath } from '../data-dir.ts';
import { eventLogPath } from '../runtime.ts';
import { askHolder, lockAddress } from '../../actors/data-dir-lock.ts';
import { CliError } from '../errors.ts';
import { parseJobId, parseSerial } from '../options.ts';

interface Common {
  dataDir?: string;
  json?: boolean;
}

function parsePosition(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a global position (a whole number ≥ 1), got "${value}"`);
  return n;
}

/** `--data-dir` given before or after the subcommand. */
function dataDirOf(cmd: Command): string | undefined {
  return cmd.optsWithGlobals<{ dataDir?: string }>().dataDir;
}

/** The data dir's event log, read-only in spirit: replay never appends, and creates nothing. */
async function withLog<T>(cmd: Command, use: (store: LmdbEventStore) => T | Promise<T>): Promise<T> {
  const path = eventLogPath(dataDirPath(dataDirOf(cmd)));
  if (!existsSync(path)) throw new NotFoundError('event log', path, `there is no event log at ${path}: give the --data-dir the daemon or simulator ran with`);
  const store = LmdbEventStore.open({ path });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Why `--out FILE` cannot be written, as a usage error (exit 2) instead of the system's bare error. */
function outError(file: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? `its directory ${dirname(resolve(file))} does not exist`
      : code === 'ENOTDIR'
        ? `a part of its path is not a directory`
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (err as Error).message;
  return new CliError(`cannot write --out ${file}: ${why}; give a file in an existing directory you can write to`, 2);
}

/** Open `--out FILE` for writing now, so that a bad path is said before anything is read. */
function openOut(file: string): number {
  try {
    return openSync(file, 'w');
  } catch (err) {
    throw outError(file, err);
  }
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function json(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

function time(at: string | null): string {
  return at ? at.replace('T', ' ').replace('Z', '') : '-';
}

/** `stopped` (its stop is recorded), `running` (its process is alive), `killed` (no stop recorded, process gone); unknown for runs without a start. */
export type RunState = 'stopped' | 'running' | 'killed' | 'unknown';

/**
 * Each run's state. A daemon's or simulator's run is running when the holder of that role's data-dir lock
 * is the run's process (a reused pid does not pass for it); another role's when its pid is alive.
 */
async function withStates(dataDir: string, runs: readonly RunSummary[]): Promise<Array<RunSummary & { state: RunState }>> {
  const holders = new Map<string, number | undefined>();
  const holderPid = async (role: string): Promise<number | undefined> => {
    if (!holders.has(role)) {
      let pid: number | undefined;
      try {
        pid = (await askHolder(lockAddress(dataDir, role), 1_000))?.pid;
      } catch {
        pid = undefined;
      }
      holders.set(role, pid);
    }
    return holders.get(role);
  };
  const out: Array<RunSummary & { state: RunState }> = [];
  for (const r of runs) {
    const pid = typeof r.details.pid === 'number' ? r.details.pid : undefined;
    let state: RunState;
    if (r.stoppedAt) state = 'stopped';
    else if (r.role === 'unknown' || pid === undefined) state = 'unknown';
    else if (r.role === 'daemon' || r.role === 'simulator') state = (await holderPid(r.role)) === pid ? 'running' : 'killed';
    else state = alive(pid) ? 'running' : 'killed';
    out.push({ ...r, state });
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function formatRuns(runs: ReadonlyArray<RunSummary & { state?: RunState }>): string {
  if (runs.length === 0) return 'No runs in this event log.';
  const rows = [['RUN', 'ROLE', 'STARTED', 'STOPPED', 'EVENTS', 'BY KIND']];
  for (const r of runs) {
    const kinds = Object.entries(r.byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const stopped =
      r.stoppedAt !== null
        ? time(r.stoppedAt)
        : r.state === 'running'
          ? `running (pid ${String(r.details.pid)})`
          : r.state === 'killed'
            ? 'killed (no stop recorded)'
            : r.role === 'unknown'
              ? '-'
              : '(no stop recorded)';
    rows.push([r.runId, r.role, time(r.startedAt), stopped, String(r.events), kinds]);
  }
  return table(rows);
}

export function formatTimeline(lines: readonly TimelineEntry[]): string {
  if (lines.length === 0) return 'Nothing in this run matches.';
  return lines.map((l) => `${time(l.at)}  #${l.gseq}  ${l.stream.padEnd(18)} ${l.type.padEnd(26)} ${l.summary}`).join('\n');
}

export function formatState(s: StateAt): string {
  const out = [`Run ${s.runId} at position ${s.position}${s.at ? ` (${time(s.at)})` : ''}`];
  if (s.pairs.length > 0) {
    out.push('', 'HA pair jobs:');
    out.push(table([['JOB', 'DEVICES', 'STATUS', '%', 'MESSAGE'], ...s.pairs.map((p) => [p.job_id, p.device_serial, p.upgrade_status, String(p.progress), p.upgrade_message])]));
  }
  if (s.jobs.length > 0) {
    out.push('', 'Jobs:');
    out.push(
      table([
        ['JOB', 'DEVICE', 'KIND', 'STATUS', '%', 'VERSION', 'MESSAGE'],
        ...s.jobs.map((j) => [j.job_id, j.device_serial, j.kind, j.upgrade_status, String(j.progress), j.current_version ?? '-', j.upgrade_message]),
      ]),
    );
  }
  if (s.devices.length > 0) {
    out.push('', 'Devices (inventory):');
    out.push(table([['SERIAL', 'HOSTNAME', 'VERSION', 'HA', 'CONNECTED'], ...s.devices.map((d) => [d.serial, d.hostname, d.swVersion, d.haState ?? '-', d.connected ? 'yes' : 'no'])]));
  }
  if (s.simulated.length > 0) {
    out.push('', 'Simulated devices (changes recorded so far):');
    out.push(
      table([
        ['SERIAL', 'STATE', 'VERSION', 'HA', 'DOWNLOADED', 'LAST JOB'],
        ...s.simulated.map((d) => [
          d.serial,
          d.state,
          d.version ?? '-',
          d.haState ?? '-',
          d.downloaded.join(',') || '-',
          d.lastJob ? `${d.lastJob.jobId} ${d.lastJob.version} ${d.lastJob.status}` : '-',
        ]),
      ]),
    );
  }
  if (out.length === 1) out.push('Nothing recorded up to this position.');
  return out.join('\n');
}

export function formatVerify(r: VerifyReport): string {
  const out = r.streams.map((s) => `${s.ok ? 'OK      ' : 'MISMATCH'}  ${s.stream} (${s.kind}, ${s.events} events)${s.difference ? `\n          ${s.difference}` : ''}`);
  out.push(`${r.gseq.ok ? 'OK      ' : 'MISMATCH'}  global positions 1…${r.gseq.last} (${r.gseq.events} events)${r.gseq.difference ? `\n          ${r.gseq.difference}` : ''}`);
  const jobs = r.streams.filter((s) => s.kind === 'job' || s.kind === 'pair' || s.kind === 'campaign').length;
  const devices = r.streams.filter((s) => s.kind === 'device').length;
  out.push(
    r.ok
      ? `Run ${r.runId}: ${jobs} job stream(s) replayed through their machines to exactly what was recorded;${devices ? ` ${devices} device stream(s) folded as the daemon folds them;` : ''} ${r.streams.length} stream(s) gapless.`
      : `Run ${r.runId}: ${r.mismatches} mismatch(es).`,
  );
  return out.join('\n');
}

export function registerReplay(program: Command): void {
  const replay = program
    .command('replay')
    .description('explain a recorded run after the fact: list runs, show a timeline, state at a position, verify, check for duplicate commands, export, record a scenario');
  const common = (c: Command, withJson = true): Command => {
    c.option('--data-dir <dir>', 'state directory whose event log to read (default: $PANOS_UPGRADE_HOME or ~/.panos-upgrade)');
    if (withJson) c.option('--json', 'machine-readable output');
    return c;
  };

  common(replay.command('list').description('runs recorded in the event log (one per process session): id, role, start and stop, event counts')).action(
    async (opts: Common, cmd: Command) => {
      const listed = await withLog(cmd, (store) => listRuns(store));
      const runs = await withStates(dataDirPath(dataDirOf(cmd)), listed);
      if (opts.json) json(runs);
      else print(formatRuns(runs));
    },
  );

  common(
    replay
      .command('show')
      .argument('<run>', 'run id (see replay list)')
      .description("the run's timeline: time, stream, event; API calls with the command and the device's answer in short")
      .option('--device <serial>', "only what concerns one firewall: its jobs, its streams, the calls to it", parseSerial)
      .option('--job <id>', 'only one job (an HA pair with its child jobs) and the calls to its devices while it ran', parseJobId),
  ).action(async (run: string, opts: Common & { device?: string; job?: string }, cmd: Command) => {
    const lines = await withLog(cmd, (store) =>
      timeline(store, run, { ...(opts.device ? { device: opts.device } : {}), ...(opts.job ? { job: opts.job } : {}) }),
    );
    if (opts.json) json(lines);
    else print(formatTimeline(lines));
  });

  common(
    replay
      .command('state')
      .argument('<run>', 'run id')
      .description("every job's, HA pair's and device's state as of a global position (default: the run's last event)")
      .option('--at <position>', 'global position (gseq) to stop at', parsePosition),
  ).action(async (run: string, opts: Common & { at?: number }, cmd: Command) => {
    const state = await withLog(cmd, (store) => stateAt(store, run, opts.at));
    if (opts.json) json(state);
    else print(formatState(state));
  });

  common(
    replay
      .command('verify')
      .argument('<run>', 'run id')
      .description('fold the log through the same machines again and check every state equals what was recorded; exit 1 on any mismatch'),
  ).action(async (run: string, opts: Common, cmd: Command) => {
    const report = await withLog(cmd, (store) => verifyRun(store, run));
    if (opts.json) json(report);
    else print(formatVerify(report));
    if (!report.ok) process.exitCode = 1;
  });

  common(
    replay
      .command('check')
      .argument('[run]', 'run id (default: every run of the log)')
      .description(
        "from the daemon's API-call records and job logs: no device received a second mutating command (download, install, restart, content, HA suspend or functional) for the same step; exit 1 if one did",
      ),
  ).action(async (run: string | undefined, opts: Common, cmd: Command) => {
    const report = await withLog(cmd, (store) => checkDuplicates(store, run));
    if (opts.json) json(report);
    else print(formatCheck(report));
    if (!report.ok) process.exitCode = 1;
  });

  common(
    replay
      .command('export')
      .argument('<run>', 'run id')
      .description("the run's events as JSON lines, one envelope per line")
      .option('--out <file>', 'write to a file instead of stdout'),
    false,
  ).action(async (run: string, opts: Common & { out?: string }, cmd: Command) => {
    await withLog(cmd, async (store) => {
      const lines = exportRun(store, run);
      // The run first (an unknown one is said before any file is made), then the file.
      const first = lines.next();
      const out = opts.out ? createWriteStream(opts.out, { fd: openOut(opts.out) }) : process.stdout;
      let n = 0;
      for (let next = first; !next.done; next = lines.next()) {
        n++;
        if (!out.write(`${next.value}\n`)) await once(out, 'drain');
      }
      if (opts.out) {
        (out as ReturnType<typeof createWriteStream>).end();
        await once(out, 'finish');
        process.stderr.write(`Wrote ${n} event(s) of run ${run} to ${opts.out}\n`);
      }
    });
  });

  common(
    replay
      .command('scenario')
      .argument('<run>', 'run id of a daemon run against real devices')
      .description('record a simulator scenario from the API calls of a run: devices as first seen, observed timings and failures (no secrets)')
      .requiredOption('--out <file>', 'scenario YAML to write')
      .option('--name <name>', 'scenario name')
      .option('--seed <n>', 'seed for the simulator', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${v}"`);
        return n;
      }),
  ).action(async (run: string, opts: Common & { out: string; name?: string; seed?: number }, cmd: Command) => {
    const recorded = await withLog(cmd, (store) =>
      recordScenario(store, run, { ...(opts.name ? { name: opts.name } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) }),
    );
    try {
      writeFileSync(opts.out, recorded.yaml);
    } catch (err) {
      throw outError(opts.out, err);
    }
    if (opts.json) json({ file: opts.out, devices: recorded.devices, notes: recorded.notes });
    else {
      print(`Wrote ${opts.out}: ${recorded.devices} device(s) recorded from run ${run}. The API key in it is a placeholder.`);
      for (const n of recorded.notes) print(`  note: ${n}`);
    }
  });
}
