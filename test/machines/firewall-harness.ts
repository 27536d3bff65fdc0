import { SimulatedClock, createActor, type Snapshot } from 'xstate';
import {
  deadlineEffect,
  firewallMachine,
  type DeviceFaults,
  type DeviceTiming,
  type Fact,
  type FirewallContext,
  type FirewallEvent,
  type SimReply,
} from '../../machines/index.ts';
import type { FirewallRecord, PanosJob } from '../../panos/model.ts';

/** The image size of the seed (2 GB). */
export const GB = 2048;

export const TIMING: DeviceTiming = {
  downloadMs: 10_000,
  installMs: 5_000,
  rebootMs: 100_000,
  contentDownloadMs: 3_000,
  contentInstallMs: 3_000,
  autoCommitMs: 20_000,
};

/** The seed's fw-dc1-01 on 10.0.2, offered its static path 10.1.0 → 10.5.1 → 11.1.0 (2 GB images), as of `t0`. */
export function seedRecord(t0: number, over: Partial<FirewallRecord> = {}, versions = ['10.0.2', '10.1.0', '10.1.3', '10.5.1', '11.1.0']): FirewallRecord {
  const image = (version: string) => ({ version, sizeMb: GB, releasedOn: '2025/01/01 00:00:00' });
  return {
    serial: '001234567890',
    hostname: 'fw-dc1-01',
    model: 'PA-3220',
    family: '3200',
    mgmtIp: '10.1.1.10',
    netmask: '255.255.255.0',
    defaultGateway: '10.1.1.254',
    macAddress: '00:1b:17:aa:bb:cc',
    swVersion: '10.0.2',
    bootedAt: t0 - 37 * 86_400_000,
    multiVsys: false,
    images: versions.map(image),
    downloaded: ['10.0.2'],
    content: { installed: '8799-8509', available: [], downloaded: [] },
    avVersion: '0',
    metrics: { tcpSessions: 45_000, udpSessions: 12_000, routes: 1200, arpEntries: 500 },
    disk: { panrepoTotalMb: 15 * 1024, panrepoUsedMb: GB },
    jobs: [],
    nextJobId: 1,
    ...over,
  };
}

/** A command as a test sends it: the harness adds the clock's time. */
export type Command = FirewallEvent extends infer E ? (E extends { now: number } ? Omit<E, 'now'> : never) : never;

export interface BootOptions {
  record: FirewallRecord;
  /** The clock's start when no clock is given. */
  t0: number;
  faults?: DeviceFaults;
  rng?: number;
  clock?: SimulatedClock;
  snapshot?: Snapshot<unknown>;
}

/** A firewall actor on a simulated clock, with every fact and reply it emits and every state it passes. */
export function bootFirewall(opts: BootOptions) {
  const clock = opts.clock ?? new SimulatedClock();
  if (!opts.clock) clock.set(opts.t0);
  const machine = firewallMachine.provide({ actors: { deadline: deadlineEffect(clock) } });
  const input = { record: opts.record, timing: TIMING, faults: opts.faults ?? {}, rng: opts.rng ?? 42 };
  const actor = createActor(machine, opts.snapshot ? { input, snapshot: opts.snapshot } : { input });
  const facts: Fact[] = [];
  const replies: SimReply[] = [];
  const states: string[] = [];
  actor.on('facts', (e) => facts.push(...e.facts));
  actor.on('reply', (e) => replies.push(e.reply));
  actor.subscribe((s) => {
    const name = JSON.stringify(s.value);
    if (states.at(-1) !== name) states.push(name);
  });
  actor.start();
  states.splice(0, states.length, JSON.stringify(actor.getSnapshot().value));
  return {
    clock,
    actor,
    facts,
    replies,
    states,
    /**
     * Move the clock to `at`, firing every deadline due by then. SimulatedClock does not run a timer armed by
     * the last callback it fires (a phase's deadline armed by the previous phase's) until it is set again.
     */
    advanceTo(at: number): void {
      for (;;) {
        const before = actor.getSnapshot();
        clock.set(at);
        if (actor.getSnapshot() === before) return;
      }
    },
    /** Send a command at the clock's time and return the answer to it. */
    send(command: Command): SimReply | undefined {
      const before = replies.length;
      actor.send({ ...command, now: clock.now() } as FirewallEvent);
      return replies[before];
    },
    get ctx(): FirewallContext {
      return actor.getSnapshot().context;
    },
    get value(): unknown {
      return actor.getSnapshot().value;
    },
    job(id: number): PanosJob {
      const j = actor.getSnapshot().context.record.jobs.find((x) => x.id === id);
      if (!j) throw new Error(`no job ${id}`);
      return j;
    },
    factTypes(): string[] {
      return facts.map((f) => f.type);
    },
  };
}
