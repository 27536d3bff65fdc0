import test from 'ava';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { checkDuplicates, formatCheck } from '../../forensics/duplicate-check.ts';
import type { ReplaySource } from '../../forensics/replay.ts';

/**
 * `replay check` from the daemon's log alone: its API-call records and its job streams. A log is
 * written here as the daemon writes it (job facts and `api.call.recorded`, each stamped with its run).
 */
const SERIAL = '001234567893';
const T0 = Date.parse('2026-06-01T22:00:00Z');

class Log implements ReplaySource {
  readonly events: EventEnvelope[] = [];
  private readonly seqs = new Map<string, number>();
  constructor(public run = 'r1') {}
  add(stream: string, type: string, data: unknown): this {
    const seq = (this.seqs.get(stream) ?? 0) + 1;
    this.seqs.set(stream, seq);
    const gseq = this.events.length + 1;
    this.events.push({ gseq, stream, seq, type, at: new Date(T0 + gseq * 1000).toISOString(), data, runId: this.run });
    return this;
  }
  job(id: string, type: string, data: unknown = {}): this {
    return this.add(`job:${id}`, type, data);
  }
  call(command: string, outcome = 'ok', target: string | null = SERIAL): this {
    return this.add('api', 'api.call.recorded', { at: '', host: '127.0.0.1:9443', type: 'op', command, durationMs: 5, attempt: 1, outcome, panosStatus: outcome === 'ok' ? 'success' : undefined, ...(target ? { target } : {}) });
  }
  /** A call's record appended now, for a call made when the log's event `gseq` was (half a second after it). */
  callMadeWith(gseq: number, command: string): this {
    this.call(command);
    (this.events.at(-1)!.data as { at: string }).at = new Date(T0 + gseq * 1000 + 500).toISOString();
    return this;
  }
  /** Records appended together, as the daemon batches them (`api.calls.recorded`), each call made when the log's event `gseq` was. */
  batch(...calls: Array<{ gseq: number; command: string }>): this {
    return this.add('api', 'api.calls.recorded', {
      calls: calls.map((c) => ({ at: new Date(T0 + c.gseq * 1000 + 500).toISOString(), host: '127.0.0.1:9443', target: SERIAL, type: 'op', command: c.command, durationMs: 5, attempt: 1, outcome: 'ok', panosStatus: 'success' })),
    });
  }
  readAll(): Iterable<EventEnvelope> {
    return this.events;
  }
  readStream(stream: string): EventEnvelope[] {
    return this.events.filter((e) => e.stream === stream);
  }
  getSnapshot(): undefined {
    return undefined;
  }
}

const install = (v: string): string => `<request><system><software><install><version>${v}</version></install></software></system></request>`;
const RESTART = '<request><restart><system></system></restart></request>';
const SUSPEND = '<request><high-availability><state><suspend></suspend></state></high-availability></request>';
const FUNCTIONAL = '<request><high-availability><state><functional></functional></state></high-availability></request>';

function upgradeJob(log: Log, id = 'j1'): Log {
  return log.job(id, 'job.submitted', { jobId: id, kind: 'upgrade', device: { serial: SERIAL } }).job(id, 'job.started');
}

// Issue 11: killed right after job.install.completed, the restarted daemon ran the install step again.
test('replay check: when a device was sent a second install within the same attempt of the same step, across a crash, then both sends are reported and the check fails', (t) => {
  const log = upgradeJob(new Log('r1'))
    .job('j1', 'job.step.started', { step: 'install', hop: 0, version: '10.5.1', attempt: 1 })
    .job('j1', 'job.install.requested', { version: '10.5.1', hop: 0, baselineJobId: 3 })
    .call(install('10.5.1'))
    .job('j1', 'job.install.completed', { version: '10.5.1', hop: 0 });
  log.run = 'r2';
  log.job('j1', 'job.install.requested', { version: '10.5.1', hop: 0, baselineJobId: 4 }).call(install('10.5.1'));
  const r = checkDuplicates(log);
  t.false(r.ok);
  t.is(r.mutating, 2);
  t.is(r.duplicates.length, 1);
  t.like(r.duplicates[0], { serial: SERIAL, command: 'request.system.software.install 10.5.1', jobId: 'j1', step: 'install', hop: 0, attempt: 1 });
  t.deepEqual(r.duplicates[0]!.sent.map((s) => [s.gseq, s.runId]), [[5, 'r1'], [8, 'r2']]);
  // Checked for either run, the duplicate shows: it has a send in each.
  t.false(checkDuplicates(log, 'r1').ok);
  t.false(checkDuplicates(log, 'r2').ok);
  t.regex(formatCheck(r), /DUPLICATE 001234567893: request\.system\.software\.install 10\.5\.1 sent 2× for job j1 \(install of hop 0, attempt 1\)/);
});

test('replay check: calls recorded in batches count one by one, each in the step it was made in, even when its batch was logged after the next step began', (t) => {
  const log = upgradeJob(new Log('r1'))
    .job('j1', 'job.step.started', { step: 'install', hop: 0, version: '10.5.1', attempt: 1 })
    .job('j1', 'job.install.requested', { version: '10.5.1', hop: 0, baselineJobId: 3 })
    .job('j1', 'job.install.completed', { version: '10.5.1', hop: 0 })
    .job('j1', 'job.step.started', { step: 'reboot', hop: 0, attempt: 1 })
    // The install's record, and a poll of the reboot step, logged together after the reboot step began.
    .batch({ gseq: 4, command: install('10.5.1') }, { gseq: 6, command: '<show><system><info></info></system></show>' });
  t.true(checkDuplicates(log).ok, formatCheck(checkDuplicates(log)));
  t.is(checkDuplicates(log).mutating, 1);
  log.run = 'r2';
  log.job('j1', 'job.step.started', { step: 'install', hop: 0, version: '10.5.1', attempt: 1 }).batch({ gseq: 9, command: install('10.5.1') });
  const r = checkDuplicates(log);
  t.false(r.ok);
  t.is(r.mutating, 2);
  t.like(r.duplicates[0], { serial: SERIAL, command: 'request.system.software.install 10.5.1', jobId: 'j1', step: 'install', hop: 0, attempt: 1 });
  // Each send names the event that holds its record.
  t.deepEqual(r.duplicates[0]!.sent.map((s) => [s.gseq, s.runId]), [[7, 'r1'], [9, 'r2']]);
});

test('replay check: when a step failed and its retry sent the install again then that is a new attempt, not a duplicate', (t) => {
  const log = upgradeJob(new Log())
    .job('j1', 'job.step.started', { step: 'install', hop: 0, version: '10.5.1', attempt: 1 })
    .call(install('10.5.1'))
    .job('j1', 'job.step.failed', { step: 'install', hop: 0, version: '10.5.1', reason: 'busy', retryable: true, attempt: 1 })
    .job('j1', 'job.step.started', { step: 'install', hop: 0, version: '10.5.1', attempt: 2 })
    .call(install('10.5.1'));
  const r = checkDuplicates(log);
  t.true(r.ok, formatCheck(r));
  t.is(r.mutating, 2);
});

test('replay check: when a restart was not answered and sent again then only the accepted one counts, and one restart per hop is fine', (t) => {
  const log = upgradeJob(new Log())
    .job('j1', 'job.step.started', { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 })
    .call(RESTART, 'unreachable')
    .call(RESTART)
    .job('j1', 'job.step.started', { step: 'reboot', hop: 1, version: '11.1.0', attempt: 1 })
    .call(RESTART);
  const r = checkDuplicates(log);
  t.true(r.ok, formatCheck(r));
  t.is(r.mutating, 2);
});

test('replay check: when a device was restarted twice for the same hop then that is a duplicate', (t) => {
  const log = upgradeJob(new Log()).job('j1', 'job.step.started', { step: 'reboot', hop: 1, version: '11.1.0', attempt: 1 }).call(RESTART).call(RESTART);
  const r = checkDuplicates(log);
  t.false(r.ok);
  t.like(r.duplicates[0], { command: 'request.restart.system', step: 'reboot', hop: 1 });
});

test('replay check: when an HA peer was made functional twice in one pair step then that is a duplicate, while suspend and functional in their own steps are not', (t) => {
  const peers = [{ serial: SERIAL }, { serial: '001234567894' }];
  const ok = new Log()
    .job('p1', 'job.ha.submitted', { jobId: 'p1', peers })
    .job('p1', 'job.ha.step.started', { step: 'prepare-first' })
    .call(SUSPEND)
    .job('p1', 'job.ha.step.started', { step: 'restore-first' })
    .call(FUNCTIONAL);
  t.true(checkDuplicates(ok).ok);
  const twice = ok.call(FUNCTIONAL);
  const r = checkDuplicates(twice);
  t.false(r.ok);
  t.like(r.duplicates[0], { jobId: 'p1', step: 'restore-first', command: 'request.high-availability.state.functional' });
});

test('replay check: when a mutating command reached a device no job was working on then it is listed as unattributed, and a run id that is not in the log is an error', (t) => {
  const log = new Log().call(install('10.5.1'));
  const r = checkDuplicates(log);
  t.true(r.ok);
  t.deepEqual(r.unattributed.map((u) => u.command), ['request.system.software.install 10.5.1']);
  t.throws(() => checkDuplicates(log, 'nope'), { message: /no run nope/ });
});

// Found by chaos --cluster: API-call records go to a shared stream, appended in batches after the answer;
// one that lost a race for that stream's head reached the log after the job had moved on.
test('replay check: when the records of two restarts reach the log after the job moved on then each is counted in the step that made it, by its time, and none is a duplicate', (t) => {
  const log = upgradeJob(new Log('r1'))
    .job('j1', 'job.step.started', { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 })
    .job('j1', 'job.reboot.requested', { version: '10.5.1', hop: 0 }) // gseq 4: the first restart is sent after it
    .job('j1', 'job.reboot.completed', { version: '10.5.1', hop: 0 })
    .job('j1', 'job.step.started', { step: 'reboot', hop: 1, version: '11.1.0', attempt: 1 })
    .job('j1', 'job.reboot.requested', { version: '11.1.0', hop: 1 }) // gseq 7: the second
    .job('j1', 'job.reboot.completed', { version: '11.1.0', hop: 1 })
    .job('j1', 'job.step.started', { step: 'post-snapshot', hop: 2, version: null, attempt: 1 })
    .callMadeWith(4, RESTART)
    .callMadeWith(7, RESTART);
  const r = checkDuplicates(log);
  t.deepEqual(r.duplicates, []);
  t.true(r.ok);
  t.is(r.mutating, 2);
  t.deepEqual(r.unattributed, []);
  // Two restarts made in the same step are one too many, however late their records came.
  const twice = upgradeJob(new Log('r1'))
    .job('j1', 'job.step.started', { step: 'reboot', hop: 0, version: '10.5.1', attempt: 1 })
    .job('j1', 'job.reboot.requested', { version: '10.5.1', hop: 0 })
    .job('j1', 'job.reboot.requested', { version: '10.5.1', hop: 0 })
    .job('j1', 'job.step.started', { step: 'post-snapshot', hop: 1, version: null, attempt: 1 })
    .callMadeWith(4, RESTART)
    .callMadeWith(5, RESTART);
  t.like(checkDuplicates(twice).duplicates[0], { step: 'reboot', hop: 0, attempt: 1 });
});
