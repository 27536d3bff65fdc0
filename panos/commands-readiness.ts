/**
 * The read-only op commands that readiness tooling sends (pan-os-upgrade-assurance's FirewallProxy,
 * pan-os-python's Panorama.refresh_devices): their typed form, their grammar (merged into the one in
 * commands.ts) and their rendering. Spelled as pan-python's `cmd_xml` turns the CLI text into XML:
 * `show interface "hardware"` → `<show><interface>hardware</interface></show>`, `show clock more` →
 * `<show><clock><more></more></clock></show>`; empty elements may also come as `<x/>` or `<x />`.
 */
import type { XmlElement } from './xml.ts';
import { escapeXml } from './xml.ts';
import type { OpError } from './commands.ts';

/** `show session all filter …`: the filter keys readiness checks use (PAN-OS has more). */
export interface SessionFilter {
  source?: string;
  destination?: string;
  sourcePort?: number;
  destinationPort?: number;
  protocol?: number;
  application?: string;
  from?: string;
  to?: string;
  state?: string;
  /** `count yes`: only the number of matching sessions. */
  count?: boolean;
}

export type ReadinessCommand =
  | { kind: 'show.panorama-status' }
  | { kind: 'show.ntp' }
  | { kind: 'check.full-commit-required' }
  | { kind: 'check.pending-changes' }
  | { kind: 'request.license.info' }
  | { kind: 'request.support.check' }
  | { kind: 'show.session.all'; filter?: SessionFilter }
  | { kind: 'show.running.tunnel.flow.all' }
  | { kind: 'show.config.running' }
  | { kind: 'show.config.candidate' }
  | { kind: 'show.system.setting.jumbo-frame' }
  | { kind: 'show.system.environmentals' }
  | { kind: 'show.running.resource-monitor'; period: 'second' | 'minute' | 'hour' | 'day' | 'week'; last?: number }
  | { kind: 'show.system.state'; filter?: string }
  | { kind: 'show.system.resources' }
  | { kind: 'show.config-locks'; vsys?: string }
  | { kind: 'show.commit-locks'; vsys?: string }
  | { kind: 'show.redistribution.service.client.all' }
  | { kind: 'show.redistribution.service.agent.all' }
  | { kind: 'show.user.user-id-service.status' }
  | { kind: 'show.interface'; name: string }
  | { kind: 'show.routing.protocol.bgp.peer'; peer?: string; virtualRouter?: string }
  | { kind: 'show.routing.fib'; virtualRouter?: string }
  | { kind: 'show.advanced-routing.route' }
  | { kind: 'show.advanced-routing.fib' }
  | { kind: 'show.devicegroups'; name?: string }
  | { kind: 'show.templates'; name?: string };

export type ReadinessCommandKind = ReadinessCommand['kind'];

export const READINESS_COMMAND_KINDS = [
  'show.panorama-status',
  'show.ntp',
  'check.full-commit-required',
  'check.pending-changes',
  'request.license.info',
  'request.support.check',
  'show.session.all',
  'show.running.tunnel.flow.all',
  'show.config.running',
  'show.config.candidate',
  'show.system.setting.jumbo-frame',
  'show.system.environmentals',
  'show.running.resource-monitor',
  'show.system.state',
  'show.system.resources',
  'show.config-locks',
  'show.commit-locks',
  'show.redistribution.service.client.all',
  'show.redistribution.service.agent.all',
  'show.user.user-id-service.status',
  'show.interface',
  'show.routing.protocol.bgp.peer',
  'show.routing.fib',
  'show.advanced-routing.route',
  'show.advanced-routing.fib',
  'show.devicegroups',
  'show.templates',
] as const satisfies readonly ReadinessCommandKind[];

const everyReadinessKindListed: [Exclude<ReadinessCommandKind, (typeof READINESS_COMMAND_KINDS)[number]>] extends [never] ? true : never = true;
void everyReadinessKindListed;

/** Commands only Panorama answers. */
export const PANORAMA_ONLY_READINESS_KINDS: ReadonlySet<string> = new Set(['show.devicegroups', 'show.templates']);

const READINESS_KIND_SET: ReadonlySet<string> = new Set(READINESS_COMMAND_KINDS);

export function isReadinessCommand(cmd: { kind: string }): cmd is ReadinessCommand {
  return READINESS_KIND_SET.has(cmd.kind);
}

// ---- grammar ----

type Result = ReadinessCommand | { error: OpError };
type Leaf = (node: XmlElement, path: string[]) => { kind: string } | { error: OpError };
interface Branch {
  [keyword: string]: Branch | Leaf;
}

/** The helpers of commands.ts, passed in so that this module does not import its values (no import cycle). */
export interface GrammarHelpers {
  noArgs: (cmd: { kind: string }) => Leaf;
  params: (node: XmlElement, path: string[], allowed: readonly string[]) => { values: Map<string, XmlElement> } | { error: OpError };
  paramText: (p: XmlElement, path: string[]) => string | { error: OpError };
  unexpectedError: (path: readonly string[]) => OpError;
  invalidError: (path: readonly string[]) => OpError;
}

const isErr = (v: unknown): v is { error: OpError } => typeof v === 'object' && v !== null && 'error' in v;

/** Interface and object names: letters, digits and the punctuation PAN-OS names use. */
const NAME_RE = /^[\w.:/@+-]{1,63}$/;
const IP_RE = /^[0-9a-fA-F.:]{2,45}$/;

/** The readiness branches, to be merged into the op grammar of commands.ts. */
export function readinessGrammar(h: GrammarHelpers): Branch {
  const text = (node: XmlElement, path: string[], re: RegExp): string | { error: OpError } => {
    const t = h.paramText(node, path.slice(0, -1));
    if (isErr(t)) return t;
    if (!re.test(t)) return { error: h.invalidError(path) };
    return t;
  };

  const optionalVsys =
    (kind: 'show.config-locks' | 'show.commit-locks'): Leaf =>
    (node, path) => {
      const r = h.params(node, path, ['vsys']);
      if (isErr(r)) return r;
      const v = r.values.get('vsys');
      if (!v) return { kind };
      const t = text(v, [...path, 'vsys'], /^(all|vsys\d{1,3}|shared)$/);
      if (isErr(t)) return t;
      return { kind, vsys: t };
    };

  const sessionAll: Leaf = (node, path) => {
    const r = h.params(node, path, ['filter']);
    if (isErr(r)) return r;
    const f = r.values.get('filter');
    if (!f) return { kind: 'show.session.all' };
    const fp = [...path, 'filter'];
    const keys = ['source', 'destination', 'source-port', 'destination-port', 'protocol', 'application', 'from', 'to', 'state', 'count'] as const;
    const fr = h.params(f, fp, keys);
    if (isErr(fr)) return fr;
    const filter: SessionFilter = {};
    for (const [name, p] of fr.values) {
      const at = [...fp, name];
      const t = h.paramText(p, fp);
      if (isErr(t)) return t;
      switch (name) {
        case 'source':
        case 'destination':
          if (!IP_RE.test(t)) return { error: h.invalidError(at) };
          filter[name] = t;
          break;
        case 'source-port':
        case 'destination-port':
        case 'protocol': {
          if (!/^\d{1,5}$/.test(t) || Number(t) > (name === 'protocol' ? 255 : 65535)) return { error: h.invalidError(at) };
          const key = name === 'source-port' ? 'sourcePort' : name === 'destination-port' ? 'destinationPort' : 'protocol';
          filter[key] = Number(t);
          break;
        }
        case 'count':
          if (t !== 'yes' && t !== 'no') return { error: h.invalidError(at) };
          filter.count = t === 'yes';
          break;
        default:
          if (!NAME_RE.test(t)) return { error: h.invalidError(at) };
          filter[name as 'application' | 'from' | 'to' | 'state'] = t;
      }
    }
    return { kind: 'show.session.all', filter };
  };

  const resourceMonitor: Leaf = (node, path) => {
    const periods = ['second', 'minute', 'hour', 'day', 'week'] as const;
    const r = h.params(node, path, periods);
    if (isErr(r)) return r;
    const [name, p] = [...r.values][0] ?? [];
    // [unconfirmed] without a period the CLI prints every period; the simulator answers minutes.
    if (!name || !p) return { kind: 'show.running.resource-monitor', period: 'minute' };
    if (r.values.size > 1) return { error: h.unexpectedError([...path, [...r.values.keys()][1]!]) };
    const period = name as (typeof periods)[number];
    const pr = h.params(p, [...path, name], ['last']);
    if (isErr(pr)) return pr;
    const last = pr.values.get('last');
    if (!last) return { kind: 'show.running.resource-monitor', period };
    const t = text(last, [...path, name, 'last'], /^\d{1,3}$/);
    if (isErr(t)) return t;
    const n = Number(t);
    if (n < 1) return { error: h.invalidError([...path, name, 'last']) };
    return { kind: 'show.running.resource-monitor', period, last: n };
  };

  const systemState: Leaf = (node, path) => {
    const r = h.params(node, path, ['filter', 'filter-pretty']);
    if (isErr(r)) return r;
    const f = r.values.get('filter') ?? r.values.get('filter-pretty');
    if (!f) return { kind: 'show.system.state' };
    const t = text(f, [...path, f.name], /^[\w.*-]{1,200}$/);
    if (isErr(t)) return t;
    return { kind: 'show.system.state', filter: t };
  };

  const iface: Leaf = (node, path) => {
    const nested = node.children[0];
    if (nested) return { error: h.unexpectedError([...path, nested.name]) };
    const name = node.text.replace(/^"(.*)"$/, '$1');
    if (name === '') return { error: h.invalidError(path) };
    if (!NAME_RE.test(name)) return { error: h.invalidError(path) };
    return { kind: 'show.interface', name };
  };

  const bgpPeer: Leaf = (node, path) => {
    // `show routing protocol bgp peer` optionally names a peer (`peer-name`) or a virtual router.
    const nested = node.children;
    if (node.text !== '') {
      if (!NAME_RE.test(node.text)) return { error: h.invalidError(path) };
      return { kind: 'show.routing.protocol.bgp.peer', peer: node.text };
    }
    const r = h.params({ ...node, children: nested }, path, ['virtual-router', 'peer-name']);
    if (isErr(r)) return r;
    const cmd: { kind: 'show.routing.protocol.bgp.peer'; peer?: string; virtualRouter?: string } = { kind: 'show.routing.protocol.bgp.peer' };
    const vr = r.values.get('virtual-router');
    if (vr) {
      const t = text(vr, [...path, 'virtual-router'], NAME_RE);
      if (isErr(t)) return t;
      cmd.virtualRouter = t;
    }
    const pn = r.values.get('peer-name');
    if (pn) {
      const t = text(pn, [...path, 'peer-name'], NAME_RE);
      if (isErr(t)) return t;
      cmd.peer = t;
    }
    return cmd;
  };

  const fib: Leaf = (node, path) => {
    const r = h.params(node, path, ['virtual-router']);
    if (isErr(r)) return r;
    const vr = r.values.get('virtual-router');
    if (!vr) return { kind: 'show.routing.fib' };
    const t = text(vr, [...path, 'virtual-router'], NAME_RE);
    if (isErr(t)) return t;
    return { kind: 'show.routing.fib', virtualRouter: t };
  };

  const named =
    (kind: 'show.devicegroups' | 'show.templates'): Leaf =>
    (node, path) => {
      const r = h.params(node, path, ['name']);
      if (isErr(r)) return r;
      const n = r.values.get('name');
      if (!n) return { kind };
      const t = text(n, [...path, 'name'], /^[\w. -]{1,63}$/);
      if (isErr(t)) return t;
      return { kind, name: t };
    };

  return {
    show: {
      'panorama-status': h.noArgs({ kind: 'show.panorama-status' }),
      ntp: h.noArgs({ kind: 'show.ntp' }),
      session: { all: sessionAll },
      running: {
        tunnel: { flow: { all: h.noArgs({ kind: 'show.running.tunnel.flow.all' }) } },
        'resource-monitor': resourceMonitor,
      },
      config: {
        running: h.noArgs({ kind: 'show.config.running' }),
        candidate: h.noArgs({ kind: 'show.config.candidate' }),
      },
      system: {
        setting: { 'jumbo-frame': h.noArgs({ kind: 'show.system.setting.jumbo-frame' }) },
        environmentals: h.noArgs({ kind: 'show.system.environmentals' }),
        state: systemState,
        resources: h.noArgs({ kind: 'show.system.resources' }),
      },
      'config-locks': optionalVsys('show.config-locks'),
      'commit-locks': optionalVsys('show.commit-locks'),
      redistribution: {
        service: {
          client: { all: h.noArgs({ kind: 'show.redistribution.service.client.all' }) },
          agent: { all: h.noArgs({ kind: 'show.redistribution.service.agent.all' }) },
        },
      },
      user: { 'user-id-service': { status: h.noArgs({ kind: 'show.user.user-id-service.status' }) } },
      interface: iface,
      routing: { protocol: { bgp: { peer: bgpPeer } }, fib },
      'advanced-routing': {
        route: h.noArgs({ kind: 'show.advanced-routing.route' }),
        fib: h.noArgs({ kind: 'show.advanced-routing.fib' }),
      },
      devicegroups: named('show.devicegroups'),
      templates: named('show.templates'),
    },
    check: {
      'full-commit-required': h.noArgs({ kind: 'check.full-commit-required' }),
      'pending-changes': h.noArgs({ kind: 'check.pending-changes' }),
    },
    request: {
      license: { info: h.noArgs({ kind: 'request.license.info' }) },
      support: { check: h.noArgs({ kind: 'request.support.check' }) },
    },
  };
}

/** Merge `extra` into `base` (new keywords added; existing branches extended; a leaf is never replaced). */
export function mergeGrammar<B extends Branch>(base: B, extra: Branch): B {
  for (const [k, v] of Object.entries(extra)) {
    const cur = Object.hasOwn(base, k) ? base[k] : undefined;
    if (cur === undefined) (base as Branch)[k] = v;
    else if (typeof cur !== 'function' && typeof v !== 'function') mergeGrammar(cur, v);
    else throw new Error(`op grammar: "${k}" is defined twice`);
  }
  return base;
}

// ---- rendering (client side), in pan-python's open/close spelling ----

const open = (name: string, inner = '') => `<${name}>${inner}</${name}>`;
const nest = (path: readonly string[], inner: string) => path.reduceRight((acc, n) => open(n, acc), inner);

export function renderReadinessCommand(cmd: ReadinessCommand): string {
  const words = cmd.kind.split('.');
  switch (cmd.kind) {
    case 'show.session.all': {
      if (!cmd.filter) return nest(words, '');
      const f = cmd.filter;
      const parts: [string, string | number | undefined][] = [
        ['source', f.source],
        ['destination', f.destination],
        ['source-port', f.sourcePort],
        ['destination-port', f.destinationPort],
        ['protocol', f.protocol],
        ['application', f.application],
        ['from', f.from],
        ['to', f.to],
        ['state', f.state],
        ['count', f.count === undefined ? undefined : f.count ? 'yes' : 'no'],
      ];
      return nest(words, open('filter', parts.filter(([, v]) => v !== undefined).map(([k, v]) => open(k, escapeXml(String(v)))).join('')));
    }
    case 'show.running.resource-monitor':
      return nest(words, open(cmd.period, cmd.last !== undefined ? open('last', String(cmd.last)) : ''));
    case 'show.system.state':
      return nest(words, cmd.filter !== undefined ? open('filter', escapeXml(cmd.filter)) : '');
    case 'show.config-locks':
    case 'show.commit-locks':
      return nest(words, cmd.vsys !== undefined ? open('vsys', escapeXml(cmd.vsys)) : '');
    case 'show.interface':
      return nest(['show'], open('interface', escapeXml(cmd.name)));
    case 'show.routing.protocol.bgp.peer': {
      let inner = '';
      if (cmd.virtualRouter !== undefined) inner += open('virtual-router', escapeXml(cmd.virtualRouter));
      if (cmd.peer !== undefined) inner += open('peer-name', escapeXml(cmd.peer));
      return nest(words, inner);
    }
    case 'show.routing.fib':
      return nest(words, cmd.virtualRouter !== undefined ? open('virtual-router', escapeXml(cmd.virtualRouter)) : '');
    case 'show.devicegroups':
    case 'show.templates':
      return nest(words, cmd.name !== undefined ? open('name', escapeXml(cmd.name)) : '');
    default:
      return nest(words, '');
  }
}
