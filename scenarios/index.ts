/**
 * Scenarios: the YAML files that describe a simulated Panorama and its firewalls, and their loader.
 *
 * @remarks
 * Every problem in a scenario is a `ScenarioError` naming the file, the 1-based line and the field
 * path (`devices[3].serial`). Durations come out in milliseconds, already multiplied by the time scale.
 * Devices with the same version lists share the same (frozen) image and content arrays.
 *
 * @example
 * ```ts
 * import { loadScenarioFile } from '../scenarios/index.ts';
 * const scenario = loadScenarioFile('scenarios/basic.yaml', { timeScale: 0.01 });
 * scenario.devices[0]?.images.map((i) => i.version); // ['10.0.2', '10.1.0', '10.5.1', '11.1.0']
 * ```
 */
export type {
  AdminUser,
  DeviceSpec,
  FailureOperation,
  FailureSpec,
  HaSpec,
  PanoramaSpec,
  Scenario,
  ScenarioTiming,
  TimingMode,
} from './types.ts';
export { formatPath, loadScenarioFile, parseScenario, scenarioFromObject, suggest } from './scenario-loader.ts';
export type { ScenarioLoadOptions } from './scenario-loader.ts';
export { timingsOfScenario } from './scenario-timings.ts';
export type { ExpectedTimings } from './scenario-timings.ts';
export {
  DEFAULT_ADMINS,
  DEFAULT_API_KEY,
  DEFAULT_CONTENT_VERSION,
  DEFAULT_DISK_FREE_GB,
  DEFAULT_FAILURE_ERRORS,
  DEFAULT_IMAGE_SIZE_MB,
  DEFAULT_MODEL,
  DEFAULT_PANORAMA,
  DEFAULT_SEED,
  FAILURE_MODES,
  FAILURE_OPERATIONS,
  TIMING_ENV,
  TIMING_MODES,
  TIMING_MODE_SECONDS,
  defaultMgmtIp,
  defaultReleasedOn,
  modelFamily,
} from './scenario-defaults.ts';
export type { TimingSeconds } from './scenario-defaults.ts';
export {
  FLEET_AVAILABLE_VERSIONS,
  FLEET_UPGRADE_PATHS,
  SEED_DEVICE,
  fleetScenarioYaml,
  generateFleetScenario,
} from './fleet-generator.ts';
export type { FleetDeviceEntry, FleetOptions, FleetScenarioDocument } from './fleet-generator.ts';
