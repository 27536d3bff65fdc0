import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { exited, onLines, repoRoot, tempDir, waitFor } from '../helpers/index.ts';

/**
 * The README's rehearsal, copied from its text and run as a user would paste it: a clean home directory
 * (so `~/.panos-upgrade-sim` and the default data dir are new), no NATS_URL or PANOS_* in the
 * environment, `panos-upgrade` on PATH through `npm link`, from the repository's directory.
 * Two changes only, both because this is a test: `npm link` goes to a temporary prefix (not the machine's
 * global one) and runs no build script (bin/ falls back to the sources when dist/ is stale), and the
 * simulator gets `--port 0` (8443, its default, is the users'; tests take free ports).
 */
function section(readme: string, title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The command lines of the ```sh blocks of `text`, in order, without comments. */
function shellLines(text: string): string[] {
  const lines: string[] = [];
  for (const m of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of m[1]!.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (line !== '' && !line.startsWith('#')) lines.push(line);
    }
  }
  return lines;
}

const README = readFileSync(join(repoRoot, 'README.md'), 'utf8');

test('README: one way to put panos-upgrade on PATH, npm link, used by the quick start and the rehearsal; no npx', (t) => {
  t.deepEqual(shellLines(section(README, 'Quick start')).slice(0, 1), ['npm ci && npm link']);
  t.false(/\bnpx panos-upgrade\b/.test(README), 'npx is not a second way');
  const rehearsal = shellLines(section(README, 'Rehearsing against the simulator'));
  t.true(rehearsal.length > 5);
  t.true(rehearsal.every((l) => l.startsWith('panos-upgrade ')), rehearsal.join('\n'));
});

interface Shell {
  env: NodeJS.ProcessEnv;
  run(line: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  start(line: string, ready: RegExp): Promise<ChildProcess>;
}

function cleanShell(t: ExecutionContext): Shell {
  const home = tempDir(t);
  const prefix = join(home, 'npm-prefix');
  mkdirSync(prefix);
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    PATH: [join(prefix, 'bin'), process.env.PATH ?? ''].join(delimiter),
    npm_config_prefix: prefix,
    LANG: 'C.UTF-8',
  };
  const spawnLine = (line: string): ChildProcess => spawn('bash', ['-c', line], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const long: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of long.reverse()) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
        await exited(c);
        clearTimeout(timer);
      }
    }
  });
  return {
    env,
    run(line) {
      const child = spawnLine(line);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    async start(line, ready) {
      // exec: the signal at teardown reaches panos-upgrade itself, not only bash.
      const child = spawnLine(`exec ${line}`);
      long.push(child);
      const out: string[] = [];
      onLines(child.stdout!, (l) => out.push(l));
      onLines(child.stderr!, (l) => out.push(l));
      await waitFor(() => out.some((l) => ready.test(l)) || child.exitCode !== null, 90_000, 50);
      if (child.exitCode !== null) throw new Error(`${line} exited ${child.exitCode}:\n${out.join('\n')}`);
      return child;
    },
  };
}

test('README: the rehearsal runs copy-paste in a clean shell, every command exiting 0', async (t) => {
  const sh = cleanShell(t);
  const link = await sh.run('npm link --ignore-scripts');
  t.is(link.code, 0, link.stderr);
  const lines = shellLines(section(README, 'Rehearsing against the simulator'));
  const outputs = new Map<string, string>();
  for (const line of lines) {
    if (/^panos-upgrade sim\b/.test(line)) {
      await sh.start(`${line} --port 0`, /^Press Ctrl-C/);
    } else if (/^panos-upgrade daemon\b/.test(line)) {
      await sh.start(line, /^Daemon up:/);
    } else {
      const r = await sh.run(line);
      t.is(r.code, 0, `${line}\n${r.stdout}\n${r.stderr}`);
      outputs.set(line, r.stdout);
    }
  }
  // What the rehearsal shows at its main steps.
  t.regex(outputs.get('panos-upgrade device discover') ?? '', /^Discovered 5 devices$/m);
  t.regex(outputs.get('panos-upgrade download queue-all') ?? '', /^Queued 4 devices, skipped 1$/m);
  t.regex(outputs.get('panos-upgrade download status') ?? '', /^4 complete \(4 device\(s\)\)$/m);
  t.regex(outputs.get('panos-upgrade job submit --device 001234567890 --wait') ?? '', /\bcomplete\b/);
});
