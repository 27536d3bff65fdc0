import type { Command } from 'commander';
import type { QueueSummary } from '../../actors/daemon.ts';
import { withDaemon } from '../client.ts';
import { parseSerial, parseVersion } from '../options.ts';
import { outputTo, printJson } from '../output.ts';
import { hint } from '../hints.ts';
import { queueSummaryLines } from './download.ts';
import { policyPayload } from './check.ts';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, parseSerial(value)];
}

export function registerUpgrade(program: Command): void {
  const upgrade = program.command('upgrade').description('upgrade many devices at once (HA pairs as one unit each)');
  upgrade
    .command('queue')
    .description('queue an upgrade job for each given device, or for every discovered device with --all (an HA member brings its peer)')
    .option('-d, --device <serial>', 'a device to upgrade (repeat for more)', collect)
    .option('--all', 'every discovered device that has an upgrade path and no active job')
    .option('--target <version>', 'upgrade to this version (planned from each device’s own software list)', parseVersion)
    .option('--dry-run', 'say what would be queued and skipped; queue nothing')
    .option('--policy <file>', 'readiness policy YAML for every job queued (default: the shipped one)')
    .option('--json', "print the daemon's reply as JSON")
    .action(async (opts: { device?: string[]; all?: boolean; target?: string; dryRun?: boolean; policy?: string; json?: boolean }, cmd: Command) => {
      if (!opts.all && !opts.device) cmd.error('error: give --device SERIAL (one or more) or --all', { exitCode: 2 });
      if (opts.all && opts.device) cmd.error('error: --all and --device do not go together', { exitCode: 2 });
      const out = outputTo();
      // Read and checked here: a mistake names its file and line, and nothing is queued.
      const policy = policyPayload(opts.policy);
      await withDaemon(cmd, async (client) => {
        const payload = {
          ...(opts.all ? { all: true } : { devices: opts.device }),
          ...(opts.target ? { targetVersion: opts.target } : {}),
          ...(opts.dryRun ? { dryRun: true } : {}),
          ...policy,
        };
        const summary = await client.request<QueueSummary>('upgrade.queue', payload);
        // A device named and not queued (an active job, no path): the script that named it must not go on as if it were.
        const notQueued = opts.device ? summary.skippedDevices : [];
        if (notQueued.length > 0) process.exitCode = 1;
        if (opts.json) return printJson(out, summary);
        for (const line of queueSummaryLines(summary)) out.line(line);
        if (!summary.dryRun && summary.queued > 0) out.line(`Follow them with: ${hint('job list --active')}`);
        if (notQueued.length > 0) {
          const first = notQueued[0]!;
          process.stderr.write(
            `error: ${notQueued.length === 1 ? '1 device you named was' : `${notQueued.length} devices you named were`} not ${summary.dryRun ? 'queueable' : 'queued'} (${first.device}: ${first.reason}${notQueued.length > 1 ? '; …' : ''})\n`,
          );
        }
      });
    });
}
