import { readFileSync } from 'node:fs';
import { formatYamlPath, readYamlText, YamlSyntaxError } from '../panos/yaml-text.ts';
import { checkConfigFiles, ConfigError, configPath, loadConfig, upgradePathsSchema, type DaemonConfig } from './config.ts';

/**
 * Read an upgrade paths file (YAML or JSON): a map of current version → versions to install, either
 * at the top level or under `upgrade_paths` (so a scenario file works too). Checked by the same schema
 * as config.json's `upgrade.paths`; an error names the file, line and place.
 */
export function loadPathsFile(file: string): Record<string, string[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read the upgrade paths file ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let doc: unknown;
  let lineOf: (path: ReadonlyArray<string | number>) => number | undefined;
  try {
    ({ value: doc, lineOf } = readYamlText(text));
  } catch (err) {
    if (err instanceof YamlSyntaxError) throw new ConfigError(`${file}${err.line ? `:${err.line}` : ''}: the upgrade paths file is not valid YAML: ${err.problem}`);
    throw err;
  }
  const under = doc !== null && typeof doc === 'object' && 'upgrade_paths' in doc;
  const result = upgradePathsSchema.safeParse(under ? (doc as { upgrade_paths: unknown }).upgrade_paths : doc);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [...(under ? ['upgrade_paths'] : []), ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
  const line = lineOf(path);
  throw new ConfigError(`${file}${line ? `:${line}` : ''}: ${formatYamlPath(path) || 'the upgrade paths'} ${issue.message}`);
}

/** The daemon's configuration with the paths file merged in (inline paths win). */
export function loadDaemonConfig(dataDir: string): DaemonConfig {
  const config = loadConfig(dataDir);
  checkConfigFiles(config, configPath(dataDir));
  if (!config.upgrade.pathsFile) return config;
  return { ...config, upgrade: { ...config.upgrade, paths: { ...loadPathsFile(config.upgrade.pathsFile), ...config.upgrade.paths } } };
}
