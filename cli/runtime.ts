// What every long-running command stands on lives below the commands (actors/runtime.ts); re-exported for them.
export { eventLogPath, natsServerDir, openRuntime, type Runtime, type RuntimeOptions } from '../actors/runtime.ts';
export { resolveDataDir } from '../actors/data-dir.ts';

/** Resolve on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
