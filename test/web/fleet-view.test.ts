import test from 'ava';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { FleetView } from '../../web/fleet-view.ts';
import { ListenAddressError, parseListenAddress } from '../../web/server.ts';

let gseq = 0;
const NOW = 1_700_000_100_000;
function ev(stream: string, seq: number, type: string, data: unknown): EventEnvelope {
  return { gseq: ++gseq, stream, seq, type, at: new Date(1_700_000_000_000 + gseq * 1000).toISOString(), data };
}

const device = { serial: '001', hostname: 'fw-1', mgmtIp: '10.0.0.1', model: 'PA-440', family: '400', swVersion: '10.1.0', appVersion: '1', connected: true, haState: null, haPeer: null };
const submitted = (jobId: string) =>
  ev(`job:${jobId}`, 1, 'job.submitted', {
    jobId,
    kind: 'download-only',
    dryRun: false,
    device: { serial: '001', hostname: 'fw-1', mgmtIp: '10.0.0.1', model: 'PA-440', swVersion: '10.1.0', haState: null, haPeer: null },
    targetVersion: null,
    plan: [{ version: '10.5.1', action: 'install' }],
    planSource: 'static',
    policy: { maxAttempts: 1, retryBackoffMs: 0, thresholds: { sessionsPct: 10, routesDelta: 0, arpPct: 5, arpDelta: 5 } },
  });

test('fleet view: when an event repeats then it is dropped, and when one is missing then the next is held back as a gap', (t) => {
  const view = new FleetView();
  t.is(view.offer(ev('device:001', 1, 'device.discovered', device)), 'applied');
  t.like(view.takePatch(NOW)!.devices[0], { serial: '001', status: 'idle', version: '10.1.0', site: 'fw', group: null });
  t.is(view.takePatch(NOW), undefined);

  const s = submitted('j1');
  t.is(view.offer(s), 'applied');
  t.is(view.offer(s), 'duplicate');
  const started = ev('job:j1', 2, 'job.started', {});
  const failed = ev('job:j1', 3, 'job.failed', { step: 'download', reason: 'disk full' });
  t.is(view.offer(failed), 'gap');
  t.is(view.seqOf('job:j1'), 1);
  t.is(view.offer(started), 'applied');
  t.is(view.offer(failed), 'applied');
  const patch = view.takePatch(NOW)!;
  t.like(patch.devices[0], { serial: '001', status: 'failed', reason: 'disk full', jobId: 'j1' });
  t.like(patch.jobs[0], { jobId: 'j1', status: 'failed', reason: 'disk full', kind: 'download-only' });
  t.is(patch.position, failed.gseq);
  t.is(view.offer(ev('sim:001', 1, 'sim.reboot.completed', {})), 'ignored');
});

test('fleet view: a device shows its latest job, not an older one that changes later', (t) => {
  const view = new FleetView();
  view.offer(ev('device:001', 1, 'device.discovered', device));
  view.offer(submitted('old'));
  view.offer(submitted('new'));
  view.takePatch(NOW);
  view.offer(ev('job:old', 2, 'job.cancelled', { reason: 'by operator' }));
  const patch = view.takePatch(NOW)!;
  t.deepEqual(patch.devices, []);
  t.like(patch.jobs[0], { jobId: 'old', status: 'cancelled' });
  t.like(view.deviceRow('001'), { jobId: 'new', status: 'pending' });
});

test('ui.listen: loopback addresses and bare ports are accepted; any other address is refused with the reason', (t) => {
  t.deepEqual(parseListenAddress('127.0.0.1:8470'), { host: '127.0.0.1', port: 8470 });
  t.deepEqual(parseListenAddress('8470'), { host: '127.0.0.1', port: 8470 });
  t.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  t.deepEqual(parseListenAddress('localhost:9000'), { host: 'localhost', port: 9000 });
  const wide = t.throws(() => parseListenAddress('0.0.0.0:8470'), { instanceOf: ListenAddressError });
  t.regex(wide.message, /0\.0\.0\.0 is not a loopback address/);
  t.throws(() => parseListenAddress('192.168.1.5:80'), { instanceOf: ListenAddressError });
  t.throws(() => parseListenAddress('127.0.0.1:99999'), { message: /0-65535/ });
  t.throws(() => parseListenAddress('http://127.0.0.1:80/'), { instanceOf: ListenAddressError });
});
