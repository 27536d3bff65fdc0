import test from 'ava';
import { RemoteError, Subjects } from '../../bus/index.ts';
import { InProcessSimClient, SimulatorReplyError, SimulatorUnavailableError, jsonCopy, type LocalSimulator, type SimClient } from '../../gateway/sim-client.ts';
import { NotFoundError } from '../../panos/errors.ts';

const subjects = new Subjects('t');
const OWNED = '000000000001';

function local(overrides: Partial<LocalSimulator> = {}): LocalSimulator {
  return {
    owns: (serial) => serial === OWNED,
    op: () => ({ status: 200, body: '<response status="success"/>' }),
    control: () => ({ done: true }),
    ...overrides,
  };
}

test('in-process sim client: when the simulator changes what it was given or what it answered then the gateway\'s objects stay as they were', async (t) => {
  let given: Record<string, unknown> | undefined;
  const answer = { status: 200, body: '<a/>', contentType: 'text/xml' };
  const client = new InProcessSimClient(
    local({
      op(_serial, request) {
        given = request as unknown as Record<string, unknown>;
        given.cmd = 'changed';
        return answer;
      },
    }),
    subjects,
    1000,
  );
  const payload = { type: 'op' as const, cmd: '<show/>', target: undefined };
  const reply = await client.op(OWNED, payload);
  t.is(payload.cmd, '<show/>');
  t.false('target' in given!, 'an undefined field does not cross, as in JSON');
  answer.body = '<changed/>';
  t.deepEqual(reply, { kind: 'http', status: 200, body: '<a/>', contentType: 'text/xml' });
});

test('in-process sim client: when the simulator throws then the gateway gets the RemoteError the NATS reply would have made', async (t) => {
  const client = new InProcessSimClient(
    local({
      op: async () => {
        throw new NotFoundError('device', 'x');
      },
      control: () => {
        throw new Error('plain failure');
      },
    }),
    subjects,
    1000,
  );
  const err = await t.throwsAsync(client.op(OWNED, { type: 'op', cmd: '<x/>' }), { instanceOf: RemoteError });
  t.is(err.code, 'NOT_FOUND');
  const ctl = await t.throwsAsync(client.ctl('-', 'list'), { instanceOf: RemoteError });
  t.is(ctl.code, 'INTERNAL');
  t.is(ctl.message, 'plain failure');
});

test('in-process sim client: when the answer is an error object, not HTTP, or not JSON then it is refused as the NATS client refuses it', async (t) => {
  let answer: unknown = { error: { code: 'BOOM', message: 'exploded', extra: 1 } };
  const client = new InProcessSimClient(local({ op: () => answer as object }), subjects, 1000);
  const remote = await t.throwsAsync(client.op(OWNED, { type: 'op' }), { instanceOf: RemoteError });
  t.deepEqual([remote.code, remote.message, remote.details], ['BOOM', 'exploded', { extra: 1 }]);
  answer = { status: 200 };
  await t.throwsAsync(client.op(OWNED, { type: 'op' }), { instanceOf: SimulatorReplyError, message: /t\.sim\.000000000001\.op: no body/ });
  const cycle: Record<string, unknown> = { status: 200, body: 'x' };
  cycle.self = cycle;
  answer = cycle;
  await t.throwsAsync(client.op(OWNED, { type: 'op' }), { instanceOf: SimulatorReplyError, message: /not JSON/ });
});

test('in-process sim client: when the simulator is too slow, or does not own the serial, then it is unavailable as over NATS', async (t) => {
  const client = new InProcessSimClient(local({ op: () => new Promise((r) => setTimeout(() => r({ status: 200, body: '' }), 500)) }), subjects, 50);
  const slow = await t.throwsAsync(client.op(OWNED, { type: 'op' }), { instanceOf: SimulatorUnavailableError });
  t.deepEqual([slow.reason, slow.subject], ['timeout', 't.sim.000000000001.op']);
  const other = await t.throwsAsync(client.op('000000000002', { type: 'op' }), { instanceOf: SimulatorUnavailableError });
  t.deepEqual([other.reason, other.subject], ['no-responder', 't.sim.000000000002.op']);
  const ctl = await t.throwsAsync(client.ctl('000000000002', 'get'), { instanceOf: SimulatorUnavailableError });
  t.is(ctl.subject, 't.sim.ctl.000000000002.get');
});

test('in-process sim client: when a fallback is given then other serials and every control action go to it', async (t) => {
  const calls: string[] = [];
  const fallback: SimClient = {
    subjects,
    op: async (serial) => {
      calls.push(`op ${serial}`);
      return { kind: 'drop' };
    },
    ctl: async (serial, action) => {
      calls.push(`ctl ${serial} ${action}`);
      return { ok: 'fallback' };
    },
    describe: () => Promise.reject(new Error('unused')),
  };
  const client = new InProcessSimClient(local(), subjects, 1000, fallback);
  t.deepEqual(await client.op(OWNED, { type: 'op' }), { kind: 'http', status: 200, body: '<response status="success"/>', contentType: 'application/xml; charset=UTF-8' });
  t.deepEqual(await client.op('000000000009', { type: 'op' }), { kind: 'drop' });
  t.deepEqual(await client.ctl(OWNED, 'list'), { ok: 'fallback' });
  t.deepEqual(calls, ['op 000000000009', `ctl ${OWNED} list`]);
  const alone = new InProcessSimClient(local(), subjects, 1000);
  t.deepEqual(await alone.ctl('-', 'list'), { done: true });
});

test('in-process sim client: jsonCopy gives what a JSON round trip gives', (t) => {
  const subject = (): string => 's';
  const samples: object[] = [
    { a: 'x', b: 1, c: true, d: undefined },
    { n: Number.NaN, i: Infinity },
    { nested: { list: [1, undefined, 'x'] }, when: new Date(0) },
    { fn: () => 1, s: Symbol('x'), ok: true },
  ];
  for (const v of samples) t.deepEqual(jsonCopy(v, subject), JSON.parse(JSON.stringify(v)) as Record<string, unknown>);
  const nested = { inner: { v: 1 } };
  const copy = jsonCopy(nested, subject);
  nested.inner.v = 2;
  t.deepEqual(copy, { inner: { v: 1 } });
});
