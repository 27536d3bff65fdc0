import { MultiBar, type SingleBar } from 'cli-progress';
import type { StatusRecord } from '../actors/daemon.ts';
import { TERMINAL_STATUSES, type UpgradeStatus } from '../machines/upgrade-job.fold.ts';
import { countsLine, jobName, paintStatus, type Output } from './output.ts';

const BAR_OPTIONS = {
  hideCursor: true,
  clearOnComplete: false,
  stopOnComplete: false,
  barsize: 24,
  barCompleteChar: '█',
  barIncompleteChar: '░',
  autopadding: true,
  fps: 8,
  // Lines are cut at the terminal's width rather than wrapped, which would break the redraw.
  linewrap: false,
} as const;

/**
 * One bar per job, for a handful of jobs (`job submit --wait`, the demo's upgrades). On a terminal the
 * bars redraw in place (cli-progress); elsewhere (a pipe, a log file, CI) each change of status or
 * message is one line, so a log shows every step without a flood of percentages.
 */
export class JobBars {
  private multi: MultiBar | undefined;
  private readonly bars = new Map<string, SingleBar>();
  private readonly last = new Map<string, string>();
  private readonly nameWidth: number;

  constructor(private readonly out: Output, names: readonly string[] = []) {
    this.nameWidth = Math.max(12, ...names.map((n) => n.length));
    if (out.isTTY) {
      this.multi = new MultiBar({ ...BAR_OPTIONS, stream: out.stream, format: '{name} {bar} {percentage}% {status} {message}' });
    }
  }

  update(job: StatusRecord): void {
    const name = jobName(job).padEnd(this.nameWidth);
    const payload = { name, status: paintStatus(this.out, job.upgrade_status), message: job.upgrade_message };
    if (this.multi) {
      const bar = this.bars.get(job.job_id);
      if (bar) bar.update(job.progress, payload);
      else this.bars.set(job.job_id, this.multi.create(100, job.progress, payload));
      return;
    }
    const key = `${job.upgrade_status}\u0000${job.upgrade_message}`;
    if (this.last.get(job.job_id) === key) return;
    this.last.set(job.job_id, key);
    this.out.line(`${name}  ${String(job.progress).padStart(3)}%  ${paintStatus(this.out, job.upgrade_status)}  ${job.upgrade_message}`);
  }

  /** Leave the bars as they last were and give the terminal back. */
  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
  }
}

/**
 * Many devices at once (the whole fleet's downloads): one overall bar and a compact count by status;
 * 230 bars would be unreadable. Off a terminal, one line at each tenth of the way and at the end.
 */
export class FleetProgress {
  private multi: MultiBar | undefined;
  private bar: SingleBar | undefined;
  private readonly statuses = new Map<string, UpgradeStatus>();
  private readonly deviceBars = new Map<string, SingleBar>();
  private total = 0;
  private lastTenth = -1;

  /** `activeBars`: on a terminal, also a bar for each device being worked on (at most that many at once). */
  constructor(private readonly out: Output, private readonly label: string, private readonly activeBars = 0) {
    if (out.isTTY) {
      this.multi = new MultiBar({ ...BAR_OPTIONS, barsize: 30, stream: out.stream, format: '{label} {bar} {value}/{total} finished  {summary}' });
      this.bar = this.multi.create(1, 0, { label, summary: '' });
    }
  }

  /** How many devices the run has (the bar grows with the devices seen until this is known). */
  setTotal(total: number): void {
    this.total = total;
    this.render();
  }

  set(serial: string, status: UpgradeStatus, detail?: { name: string; progress: number; message: string }): void {
    this.deviceBar(serial, status, detail);
    if (this.statuses.get(serial) === status) return;
    this.statuses.set(serial, status);
    this.render();
  }

  /** A device being worked on gets its own bar under the overall one until its job ends. */
  private deviceBar(serial: string, status: UpgradeStatus, detail: { name: string; progress: number; message: string } | undefined): void {
    if (!this.multi || this.activeBars === 0) return;
    const bar = this.deviceBars.get(serial);
    const working = status !== 'pending' && !TERMINAL_STATUSES.has(status);
    if (!working) {
      if (bar) {
        this.multi.remove(bar);
        this.deviceBars.delete(serial);
      }
      return;
    }
    if (!detail) return;
    const payload = { label: `  ${detail.name.padEnd(28)}`, summary: `${paintStatus(this.out, status)} ${detail.message}` };
    if (bar) bar.update(detail.progress, payload);
    else if (this.deviceBars.size < this.activeBars) {
      this.deviceBars.set(serial, this.multi.create(100, detail.progress, payload, { format: '{label} {bar} {percentage}% {summary}', barsize: 24 }));
    }
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const s of this.statuses.values()) counts[s] = (counts[s] ?? 0) + 1;
    return counts;
  }

  private finished(): number {
    let n = 0;
    for (const s of this.statuses.values()) if (TERMINAL_STATUSES.has(s)) n++;
    return n;
  }

  private render(): void {
    const total = Math.max(this.total, this.statuses.size, 1);
    const finished = this.finished();
    if (this.bar) {
      if (this.bar.getTotal() !== total) this.bar.setTotal(total);
      this.bar.update(finished, { label: this.label, summary: this.summary(total) });
      return;
    }
    if (this.total === 0 || this.statuses.size === 0) return;
    const tenth = Math.floor((10 * finished) / total);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.out.line(`${this.label}: ${finished}/${total} finished (${Math.round((100 * finished) / total)}%): ${this.summary(total)}`);
  }

  /** The counts by status, adding up to the total: devices of the run not heard from yet are counted as such. */
  private summary(total: number): string {
    const unseen = total - this.statuses.size;
    return countsLine(this.counts(), this.out) + (unseen > 0 ? `, ${unseen} not reported yet` : '');
  }

  /** A line above the bar (or just a line, off a terminal). */
  log(text: string): void {
    if (this.multi) this.multi.log(text + '\n');
    else this.out.line(text);
  }

  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
    this.bar = undefined;
  }
}
