import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: children run with it as cwd, so `--import tsx` resolves as it does for npm scripts. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Where `--profile <role>` puts the `.cpuprofile` files (a directory per role). */
export const profileDir = join(repoRoot, 'bench', 'results', 'profiles');

type ToChild = { id: number; cmd: string; payload: unknown };
type FromChild = { ready: unknown } | { fatal: string } | { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface ServiceOptions {
  /** A name for messages and for `--profile` (matched against it). */
  role: string;
  args?: readonly string[];
  /** How long the child may take to say it is ready. */
  startTimeoutMs?: number;
  /** Roles to run under `node --cpu-prof` (profile written to bench/results/profiles on a clean stop). */
  profile?: ReadonlySet<string>;
  env?: NodeJS.ProcessEnv;
}

/** A benchmark child process that answers commands over the IPC channel. */
export interface Service<Info = unknown> {
  readonly role: string;
  readonly pid: number;
  readonly info: Info;
  call<R = unknown>(cmd: string, payload?: unknown, timeoutMs?: number): Promise<R>;
  /** Ask the child to stop and wait for it to exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL it now (a benchmark over its time budget). */
  kill(): void;
}

/** Every service this process started and has not stopped yet, so a benchmark that fails or overruns leaves nothing behind. */
const live = new Set<Service>();

/** Ask every live service to stop (so profiles get written), and SIGKILL what is still there after `graceMs`. */
export async function stopAllServices(graceMs = 10_000): Promise<void> {
  const all = [...live];
  live.clear();
  await Promise.all(all.map((s) => s.stop(graceMs)));
}

/**
 * Start `file` (a bench/*.child.ts, relative to the repo root) as a child `node --import tsx` and wait
 * for its ready message. The child calls `serveParent` to answer commands.
 */
export function startService<Info = unknown>(file: string, options: ServiceOptions): Promise<Service<Info>> {
  const execArgv = ['--import', 'tsx', '--expose-gc'];
  if (options.profile?.has(options.role)) {
    // One directory per role: node writes one profile per thread (tsx's loader runs in a worker), named CPU.<date>.<pid>.<tid>.
    const dir = join(profileDir, options.role);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const child: ChildProcess = fork(join(repoRoot, file), [...(options.args ?? [])], {
    cwd: repoRoot,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...options.env },
    serialization: 'advanced',
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${options.role} exited (${signal ?? code}) before answering`));
      }
      pending.clear();
      resolve();
    }),
  );

  return new Promise<Service<Info>>((resolve, reject) => {
    const startTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.role} did not start within ${options.startTimeoutMs ?? 120_000} ms`));
    }, options.startTimeoutMs ?? 120_000);
    child.once('exit', (code, signal) => {
      clearTimeout(startTimer);
      reject(new Error(`${options.role} exited (${signal ?? code}) while starting`));
    });
    child.on('message', (raw) => {
      const m = raw as FromChild;
      if ('ready' in m) {
        clearTimeout(startTimer);
        // Processes the child started (its nats-server): a SIGKILLed child cannot stop them itself.
        const owned = (m.ready as { ownedPids?: Array<number | undefined> } | null)?.ownedPids ?? [];
        const killOwned = (): void => {
          for (const pid of owned) {
            if (!pid) continue;
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        };
        const service: Service<Info> = {
          role: options.role,
          pid: child.pid ?? 0,
          info: m.ready as Info,
          call<R>(cmd: string, payload?: unknown, timeoutMs = 300_000): Promise<R> {
            if (exited) return Promise.reject(new Error(`${options.role} has exited`));
            const id = nextId++;
            return new Promise<R>((res, rej) => {
              const timer = setTimeout(() => {
                pending.delete(id);
                rej(new Error(`${options.role}: ${cmd} took longer than ${timeoutMs} ms`));
              }, timeoutMs);
              pending.set(id, { resolve: res as (v: unknown) => void, reject: rej, timer });
              child.send({ id, cmd, payload } satisfies ToChild);
            });
          },
          async stop(graceMs = 15_000) {
            live.delete(service);
            if (exited) return;
            let forced = false;
            const force = (): void => {
              forced = true;
              child.kill('SIGKILL');
            };
            const kill = setTimeout(force, graceMs);
            try {
              child.send({ id: 0, cmd: 'stop', payload: null } satisfies ToChild);
            } catch {
              force();
            }
            await exitPromise;
            clearTimeout(kill);
            if (forced) killOwned();
          },
          kill() {
            live.delete(service);
            if (!exited) child.kill('SIGKILL');
            killOwned();
          },
        };
        live.add(service as Service);
        resolve(service);
      } else if ('fatal' in m) {
        clearTimeout(startTimer);
        child.kill('SIGKILL');
        reject(new Error(`${options.role}: ${m.fatal}`));
      } else {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`${options.role}: ${m.error}`));
      }
    });
  });
}

export type Handlers = Record<string, (payload: never) => unknown>;

/**
 * Child side: run `init`, report ready with its info, then answer the parent's commands until `stop`
 * (which runs `onStop` and exits cleanly, so a `--cpu-prof` profile is written).
 */
export async function serveParent<Info>(init: () => Promise<{ info: Info; handlers: Handlers; onStop?: () => Promise<void> }>): Promise<void> {
  if (!process.send) throw new Error('run this file through the benchmark runner (npm run bench), not directly');
  const send = (m: FromChild): void => {
    process.send?.(m);
  };
  let ready: Awaited<ReturnType<typeof init>>;
  try {
    ready = await init();
  } catch (err) {
    send({ fatal: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return;
  }
  // The parent going away (killed runner) must not leave this child, or its nats-server, running.
  process.on('disconnect', () => process.exit(1));
  process.on('message', (raw) => {
    const m = raw as ToChild;
    if (m.cmd === 'stop') {
      void (async () => {
        try {
          await ready.onStop?.();
        } finally {
          process.disconnect();
          process.exit(0);
        }
      })();
      return;
    }
    const handler = ready.handlers[m.cmd];
    if (!handler) {
      send({ id: m.id, ok: false, error: `unknown command ${m.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(m.payload as never))
      .then(
        (result) => send({ id: m.id, ok: true, result }),
        (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  send({ ready: ready.info });
}

/** Peak and current memory, and CPU time, of this process. */
export function processStats(): { maxRssMiB: number; rssMiB: number; heapUsedMiB: number; cpuUserS: number; cpuSystemS: number } {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    rssMiB: mem.rss / 2 ** 20,
    heapUsedMiB: mem.heapUsed / 2 ** 20,
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
  };
}

/** Peak resident memory (VmHWM) of another process, e.g. nats-server, in MiB; undefined when unreadable. */
export async function peakRssOfPid(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmHWM:\s*(\d+)\s*kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) another process has used so far, from /proc; undefined when unreadable. */
export async function cpuSecondsOfPid(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const { readFile } = await import('node:fs/promises');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at the last ')'; utime and stime are the 12th and 13th there.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // USER_HZ is 100 on Linux.
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}
