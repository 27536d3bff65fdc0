import test from 'ava';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { checkClusterInvariants, clusterChaosPlan } from '../../forensics/cluster-check.ts';
import type { Scenario } from '../../scenarios/types.ts';

let gseq = 0;
const ev = (stream: string, seq: number, type: string, extra: Partial<EventEnvelope> = {}, data: unknown = {}): EventEnvelope => ({ gseq: ++gseq, stream, seq, type, at: '2026-12-04T17:00:00.000Z', data, ...extra });

test('cluster check: facts under growing epochs pass; a job fact without an epoch, or under an older one after a newer, is a violation', (t) => {
  const good = [ev('job:a', 1, 'job.submitted', { epoch: 3 }), ev('job:a', 2, 'job.step.started', { epoch: 3 }), ev('job:a', 3, 'job.step.started', { epoch: 9 }), ev('api', 1, 'api.call.recorded')];
  t.true(checkClusterInvariants({ daemonEvents: good })[0]!.ok);
  const [fenced] = checkClusterInvariants({ daemonEvents: [...good, ev('job:a', 4, 'job.install.requested', { epoch: 3 }), ev('campaign:c', 1, 'campaign.created')] });
  t.false(fenced!.ok);
  t.deepEqual(fenced!.violations, ['job:a #4 job.install.requested was appended under epoch 3 after epoch 9: a fenced writer', 'campaign:c #1 campaign.created was appended without a lease epoch']);
});

test('cluster check: the frozen daemon’s mutating call recorded after it woke (past the grace) is a violation; a read, or another run’s call, is not', (t) => {
  const woke = Date.parse('2026-12-04T17:00:00.000Z');
  const call = (runId: string, at: string, cmd: string) => ({ ...ev('api', 1, 'api.call.recorded', { runId }, { command: cmd, outcome: 'ok', target: '0099' }), at });
  const install = '<request><system><software><install><version>11.1.0</version></install></software></system></request>';
  const events = [call('old', '2026-12-04T17:00:01.000Z', install), call('old', '2026-12-04T17:00:30.000Z', '<show><system><info></info></system></show>'), call('new', '2026-12-04T17:00:30.000Z', install)];
  const ok = checkClusterInvariants({ daemonEvents: events, paused: { runId: 'old', resumedAt: woke }, graceMs: 5_000 })[1]!;
  t.true(ok.ok, ok.violations.join('\n'));
  const late = checkClusterInvariants({ daemonEvents: [...events, call('old', '2026-12-04T17:00:20.000Z', install)], paused: { runId: 'old', resumedAt: woke } })[1]!;
  t.false(late.ok);
  t.regex(late.violations[0]!, /run old sent request\.system\.software\.install 11\.1\.0 to 0099/);
  // The same call in a batch of records (as daemons append them), by the time it was made.
  const batch = ev('api', 2, 'api.calls.recorded', { runId: 'old', at: '2026-12-04T17:00:40.000Z' }, {
    calls: [
      { at: '2026-12-04T17:00:02.000Z', command: install, outcome: 'ok', target: '0098' },
      { at: '2026-12-04T17:00:20.000Z', command: install, outcome: 'ok', target: '0099' },
    ],
  });
  const batched = checkClusterInvariants({ daemonEvents: [...events, batch], paused: { runId: 'old', resumedAt: woke } })[1]!;
  t.deepEqual(batched.violations, ['run old sent request.system.software.install 11.1.0 to 0099 at 2026-12-04T17:00:20.000Z, after it was woken past its lease']);
});

test('cluster chaos plan: three disruptions in order within the upgrade, the same for the same seed', (t) => {
  const scenario = { seed: 7 } as Scenario;
  const a = clusterChaosPlan(scenario, 60_000);
  t.deepEqual(a, clusterChaosPlan(scenario, 60_000));
  t.deepEqual(a.disruptions.map((d) => d.what), ['machine-lost', 'nats-node-stop', 'leader-pause']);
  const at = a.disruptions.map((d) => d.atMs);
  t.true(at[0]! < at[1]! && at[1]! < at[2]! && at[2]! < 60_000);
  t.true([0, 1, 2].includes(a.disruptions[1]!.node!));
});
