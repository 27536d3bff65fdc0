import type { Command } from 'commander';
import { Daemon } from '../../actors/daemon.ts';
import { createDeviceAccess } from '../../actors/device-access.ts';
import { loadDaemonConfig } from '../../actors/paths-file.ts';
import { createLogger } from '../logger.ts';
import { openRuntime, resolveDataDir, untilSignal } from '../runtime.ts';

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('run the orchestrator: answer panos.cmd.* on NATS, run upgrade and download jobs, resume unfinished ones')
    .option('--data-dir <dir>', 'state directory (default: $PANOS_UPGRADE_HOME or ~/.panos-upgrade)')
    .option('--nats-url <url>', 'NATS server (default: $NATS_URL, or a private nats-server)')
    .action(async (opts: { dataDir?: string; natsUrl?: string }) => {
      const log = createLogger();
      const dataDir = resolveDataDir(opts.dataDir);
      const config = loadDaemonConfig(dataDir);
      const rt = await openRuntime({
        role: 'daemon',
        log,
        dataDir,
        ...(opts.natsUrl ? { natsUrl: opts.natsUrl } : {}),
        details: { panorama: config.panorama.host, concurrency: config.concurrency },
      });
      const access = createDeviceAccess(config, { store: rt.store, log: log.child({ component: 'client' }) });
      const daemon = await Daemon.start({
        store: rt.store,
        log: log.child({ component: 'daemon' }),
        config,
        access,
        dataDir,
        nc: rt.bus.nc,
        subjects: rt.subjects,
      });
      log.info({ panorama: config.panorama.host, nats: rt.bus.url, eventLog: rt.store.path, runId: rt.runId, status: daemon.status() }, 'daemon up');
      process.stdout.write(`Daemon up: Panorama ${config.panorama.host}, NATS ${rt.bus.url}, event log ${rt.store.path}, run ${rt.runId}\n`);
      const signal = await untilSignal();
      log.info({ signal }, 'stopping daemon; unfinished jobs resume at the next start');
      await daemon.stop();
      access.close();
      await rt.close();
    });
}
