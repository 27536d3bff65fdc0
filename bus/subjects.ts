import { InvalidTokenError } from './errors.ts';

const TOKEN_RE = /^[^\s.*>]+$/;

/** Throws InvalidTokenError unless `token` can stand as one subject token. */
export function assertToken(token: string): string {
  if (typeof token !== 'string' || !TOKEN_RE.test(token) || token.length > 200) throw new InvalidTokenError(String(token));
  return token;
}

export function isToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_RE.test(token) && token.length <= 200;
}

/** Commands the daemon answers (request/reply), as `<prefix>.cmd.<name>`. */
export const COMMANDS = [
  'job.submit',
  'job.cancel',
  'job.get',
  'job.list',
  'job.resume',
  'download.queue-all',
  'download.status',
  'device.discover',
  'device.list',
  'device.get',
  'device.check',
  'device.trust',
  'upgrade.queue',
  'daemon.status',
  'campaign.create',
  'campaign.list',
  'campaign.get',
  'campaign.pause',
  'campaign.resume',
  'campaign.approve',
  'campaign.abort',
] as const;
export type CommandName = (typeof COMMANDS)[number];

/**
 * The only place that builds subject strings (STYLE.md §3).
 * Shape: `<prefix>.<kind>.<stream-kind>.<id>.<rest>` with kind ∈ cmd | evt | sim.
 */
export class Subjects {
  constructor(readonly prefix = 'panos') {
    for (const part of prefix.split('.')) assertToken(part);
  }

  /** `panos.cmd.job.submit` */
  cmd(name: CommandName): string {
    return `${this.prefix}.cmd.${name}`;
  }

  /** Wildcard over every command: `panos.cmd.>` */
  allCommands(): string {
    return `${this.prefix}.cmd.>`;
  }

  /**
   * The subject an event is published on: `device.download.started` on `device:0079` →
   * `panos.evt.device.0079.download.started`; a stream without an id (`api`) uses `-`.
   */
  event(stream: string, type: string): string {
    const colon = stream.indexOf(':');
    const kind = colon < 0 ? stream : stream.slice(0, colon);
    const id = colon < 0 ? '-' : stream.slice(colon + 1);
    assertToken(kind);
    assertToken(id);
    const rest = type.startsWith(kind + '.') ? type.slice(kind.length + 1) : type;
    for (const t of rest.split('.')) assertToken(t);
    return `${this.prefix}.evt.${kind}.${id}.${rest}`;
  }

  /** Every event of one stream kind and id, e.g. `panos.evt.job.<id>.>` */
  streamEvents(kind: string, id = '*'): string {
    assertToken(kind);
    if (id !== '*') assertToken(id);
    return `${this.prefix}.evt.${kind}.${id}.>`;
  }

  /**
   * The subject of one event stream's entries in the replicated log (cluster mode): `job:42` →
   * `panos.log.job.42`; a stream without an id (`api`) uses `-`. One subject per stream, so JetStream's
   * expected last subject sequence is the stream's head.
   */
  log(stream: string): string {
    const colon = stream.indexOf(':');
    const kind = colon < 0 ? stream : stream.slice(0, colon);
    const id = colon < 0 ? '-' : stream.slice(colon + 1);
    return `${this.prefix}.log.${assertToken(kind)}.${assertToken(id)}`;
  }

  /** Every entry of the replicated log: `panos.log.>` */
  allLog(): string {
    return `${this.prefix}.log.>`;
  }

  /** Every event: `panos.evt.>` */
  allEvents(): string {
    return `${this.prefix}.evt.>`;
  }

  /** An XML API call for one simulated device (firewall or Panorama). */
  simOp(serial: string): string {
    return `${this.prefix}.sim.${assertToken(serial)}.op`;
  }

  /** Wildcard a simulator subscribes to once for all the devices it hosts. */
  simOpAll(): string {
    return `${this.prefix}.sim.*.op`;
  }

  /** Simulator control: `panos.sim.ctl.<serial>.<action>`; serial `-` addresses the simulator itself. */
  simCtl(serial: string, action: string): string {
    return `${this.prefix}.sim.ctl.${assertToken(serial)}.${assertToken(action)}`;
  }

  simCtlAll(): string {
    return `${this.prefix}.sim.ctl.>`;
  }

  /** Parse `panos.sim.<serial>.op` back to the serial, or undefined. */
  parseSimOp(subject: string): string | undefined {
    const head = `${this.prefix}.sim.`;
    if (!subject.startsWith(head) || !subject.endsWith('.op')) return undefined;
    const serial = subject.slice(head.length, -3);
    return isToken(serial) ? serial : undefined;
  }

  /** Parse `panos.sim.ctl.<serial>.<action>`. */
  parseSimCtl(subject: string): { serial: string; action: string } | undefined {
    const head = `${this.prefix}.sim.ctl.`;
    if (!subject.startsWith(head)) return undefined;
    const parts = subject.slice(head.length).split('.');
    if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
    return { serial: parts[0], action: parts[1] };
  }

  /**
   * A command for the daemon holding a lease (cluster mode, docs/cluster.md): `panos.cmd.owner.<key>.<name>`,
   * e.g. `panos.cmd.owner.partition-7.job.submit`. The daemon that received `panos.cmd.job.submit` forwards it here.
   */
  owner(key: string, name: string): string {
    assertToken(key);
    for (const t of name.split('.')) assertToken(t);
    return `${this.prefix}.cmd.owner.${key}.${name}`;
  }

  /** Every command for a lease's holder: `panos.cmd.owner.<key>.>` */
  ownerAll(key: string): string {
    return `${this.prefix}.cmd.owner.${assertToken(key)}.>`;
  }

  /** Parse `panos.cmd.owner.<key>.<name>` back to the key and the command name. */
  parseOwner(subject: string): { key: string; name: string } | undefined {
    const head = `${this.prefix}.cmd.owner.`;
    if (!subject.startsWith(head)) return undefined;
    const rest = subject.slice(head.length);
    const dot = rest.indexOf('.');
    if (dot <= 0 || dot === rest.length - 1) return undefined;
    return { key: rest.slice(0, dot), name: rest.slice(dot + 1) };
  }

  /** Parse `panos.cmd.<name>` back to a known command. */
  parseCmd(subject: string): CommandName | undefined {
    const head = `${this.prefix}.cmd.`;
    if (!subject.startsWith(head)) return undefined;
    const name = subject.slice(head.length);
    return (COMMANDS as readonly string[]).includes(name) ? (name as CommandName) : undefined;
  }
}
