import type { Command } from 'commander';
import { withDaemon } from '../client.ts';
import { countsLine, outputTo, printJson, type Output } from '../output.ts';
import { hint } from '../hints.ts';

/** What `panos.cmd.daemon.status` answers. */
export interface DaemonStatusReply {
  runId: string | undefined;
  devices: number;
  jobs: Record<string, number>;
  /** HA pair jobs by status (their peers' child jobs are in `jobs`). */
  haPairJobs?: Record<string, number>;
  running: number;
  waiting: number;
  concurrency: number;
  panorama: string;
}

/** The daemon's work in `status`: inventory, jobs and HA pair jobs by status, what runs and waits, and a paused pair's way on. */
export function workLines(s: DaemonStatusReply, out?: Output): string[] {
  const pairs = s.haPairJobs ?? {};
  const lines = [
    `  devices:  ${s.devices} in the inventory`,
    `  jobs:     ${countsLine(s.jobs, out)}`,
    `  HA pairs: ${countsLine(pairs, out)}`,
    `  running:  ${s.running} (at most ${s.concurrency} at a time), ${s.waiting} waiting`,
  ];
  const paused = pairs.paused ?? 0;
  if (paused > 0) lines.push(`  paused:   ${paused} HA pair job(s) wait between their peers: ${hint('job list --status paused')}, then ${hint('job resume JOB_ID')}`);
  return lines;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('is the daemon up, and what is it doing: inventory size, jobs by status, running and waiting jobs')
    .option('--json', "print the daemon's reply as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      await withDaemon(cmd, async (client) => {
        const s = await client.request<DaemonStatusReply>('daemon.status');
        if (opts.json) return printJson(out, s);
        const where = client.location.url === undefined ? '' : `${client.location.url} (from ${client.location.source})`;
        out.line(`Daemon up: run ${s.runId ?? '?'}, Panorama ${s.panorama || '(not configured)'}`);
        out.line(`  NATS:     ${where}, subjects ${client.subjects.prefix}.cmd.*`);
        const l = client.location;
        out.line(`  as:       ${l.url !== undefined && l.authSource ? `credentials from ${l.authSource}` : 'no credentials (a server without users)'}`);
        for (const line of workLines(s, out)) out.line(line);
      });
    });
}
