#!/usr/bin/env node
// `npm run bench`: runs the TypeScript benchmark runner through tsx, as bin/panos-upgrade.mjs runs the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../bench/run.ts');
