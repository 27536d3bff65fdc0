import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { currentBuild, DIST, ROOT, sourceState, writeStamp } from '../../bin/build-state.mjs';
import { tempDir } from '../helpers/index.ts';

/** A package with one source file per runtime folder that has one, and a build of it. */
function builtTree(root: string): void {
  writeFileSync(join(root, 'package.json'), '{}');
  mkdirSync(join(root, 'cli'));
  writeFileSync(join(root, 'cli', 'main.ts'), 'export {};\n');
  mkdirSync(join(root, 'actors'));
  writeFileSync(join(root, 'actors', 'config.ts'), 'export {};\n');
  mkdirSync(join(root, DIST, 'cli'), { recursive: true });
  writeStamp(sourceState(root), root);
}

test('build state: when dist/ was built from the sources as they are then the compiled entry is used', (t) => {
  const root = tempDir(t);
  t.is(currentBuild(root), undefined, 'no build yet: the sources');
  builtTree(root);
  t.is(currentBuild(root), join(root, DIST, 'cli', 'main.js'));
});

test('build state: when a source is edited, added or removed after the build then dist/ is stale and the sources run', (t) => {
  const edited = tempDir(t);
  builtTree(edited);
  const later = new Date(Date.now() + 5_000);
  utimesSync(join(edited, 'actors', 'config.ts'), later, later);
  t.is(currentBuild(edited), undefined, 'edited');

  const added = tempDir(t);
  builtTree(added);
  writeFileSync(join(added, 'actors', 'new.ts'), 'export {};\n');
  t.is(currentBuild(added), undefined, 'added');

  const removed = tempDir(t);
  builtTree(removed);
  rmSync(join(removed, 'actors', 'config.ts'));
  t.is(currentBuild(removed), undefined, 'removed: dist/ still has its compiled copy, which must not be run');

  const resized = tempDir(t);
  builtTree(resized);
  const st = sourceState(resized);
  writeFileSync(join(resized, 'cli', 'main.ts'), 'export const changed = 1;\n');
  const [mtime] = st['cli/main.ts']!.split(':');
  utimesSync(join(resized, 'cli', 'main.ts'), new Date(Number(mtime)), new Date(Number(mtime)));
  t.is(currentBuild(resized), undefined, 'same time, other size');
});

test('build state: the sources it watches are the runtime folders of this package, not its tests', (t) => {
  const files = Object.keys(sourceState(ROOT));
  t.true(files.includes(join('cli', 'main.ts')));
  t.true(files.includes(join('actors', 'config.ts')));
  t.true(files.includes('package.json'));
  t.false(files.some((f) => f.startsWith('test') || f.startsWith('dist') || f.startsWith('node_modules')));
});

test('build state: an output folder inside a runtime folder (the web client bundle that npm ci builds after dist/) does not make dist/ stale', (t) => {
  const root = tempDir(t);
  builtTree(root);
  // `prepare` runs the tsc build, then `build:web`, which writes web/dist/ (app.css, index.html).
  mkdirSync(join(root, 'web', 'dist'), { recursive: true });
  writeFileSync(join(root, 'web', 'dist', 'app.css'), 'body {}\n');
  writeFileSync(join(root, 'web', 'dist', 'index.html'), '<!doctype html>\n');
  t.is(currentBuild(root), join(root, DIST, 'cli', 'main.js'));
  t.false(Object.keys(sourceState(root)).some((f) => f.includes('dist')));
});
