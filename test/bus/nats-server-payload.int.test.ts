import test from 'ava';
import { connectNats } from '../../bus/connect.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, startNatsServer } from '../../bus/nats-server.ts';

test('nats server: when started privately then it carries replies larger than NATS’s 1 MB default (Panorama’s device list for 1,000 firewalls)', async (t) => {
  const server = await startNatsServer({ jetstream: false });
  t.teardown(() => server.stop());
  const nc = await connectNats(server.url, 'payload test');
  t.teardown(() => nc.close());
  t.is(nc.info?.max_payload, DEFAULT_MAX_PAYLOAD_BYTES);
  const big = 'x'.repeat(1_300_000);
  nc.subscribe('payload.big', {
    callback: (_err, msg) => {
      msg.respond(big);
    },
  });
  const reply = await nc.request('payload.big', '', { timeout: 5000 });
  t.is(reply.data.length, big.length);
});

test('nats server: when a smaller limit is asked for then the server announces it', async (t) => {
  const server = await startNatsServer({ jetstream: false, maxPayloadBytes: 2 * 1024 * 1024 });
  t.teardown(() => server.stop());
  const nc = await connectNats(server.url, 'payload test');
  t.teardown(() => nc.close());
  t.is(nc.info?.max_payload, 2 * 1024 * 1024);
});
