import test from 'ava';
import { transportReason } from '../../panos/client.ts';
import { TransportError } from '../../panos/errors.ts';

test('transport errors: out of file descriptors or memory here is "local", and its message says this machine ran out, not that the network has no route', (t) => {
  for (const code of ['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']) t.is(transportReason(code), 'local', code);
  t.is(transportReason('EHOSTUNREACH'), 'network');
  t.is(transportReason('ECONNREFUSED'), 'refused');
  const err = new TransportError('10.1.1.1', 'local', false, { cause: Object.assign(new Error('connect EMFILE'), { code: 'EMFILE' }) });
  t.is(err.message, '10.1.1.1 is unreachable: this machine could not open a connection (EMFILE: too many open files, or out of memory)');
  t.is(err.reason, 'local');
  t.is(new TransportError('10.1.1.1', 'network', true).message, '10.1.1.1 is unreachable: network');
});
