import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { CERTIFICATE_CHANGED, CERTIFICATE_TRUSTED } from '../../actors/firewall-trust.ts';
import { RemoteError } from '../../bus/index.ts';
import { startGateway } from '../../gateway/index.ts';
import { startTestNats, tempDir } from '../helpers/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { command, discover, jobEnded, servedCalls, submit } from './orchestrator-fixture.ts';

// Issue 13 point 2: tls.fingerprint (Panorama's pin) was applied to every direct firewall connection, and
// downloads.direct is on by default; real firewalls each have their own certificate. The simulator now
// serves one certificate per management address, so a fleet pinned by Panorama's fingerprint shows it.

const nats = startTestNats(test);
const FW = '001234567890';
const noFirewallTrust = { caFile: '', trustOnFirstUse: false, insecure: false };

function directCalls(stack: Stack, serial: string): number {
  return servedCalls(stack).filter((c) => c.via === 'direct' && c.serial === serial).length;
}

test('firewall trust: when Panorama is pinned and downloads go direct with no firewall trust then the job fails at once, naming firewall.tls.*, and nothing reaches the firewall', async (t) => {
  const stack = await startStack(t, nats, { config: (c) => ({ ...c, firewall: { ...c.firewall, tls: noFirewallTrust } }) });
  t.is(await discover(stack), 5, 'Panorama (pinned) answers');
  const job = await submit(stack, { device: FW, downloadOnly: true });
  const done = await jobEnded(stack, job.job_id);
  t.is(done.upgrade_status, 'failed');
  t.regex(done.upgrade_message, /TLS certificate not trusted: it was issued by "panos-upgrade simulator CA" that is not trusted here/);
  t.true(done.upgrade_message.includes("Panorama's tls.* settings do not apply to firewalls"), done.upgrade_message);
  for (const fix of ['panos-upgrade config set firewall.tls.ca_file CA.pem', 'panos-upgrade config set firewall.tls.trust_on_first_use true', 'panos-upgrade config set downloads.direct false']) {
    t.true(done.upgrade_message.includes(fix), fix);
  }
  t.is(directCalls(stack, FW), 0, 'no request (and no key) was sent to a firewall that is not trusted');
  // The first direct call fails it (the free-disk read at validation, or the download): once, not retried.
  const facts = stack.daemonStore!.readStream(`job:${job.job_id}`);
  const failed = facts.find((e) => e.type === 'job.step.failed')?.data as { step: string; retryable: boolean } | undefined;
  t.is(failed?.retryable, false);
  t.is(facts.filter((e) => e.type === 'job.step.started' && (e.data as { step: string }).step === failed?.step).length, 1, 'a certificate that is not trusted is not retried');
});

test('firewall trust: when the simulated CA is given as firewall.tls.ca_file then direct downloads verify each firewall and complete', async (t) => {
  const stack = await startStack(t, nats);
  t.not(stack.config.firewall.tls.caFile, '');
  t.not(stack.config.tls.fingerprint, '');
  await discover(stack);
  const done = await jobEnded(stack, (await submit(stack, { device: FW, downloadOnly: true })).job_id);
  t.is(done.upgrade_status, 'download_complete', done.upgrade_message);
  t.true(directCalls(stack, FW) > 0, 'the images were fetched from the firewall itself');
});

test('firewall trust: with trust on first use, discovery records each certificate, a changed one stops work on that device with both fingerprints, and device trust accepts it', async (t) => {
  const tlsDir = join(tempDir(t), 'tls');
  const stack = await startStack(t, nats, { tlsDir, config: (c) => ({ ...c, firewall: { ...c.firewall, tls: { ...noFirewallTrust, trustOnFirstUse: true } } }) });
  await discover(stack);
  const FW_IP = stack.scenario.devices.find((d) => d.serial === FW)!.mgmtIp;
  const trusted = stack.daemonStore!.readStream(`device:${FW}`).filter((e) => e.type === CERTIFICATE_TRUSTED);
  t.is(trusted.length, 1);
  const first = stack.gateway.identity!.materialFor(FW_IP).fingerprint;
  t.like(trusted[0]!.data, { address: FW_IP, fingerprint: first });
  const ok = await jobEnded(stack, (await submit(stack, { device: FW, downloadOnly: true, targetVersion: '10.1.0' })).job_id);
  t.is(ok.upgrade_status, 'download_complete', ok.upgrade_message);

  // The firewall's certificate is replaced (Panorama's is not): the same CA issues a new one at the next start.
  const file = join(tlsDir, 'certificates.json');
  const kept = JSON.parse(readFileSync(file, 'utf8')) as { certificates: Record<string, unknown> };
  delete kept.certificates[FW_IP];
  writeFileSync(file, JSON.stringify(kept));
  await stack.gateway.close();
  const gateway = await startGateway({ nc: stack.nc, subjects: stack.subjects, store: stack.simStore, log: pino({ level: 'silent' }), port: stack.gateway.port, protocol: 'https', direct: true, tlsDir });
  t.teardown(() => gateway.close());
  const second = gateway.identity!.materialFor(FW_IP).fingerprint;
  t.not(second, first);
  t.is(gateway.fingerprint, stack.gateway.fingerprint, "Panorama's certificate is kept");

  const before = directCalls(stack, FW);
  const stopped = await jobEnded(stack, (await submit(stack, { device: FW, downloadOnly: true })).job_id);
  t.is(stopped.upgrade_status, 'failed');
  t.true(stopped.upgrade_message.includes(`expected SHA-256 ${first}, received ${second}`), stopped.upgrade_message);
  t.true(stopped.upgrade_message.includes(`panos-upgrade device trust ${FW}`), stopped.upgrade_message);
  t.is(directCalls(stack, FW), before, 'nothing was sent to the changed certificate');

  // A later discovery records the change, says so in its reply, and does not trust it by itself.
  const rediscovered = await command<{ certificates?: { changed: Array<{ serial: string; hostname: string; address: string; expected: string; presented: string }> } }>(stack, 'device.discover');
  t.deepEqual(rediscovered.certificates?.changed, [{ serial: FW, hostname: stack.scenario.devices.find((d) => d.serial === FW)!.hostname, address: FW_IP, expected: first, presented: second }]);
  const changed = stack.daemonStore!.readStream(`device:${FW}`).filter((e) => e.type === CERTIFICATE_CHANGED);
  t.is(changed.length, 1);
  t.like(changed[0]!.data, { address: FW_IP, expected: first, presented: second });

  const accepted = await command<{ fingerprint: string; previous: string }>(stack, 'device.trust', { serial: FW });
  t.is(accepted.fingerprint, second);
  t.is(accepted.previous, first);
  const again = await jobEnded(stack, (await submit(stack, { device: FW, downloadOnly: true })).job_id);
  t.is(again.upgrade_status, 'download_complete', again.upgrade_message);
});

test('firewall trust: device trust is refused, saying what to set, when trust on first use is off', async (t) => {
  const stack = await startStack(t, nats);
  await discover(stack);
  const err = await t.throwsAsync(command(stack, 'device.trust', { serial: FW }), { instanceOf: RemoteError });
  t.is(err?.code, 'VALIDATION');
  t.regex(err?.message ?? '', /panos-upgrade config set firewall\.tls\.trust_on_first_use true/);
});
