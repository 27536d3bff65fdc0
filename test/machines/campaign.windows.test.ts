import test from 'ava';
import { earliestFit, parseWindow, windowStatus, WindowSyntaxError } from '../../machines/campaign.windows.ts';

const at = (iso: string): number => Date.parse(iso);

test('windows: "Sat 01:00-05:00 Europe/Berlin" is open on a winter Saturday from 00:00 to 04:00 UTC', (t) => {
  const w = [parseWindow('Sat 01:00-05:00 Europe/Berlin')];
  // 2026-12-05 is a Saturday; Berlin is UTC+1 in December.
  t.deepEqual(windowStatus(w, at('2026-12-05T00:30:00Z')), { open: true, closesAt: at('2026-12-05T04:00:00Z'), opensAt: null });
  const before = windowStatus(w, at('2026-12-04T12:00:00Z'));
  t.false(before.open);
  t.is(before.opensAt, at('2026-12-05T00:00:00Z'));
  const after = windowStatus(w, at('2026-12-05T04:00:00Z'));
  t.false(after.open);
  t.is(after.opensAt, at('2026-12-12T00:00:00Z'));
});

test('windows: summer time moves the window by an hour in UTC', (t) => {
  const w = [parseWindow('Sat 01:00-05:00 Europe/Berlin')];
  // 2026-07-04 is a Saturday; Berlin is UTC+2.
  t.is(windowStatus(w, at('2026-07-03T12:00:00Z')).opensAt, at('2026-07-03T23:00:00Z'));
});

test('windows: a window that crosses midnight ends the next day; ranges and lists of days', (t) => {
  const w = [parseWindow('Mon-Fri 22:00-02:00 UTC')];
  t.deepEqual(w[0]!.days, [1, 2, 3, 4, 5]);
  // Friday 23:00 → open until Saturday 02:00.
  t.deepEqual(windowStatus(w, at('2026-12-04T23:00:00Z')), { open: true, closesAt: at('2026-12-05T02:00:00Z'), opensAt: null });
  // Saturday 12:00 → next is Monday 22:00.
  t.is(windowStatus(w, at('2026-12-05T12:00:00Z')).opensAt, at('2026-12-07T22:00:00Z'));
  t.deepEqual(parseWindow('Sat,Sun 00:00-06:00 America/New_York').days, [6, 7]);
  t.deepEqual(parseWindow('daily 01:00-03:00 UTC').days, [1, 2, 3, 4, 5, 6, 7]);
});

test('windows: several windows; back-to-back ones merge so that a long job fits across them', (t) => {
  const w = ['Sat 01:00-03:00 UTC', 'Sat 03:00-05:00 UTC'].map(parseWindow);
  t.is(windowStatus(w, at('2026-12-05T01:30:00Z')).closesAt, at('2026-12-05T05:00:00Z'));
  t.is(earliestFit(w, at('2026-12-05T01:30:00Z'), 3 * 3600_000), at('2026-12-05T01:30:00Z'));
});

test('windows: earliestFit skips a window too short for the work and the rest of one closing soon', (t) => {
  const w = ['Fri 20:00-21:00 UTC', 'Sat 01:00-05:00 UTC'].map(parseWindow);
  // 2 h of work on Friday 20:30: the Friday window is too short, Saturday 01:00 fits.
  t.is(earliestFit(w, at('2026-12-04T20:30:00Z'), 2 * 3600_000), at('2026-12-05T01:00:00Z'));
  // Saturday 04:00 with 2 h of work: too late for this Saturday; the next Friday window is too short too.
  t.is(earliestFit(w, at('2026-12-05T04:00:00Z'), 2 * 3600_000), at('2026-12-12T01:00:00Z'));
  t.is(earliestFit([], at('2026-12-05T04:00:00Z'), 2 * 3600_000), at('2026-12-05T04:00:00Z'));
  t.is(earliestFit(w, at('2026-12-05T04:00:00Z'), 5 * 3600_000), null);
});

test('windows: a malformed window says what is wrong and what is expected', (t) => {
  for (const [text, part] of [
    ['Sat 01:00-05:00', 'three parts'],
    ['Sat 01:00-05:00 Mars/Olympus', 'not a time zone'],
    ['Funday 01:00-05:00 UTC', 'not a weekday'],
    ['Sat 1-5 UTC', 'not a time HH:MM'],
    ['Sat 01:00-01:00 UTC', 'empty'],
  ] as const) {
    const err = t.throws(() => parseWindow(text), { instanceOf: WindowSyntaxError });
    t.true(err!.message.includes(part), `${text}: ${err!.message}`);
    t.true(err!.message.includes('Sat 01:00-05:00 Europe/Berlin'));
  }
});
