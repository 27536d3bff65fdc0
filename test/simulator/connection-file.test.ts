import test, { type ExecutionContext } from 'ava';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/index.ts';
import { connectionFilePath, writeSimConnection } from '../../simulator/connection-file.ts';
import { readSimConnection, type SimConnection } from '../../simulator/connection-schema.ts';

const conn: SimConnection = {
  version: 1,
  url: 'http://127.0.0.1:8443',
  host: '127.0.0.1:8443',
  protocol: 'http',
  apiKey: 'sim-key-1234',
  direct: false,
  scenario: '/repo/scenarios/basic.yaml',
  scenarioName: 'basic',
  natsUrl: 'nats://127.0.0.1:4333',
  subjectPrefix: 'panos',
  pid: 42,
  startedAt: '2026-12-04T12:00:00.000Z',
};

const dir = (t: ExecutionContext): string => tempDir(t, 'panos-conn-');

test('connection file: when written then it reads back the same, mode 0600, fields in their order and nothing else', (t) => {
  const d = dir(t);
  const file = writeSimConnection(d, { ...conn, fingerprint: 'AB:CD', extra: 'dropped' } as SimConnection);
  t.is(statSync(file).mode & 0o777, 0o600);
  t.deepEqual(readSimConnection(d), { ...conn, fingerprint: 'AB:CD' });
  t.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object), ['version', 'url', 'host', 'protocol', 'apiKey', 'fingerprint', 'direct', 'scenario', 'scenarioName', 'natsUrl', 'subjectPrefix', 'pid', 'startedAt']);
});

test('connection file: when a field is missing or of the wrong kind then reading it names the field and says to restart the simulator', (t) => {
  const d = dir(t);
  const { apiKey: _apiKey, ...noKey } = conn;
  writeFileSync(connectionFilePath(d), JSON.stringify(noKey));
  t.regex(t.throws(() => readSimConnection(d))!.message, /: apiKey: Invalid input: expected string, received undefined; start the simulator again to rewrite it$/);
  writeFileSync(connectionFilePath(d), JSON.stringify({ ...conn, protocol: 'ftp' }));
  t.regex(t.throws(() => readSimConnection(d))!.message, /: protocol: Invalid option: expected one of "https"\|"http";/);
  writeFileSync(connectionFilePath(d), JSON.stringify({ ...conn, pid: 1.5 }));
  t.regex(t.throws(() => readSimConnection(d))!.message, /: pid: Invalid input: expected int, received number;/);
  writeFileSync(connectionFilePath(d), '[1]');
  t.regex(t.throws(() => readSimConnection(d))!.message, /: file: Invalid input: expected object, received array;/);
  // Hand-edited with single quotes: the error says where, and quotes none of the file (it holds the key).
  writeFileSync(connectionFilePath(d), JSON.stringify(conn, null, 2).replace('"apiKey"', "'apiKey'"));
  const broken = t.throws(() => readSimConnection(d))!.message;
  t.regex(broken, /is not valid JSON \(line \d+, column \d+\); start the simulator again/);
  for (let n = 4; n <= conn.apiKey.length; n++) t.false(broken.includes(conn.apiKey.slice(0, n)), broken);
});
