import type { Command } from 'commander';
import { loadScenarioFile } from '../../scenarios/index.ts';
import { Simulator } from '../../simulator/index.ts';
import { createLogger } from '../logger.ts';
import { shippedScenario } from '../paths.ts';
import { openRuntime, untilSignal } from '../runtime.ts';
import { parsePositiveNumber } from '../options.ts';

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run the PAN-OS/Panorama simulator on a scenario until interrupted')
    .option('-s, --scenario <file>', 'scenario YAML file', shippedScenario('basic'))
    .option('--time-scale <factor>', 'multiply every simulated duration (e.g. 0.1 for ten times faster)', parsePositiveNumber)
    .option('--fresh', 'ignore device state recorded by earlier sessions in the data dir and start from the scenario')
    .option('--data-dir <dir>', 'where the event log lives (default: $PANOS_UPGRADE_HOME or ~/.panos-upgrade)')
    .option('--nats-url <url>', 'NATS server to use (default: $NATS_URL, or a private nats-server)')
    .action(async (opts: { scenario: string; timeScale?: number; fresh?: boolean; dataDir?: string; natsUrl?: string }) => {
      const log = createLogger();
      const started = performance.now();
      const scenario = loadScenarioFile(opts.scenario, opts.timeScale !== undefined ? { timeScale: opts.timeScale } : {});
      const rt = await openRuntime({
        role: 'simulator',
        log,
        ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        ...(opts.natsUrl ? { natsUrl: opts.natsUrl } : {}),
        details: { scenario: scenario.name, file: scenario.file },
      });
      const sim = await Simulator.start({
        scenario,
        store: rt.store,
        log: log.child({ component: 'simulator' }),
        nc: rt.bus.nc,
        subjects: rt.subjects,
        fresh: opts.fresh === true,
      });
      const ms = Math.round(performance.now() - started);
      log.info(
        { scenario: scenario.file, devices: sim.size, restored: sim.restored, nats: rt.bus.url, eventLog: rt.store.path, runId: rt.runId, startupMs: ms },
        'simulator up',
      );
      process.stdout.write(
        `Simulator up: ${sim.size} firewalls behind Panorama ${sim.panorama.hostname} (${sim.panorama.serial}) from ${scenario.file}\n` +
          (sim.restored > 0 ? `  restored ${sim.restored} device(s) from the event log (use --fresh to start over)\n` : '') +
          `  NATS:      ${rt.bus.url} (subjects ${rt.subjects.prefix}.sim.*)\n` +
          `  event log: ${rt.store.path}\n` +
          `  run:       ${rt.runId}\n` +
          `Press Ctrl-C to stop.\n`,
      );
      const signal = await untilSignal();
      log.info({ signal }, 'stopping simulator');
      await sim.stop();
      await rt.close();
    });
}
