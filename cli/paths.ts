import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root, whether this module runs from the sources (cli/) or from the build (dist/cli/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

/** The installed package's root, for the scenarios it ships. */
export const PACKAGE_ROOT = packageRoot();

/** The CLI's launcher, for the commands that start another panos-upgrade process. */
export const CLI_BIN = join(PACKAGE_ROOT, 'bin', 'panos-upgrade.mjs');

/** A scenario shipped with the package: `basic` → `<root>/scenarios/basic.yaml`. */
export function shippedScenario(name: string): string {
  return join(PACKAGE_ROOT, 'scenarios', `${name}.yaml`);
}
