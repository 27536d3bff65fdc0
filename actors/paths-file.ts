import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { isVersion } from '../panos/version.ts';
import { ConfigError, loadConfig, type DaemonConfig } from './config.ts';

/**
 * Read an upgrade paths file (YAML or JSON): a map of current version → versions to install, either
 * at the top level or under `upgrade_paths` (so a scenario file works too).
 */
export function loadPathsFile(file: string): Record<string, string[]> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read the upgrade paths file ${file}: ${(err as Error).message}`);
  }
  const map = (doc && typeof doc === 'object' && 'upgrade_paths' in doc ? (doc as { upgrade_paths: unknown }).upgrade_paths : doc) as unknown;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new ConfigError(`${file}: expected a map of version → list of versions`);
  const out: Record<string, string[]> = {};
  for (const [from, hops] of Object.entries(map)) {
    if (!isVersion(from) || !Array.isArray(hops) || !hops.every((h) => isVersion(String(h)))) {
      throw new ConfigError(`${file}: "${from}" must map a PAN-OS version to a list of versions (quote them: "10.1.0")`);
    }
    out[from] = hops.map(String);
  }
  return out;
}

/** The daemon's configuration with the paths file merged in (inline paths win). */
export function loadDaemonConfig(dataDir: string): DaemonConfig {
  const config = loadConfig(dataDir);
  if (!config.upgrade.pathsFile) return config;
  return { ...config, upgrade: { ...config.upgrade, paths: { ...loadPathsFile(config.upgrade.pathsFile), ...config.upgrade.paths } } };
}
