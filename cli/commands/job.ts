import { Option, type Command } from 'commander';
import type { DryRunResult, StatusRecord } from '../../actors/daemon.ts';
import type { PairStatusRecord } from '../../machines/ha-pair.fold.ts';
import type { JobStatusRecord, UpgradeStatus } from '../../machines/upgrade-job.fold.ts';
import { DaemonClient, withDaemon } from '../client.ts';
import { CliError } from '../errors.ts';
import type { FleetCheckResult } from '../../actors/readiness.ts';
import { policyPayload, printFleetChecks } from './check.ts';
import { formatComparison, type SnapshotComparison } from '../../checks/index.ts';
import { followJobs, untilInterrupted } from '../follow.ts';
import { isFinished, isPair } from '../job-feed.ts';
import { parseJobId, parsePositiveInt, parseSerial, parseStatus, parseVersion } from '../options.ts';
import { hint } from '../hints.ts';
import { deviceName, jobName, outputTo, paintStatus, printJson, table, type Output } from '../output.ts';

export interface SubmitPayload {
  device: string;
  downloadOnly?: boolean;
  dryRun?: boolean;
  targetVersion?: string;
  policy?: Record<string, unknown>;
}

/** A job for one device, or for an HA pair when the device has a peer in the inventory. */
export type SubmitReply = { job: StatusRecord } | DryRunResult;

/** `panos.cmd.job.submit`, as `job submit` and the demo send it. */
export function submitJob(client: DaemonClient, payload: SubmitPayload): Promise<SubmitReply> {
  return client.request<SubmitReply>('job.submit', payload);
}

/** A finished job counts as a success when it did what it was asked (exit 0 under --wait). */
export function succeeded(job: { upgrade_status: UpgradeStatus }): boolean {
  return job.upgrade_status === 'complete' || job.upgrade_status === 'download_complete';
}

function pathText(job: StatusRecord): string {
  return job.path.length > 0 ? job.path.join(' → ') : '(none)';
}

export function printSubmitted(out: Output, job: StatusRecord): void {
  out.line(`Submitted ${job.kind} job ${out.paint('bold', job.job_id)} for ${jobName(job)}`);
  if (isPair(job) && job.upgraded) {
    const behind = job.devices.find((d) => d !== job.upgraded) ?? '?';
    out.line(`  finishing the half-upgraded pair: ${behind} is upgraded (path ${pathText(job)}), after failing over to ${job.upgraded}, which already runs ${job.path.at(-1) ?? '?'} and is left alone`);
  } else if (isPair(job)) out.line(`  the two peers are upgraded one after the other (${job.strategy}); path ${pathText(job)}`);
  else out.line(`  from ${job.current_version ?? '?'}, path ${pathText(job)}`);
}

function printDryRun(out: Output, r: DryRunResult, downloadOnly: boolean): void {
  out.line(`Dry run for ${r.device}${r.haPeer ? ` and its HA peer ${r.haPeer} (one pair job)` : ''}: nothing was submitted`);
  if (r.finishing) {
    out.line(`  the HA pair is half-upgraded: ${r.finishing.behind} is upgraded to ${r.finishing.version}, after failing over to ${r.finishing.upgraded}, which already runs it and is left alone`);
  }
  out.line(`  ${downloadOnly ? 'download-only' : 'upgrade'} ${r.finishing ? `of ${r.finishing.behind} ` : ''}from ${r.plan.from} to ${r.plan.target} (${r.plan.source} path)`);
  for (const [i, hop] of r.plan.hops.entries()) out.line(`  ${i + 1}. ${hop.version}  ${hop.action === 'download' ? 'download only' : downloadOnly ? 'download' : 'download, install, reboot'}  (${hop.reason})`);
  for (const d of r.devices ?? [{ device: r.device, wouldDownload: r.wouldDownload, alreadyPresent: r.alreadyPresent }]) {
    out.line(`  ${d.device}: would download ${d.wouldDownload.length > 0 ? d.wouldDownload.join(', ') : 'nothing'}; already present: ${d.alreadyPresent.length > 0 ? d.alreadyPresent.join(', ') : 'none'}`);
  }
}

/** The one-line outcome of a finished job, e.g. after `--wait` or in the demo's summary. */
export function resultLine(out: Output, job: StatusRecord): string {
  const detail = job.upgrade_status === 'failed' && job.error ? `${job.error.step ? `${job.error.step}: ` : ''}${job.error.reason}` : job.upgrade_message;
  return `${jobName(job)}  ${paintStatus(out, job.upgrade_status)}  ${detail}`;
}

function printPair(out: Output, job: PairStatusRecord): void {
  const rows: Array<[string, string]> = [
    ['devices', `${job.hostname} (${job.devices.join(', ')})`],
    ['kind', job.kind],
    ['status', `${paintStatus(out, job.upgrade_status)} (${job.progress}%)${job.paused ? ' (paused: waiting for resume)' : ''}`],
    ['message', job.upgrade_message],
    ['path', pathText(job)],
    ['strategy', `${job.strategy}${job.first ? `, first ${job.first}` : ''}${job.second ? `, then ${job.second}` : ''}`],
  ];
  if (job.download_only) rows.push(['ready for install', job.ready_for_install ? 'yes' : 'no']);
  if (job.suspended) rows.push(['suspended', job.suspended]);
  for (const p of job.peers) rows.push([`peer ${p.serial}`, `${p.role}: job ${p.job_id || '-'} ${p.status ? paintStatus(out, p.status) : 'not started'}${p.message ? ` (${p.message})` : ''}`]);
  if (job.error) rows.push(['error', `${job.error.step ? `${job.error.step}: ` : ''}${job.error.reason}`]);
  rows.push(['submitted', job.submitted_at ?? '-']);
  if (job.finished_at) rows.push(['finished', job.finished_at]);
  out.line(`Job ${out.paint('bold', job.job_id)} (HA pair)`);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.line(`  ${(k + ':').padEnd(w + 1)} ${v}`);
  if (job.paused) out.line(`  continue with: ${hint(`job resume ${job.job_id}`)}`);
}

/** `job status`: the seed's status record, one field a line. */
export function printJob(out: Output, job: StatusRecord): void {
  if (isPair(job)) return printPair(out, job);
  const rows: Array<[string, string]> = [
    ['device', deviceName(job.hostname, job.device_serial)],
    ['kind', `${job.kind}${job.dry_run ? ' (dry run)' : ''}`],
    ['status', `${paintStatus(out, job.upgrade_status)} (${job.progress}%)`],
    ['message', job.upgrade_message],
    ['version', `${job.current_version ?? '?'}${job.target_version ? ` → target ${job.target_version}` : ''}`],
    ['path', pathText(job)],
    ['downloaded', job.downloaded_versions.join(', ') || '-'],
    ['skipped', job.skipped_versions.join(', ') || '-'],
    ['ready for install', job.ready_for_install ? 'yes' : 'no'],
  ];
  if (job.step && !isFinished(job)) rows.push(['step', job.step]);
  if (job.error) rows.push(['error', `${job.error.step ? `${job.error.step}: ` : ''}${job.error.reason}`]);
  if (job.readiness) {
    const r = job.readiness;
    rows.push(['readiness', `${r.ok ? 'ok' : out.paint('red', 'BLOCKED')}: ${r.counts.pass} passed, ${r.counts.fail} blocking, ${r.counts.warn} warning(s), ${r.counts.skipped} skipped, ${r.counts.unavailable} could not run`]);
    for (const v of r.verdicts.filter((x) => x.status === 'fail')) rows.push([`  ${v.check}`, `${v.blocking ? out.paint('red', 'FAIL') : out.paint('yellow', 'warn')} ${v.message}`]);
  }
  for (const c of job.checks) {
    const pct = c.changePct !== null && c.changePct !== 0 ? ` (${c.changePct > 0 ? '+' : ''}${c.changePct}%)` : '';
    const verdict = c.unavailable ? 'not compared' : c.ok ? 'ok' : c.severity === 'block' ? out.paint('red', 'FAILED') : out.paint('yellow', 'changed');
    rows.push([`check ${c.area}`, `${c.before} → ${c.after}${pct} ${verdict}${c.problems.length ? `: ${c.problems.join('; ')}` : ''}`]);
  }
  if (job.checks.length > 0) rows.push(['diff', `panos-upgrade job checks ${job.job_id}`]);
  if (job.panos_jobs.length > 0) rows.push(['PAN-OS jobs', job.panos_jobs.map((p) => `${p.kind} ${p.version} #${p.id}`).join(', ')]);
  rows.push(['submitted', job.submitted_at ?? '-']);
  if (job.finished_at) rows.push(['finished', job.finished_at]);
  out.line(`Job ${out.paint('bold', job.job_id)}${job.parent_job_id ? ` (peer job of HA pair job ${job.parent_job_id})` : ''}`);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.line(`  ${(k + ':').padEnd(w + 1)} ${v}`);
}

export function printJobChecks(out: Output, job: JobStatusRecord, comparison: SnapshotComparison | null): void {
  out.line(`Job ${out.paint('bold', job.job_id)} on ${deviceName(job.hostname, job.device_serial)}: ${job.upgrade_status}`);
  if (job.readiness) {
    out.line(`Readiness (${job.readiness.at}): ${job.readiness.ok ? 'ok' : out.paint('red', 'blocked')}`);
    for (const v of job.readiness.verdicts) {
      const mark = v.status === 'fail' ? (v.blocking ? out.paint('red', 'FAIL') : out.paint('yellow', 'warn')) : v.status === 'unavailable' ? 'n/a ' : v.status === 'skipped' ? 'skip' : 'pass';
      out.line(`  ${mark} ${v.check.padEnd(19)} ${v.message}`);
    }
  } else out.line('Readiness: not run');
  if (comparison) {
    out.line(`Snapshot before → after: ${comparison.ok ? 'ok' : out.paint('red', 'regression')}`);
    for (const l of formatComparison(comparison)) out.line(`  ${l}`);
  } else if (job.upgrade_status === 'download_complete' || job.download_only) {
    out.line('Snapshot comparison: none (a download-only job upgrades nothing)');
  } else if (job.upgrade_status === 'failed' || job.upgrade_status === 'cancelled') {
    out.line(`Snapshot comparison: none (the job ended ${job.upgrade_status} before it)`);
  } else if (job.upgrade_status === 'complete') {
    out.line('Snapshot comparison: none was recorded for this job');
  } else out.line('Snapshot comparison: not yet (it runs after the last reboot)');
}

export function jobTable(out: Output, jobs: readonly StatusRecord[]): string {
  return table(
    jobs,
    [
      { header: 'JOB', value: (j) => j.job_id },
      { header: 'KIND', value: (j) => j.kind },
      { header: 'DEVICE', value: (j) => j.device_serial },
      { header: 'HOSTNAME', value: (j) => j.hostname },
      { header: 'STATUS', value: (j) => paintStatus(out, j.upgrade_status) },
      { header: 'PROGRESS', value: (j) => `${j.progress}%`, right: true },
      { header: 'SUBMITTED', value: (j) => (j.submitted_at ?? '').replace(/\.\d+Z$/, 'Z') },
      { header: 'MESSAGE', value: (j) => j.upgrade_message },
    ],
    out,
  );
}

interface SubmitOptions {
  device?: string;
  downloadOnly?: boolean;
  dryRun?: boolean;
  target?: string;
  wait?: boolean;
  json?: boolean;
}

export function registerJob(program: Command): void {
  const job = program.command('job').description('submit, list, inspect and cancel upgrade and download-only jobs');

  job
    .command('submit')
    .description('submit an upgrade (or, with --download-only, a pre-staging) job for one device')
    // Checked in the action, not by commander: commander reports a missing required option before an
    // unknown one, so a typo (--devcie) was told "--device not specified" instead of "did you mean --device?".
    .option('-d, --device <serial>', 'device serial (required)', parseSerial)
    .option('--download-only', 'only download the images of the upgrade path (no install, no reboot)')
    .option('--dry-run', 'show the path and what would be downloaded; submit nothing')
    .option('-t, --target <version>', 'upgrade to this version (default: the end of the configured upgrade path)', parseVersion)
    .addOption(new Option('-w, --wait', 'follow the job with a progress bar until it ends; exit 1 if it fails').conflicts('dryRun'))
    .option('--json', "print the daemon's reply as JSON (with --wait: the final job)")
    .addOption(new Option('--checks-only', 'run the readiness checks (read-only) and submit nothing; exit 1 when a blocking check fails').conflicts(['wait', 'downloadOnly', 'dryRun']))
    .option('--policy <file>', 'readiness policy YAML for this job (default: the shipped one)')
    .action(async (opts: SubmitOptions & { checksOnly?: boolean; policy?: string }, cmd: Command) => {
      const device = opts.device ?? cmd.error("error: required option '-d, --device <serial>' not specified", { exitCode: 2 });
      const out = outputTo();
      const policy = policyPayload(opts.policy);
      await withDaemon(cmd, async (client) => {
        if (opts.checksOnly) {
          // The daemon checks the device and its HA peer, if it has one in the inventory.
          const { checks: r } = await client.request<{ checks: FleetCheckResult }>('job.submit', { device: opts.device, checksOnly: true, ...(opts.target ? { targetVersion: opts.target } : {}), ...policy });
          if (opts.json) printJson(out, r);
          else printFleetChecks(out, r);
          if (!r.ok) process.exitCode = 1;
          return;
        }
        const payload: SubmitPayload = {
          device,
          ...(opts.downloadOnly ? { downloadOnly: true } : {}),
          ...(opts.dryRun ? { dryRun: true } : {}),
          ...(opts.target ? { targetVersion: opts.target } : {}),
          ...policy,
        };
        const reply = await untilInterrupted(
          submitJob(client, payload),
          `stopped before the daemon answered: the job may have been submitted all the same: check with ${hint(`job list --device ${opts.device}`)}`,
        );
        if ('dryRun' in reply) {
          if (opts.json) printJson(out, reply);
          else printDryRun(out, reply, opts.downloadOnly === true);
          return;
        }
        if (!opts.wait) {
          if (opts.json) printJson(out, reply);
          else {
            printSubmitted(out, reply.job);
            out.line(`  follow it: ${hint(`job status ${reply.job.job_id}`)}   (or submit with --wait)`);
          }
          return;
        }
        if (!opts.json) printSubmitted(out, reply.job);
        const [final] = await followJobs(client, [reply.job], out, { bars: !opts.json });
        if (!final) return;
        if (!opts.json) out.line(resultLine(out, final));
        if (succeeded(final)) {
          if (opts.json) printJson(out, { ok: true, job: final });
          return;
        }
        const failed = `job ${final.job_id} ended ${final.upgrade_status}: ${final.error?.reason ?? final.upgrade_message}`;
        // Under --json one reply: the job with the error, printed by main as any error is.
        throw new CliError(failed, 1, { ok: false, job: final, error: { code: 'JOB_FAILED', message: failed, exitCode: 1 } });
      });
    });

  job
    .command('list')
    .description('list jobs, oldest first')
    .option('-d, --device <serial>', 'only this device', parseSerial)
    .option('-s, --status <status>', 'only jobs in this status', parseStatus)
    .option('-a, --active', 'only jobs that have not ended')
    .option('-n, --limit <n>', 'only the newest N', parsePositiveInt)
    .option('--json', "print the daemon's reply as JSON")
    .action(async (opts: { device?: string; status?: UpgradeStatus; active?: boolean; limit?: number; json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ jobs: StatusRecord[] }>('job.list', {
          ...(opts.device ? { device: opts.device } : {}),
          ...(opts.status ? { status: opts.status } : {}),
          ...(opts.active ? { active: true } : {}),
          ...(opts.limit ? { limit: opts.limit } : {}),
        });
        if (opts.json) return printJson(out, reply);
        if (reply.jobs.length === 0) return out.line('No jobs match.');
        out.write(jobTable(out, reply.jobs));
        out.line(`${reply.jobs.length} job(s)`);
      });
    });

  job
    .command('status')
    .alias('show')
    .description("show one job's status record (upgrade_status, message, progress, versions)")
    .argument('<job-id>', 'job id', parseJobId)
    .option('--json', "print the daemon's reply as JSON")
    .action(async (jobId: string, opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ job: StatusRecord }>('job.get', { jobId });
        if (opts.json) printJson(out, reply);
        else printJob(out, reply.job);
      });
    });

  job
    .command('checks')
    .description("one job's readiness verdicts and its before/after snapshot diff (what disappeared, what changed, by how much)")
    .argument('<job-id>', 'job id', parseJobId)
    .option('--json', 'print them as JSON')
    .action(async (jobId: string, opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const { job } = await client.request<{ job: StatusRecord }>('job.get', { jobId });
        if (isPair(job)) throw new CliError(`${jobId} is an HA pair job: run job checks on its peer jobs (${job.peers.map((x) => x.job_id).join(', ') || 'none yet'})`);
        const comparison = job.checks.length > 0 ? { ok: job.checks.every((c) => c.ok || c.severity !== 'block'), areas: job.checks } : null;
        if (opts.json) return printJson(out, { job_id: job.job_id, device_serial: job.device_serial, readiness: job.readiness, comparison });
        printJobChecks(out, job, comparison);
      });
    });

  job
    .command('cancel')
    .description('cancel a job: a queued one at once, a running one after its current step')
    .argument('<job-id>', 'job id', parseJobId)
    .option('--json', "print the daemon's reply as JSON")
    .action(async (jobId: string, opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ job: StatusRecord }>('job.cancel', { jobId });
        if (opts.json) return printJson(out, reply);
        const j = reply.job;
        if (j.job_id !== jobId) out.line(`Job ${jobId} is a peer job of HA pair job ${j.job_id}: the pair is cancelled with it.`);
        out.line(
          j.upgrade_status === 'cancelled'
            ? `Cancelled job ${j.job_id} (${jobName(j)})`
            : `Cancel requested for job ${j.job_id} (${jobName(j)}): it stops after its current step (${j.upgrade_message})`,
        );
      });
    });

  job
    .command('resume')
    .description('give the go to an HA pair job paused between its peers (ha.pause_between_peers)')
    .argument('<job-id>', 'the HA pair job id', parseJobId)
    .option('--json', "print the daemon's reply as JSON")
    .action(async (jobId: string, opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const reply = await client.request<{ job: StatusRecord }>('job.resume', { jobId });
        if (opts.json) return printJson(out, reply);
        out.line(`Resumed job ${reply.job.job_id} (${jobName(reply.job)}): ${reply.job.upgrade_message}`);
      });
    });
}
