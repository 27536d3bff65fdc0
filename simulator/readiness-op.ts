/**
 * Answers the read-only commands of readiness tooling for one simulated firewall (and Panorama's device
 * groups and templates), and `type=config` reads; config writes are refused. The state behind the
 * answers is derived per request (readiness-state.ts).
 */
import type { ReadinessCommand } from '../panos/commands-readiness.ts';
import { unexpectedError } from '../panos/commands.ts';
import type { FirewallRecord } from '../panos/model.ts';
import type { DeviceSpec } from '../scenarios/types.ts';
import { errorXml, opErrorXml, successXml } from '../panos/responses.ts';
import {
  advancedRoutesXml,
  arpTableXml,
  bgpPeersXml,
  clockMoreXml,
  environmentalsXml,
  fibXml,
  interfaceAllXml,
  interfaceConfigStateXml,
  interfaceDetailXml,
  interfaceHardwareXml,
  licenseInfoXml,
  locksXml,
  mpExportsXml,
  ntpXml,
  panoramaStatusXml,
  redistributionAgentsXml,
  redistributionClientsXml,
  resourceMonitorXml,
  routeSummaryXml,
  routeTableXml,
  sessionCountXml,
  sessionsXml,
  stateNoMatchXml,
  supportCheckXml,
  systemResourcesXml,
  tunnelFlowXml,
  userIdServiceXml,
  yesNoResultXml,
  jumboFrameXml,
} from '../panos/responses-readiness.ts';
import { el, elXml, yesNo } from '../panos/xml.ts';
import { formatUptime } from '../panos/model.ts';
import { DeviceReadiness, SESSION_LIST_LIMIT } from './readiness-state.ts';
import { firewallConfig, panoramaConfig, parseXpath, renderConfigNode, selectXpath, type ConfigNode, type PanoramaMember } from './readiness-config.ts';
import type { HostedFirewall } from './hosted-firewall.ts';
import type { Simulator } from './simulator.ts';

const specsBySim = new WeakMap<Simulator, Map<string, DeviceSpec>>();

function specOf(sim: Simulator, serial: string): DeviceSpec | undefined {
  let m = specsBySim.get(sim);
  if (!m) {
    m = new Map(sim.scenario.devices.map((d) => [d.serial, d]));
    specsBySim.set(sim, m);
  }
  return m.get(serial);
}

/** Whether Panorama sees the firewall connected (mirrors op-handler's `connected`, without importing it). */
function panoramaSees(device: HostedFirewall): boolean {
  const r = device.reachability;
  if (r === 'down' || r === 'starting') return false;
  return device.context.faults.api?.notConnected !== true;
}

/** The readiness state of a firewall now. */
export function readinessOf(sim: Simulator, device: HostedFirewall): DeviceReadiness {
  return new DeviceReadiness({
    record: device.context.record,
    spec: specOf(sim, device.serial)?.readiness,
    faults: device.context.faults.readiness,
    now: sim.clock.now(),
    panoramaConnected: panoramaSees(device),
    panoramaIp: sim.panorama.mgmtIp,
  });
}

/** The record as readiness faults change what it shows (low disk, HA sync). */
export function recordAsShown(r: DeviceReadiness): FirewallRecord {
  const rec = r.rec;
  let shown = rec;
  const free = Math.max(0, rec.disk.panrepoTotalMb - rec.disk.panrepoUsedMb);
  const cappedFree = r.panrepoFreeMb(free);
  if (cappedFree !== free) shown = { ...shown, disk: { ...rec.disk, panrepoUsedMb: rec.disk.panrepoTotalMb - cappedFree } };
  if (r.faults.haNotSynced && rec.ha) shown = { ...shown, ha: { ...rec.ha, runningSync: 'not synchronized' } };
  return shown;
}

function sessions(r: DeviceReadiness, cmd: Extract<ReadinessCommand, { kind: 'show.session.all' }>): string {
  const { active } = r.sessionCounts;
  const f = cmd.filter;
  const matches = (i: number) => {
    if (!f) return true;
    const s = r.session(i);
    if (f.source !== undefined && s.source !== f.source) return false;
    if (f.destination !== undefined && s.destination !== f.destination) return false;
    if (f.sourcePort !== undefined && s.sport !== f.sourcePort) return false;
    if (f.destinationPort !== undefined && s.dport !== f.destinationPort) return false;
    if (f.protocol !== undefined && s.protocol !== f.protocol) return false;
    if (f.application !== undefined && s.application !== f.application) return false;
    if (f.from !== undefined && s.from !== f.from) return false;
    if (f.to !== undefined && s.to !== f.to) return false;
    if (f.state !== undefined && f.state.toUpperCase() !== 'ACTIVE') return false;
    return true;
  };
  const scan = Math.min(active, 2_000_000);
  if (f?.count) {
    if (!f.source && !f.destination && !f.sourcePort && !f.destinationPort && !f.protocol && !f.application && !f.from && !f.to && !f.state) return sessionCountXml(active);
    let n = 0;
    for (let i = 0; i < scan; i++) if (matches(i)) n++;
    return sessionCountXml(n);
  }
  const listed = [];
  for (let i = 0; i < scan && listed.length < SESSION_LIST_LIMIT; i++) if (matches(i)) listed.push(r.session(i));
  return sessionsXml(listed);
}

function resourceMonitor(r: DeviceReadiness, period: string, last: number | undefined): string {
  const n = Math.max(1, Math.min(last ?? 60, period === 'minute' ? 60 : period === 'hour' ? 24 : 60));
  const dps = Array.from({ length: r.dataPlanes }, (_, dp) => Array.from({ length: r.dpCores }, (_, core) => Array.from({ length: n }, (_, m) => r.dpCpu(dp * 100 + core, m))));
  return resourceMonitorXml(period, dps);
}

function systemState(r: DeviceReadiness, filter: string | undefined): string {
  const f = filter ?? '';
  if (/^sys\.monitor\.(\*|s\d+)\.mp\.exports$/.test(f)) return mpExportsXml(r.isVm ? 0 : 1, r.mpCpu);
  if (f === 'sw.dev.interface.config') return interfaceConfigStateXml(r.interfaces);
  // [unconfirmed] anything else (or no filter) matches nothing the simulator keeps.
  return stateNoMatchXml(f || '*');
}

/** Answer a readiness command for a firewall; undefined for the Panorama-only ones. */
export function firewallReadinessOp(sim: Simulator, device: HostedFirewall, cmd: ReadinessCommand): string {
  const r = readinessOf(sim, device);
  const rec = r.rec;
  switch (cmd.kind) {
    case 'show.panorama-status':
      return panoramaStatusXml(r.panoramaConfigured ? r.panoramaIp : undefined, r.panoramaConnected);
    case 'show.ntp':
      return ntpXml(r.ntpServers, r.ntpSynced);
    case 'check.full-commit-required':
      return yesNoResultXml(r.fullCommitRequired);
    case 'check.pending-changes':
      return yesNoResultXml(r.pendingChanges);
    case 'request.license.info':
      return licenseInfoXml(r.licenses, rec.serial);
    case 'request.support.check': {
      const s = r.support;
      return supportCheckXml(s.level, s.expires, s.expired);
    }
    case 'show.session.all':
      return sessions(r, cmd);
    case 'show.running.tunnel.flow.all':
      return tunnelFlowXml(r.tunnels);
    case 'show.config.running':
    case 'show.config.candidate':
      return successXml(renderConfigNode(firewallConfig(rec, r, sim.panorama.mgmtIp)));
    case 'show.system.setting.jumbo-frame':
      return jumboFrameXml(r.spec.jumboFrame === true);
    case 'show.system.environmentals':
      return environmentalsXml(r.environmentals);
    case 'show.running.resource-monitor':
      return resourceMonitor(r, cmd.period, cmd.last);
    case 'show.system.state':
      return systemState(r, cmd.filter);
    case 'show.system.resources':
      return systemResourcesXml(r.now, Math.floor((r.now - rec.bootedAt) / 1000), r.mpMemory, r.mpCpu);
    case 'show.config-locks':
      return locksXml('config-locks', r.configLocks);
    case 'show.commit-locks':
      return locksXml('commit-locks', r.commitLocks);
    case 'show.redistribution.service.client.all':
      return redistributionClientsXml(Array.from({ length: r.redistributionClients }, (_, i) => ({ host: `10.${16 + i}.0.10`, port: 34518 + i })));
    case 'show.redistribution.service.agent.all':
      return redistributionAgentsXml();
    case 'show.user.user-id-service.status':
      return userIdServiceXml(r.userIdService, r.redistributionClients);
    case 'show.interface': {
      if (cmd.name === 'hardware') return interfaceHardwareXml(r.interfaces);
      if (cmd.name === 'all') return interfaceAllXml(r.interfaces);
      return interfaceDetailXml(r.interfaces.find((i) => i.name === cmd.name), cmd.name);
    }
    case 'show.routing.protocol.bgp.peer': {
      const peers = r.bgpPeers.filter((p) => (cmd.peer === undefined || p.name === cmd.peer) && (cmd.virtualRouter === undefined || p.virtualRouter === cmd.virtualRouter));
      return bgpPeersXml(peers);
    }
    case 'show.routing.fib': {
      const vrs = cmd.virtualRouter !== undefined ? r.virtualRouters.filter((v) => v === cmd.virtualRouter) : r.virtualRouters;
      return fibXml(r.routes, vrs);
    }
    case 'show.advanced-routing.route':
    case 'show.advanced-routing.fib':
      // [unconfirmed] a device on the legacy routing engine refuses the advanced-routing commands.
      if (r.spec.advancedRouting !== true) return opErrorXml(unexpectedError(['show', 'advanced-routing']));
      if (cmd.kind === 'show.advanced-routing.fib') return fibXml(r.routes, r.virtualRouters);
      return advancedRoutesXml(r.routes, formatUptime(Math.floor((r.now - rec.bootedAt) / 1000)));
    case 'show.devicegroups':
    case 'show.templates':
      return opErrorXml(unexpectedError(['show', cmd.kind.split('.')[1]!]));
  }
}

/** `show routing route|summary` and `show arp` over the readiness topology (consistent with the FIB and BGP). */
export function topologyOp(sim: Simulator, device: HostedFirewall, kind: 'show.routing.route' | 'show.routing.summary' | 'show.arp.entry', virtualRouter?: string): string {
  const r = readinessOf(sim, device);
  if (kind === 'show.arp.entry') return arpTableXml(r.arp);
  if (kind === 'show.routing.summary') return routeSummaryXml(r.routes, r.virtualRouters);
  const routes = virtualRouter !== undefined ? r.routes.filter((x) => x.virtualRouter === virtualRouter) : r.routes;
  return routeTableXml(routes);
}

/** `show system info` says `advanced-routing on` for a device the scenario puts on the advanced routing engine. */
export function systemInfoShown(sim: Simulator, device: HostedFirewall, body: string): string {
  if (specOf(sim, device.serial)?.readiness?.advancedRouting !== true) return body;
  return body.replace('<advanced-routing>off</advanced-routing>', '<advanced-routing>on</advanced-routing>');
}

/** `show clock more`: the data-plane clock (the management clock is `show clock`). */
export function clockMoreOp(sim: Simulator, device: HostedFirewall): string {
  const r = readinessOf(sim, device);
  return clockMoreXml(Array.from({ length: r.dataPlanes }, (_, i) => (i === r.dataPlanes - 1 ? r.dpClock : r.now)));
}

// ---- Panorama ----

function panoramaMembers(sim: Simulator): PanoramaMember[] {
  const out: PanoramaMember[] = [];
  for (const d of sim.allDevices()) {
    const r = readinessOf(sim, d);
    out.push({ serial: d.serial, deviceGroup: r.deviceGroup, templateStack: r.templateStack });
  }
  return out;
}

/** `show devicegroups` / `show templates` on Panorama. */
export function panoramaReadinessOp(sim: Simulator, cmd: ReadinessCommand): string | undefined {
  if (cmd.kind !== 'show.devicegroups' && cmd.kind !== 'show.templates') return undefined;
  const members = panoramaMembers(sim);
  const deviceEntry = (serial: string) => {
    const d = sim.device(serial)!;
    const rec = d.context.record;
    const on = panoramaSees(d);
    return elXml(
      'entry',
      el('serial', serial) +
        el('connected', yesNo(on)) +
        el('unsupported-version', 'no') +
        el('wildfire-rt', 'no') +
        el('deactivated', 'no') +
        el('hostname', rec.hostname) +
        el('ip-address', rec.mgmtIp) +
        el('sw-version', rec.swVersion) +
        el('app-version', rec.content.installed) +
        el('model', rec.model) +
        el('family', rec.family) +
        // [unconfirmed] sync status names; pan-os-python accepts `In Sync` / `Out of Sync` / empty.
        el('shared-policy-status', on ? 'In Sync' : '') +
        el('template-status', on ? 'In Sync' : '') +
        elXml('vsys', elXml('entry', el('display-name', 'vsys1') + el('shared-policy-status', on ? 'In Sync' : ''), { name: 'vsys1' })),
      { name: serial },
    );
  };
  if (cmd.kind === 'show.devicegroups') {
    const groups = [...new Set(members.map((m) => m.deviceGroup))].sort().filter((g) => cmd.name === undefined || g === cmd.name);
    const body = groups
      .map((g) => elXml('entry', elXml('devices', members.filter((m) => m.deviceGroup === g).map((m) => deviceEntry(m.serial)).join('')), { name: g }))
      .join('');
    return successXml(elXml('devicegroups', body));
  }
  const stacks = [...new Set(members.map((m) => m.templateStack))].sort().filter((s) => cmd.name === undefined || s === cmd.name);
  // [unconfirmed] `show templates` lists template stacks with their devices, like `show devicegroups`.
  const body = stacks
    .map((s) => elXml('entry', el('template-stack', 'yes') + elXml('devices', members.filter((m) => m.templateStack === s).map((m) => deviceEntry(m.serial)).join('')), { name: s }))
    .join('');
  return successXml(elXml('templates', body));
}

// ---- type=config ----

const READ_ACTIONS = new Set(['get', 'show']);
const WRITE_ACTIONS = new Set(['set', 'edit', 'delete', 'rename', 'clone', 'move', 'override', 'multi-move', 'multi-clone', 'complete']);

/**
 * `type=config` for a device: `get` (candidate) and `show` (running) read the xpath; writes are refused.
 * Shapes: `get` answers `code="19"` with `total-count`/`count` (PUA fixture); a missing xpath `code="7"`
 * with an empty result [unconfirmed].
 */
export function configRequest(root: ConfigNode, action: string | undefined, xpath: string | undefined): string {
  if (action === undefined || action === '') return errorXml('400', ['Parameter "action" is required while executing a config command'], { form: 'result-msg' });
  if (WRITE_ACTIONS.has(action)) {
    // [unconfirmed] wording reported by pan-os-ansible issue 332 for a refused config write; code and form are guesses.
    return errorXml('403', ['unauthorized request: the panos-upgrade simulator answers configuration reads only'], { form: 'result-msg' });
  }
  if (!READ_ACTIONS.has(action)) return errorXml('400', [`Illegal value for parameter "action" [${action.slice(0, 40)}].`], { form: 'result-msg' });
  if (xpath === undefined || xpath === '') {
    if (action === 'show') return successXml(renderConfigNode(root));
    return errorXml('400', ['Parameter "xpath" is required while getting configuration'], { form: 'result-msg' });
  }
  const steps = parseXpath(xpath);
  // [unconfirmed] code 12 "Invalid object" for an xpath the simulator cannot read.
  if (!steps) return errorXml('12', ['Invalid xpath'], { form: 'result-msg' });
  const found = selectXpath(root, steps);
  if (found.length === 0) return `<response status="success" code="7"><result/></response>`;
  const inner = found.map(renderConfigNode).join('');
  if (action === 'show') return successXml(inner);
  return `<response status="success" code="19"><result total-count="${found.length}" count="${found.length}">${inner}</result></response>`;
}

export function firewallConfigRoot(sim: Simulator, device: HostedFirewall): ConfigNode {
  const r = readinessOf(sim, device);
  return firewallConfig(r.rec, r, sim.panorama.mgmtIp);
}

export function panoramaConfigRoot(sim: Simulator): ConfigNode {
  return panoramaConfig(sim.panorama, panoramaMembers(sim));
}
