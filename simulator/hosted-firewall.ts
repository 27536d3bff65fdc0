import { createActor, type Actor, type Snapshot } from 'xstate';
import type { Fact, FirewallContext, SimReply } from '../machines/firewall.logic.ts';
import { reachabilityOf, type FirewallEvent, type FirewallInput, type FirewallMachine, type Reachability } from '../machines/firewall.machine.ts';

/** Receives a device's facts with the actor snapshot that follows them, in order. */
export type FactSink = (serial: string, facts: Fact[], snapshot: Snapshot<unknown>) => void;

/**
 * One firewall actor and its plumbing: commands in, the synchronous reply out, and every batch of
 * facts handed to the sink together with the snapshot taken after the transition that made them.
 */
export class HostedFirewall {
  readonly actor: Actor<FirewallMachine>;
  private reply: SimReply | undefined;
  private buffered: Fact[] = [];

  constructor(
    readonly serial: string,
    machine: FirewallMachine,
    input: FirewallInput,
    snapshot: Snapshot<unknown> | undefined,
    private readonly sink: FactSink,
  ) {
    this.actor = createActor(machine, snapshot ? { input, snapshot } : { input });
    this.actor.on('reply', (e) => {
      this.reply = e.reply;
    });
    this.actor.on('facts', (e) => {
      this.buffered.push(...e.facts);
    });
    // Runs after every macrostep, including those a deadline started: the snapshot then includes the facts' effects.
    this.actor.subscribe(() => this.flush());
  }

  start(): this {
    this.actor.start();
    return this;
  }

  stop(): void {
    this.actor.stop();
  }

  /** Send a command and return the machine's answer to it. */
  send(event: FirewallEvent): SimReply {
    this.reply = undefined;
    this.actor.send(event);
    this.flush();
    return this.reply ?? { kind: 'error', lines: ['Operation not possible now'] };
  }

  /** Send an event nobody waits an answer for (HA pair, chaos control). */
  notify(event: FirewallEvent): void {
    this.actor.send(event);
    this.flush();
  }

  get context(): FirewallContext {
    return this.actor.getSnapshot().context;
  }

  get value(): unknown {
    return this.actor.getSnapshot().value;
  }

  get reachability(): Reachability {
    return reachabilityOf(this.actor.getSnapshot().value);
  }

  /** A short state name for listings: online, downloading, installing, rebooting:down, … */
  get stateName(): string {
    const v = this.actor.getSnapshot().value;
    if (typeof v === 'string') return v;
    const [k, sub] = Object.entries(v as Record<string, unknown>)[0] ?? ['unknown', ''];
    return `${k}:${String(sub)}`;
  }

  private flush(): void {
    if (this.buffered.length === 0) return;
    const facts = this.buffered;
    this.buffered = [];
    this.sink(this.serial, facts, this.actor.getPersistedSnapshot());
  }
}
