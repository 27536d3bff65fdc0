import type { Command } from 'commander';
import { globalOptions, parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from '../options.ts';

export interface DemoOptions {
  devices: number;
  timeScale: number;
  upgrades: number;
  haPairs: number;
  concurrency: number;
  /** The live view's loopback address (port 0: a free one). */
  ui: string;
  /** Keep the live view up after the summary, until Ctrl-C. */
  stay?: boolean;
}

/**
 * Fast enough that the whole demo takes about 15 s on two cores (a simulated reboot is 0.3 s), with
 * every step still in the live progress.
 */
export const DEMO_TIME_SCALE = 0.02;

/**
 * The demo's generated fleet: each device pre-staged costs about twenty API calls, and everything runs in
 * one process, so the fleet is kept small enough for the demo's time; `--devices 230` is scenarios/fleet-230.yaml.
 */
export const DEMO_DEVICES = 30;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      `the whole product on a simulated fleet, nothing to configure: private NATS, simulator (a generated fleet of ${DEMO_DEVICES} firewalls), ` +
        'HTTPS gateway and daemon in this process; discover, pre-stage images everywhere, upgrade a few firewalls and an HA pair in a campaign, summarise',
    )
    .option('--devices <n>', 'firewalls in the generated fleet (230: the fleet of scenarios/fleet-230.yaml)', parsePositiveInt, DEMO_DEVICES)
    .option('--time-scale <factor>', 'multiply every simulated duration (download 10 s, install 5 s, reboot 15 s)', parsePositiveNumber, DEMO_TIME_SCALE)
    .option('--upgrades <n>', 'standalone firewalls to upgrade after the downloads (0: none)', parseNonNegativeInt, 2)
    .option('--ha-pairs <n>', 'HA pairs to upgrade after the downloads, each as one pair job (0: none)', parseNonNegativeInt, 1)
    .option('--concurrency <n>', 'jobs the daemon runs at the same time', parsePositiveInt, 50)
    .option('--ui <host:port>', 'serve the live fleet view and /metrics on this loopback address', '127.0.0.1:0')
    .option('--stay', 'keep the live view up after the summary, until Ctrl-C')
    .addHelpText('after', '\nState goes to a fresh directory under the OS temp dir unless --data-dir is given (it must not hold an earlier run).')
    .action(async (opts: DemoOptions, cmd: Command) => {
      // Loaded here so that the short commands do not pay for the simulator's imports.
      const { runDemo } = await import('../demo-run.ts');
      await runDemo({ ...opts, ...globalOptions(cmd) });
    });
}
