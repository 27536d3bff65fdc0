#!/usr/bin/env node
// Runs the build in dist/ when it was made from the sources as they are now (npm ci builds it through
// `prepare`; `npm run build` rebuilds it), else the TypeScript sources through tsx: a developer who edits a
// file never runs a stale build. PANOS_UPGRADE_FROM_SOURCE=1 forces the sources.
import { currentBuild } from './build-state.mjs';

const built = process.env.PANOS_UPGRADE_FROM_SOURCE === '1' ? undefined : currentBuild();
if (built) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
