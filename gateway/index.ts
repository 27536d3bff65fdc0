/**
 * The gateway: the PAN-OS XML API (`/api/`) of every simulated device, and a JSON management API
 * (`/mgmt/…`), over HTTPS or HTTP. Stateless: each call goes over NATS (`panos.sim.<serial>.op`) to the
 * simulator that owns the device — or, when that simulator runs in the same process (`simulator` option,
 * as `panos-upgrade sim` runs them), straight to it with the same contract — and is recorded as
 * on the event log's `api` stream (`api.calls.served`, the calls of one group commit in one event).
 *
 * @remarks
 * Requests on the Panorama's address reach the Panorama (`target=<serial>` reaches a firewall through
 * it); with `direct`, each firewall also listens on its own management address (a distinct loopback
 * address) on the same port, and a client there sees exactly that firewall.
 *
 * @example
 * ```ts
 * const gw = await startGateway({ nc, subjects, store, log: log.child({ component: 'gateway' }), port: 8443, protocol: 'https', direct: true });
 * console.log(gw.panoramaUrl, gw.fingerprint); // https://127.0.0.1:8443  AB:CD:…
 * await gw.close();
 * ```
 */
export { createGatewayApp, simClientFor, DEFAULT_HANG_LIMIT_MS, DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, type GatewayAppOptions } from './gateway.app.ts';
export { startGateway, SimulatorNotRunningError, type GatewayHandle, type StartGatewayOptions } from './gateway.server.ts';
export {
  InProcessSimClient,
  NatsSimClient,
  SimulatorReplyError,
  SimulatorUnavailableError,
  XML_CONTENT_TYPE,
  type LocalSimulator,
  type SimClient,
  type SimDescription,
  type SimOpPayload,
  type SimReply,
} from './sim-client.ts';
export {
  API_CALL_SERVED,
  API_CALLS_REFUSED,
  API_CALLS_SERVED,
  API_STREAM,
  isServedCalls,
  oneEventPerCall,
  type ApiCallRecord,
  type ApiCallStore,
  type RefusedCallsRecord,
  type ServedCallsRecord,
} from './api-recorder.ts';
export type { ApiOutcome } from './api-errors.ts';
export { fingerprintOf, generateSelfSigned, loadTlsFiles, type TlsMaterial } from './tls-material.ts';
export { IDENTITY_DIR, loadTlsIdentity, writeCaFile, type TlsIdentity } from './tls-identity.ts';
