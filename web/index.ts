/**
 * The daemon's HTTP face (DESIGN.md "Growing it": live view, metrics): the fleet page bundled at build
 * time from web/client, its JSON and server-sent-events feed fed from `panos.evt.>`, operator actions,
 * and Prometheus `/metrics`.
 *
 * @example
 * ```ts
 * const web = await startWebServer({ store, nc, subjects, log, listen: '127.0.0.1:8470', dataDir });
 * console.log(`${web.url}/`);
 * ```
 */
export { startWebServer, ListenAddressError, parseListenAddress, type WebServerHandle, type WebServerOptions } from './server.ts';
export { FleetView, type DeviceRow, type JobRow, type FleetPatch, type FleetSnapshot } from './fleet-view.ts';
export { FleetMetrics, type MetricsOptions } from './metrics.ts';
export { loadOperatorToken, operatorTokenPath } from './operator-token.ts';
