/**
 * Time formats PAN-OS prints, rendered in UTC from ms since the epoch, and parsed back.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const p2 = (n: number) => String(n).padStart(2, '0');

/** `YYYY/MM/DD HH:MM:SS`, as in job `tenq`/`tfin` and `released-on`. */
export function formatPanosTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())} ${formatTimeOfDay(ms)}`;
}

/** `HH:MM:SS`, as in job `tdeq`. */
export function formatTimeOfDay(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}

/** `Tue Jan  8 16:22:56 2019` (C asctime, day padded with a space), as in `show system info` `<time>`. */
export function formatAsctime(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${formatTimeOfDay(ms)} ${d.getUTCFullYear()}`;
}

/** `Wed Apr 19 00:41:36 UTC 2023`, as `show clock` prints it (pan-os-upgrade-assurance splits on whitespace). */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${formatTimeOfDay(ms)} UTC ${d.getUTCFullYear()}`;
}

/** Parse `YYYY/MM/DD HH:MM:SS` (optionally followed by a zone name, taken as UTC) to ms; undefined otherwise. */
export function parsePanosTime(text: string): number | undefined {
  const m = /^\s*(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\s+\S+)?\s*$/.exec(text);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Parse `Wed Apr 19 00:41:36 PDT 2023` or `Tue Jan  8 16:22:56 2019`; the zone is ignored (read as UTC). */
export function parseClockText(text: string): number | undefined {
  const parts = text.trim().split(/\s+/);
  const [, mon, day, time] = parts;
  const year = parts[parts.length - 1];
  const month = MONTHS.indexOf((mon ?? '') as (typeof MONTHS)[number]);
  const t = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(time ?? '');
  if (parts.length < 5 || month < 0 || !t || !/^\d{4}$/.test(year ?? '') || !/^\d{1,2}$/.test(day ?? '')) return undefined;
  return Date.UTC(Number(year), month, Number(day), Number(t[1]), Number(t[2]), Number(t[3]));
}
