import { styleText } from 'node:util';
import { withGlobalOptions } from './hints.ts';

type Style = Parameters<typeof styleText>[0];

/** Where a command writes for people: stdout, with colour only where the stream and NO_COLOR allow it. */
export interface Output {
  readonly stream: NodeJS.WriteStream;
  readonly isTTY: boolean;
  write(text: string): void;
  line(text?: string): void;
  /** `text` styled, or plain when the stream is not a colour terminal (node checks isTTY, NO_COLOR, FORCE_COLOR). */
  paint(style: Style, text: string): string;
}

export function outputTo(stream: NodeJS.WriteStream = process.stdout): Output {
  return {
    stream,
    isTTY: stream.isTTY === true,
    // Commands suggested in what is printed (tables and lines), the daemon's messages among them, repeat --data-dir and --nats-url.
    write: (text) => void stream.write(withGlobalOptions(text)),
    line: (text = '') => void stream.write(withGlobalOptions(text) + '\n'),
    paint: (style, text) => styleText(style, text, { stream }),
  };
}

const STATUS_STYLE: Record<string, Style> = {
  complete: 'green',
  download_complete: 'green',
  failed: 'red',
  cancelled: 'yellow',
  pending: 'dim',
};

/** A job status coloured by what it means (done, failed, still going). */
export function paintStatus(out: Output, status: string): string {
  return out.paint(STATUS_STYLE[status] ?? 'cyan', status);
}

/** The order statuses are listed in, from waiting to finished. */
export const STATUS_ORDER = ['pending', 'validating', 'downloading', 'download_complete', 'installing', 'rebooting', 'verifying', 'paused', 'complete', 'failed', 'cancelled'];

function statusRank(s: string): number {
  const i = STATUS_ORDER.indexOf(s);
  return i < 0 ? STATUS_ORDER.length : i;
}

/** The seed's one-line summary: `150 download_complete, 10 downloading, 5 failed`. */
export function countsLine(counts: Record<string, number>, out?: Output): string {
  const entries = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => statusRank(a[0]) - statusRank(b[0]));
  if (entries.length === 0) return 'none';
  return entries.map(([s, n]) => `${n} ${out ? paintStatus(out, s) : s}`).join(', ');
}

/** Visible width: ANSI colour codes take no room. */
function width(s: string): number {
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

function pad(s: string, n: number, right = false): string {
  const fill = ' '.repeat(Math.max(0, n - width(s)));
  return right ? fill + s : s + fill;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  /** Right-align (numbers). */
  right?: boolean;
}

/** An aligned text table; the last column is not padded, so long messages do not leave trailing blanks. */
export function table<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>, out?: Output): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => width(row[i] ?? ''))));
  const render = (row: readonly string[]): string =>
    row
      .map((cell, i) => (i === row.length - 1 && !columns[i]?.right ? cell : pad(cell, widths[i] ?? 0, columns[i]?.right)))
      .join('  ')
      .trimEnd();
  const header = render(columns.map((c) => c.header));
  return [out ? out.paint('bold', header) : header, ...cells.map(render)].join('\n') + '\n';
}

/** `fw-dc1-01 (001234567890)`, or the serial alone when the hostname is unknown. */
export function deviceName(hostname: string | undefined | null, serial: string): string {
  return hostname ? `${hostname} (${serial})` : serial;
}

/** A job's device: `fw-dc1-01 (001234567890)`, or `HA pair fw-dc2-01 / fw-dc2-02` for a pair job. */
export function jobName(job: { kind: string; hostname: string; device_serial: string }): string {
  return job.kind.startsWith('ha-') ? `HA pair ${job.hostname}` : deviceName(job.hostname, job.device_serial);
}

/** Print a reply object exactly as the daemon sent it, for `--json`. */
export function printJson(out: Output, value: unknown): void {
  // As sent: straight to the stream, not through the hints' rewriting.
  out.stream.write(JSON.stringify(value, null, 2) + '\n');
}

/** `12.3 s` / `1 min 05 s`. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
}
