import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { exited, onLines, tempDir, waitFor } from '../helpers/index.ts';
import { runCli, startCli } from './run-cli.ts';

// Issue 12 point 1: every `sim` start made a new self-signed certificate, so a daemon pinned to the printed
// fingerprint failed after any simulator restart (`--fresh` included) with "unreachable: tls".

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Connection {
  url: string;
  host: string;
  apiKey: string;
  fingerprint: string;
  caFile: string;
  scenario: string;
  pid: number;
}

async function startSim(t: ExecutionContext, simDir: string, port: number, extra: string[] = []) {
  const child = startCli(t, ['sim', '--scenario', 'scenarios/basic.yaml', '--port', String(port), '--data-dir', simDir, '--time-scale', '0.05', ...extra]);
  const out: string[] = [];
  onLines(child.stdout, (l) => out.push(l));
  await waitFor(() => out.some((l) => l.startsWith('Press Ctrl-C')), 60_000, 50);
  const connection = JSON.parse(readFileSync(join(simDir, 'connection.json'), 'utf8')) as Connection;
  return {
    connection,
    banner: out.join('\n'),
    async stop() {
      child.kill('SIGTERM');
      t.deepEqual(await exited(child), { code: 0, signal: null });
    },
  };
}

const mode = (file: string): number => statSync(file).mode & 0o777;

test('sim: its certificate is kept in its data dir across restarts (--fresh too), a daemon configured by config from-sim keeps working, and --new-cert is named as a pin mismatch', async (t) => {
  const simDir = join(tempDir(t), 'sim');
  const dataDir = join(tempDir(t), 'daemon');
  const port = await freePort();

  const first = await startSim(t, simDir, port);
  const conn = first.connection;
  t.is(conn.url, `https://127.0.0.1:${port}`);
  t.is(conn.host, `127.0.0.1:${port}`);
  t.regex(conn.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  t.true(first.banner.includes(conn.fingerprint));
  t.true(first.banner.includes(`panos-upgrade config from-sim ${simDir}`), first.banner);
  t.is(conn.caFile, join(simDir, 'tls', 'ca.pem'));
  t.is(conn.pid, first.connection.pid);
  t.is(mode(join(simDir, 'connection.json')), 0o600, 'the connection file holds the API key');
  t.is(mode(join(simDir, 'tls')), 0o700);
  for (const f of ['ca.pem', 'ca-key.pem', 'certificates.json']) t.is(mode(join(simDir, 'tls', f)), 0o600, f);

  const configured = await runCli(t, ['config', 'from-sim', simDir, '--data-dir', dataDir]);
  t.is(configured.code, 0, configured.stderr);
  t.regex(configured.stdout, new RegExp(`^ {2}tls\\.fingerprint = ${conn.fingerprint}$`, 'm'));
  t.regex(configured.stdout, /^ {2}panorama\.api_key = \*\*\*\*/m);
  t.false(configured.stdout.includes(conn.apiKey), 'the key is shown masked');
  const config = JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8')) as {
    panorama: { host: string; apiKey: string };
    tls: { fingerprint: string };
    firewall: { tls: { caFile: string } };
    upgrade: { pathsFile: string };
  };
  t.is(config.panorama.host, conn.host);
  t.is(config.panorama.apiKey, conn.apiKey);
  t.is(config.tls.fingerprint, conn.fingerprint);
  t.is(config.upgrade.pathsFile, conn.scenario);
  t.is(config.firewall.tls.caFile, conn.caFile);

  const daemon = startCli(t, ['daemon', '--data-dir', dataDir]);
  const daemonOut: string[] = [];
  const daemonLog: string[] = [];
  onLines(daemon.stdout, (l) => daemonOut.push(l));
  onLines(daemon.stderr, (l) => daemonLog.push(l));
  await waitFor(() => daemonOut.some((l) => l.startsWith('Daemon up:')), 60_000, 50);
  const discover = async () => runCli(t, ['device', 'discover', '--data-dir', dataDir]);
  const before = await discover();
  t.is(before.code, 0, before.stderr);
  t.regex(before.stdout, /^Discovered 5 devices$/m);
  // Issue 13 point 4: what the daemon and the simulator write is theirs alone.
  for (const dir of [dataDir, simDir, join(dataDir, 'events'), join(simDir, 'events')]) t.is(mode(dir), 0o700, dir);
  for (const f of [join(dataDir, 'inventory.json'), join(dataDir, 'config.json'), join(dataDir, 'events', 'data.mdb'), join(simDir, 'events', 'data.mdb')]) t.is(mode(f), 0o600, f);

  await first.stop();
  const fresh = await startSim(t, simDir, port, ['--fresh']);
  t.is(fresh.connection.fingerprint, conn.fingerprint, 'the same certificate after a restart with --fresh');
  const after = await discover();
  t.is(after.code, 0, after.stderr);
  t.regex(after.stdout, /^Discovered 5 devices$/m);

  await fresh.stop();
  const renewed = await startSim(t, simDir, port, ['--new-cert']);
  const next = renewed.connection.fingerprint;
  t.not(next, conn.fingerprint);
  const refused = await discover();
  t.is(refused.code, 1);
  const expected = `expected SHA-256 ${conn.fingerprint}, received ${next}`;
  t.true(refused.stderr.includes(expected), refused.stderr);
  // The hint repeats the --data-dir given on the command line (issue 12).
  t.true(refused.stderr.includes(`panos-upgrade --data-dir ${dataDir} config set tls.fingerprint ${next}`), refused.stderr);
  await waitFor(() => daemonLog.some((l) => l.includes(expected)), 10_000, 50);
  t.false(daemonLog.some((l) => l.includes(conn.apiKey)), 'no key in the daemon log');
  await renewed.stop();
  daemon.kill('SIGTERM');
  await exited(daemon);
});
