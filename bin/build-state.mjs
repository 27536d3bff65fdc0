// Whether dist/ is a build of the sources as they are now. Plain JavaScript, read by bin/panos-upgrade.mjs on
// every start, so it stays small and synchronous: one stat per source file (a few milliseconds).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * What the build reads: every top-level folder but these (tests, benchmarks, docs, outputs), so that a new
 * runtime folder is watched without a line here, and the files that steer the compiler. A build step that
 * reads other kinds of files adds their extension to SOURCE_EXTENSIONS.
 */
export const NOT_SOURCES = new Set(['node_modules', 'dist', 'test', 'bench', 'docs', 'bin', 'scripts', 'tmp']);
export const SOURCE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];
/** Build outputs inside a runtime folder (web/dist/, which `npm run build:web` writes after the tsc build): never sources. */
const OUTPUT_FOLDERS = new Set(['dist', 'node_modules']);
const SOURCE_EXTENSIONS = /\.(ts|mts|tsx|json|css|html)$/;

export const DIST = 'dist';
export const STAMP = 'build-stamp.json';

/** Every source file with its modification time and size, keyed by path relative to `root`. */
export function sourceState(root = ROOT) {
  const files = {};
  const add = (abs) => {
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st?.isFile()) files[relative(root, abs)] = `${st.mtimeMs}:${st.size}`;
  };
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (!OUTPUT_FOLDERS.has(e.name)) walk(abs);
      }
      else if (SOURCE_EXTENSIONS.test(e.name) && !e.name.endsWith('.d.ts')) add(abs);
    }
  };
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (e.isDirectory() && !e.name.startsWith('.') && !NOT_SOURCES.has(e.name)) walk(join(root, e.name));
  }
  for (const f of SOURCE_FILES) add(join(root, f));
  return files;
}

/**
 * The compiled CLI entry when dist/ was built from exactly these sources (same files, same times and
 * sizes), else undefined: a source edited, added or removed since the build sends the caller to the sources.
 */
export function currentBuild(root = ROOT) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, DIST, STAMP), 'utf8'));
  } catch {
    return undefined;
  }
  const now = sourceState(root);
  const built = stamp?.sources ?? {};
  const names = Object.keys(now);
  if (names.length !== Object.keys(built).length) return undefined;
  for (const n of names) if (built[n] !== now[n]) return undefined;
  return join(root, DIST, 'cli', 'main.js');
}

/** Record that dist/ is a build of `sources` (taken with sourceState before the build started). */
export function writeStamp(sources, root = ROOT) {
  writeFileSync(join(root, DIST, STAMP), JSON.stringify({ builtAt: new Date().toISOString(), sources }, null, 1) + '\n');
}
