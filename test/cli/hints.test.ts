import { PassThrough } from 'node:stream';
import test from 'ava';
import { rememberGlobalOptions } from '../../cli/hints.ts';
import { outputTo, printJson } from '../../cli/output.ts';

test('output: a command the daemon suggests in a message it sent (resume a paused pair, approve a gate, trust a certificate) carries the --data-dir given, so pasting it reaches the same daemon; --json stays as the daemon sent it', (t) => {
  rememberGlobalOptions(['--data-dir', '/srv/panos upgrade', 'job', 'status', 'j1']);
  const stream = new PassThrough();
  const out = outputTo(stream as unknown as NodeJS.WriteStream);
  out.line('message: Paused between peers: 001234567891 is upgraded. Resume with: panos-upgrade job resume j1');
  out.line('waiting for approval: panos-upgrade campaign approve c1');
  out.line('panos-upgrade demo: 24 simulated firewalls');
  out.write('c1  running  waiting for approval: panos-upgrade campaign approve c1\n');
  printJson(out, { message: 'Resume with: panos-upgrade job resume j1' });
  const text = String(stream.read());
  t.true(text.includes("Resume with: panos-upgrade --data-dir '/srv/panos upgrade' job resume j1\n"), text);
  t.true(text.includes("approval: panos-upgrade --data-dir '/srv/panos upgrade' campaign approve c1\n"), text);
  t.true(text.includes('"message": "Resume with: panos-upgrade job resume j1"'), text);
  t.true(text.includes('\npanos-upgrade demo: 24 simulated firewalls\n'), 'a title is not a command');
  t.true(text.includes("c1  running  waiting for approval: panos-upgrade --data-dir '/srv/panos upgrade' campaign approve c1\n"), 'tables too');
});
