import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { configPath, displayValue, getConfigValue, loadConfig, saveConfig, setConfigValue, type DaemonConfig } from '../../actors/config.ts';
import { loadPathsFile } from '../../actors/paths-file.ts';
import { readSimConnection, type SimConnection } from '../../simulator/connection-schema.ts';
import { connectionFilePath } from '../../simulator/connection-file.ts';
import { PanosUpgradeError } from '../../panos/errors.ts';
import { resolveDataDir } from '../data-dir.ts';
import { readDaemonFile } from '../daemon-file.ts';
import { globalOptions } from '../options.ts';
import { hint } from '../hints.ts';
import { outputTo, printJson } from '../output.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The keys `config from-sim` sets, in order, from a simulator's connection file. */
export function simConfigValues(conn: SimConnection): Array<[string, string]> {
  // Cleared first, so no rule between keys (insecure against a pin, TLS options against http) trips halfway.
  const values: Array<[string, string]> = [
    ['tls.insecure', 'false'],
    ['tls.ca_file', ''],
    // Panorama pinned by its fingerprint: what an operator does with a self-signed Panorama.
    ['tls.fingerprint', conn.protocol === 'https' ? (conn.fingerprint ?? '') : ''],
    ['firewall.tls.insecure', 'false'],
    ['firewall.tls.trust_on_first_use', 'false'],
    // Each simulated firewall has its own certificate, issued by the simulator's CA: as a fleet with its own CA.
    ['firewall.tls.ca_file', conn.protocol === 'https' ? (conn.caFile ?? '') : ''],
    ['protocol', conn.protocol],
    ['panorama.host', conn.host],
    ['panorama.api_key', conn.apiKey],
  ];
  values.push(['downloads.direct', String(conn.direct)]);
  return values;
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that starts the simulator again as its connection file says it ran: its data dir, scenario,
 * port, protocol and direct addresses, so that the configuration written from it stays valid. The data
 * dir goes first, as a global option: a hint gets the line's own --data-dir put in after `panos-upgrade`
 * only when a command word follows it.
 */
export function simRestartCommand(simDir: string, conn?: SimConnection): string {
  const words = ['panos-upgrade', '--data-dir', shellWord(simDir), 'sim'];
  if (!conn) return words.join(' ');
  words.push('--scenario', shellWord(conn.scenario));
  const port = new URL(`${conn.protocol}://${conn.host}`).port || (conn.protocol === 'https' ? '443' : '80');
  if (port !== '8443') words.push('--port', port);
  if (conn.protocol === 'http') words.push('--http');
  if (!conn.direct) words.push('--no-direct');
  if (conn.timeScale !== undefined) words.push('--time-scale', String(conn.timeScale));
  return words.join(' ');
}

export function registerConfigFromSim(config: Command): void {
  config
    .command('from-sim')
    .description("configure the daemon for a running simulator, from the connection file in its data dir (URL, API key, fingerprint, CA, scenario)")
    .argument('<sim-data-dir>', 'the data dir the simulator was started with (panos-upgrade sim --data-dir DIR)')
    .option('--json', 'print { file, simulator, values } as JSON')
    .action((simDir: string, opts: { json?: boolean }, cmd: Command) => {
      const out = outputTo();
      const simPath = resolve(simDir);
      const file = connectionFilePath(simPath);
      if (!existsSync(file)) throw new PanosUpgradeError('CONFIG', `no simulator connection file at ${file}: start the simulator with: ${simRestartCommand(simPath)}`);
      const conn = readSimConnection(simPath);
      const dataDir = resolveDataDir(globalOptions(cmd).dataDir);
      let next: DaemonConfig = loadConfig(dataDir);
      const values = simConfigValues(conn);
      let pathsNote: string | undefined;
      try {
        if (Object.keys(loadPathsFile(conn.scenario)).length > 0) values.push(['upgrade.paths_file', conn.scenario]);
      } catch (err) {
        pathsNote = `upgrade.paths_file left as it was: ${(err as Error).message}`;
      }
      for (const [key, raw] of values) next = setConfigValue(next, key, raw);
      saveConfig(dataDir, next);
      const running = alive(conn.pid);
      const shown = Object.fromEntries(values.map(([key]) => [key, displayValue(key, getConfigValue(next, key))]));
      if (opts.json) {
        printJson(out, { file: configPath(dataDir), simulator: { url: conn.url, scenario: conn.scenario, pid: conn.pid, running }, values: shown });
        return;
      }
      out.line(`Configured ${configPath(dataDir)} for the simulator at ${conn.url} (scenario ${conn.scenarioName}):`);
      for (const [key, value] of Object.entries(shown)) out.line(`  ${key} = ${value}`);
      if (pathsNote) out.line(`  ${pathsNote}`);
      if (!running) {
        out.line(`The simulator (pid ${conn.pid}) is not running now: start it again with`);
        out.line(`  ${simRestartCommand(simPath, conn)}`);
        const also = conn.protocol === 'https' && !conn.caFile ? ' (with --tls-cert and --tls-key as before)' : '';
        out.line(`${also ? `${also.trim()}. ` : ''}It keeps its certificates, so this configuration stays valid.`);
      }
      const daemon = readDaemonFile(dataDir);
      if (daemon.state === 'running') out.line(`The daemon (pid ${daemon.info.pid}) reads its configuration at start: restart it to apply this.`);
      else out.line(`Next: ${hint('daemon')}`);
    });
}
