import { existsSync } from 'node:fs';
import { loadConfig } from '../actors/config.ts';
import { LmdbEventStore } from '../eventstore/index.ts';
import { operatorTokenPath, startWebServer } from '../web/index.ts';
import { DaemonClient } from './client.ts';
import { CliError } from './errors.ts';
import { createLogger } from './logger.ts';
import type { GlobalOptions } from './options.ts';
import { eventLogPath, resolveDataDir, untilSignal } from './runtime.ts';

export const DEFAULT_UI_LISTEN = '127.0.0.1:8470';

/**
 * `panos-upgrade ui`: the live view in its own process, for a daemon started without `ui.listen`:
 * it reads the daemon's event log (LMDB allows readers in other processes) and follows its events on NATS.
 */
export async function runUi(opts: GlobalOptions & { listen?: string }): Promise<void> {
  const log = createLogger();
  const dataDir = resolveDataDir(opts.dataDir);
  const events = eventLogPath(dataDir);
  if (!existsSync(events)) throw new CliError(`${dataDir} has no event log yet: start the daemon first (panos-upgrade daemon)`, 1);
  const config = loadConfig(dataDir);
  const client = DaemonClient.fromOptions(opts);
  const nc = await client.connection(client.subjects.allEvents());
  const store = LmdbEventStore.open({ path: events });
  try {
    const web = await startWebServer({ store, nc, subjects: client.subjects, log: log.child({ component: 'web' }), listen: opts.listen ?? (config.ui.listen || DEFAULT_UI_LISTEN), dataDir, metrics: config.metrics });
    process.stdout.write(`Live view ${web.url}/ and ${web.url}/metrics; actions need the operator token in ${operatorTokenPath(dataDir)}. Ctrl-C stops it.\n`);
    await untilSignal();
    await web.close();
  } finally {
    await client.close();
    await store.close();
  }
}
