import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { repoRoot } from '../helpers/index.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Added to a clean environment (no NATS_URL, NATS credentials, PANOS_SUBJECT_PREFIX or PANOS_UPGRADE_HOME of the caller's). */
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** The environment a user's shell would have to reach a test stack's daemon. */
export function stackEnv(natsUrl: string, stack: { subjects: { prefix: string } }): Record<string, string> {
  return { NATS_URL: natsUrl, PANOS_SUBJECT_PREFIX: stack.subjects.prefix };
}

/** Start `node bin/panos-upgrade.mjs ARGS` (a long-running one, e.g. `daemon`); killed at teardown if still running. */
export function startCli(t: ExecutionContext, args: readonly string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !['NATS_URL', 'PANOS_SUBJECT_PREFIX', 'PANOS_UPGRADE_HOME', 'FORCE_COLOR'].includes(k) && !/^NATS_(CREDS|NKEY|USER|PASSWORD|TOKEN|CA|CERT|KEY)$/.test(k)) clean[k] = v;
  }
  const child = spawn(process.execPath, [join(repoRoot, 'bin/panos-upgrade.mjs'), ...args], { cwd: repoRoot, env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Run `node bin/panos-upgrade.mjs ARGS` as a user would, and collect its output and exit code. */
export function runCli(t: ExecutionContext, args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const child = startCli(t, args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  t.teardown(() => clearTimeout(timer));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
