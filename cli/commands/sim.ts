import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { GatewayHandle, LocalSimulator } from '../../gateway/index.ts';
import { ValidationError } from '../../panos/errors.ts';
import type { Simulator } from '../../simulator/index.ts';
import { createServer } from 'node:net';
import { lockDataDir, refuseDataDirOf } from '../../actors/data-dir-lock.ts';
import { natsAuthFromEnv, type PrivateAuth } from '../../bus/index.ts';
import { resolveDataDir } from '../data-dir.ts';
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

function checkPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ValidationError(
          err.code === 'EADDRINUSE'
            ? `port ${port} is already in use on ${host} (another simulator, or another program): give another --port, or 0 for any free one. Nothing was started or recorded`
            : `cannot listen on ${host}:${port} (${err.code ?? err.message}). Nothing was started or recorded`,
          'port',
        ),
      ),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * V8 settings for a simulator that is idle or lightly called, as most are (a person trying commands, a
 * daemon upgrading a few firewalls), and the defaults for a busy one.
 *
 * - V8 grows its young generation (from 1 MiB per semi-space up to 16 MiB) when many objects survive its
 *   collections, and shrinks it again at a collection that finds the allocation rate low. Loading and
 *   starting the simulator is one such burst: an idle five-firewall simulator then held 32 MiB of mostly
 *   empty young generation, and being idle it never collects to shrink it. So it is not grown, and V8
 *   optimizes for size (2 MiB of young generation instead of 4, about 3 MB less in all for the basic scenario).
 * - V8's optimizing compiler (TurboFan) is off: each compilation takes its working memory from malloc, on
 *   V8's helper threads and on the main thread, and glibc's arenas keep it once freed (4-8 MB after the
 *   basic scenario's start, varying from start to start: most of the variance of the process's size).
 *   Without it that simulator holds about 7 MB less after a restart; functions still run in the
 *   interpreter and the baseline compiler (Sparkplug), which is enough for a few calls a second.
 *
 * The returned function restores V8's defaults, for a busy gateway: the young generation follows the load
 * (a 1 MiB one cost it about a third more CPU per call) and hot functions are optimized. `sim` calls it when
 * the simulator gets busy (`untilBusy`); a large scenario turns the optimizing compiler back on before it
 * is loaded (its YAML and then every device run hot loops, and it never fits the idle footprint anyway). V8
 * reads these flags as it goes, so no `node` option is needed (changing others at run time, such as the
 * collector's helper threads, crashed V8). Call before the simulator's modules load. The gateway benchmark
 * does the same (restoring after its warm-up calls), as it measures the gateway as this command runs it.
 */
export function tuneSimulatorHeap(): () => void {
  const starting = ['--semi-space-growth-factor=1', '--optimize-for-size', '--no-turbofan'];
  const serving = ['--semi-space-growth-factor=2', '--no-optimize-for-size', '--turbofan'];
  for (const flag of starting) setFlagsFromString(flag);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const flag of serving) setFlagsFromString(flag);
  };
}

/** Calls within one second that make a simulator busy: a load generator or a daemon upgrading many firewalls, not a person or a few polls a second. */
export const BUSY_CALLS_PER_SECOND = 100;
/** A scenario file larger than this, or with more devices, starts with V8's optimizing compiler (see tuneSimulatorHeap): about 300 and 200 firewalls. */
export const LARGE_SCENARIO_BYTES = 32 * 1024;
export const LARGE_SCENARIO_DEVICES = 200;

/**
 * `sim` as the gateway calls it, running `busy` once when it is first called at least
 * BUSY_CALLS_PER_SECOND times within one second (XML API calls and control actions alike).
 */
export function untilBusy(sim: LocalSimulator, busy: () => void, now: () => number = () => performance.now()): LocalSimulator {
  let pending: (() => void) | undefined = busy;
  let windowStart = -Infinity;
  let calls = 0;
  const count = (): void => {
    if (!pending) return;
    const t = now();
    if (t - windowStart >= 1_000) {
      windowStart = t;
      calls = 0;
    }
    if (++calls >= BUSY_CALLS_PER_SECOND) {
      pending();
      pending = undefined;
    }
  };
  return {
    owns: (serial) => sim.owns(serial),
    op: (serial, request) => {
      count();
      return sim.op(serial, request);
    },
    control: (serial, action, payload) => {
      count();
      return sim.control(serial, action, payload);
    },
  };
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
      const [{ startGateway, IDENTITY_DIR }, { loadScenarioFile }, { Simulator, writeSimConnection }, { createLogger }, { openRuntime, untilSignal }] = await Promise.all([
        import('../../gateway/index.ts'),
        import('../../scenarios/index.ts'),
        import('../../simulator/index.ts'),
        import('../logger.ts'),
        import('../runtime.ts'),
      ]);
      const log = createLogger();
      const started = performance.now();
      // A large scenario's start (its YAML, then every device) runs hot loops: hot functions are optimized
      // from the start (its young generation still waits for the load, as a small one's does).
      const scenarioFile = opts.config ?? opts.scenario;
      const large = (statSync(scenarioFile, { throwIfNoEntry: false })?.size ?? 0) > LARGE_SCENARIO_BYTES;
      if (large) setFlagsFromString('--turbofan');
      const scenario = loadScenarioFile(scenarioFile, opts.timeScale !== undefined ? { timeScale: opts.timeScale } : {});
      if (!large && scenario.devices.length > LARGE_SCENARIO_DEVICES) setFlagsFromString('--turbofan');
      // One simulator per data dir: its device state, event log and private NATS store are its own.
      const simDir = resolveDataDir(dataDir);
      await lockDataDir(simDir, 'simulator');
      // A daemon's data dir is not a simulator's: their logs and private NATS stores would mix.
      await refuseDataDirOf(simDir, 'daemon', 'simulator');
      // Checked before the run is recorded: a simulator that cannot serve leaves no run behind.
      if (opts.port !== 0) await checkPortFree('127.0.0.1', opts.port);
      const rt = await openRuntime({
        role: 'simulator',
        log,
        dataDir: simDir,
        ...(natsUrl ? { natsUrl } : {}),
        // The simulator's user: alone in its NATS account, since its subjects carry keygen passwords.
        auth: natsAuthFromEnv(),
        privateUser: 'simulator',
        details: { scenario: scenario.name, file: scenario.file },
      });
      const sim = await Simulator.start({
        scenario,
        store: rt.store,
        log: log.child({ component: 'simulator' }),
        nc: rt.bus.nc,
        subjects: rt.subjects,
        fresh: opts.fresh === true,
      });
      let gateway: GatewayHandle;
      try {
        gateway = await startGateway({
          nc: rt.bus.nc,
          subjects: rt.subjects,
          store: rt.store,
          log: log.child({ component: 'gateway' }),
          description: sim.describe(),
          // The simulator runs here: its devices are called directly, not over NATS. Once busy it ends
          // the idle settings of V8 (tuneSimulatorHeap): a simulator called a few times a second stays small.
          simulator: untilBusy(sim, serving),
          port: opts.port,
          protocol: opts.http ? 'http' : 'https',
          direct: opts.direct,
          ...(opts.tlsCert && opts.tlsKey ? { tls: { certFile: opts.tlsCert, keyFile: opts.tlsKey } } : { tlsDir: join(rt.dataDir, IDENTITY_DIR) }),
          ...(opts.newCert ? { newCert: true } : {}),
          ...(opts.hangLimit !== undefined ? { hangLimitMs: Math.round(opts.hangLimit * 1000) } : {}),
        });
      } catch (err) {
        await sim.stop();
        await rt.close();
        throw err;
      }
      const connectionFile = writeSimConnection(rt.dataDir, {
        version: 1,
        url: gateway.panoramaUrl,
        host: new URL(gateway.panoramaUrl).host,
        protocol: gateway.protocol,
        apiKey: scenario.apiKey,
        ...(gateway.fingerprint ? { fingerprint: gateway.fingerprint } : {}),
        ...(gateway.identity?.caFile ? { caFile: gateway.identity.caFile } : {}),
        direct: gateway.addresses.length > 1,
        scenario: resolve(scenario.file),
        scenarioName: scenario.name,
        natsUrl: rt.bus.url,
        ...(rt.bus.privateAuth ? { natsNkeyFile: rt.bus.privateAuth.files.simulator } : {}),
        subjectPrefix: rt.subjects.prefix,
        pid: process.pid,
        startedAt: new Date().toISOString(),
      });
      const ms = Math.round(performance.now() - started);
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
          startupMs: ms,
        },
        'simulator up',
      );
      process.stdout.write(banner(sim, scenario.file, scenario.apiKey, scenario.admins[0]?.username, gateway, rt, connectionFile));
      const signal = await untilSignal();
      log.info({ signal }, 'stopping simulator');
      await gateway.close();
      await sim.stop();
      await rt.close();
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
