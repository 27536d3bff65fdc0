import test from 'ava';
import pino from 'pino';
import { jetstreamManager } from '@nats-io/jetstream';
import { logStreamName } from '../../bus/index.ts';
import { ConfigError } from '../../actors/config.ts';
import { openRuntime } from '../../cli/runtime.ts';
import { tempDir, uniquePrefix } from '../helpers/index.ts';
import { startTestNatsCluster } from '../helpers/nats-cluster.ts';

const cluster = startTestNatsCluster(test);
const log = pino({ level: 'silent' });

test('openRuntime in cluster mode: the run is recorded in the replicated log; a second runtime on an empty data dir sees it', async (t) => {
  const prefix = uniquePrefix();
  const first = await openRuntime({ role: 'daemon', log, dataDir: tempDir(t), natsUrl: cluster.url, prefix, replicatedLog: { replicas: 3, writer: 'node-a' } });
  t.teardown(() => first.close());
  t.true(first.store.replicated);
  t.truthy(first.replicatedLog);
  const started = first.store.readStream(`run:${first.runId}`);
  t.is(started[0]?.type, 'run.started');

  const nc = await cluster.connect(t);
  const info = await (await jetstreamManager(nc)).streams.info(logStreamName(first.subjects));
  t.is(info.config.num_replicas, 3);
  t.true(info.state.messages >= 1);

  const second = await openRuntime({ role: 'daemon', log, dataDir: tempDir(t), natsUrl: cluster.url, prefix, replicatedLog: { replicas: 3, writer: 'node-b' } });
  t.teardown(() => second.close());
  t.deepEqual(second.store.readStream(`run:${first.runId}`), started, 'the other daemon\'s run, projected from the log');
  t.is(second.store.readStream(`run:${second.runId}`)[0]?.type, 'run.started');
});

test('openRuntime in cluster mode without a NATS URL (a private server) is refused with a clear error', async (t) => {
  const saved = process.env.NATS_URL;
  delete process.env.NATS_URL;
  t.teardown(() => {
    if (saved !== undefined) process.env.NATS_URL = saved;
  });
  const err = await t.throwsAsync(openRuntime({ role: 'daemon', log, dataDir: tempDir(t), prefix: uniquePrefix(), replicatedLog: { replicas: 3, writer: 'x' } }), { instanceOf: ConfigError });
  t.regex(err!.message, /cluster\.enabled needs the NATS cluster's address: set nats\.url/);
});
