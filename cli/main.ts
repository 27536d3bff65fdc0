import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { errorJson, exitCodeFor, describeError } from './errors.ts';
import { rememberGlobalOptions, withGlobalOptions } from './hints.ts';
import { endQuietlyOnClosedPipe } from './pipe.ts';
import { PACKAGE_ROOT } from './paths.ts';
import { parseNatsUrl } from './data-dir.ts';

const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

const args = process.argv.slice(2);
rememberGlobalOptions(args);
endQuietlyOnClosedPipe();

/** `--json` on the line, before a `--` (after it, it would be an argument). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

function printJsonError(reply: unknown): void {
  process.stdout.write(`${withGlobalOptions(JSON.stringify(reply, null, 2))}\n`);
}

/** Whether commander printed a usage error (its own, or a command's cmd.error); commands inherit the output. */
let usagePrinted = false;

const program = new Command('panos-upgrade')
  .description('Upgrade fleets of PAN-OS firewalls managed by Panorama, and rehearse it in a simulator')
  .version(version)
  .option('--data-dir <dir>', 'state directory: config.json, events/, inventory.json, daemon.json (default: $PANOS_UPGRADE_HOME or ~/.panos-upgrade)')
  .option('--nats-url <url>', 'NATS server (default: $NATS_URL; else the one the running daemon wrote to <data-dir>/daemon.json)', parseNatsUrl)
  .option('--nats-creds <file>', 'NATS .creds file (default: $NATS_CREDS; else the operator seed named in daemon.json)')
  .option('--nats-nkey <file>', 'NATS user NKey seed file (default: $NATS_NKEY), e.g. <data-dir>/nats/daemon/users/reader.nk')
  .option('--nats-user <user>', 'NATS user name, with the password in $NATS_PASSWORD (default: $NATS_USER)')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({
    outputError: (text, write) => {
      usagePrinted = true;
      write(text);
    },
  })
  .exitOverride();

type Register = (program: Command) => void;

/**
 * Every command, in the order help lists them. Each is loaded only when it is the one asked for, so a
 * read command does not load the simulator, the gateway or the event store (a fast answer: bench cli).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  demo: async () => (await import('./commands/demo.ts')).registerDemo,
  sim: async () => (await import('./commands/sim.ts')).registerSim,
  daemon: async () => (await import('./commands/daemon.ts')).registerDaemon,
  status: async () => (await import('./commands/status.ts')).registerStatus,
  config: async () => (await import('./commands/config.ts')).registerConfig,
  device: async () => (await import('./commands/device.ts')).registerDevice,
  check: async () => (await import('./commands/check.ts')).registerCheck,
  job: async () => (await import('./commands/job.ts')).registerJob,
  download: async () => (await import('./commands/download.ts')).registerDownload,
  upgrade: async () => (await import('./commands/upgrade.ts')).registerUpgrade,
  campaign: async () => (await import('./commands/campaign.ts')).registerCampaign,
  replay: async () => (await import('./commands/replay.ts')).registerReplay,
  chaos: async () => (await import('./commands/chaos.ts')).registerChaos,
  ui: async () => (await import('./commands/ui.ts')).registerUi,
};

/** The command word of the line (`status` in `--data-dir D status --json`), past the global options. */
function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--data-dir' || a === '--nats-url') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

const word = commandWord(args);
// Help, a bare line or an unknown word: every command, so that help and "unknown command" list them all.
for (const name of word && COMMANDS[word] ? [word] : Object.keys(COMMANDS)) (await COMMANDS[name]!())(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const json = wantsJson(args);
  if (err instanceof CommanderError) {
    // help and version end with code 0; usage errors were printed by commander, except one a command's
    // action threw (an InvalidArgumentError of its own): that one is printed here
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    if (process.exitCode === 2 && !usagePrinted) process.stderr.write(`${withGlobalOptions(`error: ${err.message.replace(/^error: /, '')}`)}\n`);
    if (json && process.exitCode === 2) printJsonError({ ok: false, error: { code: 'USAGE', message: err.message.replace(/^error: /, ''), exitCode: 2 } });
  } else {
    process.stderr.write(`${withGlobalOptions(describeError(err))}\n`);
    process.exitCode = exitCodeFor(err);
    if (json) printJsonError(errorJson(err));
  }
}
