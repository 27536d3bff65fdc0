import { Command, CommanderError } from 'commander';
import { registerSim } from './commands/sim.ts';
import { registerDaemon } from './commands/daemon.ts';
import { exitCodeFor, describeError } from './errors.ts';

const program = new Command('panos-upgrade')
  .description('Upgrade fleets of PAN-OS firewalls managed by Panorama, and rehearse it in a simulator')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerSim(program);
registerDaemon(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version end with code 0; usage errors were already printed by commander
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`${describeError(err)}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
