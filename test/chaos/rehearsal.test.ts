import test from 'ava';
import pino from 'pino';
import { Writable } from 'node:stream';
import { cleanUp, until, within } from '../../chaos/rehearsal.ts';

/** A logger whose lines are kept, parsed. */
function keptLog(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

test('within: a promise that settles in time gives its value or its rejection; one that never settles gives settled: false', async (t) => {
  t.deepEqual(await within(Promise.resolve(7), 1_000), { settled: true, value: 7 });
  await t.throwsAsync(within(Promise.reject(new Error('refused')), 1_000), { message: 'refused' });
  const started = Date.now();
  t.deepEqual(await within(never<number>(), 50), { settled: false });
  t.true(Date.now() - started < 1_000);
});

test('until: a probe that never settles ends the wait at its deadline (with the least time a probe is given), undefined', async (t) => {
  let probes = 0;
  const started = Date.now();
  const v = await until(() => {
    probes++;
    return never<number>();
  }, 100);
  t.is(v, undefined);
  t.is(probes, 1);
  const took = Date.now() - started;
  t.true(took >= 4_900 && took < 30_000, `${took} ms`);
});

test('until: a probe that throws is "not there yet"; the first value ends the wait', async (t) => {
  let probes = 0;
  const v = await until(async () => {
    probes++;
    if (probes < 3) throw new Error('not yet');
    return probes === 3 ? undefined : 'up';
  }, 5_000, 10);
  t.is(v, 'up');
  t.is(probes, 4);
});

test('cleanUp: a step that never finishes is logged by name and left behind; a failing step is logged; the next step still runs', async (t) => {
  const { log, lines } = keptLog();
  const ran: string[] = [];
  await cleanUp(log, 'close the NATS connection', () => never(), 50);
  await cleanUp(log, 'stop the simulator', async () => {
    throw new Error('already stopped');
  });
  await cleanUp(log, 'stop nats-server', async () => void ran.push('stop nats-server'));
  t.deepEqual(ran, ['stop nats-server']);
  t.deepEqual(
    lines.map((l) => [l.step, l.msg]),
    [
      ['close the NATS connection', 'a cleanup step did not finish in time: going on without it'],
      ['stop the simulator', 'a cleanup step failed'],
    ],
  );
});
