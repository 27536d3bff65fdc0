/**
 * The configuration a simulated device shows to `type=config` `get`/`show` and to `show config running`:
 * a small tree built on request from the readiness state (firewalls) or the scenario (Panorama's device
 * groups and templates), and a reader for the absolute xpaths clients send
 * (`/config/devices/entry[@name='localhost.localdomain']/deviceconfig/system/update-schedule`).
 */
import type { FirewallRecord } from '../panos/model.ts';
import { escapeXml } from '../panos/xml.ts';
import type { DeviceReadiness } from './readiness-state.ts';

export interface ConfigNode {
  name: string;
  attrs?: Record<string, string>;
  children?: ConfigNode[];
  text?: string;
}

const node = (name: string, content?: ConfigNode[] | string | number, attrs?: Record<string, string>): ConfigNode => {
  const n: ConfigNode = { name };
  if (attrs) n.attrs = attrs;
  if (typeof content === 'string' || typeof content === 'number') n.text = String(content);
  else if (content) n.children = content;
  return n;
};
const entry = (name: string, content?: ConfigNode[] | string) => node('entry', content, { name });
const members = (name: string, items: readonly string[]) => node(name, items.map((m) => node('member', m)));

export function renderConfigNode(n: ConfigNode): string {
  const attrs = n.attrs ? Object.entries(n.attrs).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('') : '';
  if (n.children && n.children.length > 0) return `<${n.name}${attrs}>${n.children.map(renderConfigNode).join('')}</${n.name}>`;
  if (n.text !== undefined && n.text !== '') return `<${n.name}${attrs}>${escapeXml(n.text)}</${n.name}>`;
  return `<${n.name}${attrs}/>`;
}

function configVersion(sw: string): string {
  const m = /^(\d+)\.(\d+)/.exec(sw);
  return m ? `${m[1]}.${m[2]}.0` : '10.1.0';
}

function netmaskLength(mask: string): number {
  return mask.split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

function updateSchedule(r: DeviceReadiness): ConfigNode {
  return node(
    'update-schedule',
    r.updateSchedules.map((s) =>
      node(s.name, [node('recurring', [s.recurring === 'none' ? node('none') : node(s.recurring, s.fields.map(([k, v]) => node(k, v)))])]),
    ),
  );
}

/** The device's running configuration. */
export function firewallConfig(rec: FirewallRecord, r: DeviceReadiness, panoramaIp: string): ConfigNode {
  const system: ConfigNode[] = [
    node('hostname', rec.hostname),
    node('ip-address', rec.mgmtIp),
    node('netmask', rec.netmask),
    node('default-gateway', rec.defaultGateway),
    node('type', [node('static')]),
    node('timezone', 'UTC'),
    node('dns-setting', [node('servers', [node('primary', '198.18.0.53'), node('secondary', '198.18.1.53')])]),
  ];
  const ntp = r.ntpServers;
  if (ntp.length > 0) {
    const server = (tag: string, addr: string) => node(tag, [node('ntp-server-address', addr), node('authentication-type', [node('none')])]);
    system.push(node('ntp-servers', [server('primary-ntp-server', ntp[0]!), ...(ntp[1] !== undefined ? [server('secondary-ntp-server', ntp[1])] : [])]));
  }
  if (r.panoramaConfigured) system.push(node('panorama', [node('local-panorama', [node('panorama-server', panoramaIp)])]));
  system.push(updateSchedule(r));

  const ethernet = r.interfaces
    .filter((i) => i.kind === 'ethernet')
    .map((i) =>
      entry(i.name, [
        node('layer3', [node('ip', [entry(i.cidr ?? '')]), ...(i.mtu !== 1500 ? [node('mtu', i.mtu)] : [])]),
        ...(i.name === 'ethernet1/1' ? [node('comment', 'internet uplink')] : []),
      ]),
    );
  const loopbacks = r.interfaces.filter((i) => i.kind === 'loopback').map((i) => entry(i.name, [node('ip', [entry(i.cidr ?? '')])]));
  const tunnels = r.interfaces.filter((i) => i.kind === 'tunnel').map((i) => entry(i.name));
  const vrs = r.virtualRouters.map((vr) => {
    const children: ConfigNode[] = [members('interface', r.interfaces.filter((i) => i.virtualRouter === vr).map((i) => i.name))];
    const peers = r.bgpPeers.filter((p) => p.virtualRouter === vr);
    if (peers.length > 0) {
      const groups = [...new Set(peers.map((p) => p.group))];
      children.push(
        node('protocol', [
          node('bgp', [
            node('enable', 'yes'),
            node('router-id', (r.interfaces.find((i) => i.kind === 'loopback')?.cidr ?? '0.0.0.0/32').split('/')[0]!),
            node('local-as', 65000),
            node(
              'peer-group',
              groups.map((g) =>
                entry(
                  g,
                  [node('peer', peers.filter((p) => p.group === g).map((p) => entry(p.name, [node('peer-as', p.remoteAs), node('peer-address', [node('ip', p.peerIp)]), node('local-address', [node('interface', p.interface)])])))],
                ),
              ),
            ),
          ]),
        ]),
      );
    }
    return entry(vr, children);
  });
  const zones = [...new Set(r.interfaces.map((i) => i.zone))].map((z) => entry(z, [node('network', [members('layer3', r.interfaces.filter((i) => i.zone === z).map((i) => i.name))])]));
  const rules = ['allow-critical', 'allow-infra', 'allow-outbound'].map((name) =>
    entry(name, [members('from', ['trust']), members('to', ['untrust']), members('source', ['any']), members('destination', ['any']), members('application', ['any']), members('service', ['application-default']), node('action', 'allow')]),
  );
  const certs = r.certificates.map((c) =>
    entry(c.name, [
      node('algorithm', c.algorithm),
      node('ca', c.ca ? 'yes' : 'no'),
      node('common-name', c.commonName),
      node('expiry-epoch', c.expiryEpoch),
      node('issuer', c.commonName),
      node('issuer-hash', c.subjectHash),
      node('not-valid-after', c.notValidAfter),
      node('not-valid-before', c.notValidBefore),
      node('public-key', c.pem),
      node('subject', c.commonName),
      node('subject-hash', c.subjectHash),
    ]),
  );
  return node(
    'config',
    [
      node('mgt-config', [node('users', [entry('admin', [node('phash', '*'), node('permissions', [node('role-based', [node('superuser', 'yes')])])])])]),
      node('shared', [node('application'), node('application-group'), node('service'), node('service-group'), node('certificate', certs), node('botnet')]),
      node('devices', [
        entry('localhost.localdomain', [
          node('network', [
            node('interface', [node('ethernet', ethernet), node('loopback', [node('units', loopbacks)]), node('tunnel', [node('units', tunnels)])]),
            node('virtual-router', vrs),
          ]),
          node('deviceconfig', [node('system', system), node('setting', [node('config', [node('rematch', 'yes')])])]),
          node('vsys', [entry('vsys1', [node('zone', zones), node('rulebase', [node('security', [node('rules', rules)])])])]),
        ]),
      ]),
    ],
    { version: configVersion(rec.swVersion), urldb: 'paloaltonetworks' },
  );
}

export interface PanoramaMember {
  serial: string;
  deviceGroup: string;
  templateStack: string;
}

/** Panorama's configuration: device groups with their firewalls, templates and template stacks. */
export function panoramaConfig(p: { hostname: string; mgmtIp: string; swVersion: string }, fleet: readonly PanoramaMember[]): ConfigNode {
  const groups = [...new Set(fleet.map((m) => m.deviceGroup))].sort();
  const stacks = [...new Set(fleet.map((m) => m.templateStack))].sort();
  const dgs = groups.map((g) =>
    entry(g, [
      node('devices', fleet.filter((m) => m.deviceGroup === g).map((m) => entry(m.serial))),
      node('description', `firewalls of ${g}`),
    ]),
  );
  const templates = stacks.map((s) => entry(`tpl-${s.replace(/^ts-/, '')}`, [node('settings', [node('default-vsys', 'vsys1')]), node('config', [node('devices', [entry('localhost.localdomain')])])]));
  const templateStacks = stacks.map((s) =>
    entry(s, [members('templates', [`tpl-${s.replace(/^ts-/, '')}`]), node('devices', fleet.filter((m) => m.templateStack === s).map((m) => entry(m.serial))), node('settings')]),
  );
  return node(
    'config',
    [
      node('mgt-config', [node('users', [entry('admin', [node('phash', '*'), node('permissions', [node('role-based', [node('superuser', 'yes')])])])])]),
      node('devices', [
        entry('localhost.localdomain', [
          node('deviceconfig', [node('system', [node('hostname', p.hostname), node('ip-address', p.mgmtIp), node('type', [node('static')]), node('timezone', 'UTC')])]),
          node('device-group', dgs),
          node('template', templates),
          node('template-stack', templateStacks),
        ]),
      ]),
      node('shared'),
      node('panorama'),
    ],
    { version: configVersion(p.swVersion), urldb: 'paloaltonetworks' },
  );
}

/** One xpath step: a name and an optional `[@attr='value']` predicate. */
interface Step {
  name: string;
  attr?: { name: string; value: string };
}

/** Parse `/a/b[@name='x/y']/c`; undefined for anything else (functions, axes, relative paths). */
export function parseXpath(xpath: string): Step[] | undefined {
  const text = xpath.trim().replace(/\/+$/, '');
  if (!text.startsWith('/')) return undefined;
  const steps: Step[] = [];
  const re = /\/([A-Za-z_][\w.-]*)(?:\[@([A-Za-z_][\w-]*)\s*=\s*(?:'([^']*)'|"([^"]*)")\])?/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    const step: Step = { name: m[1]! };
    if (m[2] !== undefined) step.attr = { name: m[2], value: m[3] ?? m[4] ?? '' };
    steps.push(step);
    pos = re.lastIndex;
  }
  return steps;
}

/** The nodes an absolute xpath selects; an entry step without a predicate selects every entry. */
export function selectXpath(root: ConfigNode, steps: readonly Step[]): ConfigNode[] {
  const [first, ...rest] = steps;
  if (!first || first.name !== root.name) return [];
  let current: ConfigNode[] = [root];
  for (const step of rest) {
    const next: ConfigNode[] = [];
    for (const n of current) {
      for (const c of n.children ?? []) {
        if (c.name !== step.name) continue;
        if (step.attr && c.attrs?.[step.attr.name] !== step.attr.value) continue;
        next.push(c);
      }
    }
    current = next;
  }
  return current;
}
