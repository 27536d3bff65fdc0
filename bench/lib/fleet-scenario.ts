import { generateFleetScenario, scenarioFromObject, type Scenario } from '../../scenarios/index.ts';

/** Every firewall of a benchmark fleet starts here; its static path has two hops (10.2.0, then 11.1.0), neither needing a base image. */
export const FLEET_FROM_VERSION = '10.1.6';

/** The generated fleet (HA pairs in the data centres, branches), every device on FLEET_FROM_VERSION with nothing staged. */
export function twoHopFleet(devices: number, timeScale: number, haPairs?: number): Scenario {
  const doc = generateFleetScenario({ devices, noPath: 0, name: `bench-fleet-${devices}`, ...(haPairs !== undefined ? { haPairs } : {}) });
  for (const d of doc.devices) {
    d.current_version = FLEET_FROM_VERSION;
    delete d.downloaded_versions;
  }
  return scenarioFromObject(doc, '<bench fleet>', { env: {}, timeScale });
}
