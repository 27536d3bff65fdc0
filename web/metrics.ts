import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { API_CALL_RECORDED, type EventEnvelope } from '../eventstore/index.ts';
import { commandOf } from '../panos/commands.ts';
import type { FleetView } from './fleet-view.ts';
import { isCampaignTerminal } from '../machines/campaign.fold.ts';

export interface MetricsOptions {
  /** Label per-device series with the serial (off by default: one series per firewall of the fleet). */
  deviceLabels?: boolean;
  /** Also export the process's own metrics (`process_*`, `nodejs_*`); default true. */
  processMetrics?: boolean;
}

export interface MetricsSources {
  view: FleetView;
  natsConnected(): boolean;
  liveClients(): number;
}

/** Seconds; from a few seconds (validate, content) to the hour a large chassis may take to reboot. */
const STEP_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
const CALL_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The command of an XML API call as a label: `request.system.software.install` (never its version or job id). */
export function commandLabel(type: string | undefined, command: string | undefined): string {
  if (type === 'keygen') return 'keygen';
  return commandOf(command).kind ?? 'other';
}

interface ApiCall {
  type?: string;
  command?: string;
  outcome?: string;
  panosCode?: string;
  durationMs?: number;
}

/**
 * The daemon's Prometheus metrics (docs/metrics.md), from the same events as the page: gauges are
 * read from the fleet view at scrape time; counters and histograms count the events seen since this
 * process started (Prometheus' `rate()` and `increase()` handle the reset of a restart).
 */
export class FleetMetrics {
  readonly registry = new Registry();
  private readonly stepStarts = new Map<string, number>();
  private readonly eventsTotal: Counter<'kind'>;
  private readonly lastEvent: Gauge;
  private readonly stepDuration: Histogram<'step' | 'kind' | 'outcome'>;
  private readonly apiCalls: Counter<'command' | 'outcome'>;
  private readonly apiErrors: Counter<'command' | 'outcome' | 'panos_code'>;
  private readonly apiDuration: Histogram<'command'>;

  constructor(sources: MetricsSources, options: MetricsOptions = {}) {
    const registers = [this.registry];
    const { view } = sources;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'panos_upgrade_up',
      help: 'Always 1 while the daemon serves metrics',
      registers,
      collect() {
        this.set(1);
      },
    });
    new Gauge({
      name: 'panos_upgrade_nats_connected',
      help: '1 while the connection to NATS (the event feed and the commands) is open',
      registers,
      collect() {
        this.set(sources.natsConnected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'panos_upgrade_live_clients',
      help: 'Browsers following the live feed (server-sent events)',
      registers,
      collect() {
        this.set(sources.liveClients());
      },
    });
    new Gauge({
      name: 'panos_upgrade_event_log_position',
      help: 'Global position (gseq) of the newest job or device event folded into the view',
      registers,
      collect() {
        this.set(view.position);
      },
    });
    this.lastEvent = new Gauge({ name: 'panos_upgrade_last_event_timestamp_seconds', help: 'Time of the newest event received from NATS (its `at`)', registers });
    this.eventsTotal = new Counter({ name: 'panos_upgrade_events_received_total', help: 'Events received from NATS, by stream kind', labelNames: ['kind'], registers });
    new Gauge({
      name: 'panos_upgrade_jobs',
      help: 'Jobs by status and kind (HA pair jobs are ha-upgrade / ha-download-only; their per-device jobs count as well)',
      labelNames: ['status', 'kind'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, { status: string; kind: string; n: number }>();
        const add = (status: string, kind: string): void => {
          const key = `${status}|${kind}`;
          const c = counts.get(key) ?? { status, kind, n: 0 };
          c.n++;
          counts.set(key, c);
        };
        for (const j of view.jobs.values()) add(j.status, j.kind);
        for (const p of view.pairs.values()) add(p.status, p.kind === 'download-only' ? 'ha-download-only' : 'ha-upgrade');
        for (const c of counts.values()) this.set({ status: c.status, kind: c.kind }, c.n);
      },
    });
    new Gauge({
      name: 'panos_upgrade_devices',
      help: 'Devices in the inventory by the PAN-OS version they run',
      labelNames: ['version'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const d of view.devices.values()) counts.set(d.swVersion, (counts.get(d.swVersion) ?? 0) + 1);
        for (const [version, n] of counts) this.set({ version }, n);
      },
    });
    new Gauge({
      name: 'panos_upgrade_campaigns',
      help: 'Campaigns by status',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const c of view.campaigns.values()) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'panos_upgrade_campaign_units',
      help: 'Units (a device, or both peers of an HA pair) of each campaign that has not ended, by wave (1-based) and status',
      labelNames: ['campaign', 'wave', 'status'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const [id, c] of view.campaigns) {
          if (isCampaignTerminal(c)) continue;
          for (const w of view.campaignRecord(id, now)?.waves ?? []) {
            for (const status of ['complete', 'failed', 'cancelled', 'running', 'waiting'] as const) this.set({ campaign: id, wave: String(w.wave), status }, w[status]);
          }
        }
      },
    });
    new Gauge({
      name: 'panos_upgrade_campaign_wave',
      help: 'The wave (1-based; 0 before the first) each campaign that has not ended is working on',
      labelNames: ['campaign'],
      registers,
      collect() {
        this.reset();
        for (const [id, c] of view.campaigns) if (!isCampaignTerminal(c)) this.set({ campaign: id }, c.wave + 1);
      },
    });
    if (options.deviceLabels) {
      new Gauge({
        name: 'panos_upgrade_device_job_progress',
        help: 'Progress (0-100) of the latest job of each device that had one (metrics.device_labels)',
        labelNames: ['serial'],
        registers,
        collect() {
          this.reset();
          for (const serial of view.devices.keys()) {
            const row = view.deviceRow(serial);
            if (row?.jobId) this.set({ serial }, row.progress);
          }
        },
      });
    }
    this.stepDuration = new Histogram({
      name: 'panos_upgrade_job_step_duration_seconds',
      help: 'Duration of job steps (validate, download, install, reboot, …) from started to completed or failed',
      labelNames: ['step', 'kind', 'outcome'],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.apiCalls = new Counter({
      name: 'panos_upgrade_xml_api_calls_total',
      help: 'XML API calls (each HTTP attempt) the daemon made, by command and outcome',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.apiErrors = new Counter({
      name: 'panos_upgrade_xml_api_errors_total',
      help: 'XML API calls that did not succeed, by command, outcome and PAN-OS error code',
      labelNames: ['command', 'outcome', 'panos_code'],
      registers,
    });
    this.apiDuration = new Histogram({
      name: 'panos_upgrade_xml_api_call_duration_seconds',
      help: 'Duration of XML API calls, by command',
      labelNames: ['command'],
      buckets: CALL_BUCKETS,
      registers,
    });
  }

  /** Count one event received live (after the view has folded it). */
  observe(e: EventEnvelope, jobKind: (jobId: string) => string | undefined): void {
    const colon = e.stream.indexOf(':');
    this.eventsTotal.inc({ kind: colon < 0 ? e.stream : e.stream.slice(0, colon) });
    const at = Date.parse(e.at);
    if (Number.isFinite(at)) this.lastEvent.set(at / 1000);
    if (e.type === API_CALL_RECORDED) {
      const call = (e.data ?? {}) as ApiCall;
      const command = commandLabel(call.type, call.command);
      const outcome = call.outcome ?? 'unknown';
      this.apiCalls.inc({ command, outcome });
      // A PAN-OS code is a small number; any other text a device sends would make a series of its own.
      if (outcome !== 'ok') this.apiErrors.inc({ command, outcome, panos_code: call.panosCode === undefined ? '' : /^\d{1,5}$/.test(call.panosCode) ? call.panosCode : 'other' });
      if (typeof call.durationMs === 'number') this.apiDuration.observe({ command }, call.durationMs / 1000);
      return;
    }
    if (!e.stream.startsWith('job:')) return;
    const d = (e.data ?? {}) as { step?: string; hop?: number };
    const key = `${e.stream}|${d.step}|${d.hop}`;
    if (e.type === 'job.step.started') {
      if (Number.isFinite(at)) this.stepStarts.set(key, at);
    } else if (e.type === 'job.step.completed' || e.type === 'job.step.failed') {
      const started = this.stepStarts.get(key);
      if (started === undefined || !Number.isFinite(at)) return;
      this.stepStarts.delete(key);
      const kind = jobKind(e.stream.slice('job:'.length)) ?? 'upgrade';
      this.stepDuration.observe({ step: d.step ?? 'unknown', kind, outcome: e.type === 'job.step.completed' ? 'completed' : 'failed' }, Math.max(0, (at - started) / 1000));
    } else if (e.type === 'job.completed' || e.type === 'job.failed' || e.type === 'job.cancelled') {
      for (const k of this.stepStarts.keys()) if (k.startsWith(`${e.stream}|`)) this.stepStarts.delete(k);
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
