import { InvalidArgumentError, Option, type Command } from 'commander';
import type { GatewayHandle } from '../../gateway/index.ts';
import { ValidationError } from '../../panos/errors.ts';
import type { Simulator } from '../../simulator/index.ts';
import { tuneSimulatorHeap } from '../../simulator/heap.ts';
import type { PrivateAuth } from '../../bus/index.ts';
import { shippedScenario } from '../paths.ts';
import { globalOptions, parsePositiveNumber } from '../options.ts';

interface SimOptions {
  scenario: string;
  config?: string;
  timeScale?: number;
  fresh?: boolean;
  port: number;
  http?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  direct: boolean;
  hangLimit?: number;
  newCert?: boolean;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return n;
}

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run the PAN-OS/Panorama simulator on a scenario, with its XML API gateway, until interrupted')
    .option('-s, --scenario <file>', 'scenario YAML file', shippedScenario('basic'))
    .addOption(new Option('--config <file>', "the same as --scenario (the original mock server's name for it)").conflicts('scenario'))
    .option('--time-scale <factor>', 'multiply every simulated duration (e.g. 0.1 for ten times faster)', parsePositiveNumber)
    .option('--fresh', 'ignore device state recorded by earlier sessions in the data dir and start from the scenario')
    .option('--port <port>', 'port of the XML API on the Panorama and on every firewall address (0: any free port)', parsePort, 8443)
    .option('--http', 'serve plain HTTP instead of HTTPS')
    .option('--tls-cert <file>', "PEM certificate for HTTPS (default: issued by the simulator's CA, kept in <data-dir>/tls)")
    .option('--tls-key <file>', 'PEM private key that goes with --tls-cert')
    .option('--no-direct', "do not listen on each firewall's own management address (reach firewalls through Panorama with target=)")
    .option('--new-cert', "make a new CA and new certificates instead of reusing the ones kept in <data-dir>/tls (clients must trust them again)")
    .option('--hang-limit <seconds>', 'how long a hung device holds a connection before it is closed (default 120)', parsePositiveNumber)
    .action(async (opts: SimOptions, cmd: Command) => {
      const { dataDir, natsUrl } = globalOptions(cmd);
      if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
        throw new ValidationError('--tls-cert and --tls-key go together: give both, or neither for a self-signed certificate');
      }
      const serving = tuneSimulatorHeap();
      // Loaded here so that the short commands do not pay for the simulator's imports.
      const [{ startSimulatorHost }, { createLogger }, { untilSignal }] = await Promise.all([
        import('../../simulator/host.ts'),
        import('../logger.ts'),
        import('../runtime.ts'),
      ]);
      const log = createLogger();
      const { sim, scenario, gateway, rt, connectionFile, startupMs, close } = await startSimulatorHost({
        scenarioFile: opts.config ?? opts.scenario,
        ...(opts.timeScale !== undefined ? { timeScale: opts.timeScale } : {}),
        fresh: opts.fresh === true,
        port: opts.port,
        protocol: opts.http ? 'http' : 'https',
        ...(opts.tlsCert && opts.tlsKey ? { tls: { certFile: opts.tlsCert, keyFile: opts.tlsKey } } : {}),
        direct: opts.direct,
        ...(opts.hangLimit !== undefined ? { hangLimitMs: Math.round(opts.hangLimit * 1000) } : {}),
        ...(opts.newCert ? { newCert: true } : {}),
        ...(dataDir ? { dataDir } : {}),
        ...(natsUrl ? { natsUrl } : {}),
        log,
        onBusy: serving,
      });
      log.info(
        {
          scenario: scenario.file,
          devices: sim.size,
          restored: sim.restored,
          nats: rt.bus.url,
          eventLog: rt.store.path,
          runId: rt.runId,
          panoramaUrl: gateway.panoramaUrl,
          directAddresses: gateway.addresses.length - 1,
          fingerprint: gateway.fingerprint,
          startupMs,
        },
        'simulator up',
      );
      process.stdout.write(banner(sim, scenario.file, scenario.apiKey, scenario.admins[0]?.username, gateway, rt, connectionFile));
      const signal = await untilSignal();
      log.info({ signal }, 'stopping simulator');
      await close();
    });
}

/** What a person needs to start talking to the simulated devices. The lab key is printed here, never logged. */
function banner(
  sim: Simulator,
  file: string,
  apiKey: string,
  adminUser: string | undefined,
  gw: GatewayHandle,
  rt: { bus: { url: string; privateAuth: PrivateAuth | undefined }; subjects: { prefix: string }; store: { path: string }; runId: string; dataDir: string },
  connectionFile: string,
): string {
  const api = (origin: string): string => `${origin}/api/`;
  const curlKey = encodeURIComponent(apiKey).replaceAll("'", '%27');
  const firewalls = sim.describe().devices.filter((d) => gw.urls[d.serial] !== undefined);
  const lines = [
    `Simulator up: ${sim.size} firewalls behind Panorama ${sim.panorama.hostname} (${sim.panorama.serial}) from ${file}`,
    ...(sim.restored > 0 ? [`  restored ${sim.restored} device(s) from the event log (use --fresh to start over)`] : []),
    `  Panorama:    ${api(gw.panoramaUrl)}   (add target=<serial> to reach a firewall through it)`,
  ];
  if (firewalls.length > 0) {
    const shown = firewalls.slice(0, 2).map((d) => `${api(gw.urls[d.serial]!)}  ${d.hostname} (${d.serial})`);
    lines.push(`  Firewalls:   ${shown.join('\n               ')}`);
    if (firewalls.length > 2) lines.push(`               … and ${firewalls.length - 2} more, each on its own management address`);
  } else {
    lines.push('  Firewalls:   through Panorama only (direct addresses are off or could not be bound)');
  }
  if (gw.skipped.length > 0) lines.push(`               ${gw.skipped.length} firewall address(es) could not be bound (see the log)`);
  lines.push(`  API key:     ${apiKey}`);
  if (adminUser !== undefined) lines.push(`  keygen user: ${adminUser} (its password is under admins: in ${file}; admin/admin when none is listed)`);
  if (gw.fingerprint) {
    const id = gw.identity;
    if (id?.dir) {
      lines.push(`  TLS:         certificates issued by the simulator's CA, ${id.created ? 'made now and ' : ''}kept in ${id.dir} (the same on every start; --new-cert for new ones)`);
      lines.push(`               CA file ${id.caFile}`);
    } else {
      lines.push(`  TLS:         ${id ? "certificates issued by the simulator's CA for this run" : 'certificate from --tls-cert'}`);
    }
    lines.push(`               SHA-256 fingerprint ${gw.fingerprint}`);
  } else {
    lines.push('  TLS:         off (plain HTTP)');
  }
  const curl = `curl -s${gw.protocol === 'https' ? 'k' : ''}`;
  lines.push(`  Try:         ${curl} '${api(gw.panoramaUrl)}?type=op&cmd=<show><system><info/></system></show>&key=${curlKey}'`);
  const first = sim.describe().devices[0];
  if (first) {
    lines.push(`               ${curl} '${api(gw.panoramaUrl)}?type=op&cmd=<show><system><info/></system></show>&target=${first.serial}&key=${curlKey}'`);
  }
  lines.push(`  NATS:        ${rt.bus.url} (subjects ${rt.subjects.prefix}.sim.*)`);
  const seed = rt.bus.privateAuth?.files.simulator;
  if (seed) lines.push(`               as the simulator user only: nats --nkey ${seed} …`);
  lines.push(`  event log:   ${rt.store.path}`);
  lines.push(`  run:         ${rt.runId}`);
  lines.push(`  connection:  ${connectionFile} (URL, API key, fingerprint, CA file, scenario; mode 0600)`);
  lines.push(`  Configure a daemon for it: panos-upgrade config from-sim ${rt.dataDir}`);
  lines.push('Press Ctrl-C to stop.');
  return lines.join('\n') + '\n';
}
