import { fileURLToPath } from 'node:url';

/** The installed package's root, for the scenarios it ships. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A scenario shipped with the package: `basic` → `<root>/scenarios/basic.yaml`. */
export function shippedScenario(name: string): string {
  return fileURLToPath(new URL(`../scenarios/${name}.yaml`, import.meta.url));
}
