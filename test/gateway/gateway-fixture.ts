import { request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { Writable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { ExecutionContext } from 'ava';
import type { NatsConnection } from '@nats-io/transport-node';
import { requestJson, Subjects } from '../../bus/index.ts';
import { createLogger } from '../../cli/logger.ts';
import type { LmdbEventStore } from '../../eventstore/index.ts';
import { startGateway, type GatewayHandle, type StartGatewayOptions } from '../../gateway/index.ts';
import { parseScenario, type Scenario } from '../../scenarios/index.ts';
import { Simulator } from '../../simulator/index.ts';
import { openTestStore, uniquePrefix, type TestNats } from '../helpers/index.ts';

/** A simulator, its gateway and what they write, for one test. Everything is stopped in the test's teardown. */
export interface Lab {
  scenario: Scenario;
  sim: Simulator;
  gw: GatewayHandle;
  store: LmdbEventStore;
  nc: NatsConnection;
  subjects: Subjects;
  /** Every log line (JSON) the gateway and simulator wrote, at debug level. */
  logs: string[];
  /** `panos.sim.ctl.<serial>.<action>` */
  ctl(serial: string, action: string, payload?: object): Promise<Record<string, unknown>>;
}

export interface LabOptions extends Partial<Pick<StartGatewayOptions, 'protocol' | 'direct' | 'hangLimitMs' | 'requestTimeoutMs' | 'tls' | 'port'>> {
  timeScale?: number;
  /** How the gateway reaches the simulator: over NATS (default), or in-process as `panos-upgrade sim` does. */
  transport?: 'nats' | 'in-process';
  /** Anything else startGateway takes (short timeouts, connection limits). */
  gateway?: Partial<StartGatewayOptions>;
}

export async function startLab(t: ExecutionContext, nats: TestNats, yaml: string, options: LabOptions = {}): Promise<Lab> {
  const scenario = parseScenario(yaml, '<test>', { timeScale: options.timeScale ?? 0.1, env: {} });
  const store = openTestStore(t);
  const nc = await nats.connect(t, 'gateway-test');
  const subjects = new Subjects(uniquePrefix());
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  const log = createLogger({ level: 'debug', destination: sink });
  const sim = await Simulator.start({ scenario, store, log: log.child({ component: 'simulator' }), nc, subjects, fresh: true });
  t.teardown(() => sim.stop());
  const gw = await startGateway({
    nc,
    subjects,
    store,
    log: log.child({ component: 'gateway' }),
    port: options.port ?? 0,
    protocol: options.protocol ?? 'http',
    direct: options.direct ?? true,
    ...(options.hangLimitMs !== undefined ? { hangLimitMs: options.hangLimitMs } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.transport === 'in-process' ? { simulator: sim } : {}),
    ...options.gateway,
  });
  t.teardown(() => gw.close());
  return {
    scenario,
    sim,
    gw,
    store,
    nc,
    subjects,
    logs,
    ctl: (serial, action, payload = {}) => requestJson<Record<string, unknown>>(nc, subjects.simCtl(serial, action), payload),
  };
}

export type HttpOutcome =
  | { kind: 'response'; status: number; statusMessage: string; headers: IncomingHttpHeaders; body: string }
  | { kind: 'error'; code: string };

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: HttpAgent | HttpsAgent;
  /** TLS client options (pinning); by default certificates are not verified, as pan-python does. */
  tls?: ConnectionOptions;
  timeoutMs?: number;
  /** Source address of the connection (another loopback address is another client). */
  localAddress?: string;
}

/**
 * One HTTP(S) exchange with the path sent exactly as given (raw `+`, `<`, `>` included), which
 * `fetch` and `new URL` would re-encode. A reset or refused connection is an outcome, not an exception.
 */
export function http(origin: string, path: string, init: HttpInit = {}): Promise<HttpOutcome> {
  const url = new URL(origin);
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        path,
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        ...(init.agent ? { agent: init.agent } : { agent: false }),
        ...(init.localAddress ? { localAddress: init.localAddress } : {}),
        ...(secure ? { rejectUnauthorized: false, ...init.tls } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ kind: 'response', status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'error', code: err.code ?? err.message }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'error', code: err.code ?? err.message }));
    req.setTimeout(init.timeoutMs ?? 10_000, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    if (init.body !== undefined) req.end(init.body);
    else req.end();
  });
}

/** `a=1&b=2` with every value percent-encoded (what pan-python's urlencode does for all but the key). */
export function form(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

/** Expect an HTTP response (not a reset) and return it. */
export function answered(outcome: HttpOutcome): Extract<HttpOutcome, { kind: 'response' }> {
  if (outcome.kind !== 'response') throw new Error(`expected an HTTP response, got a connection error ${outcome.code}`);
  return outcome;
}
