import type { Command } from 'commander';
import { withDaemon } from '../client.ts';
import { countsLine, outputTo, printJson } from '../output.ts';

/** What `panos.cmd.daemon.status` answers. */
export interface DaemonStatusReply {
  runId: string | undefined;
  devices: number;
  jobs: Record<string, number>;
  running: number;
  waiting: number;
  concurrency: number;
  panorama: string;
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
        out.line(`  devices:  ${s.devices} in the inventory`);
        out.line(`  jobs:     ${countsLine(s.jobs, out)}`);
        out.line(`  running:  ${s.running} (at most ${s.concurrency} at a time), ${s.waiting} waiting`);
      });
    });
}
