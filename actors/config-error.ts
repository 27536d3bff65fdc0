import { PanosUpgradeError } from '../panos/errors.ts';

/**
 * A configuration the daemon cannot run with. In a module of its own so that what throws it (the
 * runtime of every long-running command, `sim` included) does not load the config schema and zod.
 */
export class ConfigError extends PanosUpgradeError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}
