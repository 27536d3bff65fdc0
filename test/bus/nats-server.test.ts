import test from 'ava';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NatsServerMissingError, findOnPath, listenPort, natsServerPlan } from '../../bus/nats-server.ts';
import { tempDir } from '../helpers/index.ts';

test('nats-server binary: when it is not on an empty PATH and we are not root then NatsServerMissingError says how to install it or set NATS_URL', (t) => {
  const empty = tempDir(t);
  const lookup = { natsServer: findOnPath('nats-server', empty, []), aptGet: findOnPath('apt-get', empty, []), isRoot: false };
  t.deepEqual(lookup, { natsServer: undefined, aptGet: undefined, isRoot: false });

  const error = t.throws(() => natsServerPlan(lookup), { instanceOf: NatsServerMissingError });
  t.is(error?.code, 'NATS_SERVER_MISSING');
  t.regex(error?.message ?? '', /apt-get install nats-server/);
  t.regex(error?.message ?? '', /NATS_URL/);
});

test('nats-server binary: when apt-get exists but we are not root then nothing is installed and the error is thrown', (t) => {
  t.throws(() => natsServerPlan({ natsServer: undefined, aptGet: '/usr/bin/apt-get', isRoot: false }), { instanceOf: NatsServerMissingError });
  t.throws(() => natsServerPlan({ natsServer: undefined, aptGet: undefined, isRoot: true }), { instanceOf: NatsServerMissingError });
});

test('nats-server binary: when missing as root with apt-get then the plan is to install with that apt-get', (t) => {
  t.deepEqual(natsServerPlan({ natsServer: undefined, aptGet: '/usr/bin/apt-get', isRoot: true }), { installWith: '/usr/bin/apt-get' });
});

test('nats-server binary: when it is found then it is used, whoever we are', (t) => {
  t.deepEqual(natsServerPlan({ natsServer: '/opt/nats/nats-server', aptGet: undefined, isRoot: false }), { use: '/opt/nats/nats-server' });
});

test('nats-server binary: when searching then only executable files count, PATH first, then the extra dirs', (t) => {
  const root = tempDir(t);
  const [first, second, extra] = ['a', 'b', 'c'].map((d) => join(root, d)) as [string, string, string];
  for (const dir of [first, second, extra]) mkdirSync(dir);
  writeFileSync(join(first, 'nats-server'), '#!/bin/sh\n');
  chmodSync(join(first, 'nats-server'), 0o644);
  writeFileSync(join(second, 'nats-server'), '#!/bin/sh\n');
  chmodSync(join(second, 'nats-server'), 0o755);
  writeFileSync(join(extra, 'apt-get'), '#!/bin/sh\n');
  chmodSync(join(extra, 'apt-get'), 0o755);

  const path = `${first}::${second}`;
  // root may read and execute anything with an x bit, but never a file without one.
  t.is(findOnPath('nats-server', path, [extra]), join(second, 'nats-server'));
  t.is(findOnPath('apt-get', path, [extra]), join(extra, 'apt-get'));
  t.is(findOnPath('apt-get', path, []), undefined);
});

test('nats-server log: when the listen line is complete then its port is read, and not while the number may be cut', (t) => {
  const line = '[1] 2026/03/01 10:00:00.000000 [INF] Listening for client connections on 127.0.0.1:42221';
  t.is(listenPort(`[1] [INF] Starting nats-server\n${line.slice(0, -2)}`), undefined);
  t.is(listenPort(line), undefined);
  t.is(listenPort(`${line}\n`), 42221);
  t.is(listenPort(`${line}\r\n[INF] Server is ready\n`), 42221);
  t.is(listenPort('[INF] Starting JetStream\n'), undefined);
});
