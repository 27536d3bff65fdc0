/**
 * Chaos rehearsals: a simulated fleet upgraded while the run disrupts it (daemons SIGKILLed and restarted,
 * the simulator and NATS restarted, live faults switched on and off; with `cluster`, a machine lost, a NATS
 * node stopped, a daemon frozen past its lease), then the invariants of forensics/ checked on the logs.
 *
 * @remarks
 * A forensic tool, not an orchestration actor: it starts a private NATS, the simulator and the gateway in
 * this process and the daemons as child processes (`node <cliBin> daemon`), drives them only through the
 * daemon's NATS API, and reads the logs back afterwards. The command line parses and prints; the run is here.
 *
 * @example
 * ```ts
 * import { runChaos } from '../chaos/index.ts';
 * const report = await runChaos({ scenario: 'scenarios/chaos.yaml', seed: 3, devices: 8, timeScale: 0.05, cliBin });
 * report.invariants.filter((i) => !i.ok); // []
 * ```
 */
export {
  chaosConfig,
  chaosRunPlan,
  chaosScenario,
  GATEWAY_REQUEST_TIMEOUT_MS,
  selectDevices,
  type ChaosOptions,
  type ChaosReport,
  type DisruptionDone,
} from './rehearsal.ts';
export { runChaos } from './run.ts';
export { runClusterChaos } from './cluster-run.ts';
export { awaitChaosCampaign, startChaosCampaign } from './campaign-run.ts';
