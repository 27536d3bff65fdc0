import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '../../bus/connect.ts';
import { LmdbEventStore } from '../../eventstore/index.ts';
import { exited, onLines, startTestNats, waitFor } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';
import { runCli, startCli } from './run-cli.ts';

const nats = startTestNats(test);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start `panos-upgrade daemon` on a data dir and wait for its "Daemon up" line. */
async function upDaemon(t: Parameters<typeof startCli>[0], dir: string) {
  const child = startCli(t, ['daemon', '--data-dir', dir]);
  const output: string[] = [];
  onLines(child.stdout, (l) => output.push(l));
  await waitFor(() => output.some((l) => l.startsWith('Daemon up:')), 90_000, 50);
  const info = JSON.parse(readFileSync(join(dir, 'daemon.json'), 'utf8')) as { natsUrl: string; pid: number; runId: string; natsUsers: { operator: string; reader: string } };
  return { child, info };
}

function runStarts(dir: string): Array<{ pid: number; role: string }> {
  const store = LmdbEventStore.open({ path: join(dir, 'events'), runId: 'reader' });
  try {
    return [...store.streamNames('run:')]
      .flatMap((s) => store.readStream(s))
      .filter((e) => e.type === 'run.started')
      .map((e) => e.data as { pid: number; role: string });
  } finally {
    void store.close();
  }
}

// issue 11 point 5: two daemons started together on one data dir; the second resumed a job before it noticed the first.
test('daemon: when two are started together on one data dir then one runs and the other exits naming the dir and the holder, having written nothing', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', daemon: false });
  const dir = stack.dataDir;
  const a = startCli(t, ['daemon', '--data-dir', dir]);
  const b = startCli(t, ['daemon', '--data-dir', dir]);
  const outputs = new Map<number, string>();
  for (const c of [a, b]) {
    outputs.set(c.pid!, '');
    c.stdout.setEncoding('utf8').on('data', (s: string) => outputs.set(c.pid!, outputs.get(c.pid!) + s));
    c.stderr.setEncoding('utf8').on('data', (s: string) => outputs.set(c.pid!, outputs.get(c.pid!) + s));
  }
  const loser = await Promise.race([a, b].map((c) => exited(c).then((e) => ({ child: c, ...e }))));
  const winner = loser.child === a ? b : a;
  t.is(loser.code, 1);
  const said = outputs.get(loser.child.pid!)!;
  t.regex(said, new RegExp(`^error: another daemon \\(pid ${winner.pid}, running since [^)]+\\) is already running on this data dir \\(${dir.replaceAll('/', '\\/')}\\)`, 'm'));
  await waitFor(() => outputs.get(winner.pid!)!.includes('Daemon up:'), 90_000, 50);

  winner.kill('SIGTERM');
  t.deepEqual(await exited(winner), { code: 0, signal: null });
  const starts = runStarts(dir);
  t.deepEqual(
    starts.map((s) => s.pid),
    [winner.pid],
    'only the daemon holding the lock opened a run in the event log',
  );
});

// issue 11 point 6: the private nats-server outlived a SIGKILLed daemon, and each restart began an empty stream.
test('daemon: when SIGKILLed then its private nats-server ends too, and the next daemon serves the events of before on PANOS_EVT', async (t) => {
  const stack = await startStack(t, nats, { scenario: 'basic', daemon: false });
  const dir = stack.dataDir;
  const first = await upDaemon(t, dir);
  const discover = await runCli(t, ['device', 'discover', '--data-dir', dir]);
  t.is(discover.code, 0, discover.stderr);

  const pidFile = join(dir, 'nats', 'daemon', 'nats-server.pid');
  t.true(existsSync(join(dir, 'nats', 'daemon', 'jetstream')), 'the JetStream store is in the data dir');
  const serverPid = Number(readFileSync(pidFile, 'utf8').trim());
  t.true(alive(serverPid));
  const countBefore = await streamMessages(first.info.natsUrl, first.info.natsUsers.reader, t);
  t.true(countBefore >= 6, `events before the kill: ${countBefore}`);

  first.child.kill('SIGKILL');
  await exited(first.child);
  await waitFor(() => !alive(serverPid), 30_000, 20);

  const second = await upDaemon(t, dir);
  t.not(second.info.runId, first.info.runId);
  t.is(second.info.natsUrl, first.info.natsUrl, 'back on its last port, so clients reconnect by themselves');
  // A monitoring client that was away catches up, as the read-only user.
  const nc = await connectNats(second.info.natsUrl, 'catch-up reader', { nkeyFile: second.info.natsUsers.reader });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info('PANOS_EVT');
  t.true(info.state.messages > countBefore, `${info.state.messages} messages after the restart, ${countBefore} before`);
  const oldest = (await jsm.streams.getMessage('PANOS_EVT', { seq: info.state.first_seq }))?.json<{ type: string; runId: string }>();
  t.deepEqual({ type: oldest?.type, runId: oldest?.runId }, { type: 'run.started', runId: first.info.runId });

  second.child.kill('SIGTERM');
  t.deepEqual(await exited(second.child), { code: 0, signal: null });
  const secondServer = Number(readFileSync(pidFile, 'utf8').trim());
  await waitFor(() => !alive(secondServer), 30_000, 20);
});

async function streamMessages(url: string, nkeyFile: string, t: Parameters<typeof startCli>[0]): Promise<number> {
  const nc = await connectNats(url, 'count', { nkeyFile });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const n = (await jsm.streams.info('PANOS_EVT')).state.messages;
  await nc.close();
  return n;
}
