import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import test from 'ava';
import pino from 'pino';
import { createDeviceAccess } from '../../actors/device-access.ts';
import { DEFAULT_CONFIG, type DaemonConfig } from '../../actors/config.ts';
import { evolveDevice, type InventoryDevice } from '../../actors/inventory.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';
import { DEVICES_ONE } from '../panos/samples.ts';

// A Panorama of an older release over real HTTP: it lists its firewalls but refuses `show devicegroups`
// (code 17 "is unexpected", as PAN-OS answers a command it does not know).
async function olderPanorama(t: import('ava').ExecutionContext): Promise<{ port: number; commands: string[] }> {
  const commands: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const cmd = new URLSearchParams(body).get('cmd') ?? '';
      commands.push(cmd);
      res.setHeader('content-type', 'application/xml');
      if (cmd.includes('<devices><connected')) res.end(DEVICES_ONE);
      else res.end('<response status="error" code="17"><msg><line><![CDATA[ show -> devicegroups  is unexpected]]></line></msg></response>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, commands };
}

test('discovery: when Panorama refuses show devicegroups then the devices are still discovered, without groups, and a warning is logged', async (t) => {
  const panorama = await olderPanorama(t);
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString('utf8')), done()) }));
  const config: DaemonConfig = {
    ...DEFAULT_CONFIG,
    panorama: { host: `127.0.0.1:${panorama.port}`, apiKey: 'older-panorama-key', username: '', password: '' },
    protocol: 'http',
    retries: { maxAttempts: 1, backoffSeconds: 0.1 },
  };
  const access = createDeviceAccess(config, { log });
  t.teardown(() => access.close());

  const { devices } = await access.discover();
  t.deepEqual(devices.map((d) => d.serial), ['007054000543212']);
  t.false('deviceGroup' in devices[0]!, 'no group is claimed when Panorama did not say');
  t.true(panorama.commands.some((c) => c.includes('devicegroups')), 'discovery asked for the device groups');
  const warning = lines.map((l) => JSON.parse(l) as { msg: string; reason: string }).find((l) => /device groups/.test(l.msg));
  t.truthy(warning);
  t.regex(warning!.reason, /is unexpected/);
  t.false(lines.join('').includes('older-panorama-key'), 'the API key is not logged');
});

test('inventory fold: a discovery without groups keeps the group known before; one that says "no group" clears it', (t) => {
  const base = { serial: '1', hostname: 'fw', mgmtIp: '10.0.0.1', model: 'PA-440', family: '400', swVersion: '10.1.0', appVersion: '', connected: true, haState: null, haPeer: null };
  const at = (seq: number, data: object) => ({ type: 'device.discovered', data, at: `2026-01-0${seq}T00:00:00Z`, seq }) as unknown as EventEnvelope;
  let d: InventoryDevice | null = evolveDevice(null, at(1, base));
  t.is(d!.deviceGroup, null, 'an event written before groups were read folds to none');
  d = evolveDevice(d, at(2, { ...base, deviceGroup: 'branches' }));
  t.is(d!.deviceGroup, 'branches');
  d = evolveDevice(d, at(3, base));
  t.is(d!.deviceGroup, 'branches');
  d = evolveDevice(d, at(4, { ...base, deviceGroup: null }));
  t.is(d!.deviceGroup, null);
});
