import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Snapshot } from 'xstate';
import type { Subjects } from '../bus/index.ts';
import type { LmdbEventStore } from '../eventstore/index.ts';
import { deadlineEffect, realClock, type DeadlineClock } from '../machines/effects.ts';
import type { Fact } from '../machines/firewall.logic.ts';
import { firewallMachine, type FirewallMachine } from '../machines/firewall.machine.ts';
import type { PanoramaRecord } from '../panos/model.ts';
import type { Scenario } from '../scenarios/types.ts';
import { firewallInput, keyDigests, panoramaRecord } from './device-factory.ts';
import { reactToPeerFacts } from './ha-pairs.ts';
import { HostedFirewall } from './hosted-firewall.ts';
import { handleOp, type SimAnswer, type SimOpRequest } from './op-handler.ts';
import { serveSimHost, type SimHost } from './sim-service.ts';
import { handleControl } from './control.ts';

export interface SimulatorOptions {
  scenario: Scenario;
  store: LmdbEventStore;
  log: Logger;
  /** Where the simulator serves `panos.sim.*`; without it, only in-process calls work (benchmarks of the host). */
  nc?: NatsConnection;
  subjects?: Subjects;
  clock?: DeadlineClock;
  /** Ignore device state recorded by earlier sessions and start from the scenario. */
  fresh?: boolean;
}

/** What the gateway needs to know to route and authenticate: no device state, no secrets. */
export interface SimDescription {
  scenario: string;
  runId: string | undefined;
  panorama: { serial: string; hostname: string; mgmtIp: string };
  devices: Array<{ serial: string; hostname: string; mgmtIp: string }>;
  /** SHA-256 of each valid API key. */
  keyDigests: string[];
}

const SIM_STREAM = 'sim:-';

/**
 * Hosts one Panorama and its firewalls, each firewall an XState actor, and serves their XML API over
 * NATS with one wildcard subscription (`panos.sim.*.op`) for the whole fleet. Every fact a device
 * produces is appended to its `sim:<serial>` stream with the actor snapshot that follows it; on start
 * each device is restored from its latest snapshot, so a restart resumes downloads, installs and
 * reboots on their original deadlines.
 */
export class Simulator implements SimHost {
  readonly scenario: Scenario;
  readonly panorama: PanoramaRecord;
  readonly clock: DeadlineClock;
  readonly log: Logger;
  readonly store: LmdbEventStore;
  private readonly devices = new Map<string, HostedFirewall>();
  private readonly byAddress = new Map<string, string>();
  private readonly subscriptions: Subscription[] = [];
  private readonly digests: string[];
  private restoredCount = 0;
  private stopped = false;

  private constructor(options: SimulatorOptions) {
    this.scenario = options.scenario;
    this.clock = options.clock ?? realClock;
    this.log = options.log;
    this.store = options.store;
    this.panorama = panoramaRecord(options.scenario, this.clock.now());
    this.digests = keyDigests(options.scenario);
  }

  static async start(options: SimulatorOptions): Promise<Simulator> {
    const sim = new Simulator(options);
    await sim.boot(options);
    return sim;
  }

  private async boot(options: SimulatorOptions): Promise<void> {
    const machine: FirewallMachine = firewallMachine.provide({ actors: { deadline: deadlineEffect(this.clock) } });
    const now = this.clock.now();
    let resetAt = 0;
    if (options.fresh) {
      const [e] = await this.store.append(SIM_STREAM, [{ type: 'sim.session.reset', data: { scenario: this.scenario.name } }]);
      resetAt = e?.gseq ?? 0;
    } else {
      for (const e of this.store.readStream(SIM_STREAM)) if (e.type === 'sim.session.reset') resetAt = e.gseq;
    }
    const sink = (serial: string, facts: Fact[], snapshot: Snapshot<unknown>): void => this.persist(serial, facts, snapshot);
    for (const spec of this.scenario.devices) {
      const stored = this.store.getSnapshot<Snapshot<unknown>>(`sim:${spec.serial}`);
      const snapshot = stored && stored.gseq > resetAt ? stored.state : undefined;
      if (snapshot) this.restoredCount++;
      const device = new HostedFirewall(spec.serial, machine, firewallInput(this.scenario, spec, now), snapshot, sink);
      this.devices.set(spec.serial, device);
      this.byAddress.set(spec.mgmtIp, spec.serial);
    }
    for (const device of this.devices.values()) device.start();
    await this.store.append(SIM_STREAM, [
      {
        type: 'sim.session.started',
        data: { scenario: this.scenario.name, file: this.scenario.file, devices: this.devices.size, restored: this.restoredCount, seed: this.scenario.seed },
      },
    ]);
    if (options.nc && options.subjects) {
      this.listen(options.nc, options.subjects);
      // The subscriptions reach the server before start resolves: no "no responders" just after start.
      await options.nc.flush();
    }
  }

  /** Devices restored from the event log rather than created from the scenario. */
  get restored(): number {
    return this.restoredCount;
  }

  get size(): number {
    return this.devices.size;
  }

  device(serial: string): HostedFirewall | undefined {
    return this.devices.get(serial);
  }

  allDevices(): IterableIterator<HostedFirewall> {
    return this.devices.values();
  }

  /** The serial of the firewall whose management address is `ip`. */
  serialAt(ip: string): string | undefined {
    return this.byAddress.get(ip);
  }

  describe(): SimDescription {
    return {
      scenario: this.scenario.name,
      runId: this.store.runId,
      panorama: { serial: this.panorama.serial, hostname: this.panorama.hostname, mgmtIp: this.panorama.mgmtIp },
      devices: [...this.devices.values()].map((d) => ({ serial: d.serial, hostname: d.context.record.hostname, mgmtIp: d.context.record.mgmtIp })),
      keyDigests: this.digests,
    };
  }

  /** Whether this simulator answers for `serial` (its Panorama or one of its firewalls); false once stopped. */
  owns(serial: string): boolean {
    return !this.stopped && (serial === this.panorama.serial || this.devices.has(serial));
  }

  /** Answer one XML API call addressed to `serial` (the Panorama or a firewall). */
  op(serial: string, request: SimOpRequest): Promise<SimAnswer> | SimAnswer {
    return handleOp(this, serial, request);
  }

  /** One control action (`panos.sim.ctl.<serial>.<action>`); serial `-` is the simulator itself. */
  control(serial: string, action: string, payload: Record<string, unknown>): Promise<object> {
    return handleControl(this, serial, action, payload);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.subscriptions) s.unsubscribe();
    for (const d of this.devices.values()) d.stop();
    await this.store.append(SIM_STREAM, [{ type: 'sim.session.stopped', data: { scenario: this.scenario.name } }]).catch(() => undefined);
  }

  private persist(serial: string, facts: Fact[], snapshot: Snapshot<unknown>): void {
    if (this.stopped) return;
    this.store.append(`sim:${serial}`, facts, { snapshot }).catch((err: unknown) => {
      if (!this.stopped) this.log.error({ err, serial }, 'could not record simulator facts');
    });
    const device = this.devices.get(serial);
    if (device) reactToPeerFacts((s) => this.devices.get(s), device, facts, this.clock.now());
  }

  private listen(nc: NatsConnection, subjects: Subjects): void {
    this.subscriptions.push(...serveSimHost(nc, subjects, this, this.log));
  }
}
