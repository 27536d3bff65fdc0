import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerConfig } from './commands/config.ts';
import { registerDaemon } from './commands/daemon.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDevice } from './commands/device.ts';
import { registerDownload } from './commands/download.ts';
import { registerUpgrade } from './commands/upgrade.ts';
import { registerJob } from './commands/job.ts';
import { registerSim } from './commands/sim.ts';
import { registerStatus } from './commands/status.ts';
import { registerReplay } from './commands/replay.ts';
import { registerChaos } from './commands/chaos.ts';
import { registerCampaign } from './commands/campaign.ts';
import { exitCodeFor, describeError } from './errors.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('panos-upgrade')
  .description('Upgrade fleets of PAN-OS firewalls managed by Panorama, and rehearse it in a simulator')
  .version(version)
  .option('--data-dir <dir>', 'state directory: config.json, events/, inventory.json, daemon.json (default: $PANOS_UPGRADE_HOME or ~/.panos-upgrade)')
  .option('--nats-url <url>', 'NATS server (default: $NATS_URL; else the one the running daemon wrote to <data-dir>/daemon.json)')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerDemo(program);
registerSim(program);
registerDaemon(program);
registerStatus(program);
registerConfig(program);
registerDevice(program);
registerJob(program);
registerDownload(program);
registerUpgrade(program);
registerCampaign(program);
registerReplay(program);
registerChaos(program);

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
