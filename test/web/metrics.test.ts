import test from 'ava';
import { mkdtempSync, readFileSync, chmodSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetMetrics } from '../../web/metrics.ts';
import { FleetView } from '../../web/fleet-view.ts';
import { loadOperatorToken, operatorTokenPath } from '../../web/operator-token.ts';
import type { EventEnvelope } from '../../eventstore/index.ts';

const call = (gseq: number, panosCode: string | undefined): EventEnvelope =>
  ({ gseq, stream: 'api', seq: gseq, type: 'api.call.recorded', at: new Date().toISOString(), data: { type: 'op', command: '<show><system><info/></system></show>', outcome: 'api-error', durationMs: 5, ...(panosCode !== undefined ? { panosCode } : {}) } }) as unknown as EventEnvelope;

test('metrics: a PAN-OS code label is the code when it is a number, else "other": a device cannot make a series per text it sends', async (t) => {
  const metrics = new FleetMetrics({ view: new FleetView(), natsConnected: () => true, liveClients: () => 0 }, { processMetrics: false });
  metrics.observe(call(1, '17'), () => undefined);
  for (let i = 0; i < 20; i++) metrics.observe(call(2 + i, `garbage-${i}-${'x'.repeat(40)}`), () => undefined);
  metrics.observe(call(30, undefined), () => undefined);
  const lines = (await metrics.text()).split('\n').filter((l) => l.startsWith('panos_upgrade_xml_api_errors_total{'));
  t.deepEqual(lines.map((l) => /panos_code="([^"]*)"/.exec(l)?.[1]).sort(), ['', '17', 'other']);
  t.true(lines.some((l) => l.includes('panos_code="other"') && l.endsWith(' 20')), lines.join('\n'));
});

test('operator token: a token file whose mode was widened is kept to its owner when it is read again', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'panos-token-'));
  const token = loadOperatorToken(dir);
  chmodSync(operatorTokenPath(dir), 0o644);
  t.is(loadOperatorToken(dir), token);
  t.is(statSync(operatorTokenPath(dir)).mode & 0o777, 0o600);
  t.is(readFileSync(operatorTokenPath(dir), 'utf8').trim(), token);
});
