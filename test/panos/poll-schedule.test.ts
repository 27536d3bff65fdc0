import test from 'ava';
import { BACKOFF_FACTOR, DurationEstimates, nextPollDelay, PollSchedule, remainingFromProgress, STRETCH_FACTOR, UPPER_BOUND_SHARE } from '../../panos/poll-schedule.ts';

test('poll schedule: with an expected duration the next poll comes when the wait should be over', (t) => {
  t.is(nextPollDelay({ elapsedMs: 200, pollMs: 100, expectedMs: 1000, latePolls: 0 }), 800);
});

test('poll schedule: a long expected wait is still looked at every STRETCH_FACTOR polls', (t) => {
  t.is(nextPollDelay({ elapsedMs: 0, pollMs: 100, expectedMs: 600_000, latePolls: 0 }), 100 * STRETCH_FACTOR);
});

test('poll schedule: reported progress is extrapolated from when the wait began', (t) => {
  // 25 % after 500 ms: 1,500 ms to go, from the time of that poll.
  t.is(remainingFromProgress({ elapsedMs: 500, lastProgress: { atMs: 500, percent: 25 } }), 1500);
  t.is(nextPollDelay({ elapsedMs: 500, pollMs: 100, expectedMs: 700, lastProgress: { atMs: 500, percent: 25 }, latePolls: 0 }), 1500);
});

test('poll schedule: two progress points give the rate (a wait resumed in the middle of a job)', (t) => {
  // 50 % at 100 ms, 60 % at 300 ms: 10 % per 200 ms, 40 % left = 800 ms.
  t.is(remainingFromProgress({ elapsedMs: 300, firstProgress: { atMs: 100, percent: 50 }, lastProgress: { atMs: 300, percent: 60 } }), 800);
});

test('poll schedule: no progress and nothing expected: polls back off from pollMs up to BACKOFF_FACTOR times it', (t) => {
  const delays = [1, 2, 3, 4, 5, 6].map((latePolls) => nextPollDelay({ elapsedMs: 0, pollMs: 100, latePolls }));
  t.deepEqual(delays, [100, 150, 225, 337.5, 100 * BACKOFF_FACTOR, 100 * BACKOFF_FACTOR]);
});

test('poll schedule: past the expected end, the polls back off', (t) => {
  const s = new PollSchedule(100, 1000);
  t.is(s.next(1000), 100);
  t.is(s.next(1100), 150);
  t.is(s.next(1250), 225);
});

test('poll schedule: a schedule that sees progress goes by it', (t) => {
  const s = new PollSchedule(100);
  s.observe(100, 10);
  t.is(s.next(100), 900);
  s.observe(1000, 95);
  // 85 % in 900 ms: 5 % left is ~53 ms, less than a poll: the next poll comes after pollMs.
  t.is(s.next(1000), 100);
});

test('duration estimates: the shortest of the recent waits of a kind, per key; none before the first', (t) => {
  const e = new DurationEstimates(3);
  t.is(e.expected('SWInstall PA-VM'), undefined);
  e.record('SWInstall PA-VM', 600);
  e.record('SWInstall PA-VM', 500);
  e.record('Downld PA-VM', 1000);
  t.is(e.expected('SWInstall PA-VM'), 500);
  t.is(e.expected('Downld PA-VM'), 1000);
  e.record('SWInstall PA-VM', 700);
  e.record('SWInstall PA-VM', 800);
  t.is(e.expected('SWInstall PA-VM'), 500);
  e.record('SWInstall PA-VM', 900);
  // Only the last three are kept: 500 has gone.
  t.is(e.expected('SWInstall PA-VM'), 700);
  e.record('SWInstall PA-VM', Number.NaN);
  e.record('SWInstall PA-VM', -5);
  t.is(e.expected('SWInstall PA-VM'), 700);
});

test('duration estimates: a wait found over at its first look counts for a little less, unless one was seen unfinished', (t) => {
  const e = new DurationEstimates(4);
  e.record('SWInstall PA-VM', 1000, false);
  e.record('SWInstall PA-VM', 1200, false);
  t.is(e.expected('SWInstall PA-VM'), 1000 * UPPER_BOUND_SHARE);
  // Seen unfinished, then over at 1,100: the end was between the looks; that beats the upper bounds.
  e.record('SWInstall PA-VM', 1100, true);
  t.is(e.expected('SWInstall PA-VM'), 1100);
  e.record('SWInstall PA-VM', 900, true);
  t.is(e.expected('SWInstall PA-VM'), 900);
});

/**
 * Successive waits of one kind as PanosClient.waitForJob makes them (first look when the estimate says,
 * then PollSchedule), on a job that takes `jobMs`, each look answered `latencyMs` after it is made; the
 * estimate each wait started from.
 */
function firstLooks(e: DurationEstimates, jobs: readonly number[], latencyMs = 50, pollMs = 100): number[] {
  const key = 'SWInstall PA-3220';
  return jobs.map((jobMs) => {
    const expected = e.expected(key);
    const schedule = new PollSchedule(pollMs, expected);
    let look = expected !== undefined ? Math.min(expected, pollMs * STRETCH_FACTOR) : pollMs;
    let seenRunning = false;
    for (;;) {
      const answered = look + latencyMs;
      if (look >= jobMs) {
        e.record(key, answered, seenRunning);
        return expected ?? 0;
      }
      seenRunning = true;
      schedule.observe(answered);
      look = answered + schedule.next(answered);
    }
  });
}

test('duration estimates: the first look does not drift later wait after wait (each look adds its latency)', (t) => {
  const looks = firstLooks(new DurationEstimates(), Array.from({ length: 400 }, () => 1000));
  // Before: every sample was the estimate plus a look's latency, so the estimate grew by 50 ms every 16
  // waits, and the first look reached its cap (pollMs × STRETCH_FACTOR, 2 s for a 1 s job) within 400
  // waits. Now it stays between just before the job's end and one poll past it.
  const last = looks.slice(-50);
  t.true(Math.max(...last) <= 1000 + 100 + 2 * 50, `first looks drifted to ${Math.max(...last)} ms`);
  t.true(Math.min(...last) >= 1000 * UPPER_BOUND_SHARE * UPPER_BOUND_SHARE, `first looks fell to ${Math.min(...last)} ms`);
});

test('duration estimates: a slow spell is forgotten once the jobs are quick again', (t) => {
  const slow = Array.from({ length: 40 }, () => 1800);
  const quick = Array.from({ length: 80 }, () => 400);
  const looks = firstLooks(new DurationEstimates(), [...slow, ...quick]);
  // Before: the slow spell's durations stayed the shortest seen, so every later first look came at 1.8 s
  // or more (2 s at the end) for a job over at 0.4 s.
  t.true(looks.at(-1)! <= 400 + 100 + 2 * 50, `the last first look came at ${looks.at(-1)} ms`);
});
