import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { ExecutionContext } from 'ava';

/** The repository root, so children resolve `tsx` and relative paths as `npm test` does. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Run a TypeScript file (`test/fixtures/*.ts`, relative to the repo root) in a child `node --import tsx`.
 * stdin, stdout and stderr are pipes; a child still alive at teardown gets SIGKILL.
 */
export function spawnTs(t: ExecutionContext, file: string, args: readonly string[] = []): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Call `onLine` for every newline-terminated line of `stream`; a torn last line (child killed mid-write) is dropped. */
export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
}

/** Resolve with the exit code (or signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
