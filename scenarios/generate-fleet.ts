// Usage: node --import tsx scenarios/generate-fleet.ts [devices=230] [--seed N] > scenarios/fleet-230.yaml
import { fleetScenarioYaml } from './fleet-generator.ts';

function fail(message: string): never {
  process.stderr.write(`generate-fleet: ${message}\nusage: node --import tsx scenarios/generate-fleet.ts [devices=230] [--seed N]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let devices = 230;
let seed: number | undefined;
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--seed') {
    seed = Number(args[++i]);
    if (!Number.isInteger(seed) || seed < 0) fail(`--seed needs a whole number ≥ 0, got ${args[i]}`);
  } else if (/^\d+$/.test(arg) && Number(arg) >= 1) {
    devices = Number(arg);
  } else {
    fail(`unexpected argument ${JSON.stringify(arg)}`);
  }
}
process.stdout.write(fleetScenarioYaml(seed === undefined ? { devices } : { devices, seed }));
