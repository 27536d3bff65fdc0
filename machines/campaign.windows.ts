import { DateTime, IANAZone } from 'luxon';

/**
 * A maintenance window: weekdays, a local start and end time, a time zone. `end <= start` means the
 * window crosses midnight (it ends on the next day). Written `Sat 01:00-05:00 Europe/Berlin`,
 * `Mon-Fri 22:00-02:00 UTC`, `Sat,Sun 00:00-06:00 America/New_York` or `daily 01:00-03:00 UTC`.
 */
export interface MaintenanceWindow {
  text: string;
  /** Luxon weekdays, 1 = Monday … 7 = Sunday. */
  days: number[];
  startMinute: number;
  endMinute: number;
  zone: string;
}

export class WindowSyntaxError extends Error {
  constructor(readonly text: string, readonly problem: string) {
    super(`maintenance window "${text}": ${problem} (expected e.g. "Sat 01:00-05:00 Europe/Berlin")`);
    this.name = 'WindowSyntaxError';
  }
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function dayNumber(text: string, window: string): number {
  const i = DAY_NAMES.indexOf(text.slice(0, 3).toLowerCase());
  if (i < 0 || text.length < 3) throw new WindowSyntaxError(window, `"${text}" is not a weekday (Mon … Sun)`);
  return i + 1;
}

function parseDays(text: string, window: string): number[] {
  const t = text.toLowerCase();
  if (t === 'daily' || t === '*' || t === 'every') return [1, 2, 3, 4, 5, 6, 7];
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const range = part.split('-');
    if (range.length === 2) {
      const from = dayNumber(range[0]!, window);
      const to = dayNumber(range[1]!, window);
      for (let d = from; ; d = (d % 7) + 1) {
        days.add(d);
        if (d === to) break;
      }
    } else if (range.length === 1) days.add(dayNumber(part, window));
    else throw new WindowSyntaxError(window, `"${part}" is not a weekday or a range such as Mon-Fri`);
  }
  return [...days].sort();
}

function parseClock(text: string, window: string): number {
  const m = /^([01]?\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!m) throw new WindowSyntaxError(window, `"${text}" is not a time HH:MM`);
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 24 * 60) throw new WindowSyntaxError(window, `"${text}" is past 24:00`);
  return minutes;
}

export function parseWindow(text: string): MaintenanceWindow {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 3) throw new WindowSyntaxError(text, 'needs three parts: days, HH:MM-HH:MM and a time zone');
  const [daysText, timesText, zone] = parts as [string, string, string];
  const days = parseDays(daysText, text);
  const times = timesText.split('-');
  if (times.length !== 2) throw new WindowSyntaxError(text, `"${timesText}" is not a time range HH:MM-HH:MM`);
  const startMinute = parseClock(times[0]!, text);
  const endMinute = parseClock(times[1]!, text);
  if (startMinute === endMinute) throw new WindowSyntaxError(text, 'the window is empty (start equals end)');
  if (!IANAZone.isValidZone(zone)) throw new WindowSyntaxError(text, `"${zone}" is not a time zone (IANA names such as Europe/Berlin, or UTC)`);
  return { text: text.trim(), days, startMinute, endMinute, zone };
}

/** Each window's opening and closing instants (epoch ms) whose opening falls in [from - 1 day, from + 8 days]. */
function occurrences(w: MaintenanceWindow, from: number): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  const local = DateTime.fromMillis(from, { zone: w.zone }).startOf('day');
  for (let offset = -1; offset <= 8; offset++) {
    const day = local.plus({ days: offset });
    if (!w.days.includes(day.weekday)) continue;
    const start = day.set({ hour: Math.floor(w.startMinute / 60), minute: w.startMinute % 60 });
    // Wall-clock end on the same or the next day; a DST change inside the window is honoured by luxon.
    const endDay = w.endMinute > w.startMinute ? day : day.plus({ days: 1 });
    const end = endDay.startOf('day').plus({ minutes: w.endMinute });
    out.push({ start: start.toMillis(), end: end.toMillis() });
  }
  return out;
}

export interface WindowStatus {
  /** Whether `at` falls inside a window (always true when there are no windows). */
  open: boolean;
  /** When the window `at` is in closes (null: no windows, always open). */
  closesAt: number | null;
  /** The next opening after `at` (when closed), or null with no windows. */
  opensAt: number | null;
}

/** Where `at` stands against the windows; overlapping windows merge. */
export function windowStatus(windows: readonly MaintenanceWindow[], at: number): WindowStatus {
  if (windows.length === 0) return { open: true, closesAt: null, opensAt: null };
  const merged = mergedSpans(windows, at);
  const inside = merged.find((s) => s.start <= at && at < s.end);
  if (inside) return { open: true, closesAt: inside.end, opensAt: null };
  const next = merged.find((s) => s.start > at);
  return { open: false, closesAt: null, opensAt: next?.start ?? null };
}

/**
 * The earliest instant at or after `at` when work of `durationMs` can start inside a window and end
 * before it closes; null when no window within a week is long enough.
 */
export function earliestFit(windows: readonly MaintenanceWindow[], at: number, durationMs: number): number | null {
  if (windows.length === 0) return at;
  let t = at;
  for (let i = 0; i < 64; i++) {
    const s = windowStatus(windows, t);
    if (s.open) {
      if (t + durationMs <= s.closesAt!) return t;
      t = s.closesAt!;
      continue;
    }
    if (s.opensAt === null) return null;
    t = s.opensAt;
  }
  return null;
}

/** The windows' openings around `from`, overlapping or touching ones merged: a job may run across two back-to-back windows. */
function mergedSpans(windows: readonly MaintenanceWindow[], from: number): Array<{ start: number; end: number }> {
  const spans = windows.flatMap((w) => occurrences(w, from)).sort((a, b) => a.start - b.start);
  const merged: Array<{ start: number; end: number }> = [];
  for (const s of spans) {
    const last = merged.at(-1);
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged;
}

/** The longest time the windows stay open in the week from `from` (windows that join up count as one). */
export function longestWindowMs(windows: readonly MaintenanceWindow[], from: number): number {
  return Math.max(0, ...mergedSpans(windows, from).map((s) => s.end - s.start));
}

/** `Sat 01:00 Europe/Berlin` for an instant, in the zone of the first window (or UTC). */
export function formatInZone(ms: number, zone = 'UTC'): string {
  return DateTime.fromMillis(ms, { zone }).toFormat('ccc yyyy-LL-dd HH:mm ZZZZ');
}
