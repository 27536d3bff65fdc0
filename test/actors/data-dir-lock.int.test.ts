import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { lockAddress, lockDataDir, DataDirLockedError } from '../../actors/data-dir-lock.ts';
import { exited, onLines, spawnTs, tempDir, waitFor } from '../helpers/index.ts';

const FIXTURE = 'test/fixtures/hold-data-dir-lock.ts';

/** Start a process that takes the lock; resolves with its first line of output, or its exit. */
function holder(t: Parameters<typeof spawnTs>[0], dir: string, role = 'daemon', busy = false) {
  const child = spawnTs(t, FIXTURE, [dir, role, ...(busy ? ['busy'] : [])]);
  const lines: string[] = [];
  let stderr = '';
  onLines(child.stdout!, (l) => lines.push(l));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let ended = false;
  const exit = exited(child).then((e) => {
    ended = true;
    return e;
  });
  // The wait stops when the process exits, so a refused holder leaves no poll running (it would keep this
  // test's worker alive until the 30 s deadline).
  const outcome = waitFor(() => lines.find((l) => l.startsWith('locked ')) ?? (ended ? 'exited' : undefined), 30_000).then(async (line) =>
    line === 'exited' ? { locked: false as const, ...(await exit), stderr: () => stderr } : { locked: true as const, line },
  );
  return { child, outcome };
}

test('data dir lock: when a second process asks for a held lock then it is refused with the data dir and the holder pid; a SIGKILLed holder frees it', async (t) => {
  const dir = tempDir(t);
  const first = holder(t, dir);
  const a = await first.outcome;
  t.true(a.locked);

  const second = await holder(t, dir).outcome;
  t.false(second.locked);
  if (second.locked) return;
  t.is(second.code, 1);
  t.true(second.stderr().includes(`another daemon (pid ${first.child.pid}, running since `), second.stderr());
  t.true(second.stderr().includes(`is already running on this data dir (${dir})`), second.stderr());

  // Another role on the same dir (the simulator's own lock) is independent.
  t.true((await holder(t, dir, 'simulator').outcome).locked);

  first.child.kill('SIGKILL');
  await exited(first.child);
  const third = holder(t, dir);
  t.true((await third.outcome).locked);
});

test('data dir lock: when the same dir is reached through a symlink then it is the same lock', async (t) => {
  const base = tempDir(t);
  const real = join(base, 'real');
  mkdirSync(real);
  symlinkSync(real, join(base, 'link'));
  t.is(lockAddress(join(base, 'link'), 'daemon'), lockAddress(real, 'daemon'));
  const lock = await lockDataDir(real, 'daemon');
  t.teardown(() => lock.release());
  const err = await t.throwsAsync(lockDataDir(join(base, 'link'), 'daemon'), { instanceOf: DataDirLockedError });
  t.is(err?.holder?.pid, process.pid);
  await lock.release();
  const again = await lockDataDir(join(base, 'link'), 'daemon');
  await again.release();
});

test('data dir lock: when the holder is too busy to answer then the refusal still names its pid, from what it wrote beside the lock', async (t) => {
  const dir = tempDir(t);
  const first = holder(t, dir, 'daemon', true);
  t.true((await first.outcome).locked);
  const second = await holder(t, dir).outcome;
  t.false(second.locked);
  if (second.locked) return;
  t.true(second.stderr().includes(`another daemon (pid ${first.child.pid}, running since `), second.stderr());
});
