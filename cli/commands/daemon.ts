import type { Command } from 'commander';
import { globalOptions } from '../options.ts';

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('run the orchestrator until Ctrl-C: answer panos.cmd.* on NATS, run upgrade and download jobs, resume unfinished ones')
    .action(async (_opts: object, cmd: Command) => {
      // Loaded here so that the short commands do not pay for the daemon's imports.
      const { runDaemon } = await import('../daemon-run.ts');
      await runDaemon(globalOptions(cmd));
    });
}
