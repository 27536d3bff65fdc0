import test from 'ava';
import { toSimReply, SimulatorReplyError } from '../../gateway/sim-client.ts';
import type { SimAnswer } from '../../simulator/index.ts';

/** What the simulator puts on the wire for an answer (simulator.ts answerOp). */
const wire = (answer: SimAnswer): Record<string, unknown> => ({ ok: true, ...answer });

test('sim client: when the simulator answers an HTTP reply, a drop or a hang then each maps to its reply kind', (t) => {
  t.deepEqual(toSimReply('s', wire({ status: 403, body: '<x/>' })), { kind: 'http', status: 403, body: '<x/>', contentType: 'application/xml; charset=UTF-8' });
  t.deepEqual(toSimReply('s', wire({ status: 503, body: '<html/>', contentType: 'text/html' })), { kind: 'http', status: 503, body: '<html/>', contentType: 'text/html' });
  t.deepEqual(toSimReply('s', wire({ drop: true })), { kind: 'drop' });
  t.deepEqual(toSimReply('s', wire({ hang: true })), { kind: 'hang' });
});

test('sim client: when a reply lacks a status or body, or smuggles a header break, then it is refused or cleaned', (t) => {
  t.throws(() => toSimReply('s', { ok: true }), { instanceOf: SimulatorReplyError });
  t.throws(() => toSimReply('s', { ok: true, status: 200 }), { instanceOf: SimulatorReplyError });
  t.throws(() => toSimReply('s', { ok: true, status: 42, body: '' }), { instanceOf: SimulatorReplyError });
  t.is((toSimReply('s', { ok: true, status: 200, body: '', contentType: 'text/html\r\nX: y' }) as { contentType: string }).contentType, 'application/xml; charset=UTF-8');
});
