import { timingSafeEqual, createHash } from 'node:crypto';
import type { SimReply } from '../machines/firewall.logic.ts';
import { isOpError, parseOpCommand, PANORAMA_ONLY_KINDS, unexpectedError, type OpCommand } from '../panos/commands.ts';
import type { ManagedDeviceView } from '../panos/model.ts';
import {
  authErrorXml,
  chassisReadyXml,
  clockXml,
  contentDownloadEnqueuedXml,
  contentInfoXml,
  contentInstallEnqueuedXml,
  devicesXml,
  diskSpaceXml,
  downloadEnqueuedXml,
  errorXml,
  haStateXml,
  installEnqueuedXml,
  jobNotFoundXml,
  jobsAllXml,
  jobXml,
  keygenXml,
  notConnectedXml,
  opErrorXml,
  panoramaSystemInfoXml,
  restartXml,
  sessionInfoXml,
  softwareInfoXml,
  softwareStatusXml,
  successXml,
  systemInfoXml,
} from '../panos/responses.ts';
import { nextRandom, seedFor } from '../machines/random.ts';
import { keygenKey } from './device-factory.ts';
import { KeygenLockout } from './keygen-lockout.ts';
import type { HostedFirewall } from './hosted-firewall.ts';
import type { Simulator } from './simulator.ts';
import { isReadinessCommand } from '../panos/commands-readiness.ts';
import {
  clockMoreOp,
  configRequest,
  firewallConfigRoot,
  firewallReadinessOp,
  panoramaConfigRoot,
  panoramaReadinessOp,
  readinessOf,
  recordAsShown,
  systemInfoShown,
  topologyOp,
} from './readiness-op.ts';

/** One XML API call as the gateway forwards it over NATS. Secrets travel only for keygen. */
export interface SimOpRequest {
  type?: 'op' | 'keygen' | 'config';
  cmd?: string;
  /** `type=config`: the action (get, show, set, …) and the xpath. */
  action?: string;
  xpath?: string;
  /** Through Panorama: the managed firewall to forward to. */
  target?: string;
  user?: string;
  password?: string;
}

/** An HTTP answer, a dropped connection, or no answer at all (a hung management plane). */
export type SimAnswer = { status: number; body: string; contentType?: string } | { drop: true } | { hang: true };

const XML = 'application/xml; charset=UTF-8';

function xml(body: string, status = 200): SimAnswer {
  return { status, body, contentType: XML };
}

/** A booting web server answers before the management plane does (panos-xml-api.md §11). */
const BOOTING_HTML =
  '<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The management server is starting.</p></body></html>';

const apiRandom = new WeakMap<Simulator, Map<string, number>>();

/** A draw from the per-device generator of transport faults (seeded, separate from the machine's). */
function drawApi(sim: Simulator, serial: string): number {
  let states = apiRandom.get(sim);
  if (!states) {
    states = new Map();
    apiRandom.set(sim, states);
  }
  const [r, next] = nextRandom(states.get(serial) ?? seedFor(sim.scenario.seed, `api:${serial}`));
  states.set(serial, next);
  return r;
}

/** Transport faults injected on a device: latency, hangs, 5xx and dropped connections. */
async function transportFault(sim: Simulator, device: HostedFirewall): Promise<SimAnswer | undefined> {
  const api = device.context.faults.api;
  if (!api) return undefined;
  if (api.latencyMs && api.latencyMs > 0 && (api.latencyRate === undefined || drawApi(sim, device.serial) < api.latencyRate)) {
    await new Promise((r) => setTimeout(r, api.latencyMs));
  }
  if (api.hangRate && drawApi(sim, device.serial) < api.hangRate) return { hang: true };
  if (api.dropRate && drawApi(sim, device.serial) < api.dropRate) return { drop: true };
  if (api.http5xxRate && drawApi(sim, device.serial) < api.http5xxRate) {
    return { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' };
  }
  return undefined;
}

function constantTimeEquals(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

const lockouts = new WeakMap<Simulator, KeygenLockout>();

/** The simulator's keygen lockout (per device and user), made on first use from the scenario. */
export function keygenLockout(sim: Simulator): KeygenLockout {
  let l = lockouts.get(sim);
  if (!l) {
    l = new KeygenLockout(sim.scenario.authentication);
    lockouts.set(sim, l);
  }
  return l;
}

function keygen(sim: Simulator, serial: string, req: SimOpRequest): SimAnswer {
  const user = typeof req.user === 'string' ? req.user : '';
  const password = typeof req.password === 'string' ? req.password : '';
  const lockout = keygenLockout(sim);
  // A locked-out user is refused as a wrong password would be, without comparing (PAN-OS says no more).
  if (lockout.locked(serial, user)) {
    lockout.refusedWhileLocked++;
    return xml(authErrorXml(), 403);
  }
  let match = false;
  for (const admin of sim.scenario.admins) {
    // Evaluate both comparisons for every admin, so the time taken does not tell which part was wrong.
    const u = constantTimeEquals(admin.username, user);
    const p = constantTimeEquals(admin.password, password);
    if (u && p) match = true;
  }
  lockout.record(serial, user, match);
  if (!match) return xml(authErrorXml(), 403);
  return xml(keygenXml(keygenKey(sim.scenario, user, password)));
}

/** Answer one call addressed to `serial`: the Panorama (optionally with a target) or a firewall directly. */
export async function handleOp(sim: Simulator, serial: string, req: SimOpRequest): Promise<SimAnswer> {
  if (serial === sim.panorama.serial) {
    if (req.type === 'keygen') return keygen(sim, serial, req);
    if (req.target !== undefined && req.target !== '') return throughPanorama(sim, req.target, req);
    if (req.type === 'config') return xml(configRequest(panoramaConfigRoot(sim), str(req.action), str(req.xpath)));
    return panoramaOp(sim, typeof req.cmd === 'string' ? req.cmd : '');
  }
  const device = sim.device(serial);
  if (!device) return { drop: true };
  const reach = device.reachability;
  if (reach === 'down') return { drop: true };
  // Without API faults (the usual case) there is nothing to wait for.
  const fault = device.context.faults.api ? await transportFault(sim, device) : undefined;
  if (fault) return fault;
  if (reach === 'starting') {
    const plan = device.context.reboot;
    const half = plan ? (plan.startingAt + plan.notReadyAt) / 2 : 0;
    return sim.clock.now() < half ? { status: 503, body: BOOTING_HTML, contentType: 'text/html' } : xml(authErrorXml(), 403);
  }
  if (req.type === 'keygen') return keygen(sim, serial, req);
  if (req.type === 'config') return xml(configRequest(firewallConfigRoot(sim, device), str(req.action), str(req.xpath)));
  return firewallOp(sim, device, typeof req.cmd === 'string' ? req.cmd : '');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Distinct `cmd` texts whose parse is kept; clients send the same few commands over and over. */
const PARSED_CAPACITY = 512;
const parsed = new Map<string, ReturnType<typeof parseOpCommand>>();

/**
 * `parseOpCommand`, remembered per `cmd` text (a parse validates and walks the XML: the largest cost of a
 * simple call). The result is frozen, as it is shared; the oldest text is forgotten past the capacity.
 */
function parseCommand(text: string): ReturnType<typeof parseOpCommand> {
  const hit = parsed.get(text);
  if (hit) return hit;
  const result = deepFreeze(parseOpCommand(text));
  if (parsed.size >= PARSED_CAPACITY) parsed.delete(parsed.keys().next().value!);
  parsed.set(text, result);
  return result;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

async function throughPanorama(sim: Simulator, target: string, req: SimOpRequest): Promise<SimAnswer> {
  const device = sim.device(target);
  if (!device || !connected(device)) return xml(notConnectedXml(target));
  const flaky = device.context.faults.api?.notConnectedRate;
  if (flaky && drawApi(sim, device.serial) < flaky) return xml(notConnectedXml(target));
  // Without API faults (the usual case) there is nothing to wait for.
  const fault = device.context.faults.api ? await transportFault(sim, device) : undefined;
  if (fault) return fault;
  if (req.type === 'keygen') return keygen(sim, target, req);
  if (req.type === 'config') return xml(configRequest(firewallConfigRoot(sim, device), str(req.action), str(req.xpath)));
  return firewallOp(sim, device, typeof req.cmd === 'string' ? req.cmd : '');
}

/** Whether Panorama sees the firewall connected: not while it reboots, nor while a fault says so. */
export function connected(device: HostedFirewall): boolean {
  const r = device.reachability;
  if (r === 'down' || r === 'starting') return false;
  return device.context.faults.api?.notConnected !== true;
}

function pathOf(cmd: OpCommand): string[] {
  return cmd.kind.split('.');
}

function panoramaOp(sim: Simulator, cmdText: string): SimAnswer {
  const cmd = parseCommand(cmdText);
  if (isOpError(cmd)) return xml(opErrorXml(cmd.error));
  const now = sim.clock.now();
  switch (cmd.kind) {
    case 'show.system.info':
      return xml(panoramaSystemInfoXml(sim.panorama, now));
    case 'show.devices.connected':
    case 'show.devices.all': {
      const views: ManagedDeviceView[] = [];
      for (const d of sim.allDevices()) {
        const isConnected = connected(d);
        if (cmd.kind === 'show.devices.connected' && !isConnected) continue;
        const view: ManagedDeviceView = { record: d.context.record, connected: isConnected };
        if (d.context.record.ha) view.haState = d.context.record.ha.state;
        views.push(view);
      }
      return xml(devicesXml(views, now));
    }
    case 'show.jobs.all':
      return xml(jobsAllXml([], now));
    case 'show.jobs.id':
      return xml(jobNotFoundXml(cmd.id));
    case 'show.high-availability.state':
      return xml(successXml('<enabled>no</enabled>'));
    case 'show.clock':
      return xml(clockXml(now));
    default: {
      const answer = isReadinessCommand(cmd) ? panoramaReadinessOp(sim, cmd) : undefined;
      return xml(answer ?? opErrorXml(unexpectedError(pathOf(cmd))));
    }
  }
}

const jobId = (r: SimReply): number => (r.kind === 'job' ? r.jobId : 0);

function answerReply(reply: SimReply, ok: (r: Extract<SimReply, { kind: 'job' }> | Extract<SimReply, { kind: 'text' }>) => string): SimAnswer {
  if (reply.kind === 'error') return xml(errorXml(reply.code, reply.lines));
  return xml(ok(reply));
}

function firewallOp(sim: Simulator, device: HostedFirewall, cmdText: string): SimAnswer {
  const cmd = parseCommand(cmdText);
  if (isOpError(cmd)) return xml(opErrorXml(cmd.error));
  if (PANORAMA_ONLY_KINDS.has(cmd.kind)) return xml(opErrorXml(unexpectedError(pathOf(cmd).slice(0, 2))));
  const now = sim.clock.now();
  const rec = device.context.record;
  switch (cmd.kind) {
    case 'show.system.info':
      return xml(systemInfoShown(sim, device, systemInfoXml(rec, now)));
    case 'show.high-availability.state': {
      const peer = rec.ha ? sim.device(rec.ha.config.peerSerial) : undefined;
      const peerUp = peer ? peer.reachability !== 'down' && peer.reachability !== 'starting' : false;
      return xml(haStateXml(recordAsShown(readinessOf(sim, device)), peer?.context.record, now, peerUp));
    }
    case 'request.high-availability.state.suspend':
      return answerReply(device.send({ type: 'ha.suspend', now }), (r) => successXml(r.kind === 'text' ? r.text : ''));
    case 'request.high-availability.state.functional':
      return answerReply(device.send({ type: 'ha.functional', now }), (r) => successXml(r.kind === 'text' ? r.text : ''));
    case 'show.session.info':
      return xml(sessionInfoXml(rec));
    case 'show.routing.route':
      return xml(topologyOp(sim, device, cmd.kind, cmd.virtualRouter));
    case 'show.routing.summary':
    case 'show.arp.entry':
      return xml(topologyOp(sim, device, cmd.kind));
    case 'show.system.disk-space':
      return xml(diskSpaceXml(recordAsShown(readinessOf(sim, device))));
    case 'show.system.software.status':
      return xml(softwareStatusXml());
    case 'request.system.software.check':
    case 'request.system.software.info':
      return xml(softwareInfoXml(rec, now));
    case 'request.system.software.download':
      return answerReply(device.send({ type: 'download.start', version: cmd.version, syncToPeer: cmd.syncToPeer, now }), (r) => downloadEnqueuedXml(jobId(r)));
    case 'request.system.software.install':
      return answerReply(device.send({ type: 'install.start', version: cmd.version, now }), (r) => installEnqueuedXml(jobId(r)));
    case 'show.jobs.id': {
      const job = rec.jobs.find((j) => j.id === cmd.id);
      return xml(job ? jobXml(job, now) : jobNotFoundXml(cmd.id));
    }
    case 'show.jobs.all':
      return xml(jobsAllXml(rec.jobs, now));
    case 'request.restart.system':
      return answerReply(device.send({ type: 'restart', now }), () => restartXml());
    case 'show.chassis-ready': {
      const r = device.reachability;
      return xml(chassisReadyXml(r === 'up' || r === 'autoCommit' || r === 'stopping'));
    }
    case 'request.content.upgrade.check':
    case 'request.content.upgrade.info':
      return xml(contentInfoXml(rec, now));
    case 'request.content.upgrade.download':
      return answerReply(device.send({ type: 'content.download', now }), (r) => contentDownloadEnqueuedXml(jobId(r)));
    case 'request.content.upgrade.install':
      return answerReply(device.send({ type: 'content.install', version: cmd.version, now }), (r) => contentInstallEnqueuedXml(jobId(r)));
    case 'show.clock':
      return xml(cmd.more ? clockMoreOp(sim, device) : clockXml(now));
    default:
      if (isReadinessCommand(cmd)) return xml(firewallReadinessOp(sim, device, cmd));
      return xml(opErrorXml(unexpectedError(pathOf(cmd))));
  }
}
