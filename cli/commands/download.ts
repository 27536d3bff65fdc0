import { Option, type Command } from 'commander';
import type { QueueSummary } from '../../actors/daemon.ts';
import type { DownloadStatusReply } from '../../actors/download-status.ts';
import type { JobStatusRecord } from '../../machines/upgrade-job.fold.ts';
import { DaemonClient, withDaemon } from '../client.ts';
import { CliError } from '../errors.ts';
import { DownloadFollower } from '../follow.ts';
import { isFinished } from '../job-feed.ts';
import { hint } from '../hints.ts';
import { deviceName, outputTo, paintStatus, printJson, table, type Output } from '../output.ts';

export type { DownloadStatusReply };

/** `panos.cmd.download.queue-all`, as `download queue-all` and the demo send it. */
export function queueAllDownloads(client: DaemonClient, dryRun: boolean): Promise<QueueSummary> {
  return client.request<QueueSummary>('download.queue-all', dryRun ? { dryRun: true } : {});
}

export function downloadStatus(client: DaemonClient): Promise<DownloadStatusReply> {
  return client.request<DownloadStatusReply>('download.status');
}

/** Groups longer than this show their first devices and a count; `--json` has them all. */
const GROUP_SHOWN = 20;

/**
 * A skip reason without the detail that differs per device, so that devices skipped for the same
 * reason are listed together: `already has an active download-only job 1a2b-3c4d` groups under
 * `already has an active download-only job`, with the job id next to the device.
 */
function reasonGroup(reason: string): { group: string; detail: string | undefined } {
  const m = /^(.*\bjob) ([0-9a-z]+-[0-9a-z]+)$/.exec(reason);
  return m ? { group: m[1]!, detail: m[2] } : { group: reason, detail: undefined };
}

/** The seed's summary: `Queued N devices, skipped M`, then why each was skipped, grouped by reason. */
export function queueSummaryLines(s: QueueSummary): string[] {
  const lines = [s.dryRun ? `Would queue ${s.queued} devices, skip ${s.skipped} (dry run: nothing was queued)` : `Queued ${s.queued} devices, skipped ${s.skipped}`];
  if (s.dryRun && s.queuedDevices.length > 0) {
    // What would be queued, not only what would be skipped: the point of a dry run.
    lines.push('Would queue:');
    const shown = s.queuedDevices.length > GROUP_SHOWN ? s.queuedDevices.slice(0, 10) : s.queuedDevices;
    for (const d of shown) lines.push(`  ${deviceName(d.hostname, d.device)}  ${d.versions.join(', ')}`);
    if (shown.length < s.queuedDevices.length) lines.push(`  … and ${s.queuedDevices.length - shown.length} more (--json lists them all)`);
  }
  const groups = new Map<string, Array<{ name: string; detail: string | undefined }>>();
  for (const d of s.skippedDevices) {
    const { group, detail } = reasonGroup(d.reason);
    const list = groups.get(group) ?? [];
    list.push({ name: deviceName(d.hostname, d.device), detail });
    groups.set(group, list);
  }
  if (groups.size > 0) lines.push('Skipped:');
  for (const [reason, devices] of [...groups.entries()].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${reason} (${devices.length}):`);
    const shown = devices.length > GROUP_SHOWN ? devices.slice(0, 10) : devices;
    for (const d of shown) lines.push(`    ${d.name}${d.detail ? `  ${d.detail}` : ''}`);
    if (shown.length < devices.length) lines.push(`    … and ${devices.length - shown.length} more (--json lists them all)`);
  }
  // Nothing queued and no device with a path: the paths are missing, not the devices up to date.
  if (s.queued === 0 && s.skipped > 0 && s.skippedDevices.every((d) => d.reason.startsWith('no upgrade path configured for '))) {
    // The daemon reads its configuration when it starts.
    lines.push(`No device has an upgrade path: map their versions in a paths file, set it with ${hint('config set upgrade.paths_file FILE')}, then restart the daemon`);
  }
  if (s.queued === 0 && s.skipped === 0) lines.push(`No device in the inventory: ${hint('device discover')} asks Panorama for its firewalls`);
  return lines;
}

/** One row per device, with the job record's fields (`--json` has the whole record). */
export function downloadTable(out: Output, rows: readonly JobStatusRecord[]): string {
  return table(
    rows,
    [
      { header: 'SERIAL', value: (r) => r.device_serial },
      { header: 'HOSTNAME', value: (r) => r.hostname },
      { header: 'VERSION', value: (r) => r.current_version ?? '' },
      { header: 'STATUS', value: (r) => paintStatus(out, r.upgrade_status) },
      { header: 'PROGRESS', value: (r) => `${r.progress}%`, right: true },
      { header: 'READY', value: (r) => (r.ready_for_install ? 'yes' : 'no') },
      { header: 'JOB', value: (r) => r.job_id },
      { header: 'MESSAGE', value: (r) => r.upgrade_message },
    ],
    out,
  );
}

export function printDownloadStatus(out: Output, r: DownloadStatusReply): void {
  if (r.total === 0) {
    out.line(`No download-only jobs yet. Queue them with: ${hint('download queue-all')}`);
    return;
  }
  out.line(`${r.summary} (${r.total} device(s))`);
  out.write(downloadTable(out, r.devices));
}

function rowFinished(r: JobStatusRecord): boolean {
  return isFinished(r);
}

export function registerDownload(program: Command): void {
  const download = program.command('download').description('pre-stage images: download-only jobs for the whole fleet');

  download
    .command('queue-all')
    .description('queue a download-only job for every discovered device that has an upgrade path and no active job')
    .option('--dry-run', 'say what would be queued and skipped; queue nothing')
    .option('--json', "print the daemon's reply as JSON")
    .action(async (opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        if (!opts.json && process.stderr.isTTY) process.stderr.write('Queueing download-only jobs…\n');
        const summary = await queueAllDownloads(client, opts.dryRun === true);
        if (opts.json) return printJson(out, summary);
        for (const line of queueSummaryLines(summary)) out.line(line);
        if (!summary.dryRun && summary.queued > 0) out.line(`Follow them with: ${hint('download status --watch')}`);
      });
    });

  download
    .command('status')
    .description('download progress: counts by status and one row per device (its latest download-only job)')
    .option('-w, --watch', 'follow live (an overall bar, and a bar per device being worked on) until no download is pending or running; exit 1 if any failed')
    .addOption(new Option('--json', "print the daemon's reply as JSON").conflicts('watch'))
    .action(async (opts: { watch?: boolean; json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        if (!opts.watch) {
          const reply = await downloadStatus(client);
          if (opts.json) printJson(out, reply);
          else printDownloadStatus(out, reply);
          return;
        }
        // Listen before reading, so a change between the read and the subscription is not missed.
        const follower = await DownloadFollower.start(client, out, { grow: true, activeBars: 12 });
        try {
          const initial = await downloadStatus(client);
          if (initial.devices.every(rowFinished)) {
            follower.stop();
            printDownloadStatus(out, initial);
            if (initial.total > 0) out.line('No download is pending or running.');
            return;
          }
          follower.expect(initial.devices.map((r) => ({ device: r.device_serial, jobId: r.job_id || null, status: r.upgrade_status })));
          await follower.done(`stopped watching; the downloads go on in the daemon. Check with: ${hint('download status')}`);
        } finally {
          follower.stop();
        }
        const final = await downloadStatus(client);
        printDownloadStatus(out, final);
        const failed = final.counts.failed ?? 0;
        if (failed > 0) throw new CliError(`${failed} download(s) failed; see the messages above, then re-run: ${hint('download queue-all')}`);
      });
    });
}
