import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { CONFIG_FILE_KEYS, CONFIG_KEYS, configFileProblem, configPath, displayValue, getConfigValue, loadConfig, saveConfig, setConfigValue } from '../../actors/config.ts';
import { loadPathsFile } from '../../actors/paths-file.ts';
import { ValidationError } from '../../panos/errors.ts';
import { dataDirPath, resolveDataDir } from '../data-dir.ts';
import { readDaemonFile } from '../daemon-file.ts';
import { globalOptions } from '../options.ts';
import { hint } from '../hints.ts';
import { outputTo, printJson, table } from '../output.ts';
import { registerConfigFromSim } from './config-from-sim.ts';

function keyList(): string {
  return Object.keys(CONFIG_KEYS).join(', ');
}

export function parseConfigKey(value: string): string {
  if (!CONFIG_KEYS[value]) throw new InvalidArgumentError(`unknown config key "${value}". Valid keys: ${keyList()}`);
  return value;
}

/** Values that name a file are stored absolute (the daemon may run elsewhere) and must be readable now. */
function checkFileValue(key: string, raw: string): string {
  if (raw === '') return raw;
  const file = resolve(raw);
  if (!existsSync(file)) throw new ValidationError(`${key}: no such file: ${file}`, key);
  if (key === 'upgrade.paths_file') loadPathsFile(file);
  const problem = configFileProblem(key, file);
  if (problem) throw new ValidationError(problem, key);
  return file;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description("the daemon's configuration (config.json in the data dir, mode 0600); the daemon reads it at start");

  config
    .command('set')
    .description('set one key (a value of - is read from standard input, so secrets stay out of the shell history)')
    .argument('<key>', 'config key (see: panos-upgrade config list)', parseConfigKey)
    .argument('<value>', 'the value')
    .action(async (key: string, value: string, _opts: object, cmd: Command) => {
      const out = outputTo();
      const dataDir = resolveDataDir(globalOptions(cmd).dataDir);
      const current = loadConfig(dataDir);
      if (value !== '-' && value !== '' && CONFIG_KEYS[key]?.kind === 'secret') {
        // Still set (the user asked), but the value is now in the shell history and was visible in ps.
        process.stderr.write(
          `warning: ${key} was given on the command line, where other users see it (ps) and the shell keeps it (history). ` +
            `Next time read it from standard input: ${hint(`config set ${key} -`)}   (paste it, then Ctrl-D), ` +
            `or: printf %s "$SECRET" | ${hint(`config set ${key} -`)}\n`,
        );
      }
      let raw = value === '-' ? await readStdin() : value;
      // Ctrl-D before pasting, or an empty pipe: erasing a key by accident stops the next daemon start.
      if (value === '-' && raw === '') throw new ValidationError(`nothing was read from standard input, so ${key} is unchanged (to clear it: ${hint(`config set ${key} ""`)})`, key);
      if (key === 'upgrade.paths_file' || key in CONFIG_FILE_KEYS) raw = checkFileValue(key, raw);
      const next = setConfigValue(current, key, raw);
      saveConfig(dataDir, next);
      out.line(`Set ${key} = ${displayValue(key, getConfigValue(next, key))} in ${configPath(dataDir)}`);
      const daemon = readDaemonFile(dataDir);
      if (daemon.state === 'running') out.line(`The daemon (pid ${daemon.info.pid}) reads its configuration at start: restart it to apply this.`);
    });

  config
    .command('get')
    .description('print one value (secrets masked)')
    .argument('<key>', 'config key', parseConfigKey)
    .option('--json', 'print { key, value } as JSON')
    .action((key: string, opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      const value = displayValue(key, getConfigValue(loadConfig(dataDirPath(globalOptions(cmd).dataDir)), key));
      if (opts.json) printJson(out, { key, value });
      else out.line(value);
    });

  config
    .command('list')
    .description('print every key with its value (secrets masked) and what it is for')
    .option('--json', 'print { file, values } as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      const dataDir = dataDirPath(globalOptions(cmd).dataDir);
      const current = loadConfig(dataDir);
      const file = configPath(dataDir);
      const rows = Object.entries(CONFIG_KEYS).map(([key, spec]) => ({ key, value: displayValue(key, getConfigValue(current, key)), help: spec.help }));
      if (opts.json) return printJson(out, { file, exists: existsSync(file), values: Object.fromEntries(rows.map((r) => [r.key, r.value])) });
      out.line(`${file}${existsSync(file) ? '' : ' (not created yet: these are the defaults)'}`);
      out.write(
        table(
          rows,
          [
            { header: 'KEY', value: (r) => r.key },
            { header: 'VALUE', value: (r) => r.value },
            { header: 'ABOUT', value: (r) => out.paint('dim', r.help) },
          ],
          out,
        ),
      );
    });

  registerConfigFromSim(config);
}
