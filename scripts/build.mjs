#!/usr/bin/env node
// `npm run build` (also run by `npm ci` through `prepare`, and by .ci/run): compile the sources once to dist/,
// so that the installed CLI starts without compiling TypeScript. Each step is one entry of STEPS; a step that
// reads files of another kind adds their extension to SOURCE_EXTENSIONS in bin/build-state.mjs (every top-level
// folder but tests, benchmarks and docs is watched), so an edit there marks dist/ stale.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, ROOT, STAMP, currentBuild, sourceState, writeStamp } from '../bin/build-state.mjs';

const STEPS = [
  {
    name: 'tsc → dist/',
    run() {
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`tsc exited with ${r.status ?? r.signal}`);
    },
  },
];

if (!process.argv.includes('--force') && currentBuild()) {
  process.stderr.write('build: dist/ is up to date with the sources (--force rebuilds it)\n');
  process.exit(0);
}
if (!existsSync(join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'))) {
  // An install without dev dependencies (npm ci --omit=dev) has no compiler: the CLI runs from the sources.
  process.stderr.write('build: typescript is not installed (dev dependencies omitted): skipped; the CLI runs from the sources through tsx\n');
  process.exit(0);
}
const started = performance.now();
// Taken before compiling: a source edited during the build leaves dist/ stale, not falsely current.
const sources = sourceState();
const stampFile = join(ROOT, DIST, STAMP);
// Without its stamp, a half-written dist/ is never used.
rmSync(stampFile, { force: true });
mkdirSync(join(ROOT, DIST), { recursive: true });
for (const step of STEPS) {
  const t0 = performance.now();
  try {
    step.run();
  } catch (err) {
    process.stderr.write(`build: ${step.name} failed: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`build: ${step.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
writeStamp(sources);
process.stderr.write(`build: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
