import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { exited, onLines, repoRoot, waitFor, type TestNats } from '../helpers/index.ts';
import type { Stack } from '../helpers/stack.ts';
import { LONG } from './orchestrator-fixture.ts';

/** A daemon child process and what it said on stderr (its last lines go into failure messages). */
export interface DaemonChild {
  child: ChildProcess;
  stderr: string[];
}

/**
 * `panos-upgrade daemon` as a child process on the stack's data dir, NATS server and subjects (given in the
 * environment, which every version of the command line honours); resolves once it says it is up, or has
 * already killed itself at a test crash point during start-up.
 */
export async function startDaemonChild(t: ExecutionContext, stack: Stack, nats: TestNats, env: Record<string, string> = {}): Promise<DaemonChild> {
  const child = spawn(process.execPath, ['bin/panos-upgrade.mjs', 'daemon'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PANOS_UPGRADE_HOME: stack.dataDir,
      NATS_URL: nats.url,
      PANOS_SUBJECT_PREFIX: stack.subjects.prefix,
      PANOS_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const stderr: string[] = [];
  onLines(child.stderr!, (line) => stderr.push(line));
  let up = false;
  onLines(child.stdout!, (line) => {
    if (line.startsWith('Daemon up:')) up = true;
  });
  try {
    await waitFor(() => {
      if (child.signalCode === 'SIGKILL') return true;
      if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}`);
      return up;
    }, LONG);
  } catch (err) {
    throw new Error(`the daemon did not come up: ${stderr.slice(-20).join('\n')}`, { cause: err });
  }
  return { child, stderr };
}

/** SIGKILL the daemon and wait until it is gone. */
export async function killDaemon(d: DaemonChild): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  const { signal } = await exited(d.child);
  if (signal !== 'SIGKILL') throw new Error(`daemon ended with ${String(signal)}, not SIGKILL: ${d.stderr.slice(-10).join('\n')}`);
}

/** Resolves once the daemon killed itself at its test crash point; rejects if it ends otherwise or not in time. */
export async function crashed(d: DaemonChild, timeoutMs = LONG): Promise<void> {
  const ended = await Promise.race([exited(d.child), new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref())]);
  if (!ended) throw new Error(`the daemon did not reach its crash point within ${timeoutMs} ms: ${d.stderr.slice(-10).join('\n')}`);
  if (ended.signal !== 'SIGKILL') throw new Error(`daemon ended with code ${String(ended.code)} / ${String(ended.signal)}, not at its crash point: ${d.stderr.slice(-10).join('\n')}`);
}

/** The environment that arms the test-only crash hook (actors/crash-hook.ts). */
export function crashAfter(type: string, nth = 1): Record<string, string> {
  return { PANOS_UPGRADE_TEST_HOOKS: '1', PANOS_UPGRADE_TEST_CRASH_AFTER: `${type}:${nth}` };
}
