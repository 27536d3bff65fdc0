import type { Command } from 'commander';
import { globalOptions } from '../options.ts';

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description('serve the live fleet view and /metrics of the running daemon (its event log and NATS) until Ctrl-C')
    .option('--listen <host:port>', 'loopback address to serve on (default: ui.listen, else 127.0.0.1:8470)')
    .action(async (opts: { listen?: string }, cmd: Command) => {
      const { runUi } = await import('../ui-run.ts');
      await runUi({ ...globalOptions(cmd), ...(opts.listen ? { listen: opts.listen } : {}) });
    });
}
