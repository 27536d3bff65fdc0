import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

/**
 * A fresh directory under `os.tmpdir()`, removed with its contents in the test's teardown.
 * Teardowns run in reverse order, so anything opened in it afterwards (a store) is closed before it is removed.
 * Tests only: ava does not allow `t.teardown` in hooks.
 */
export function tempDir(t: ExecutionContext, prefix = 'panos-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
