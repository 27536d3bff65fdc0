import test from 'ava';
import { tempDir } from '../helpers/index.ts';
import { runCli } from './run-cli.ts';

// issue 12: both were taken as given, and the command failed later, far from the cause.
test('cli: when --nats-url is not a NATS URL then it is a usage error (exit 2) before anything connects', async (t) => {
  const r = await runCli(t, ['--nats-url', 'notaurl', 'job', 'list', '--data-dir', tempDir(t)]);
  t.is(r.code, 2);
  t.regex(r.stderr, /option '--nats-url <url>' argument 'notaurl' is invalid\. expected a NATS server URL such as nats:\/\/127\.0\.0\.1:4222/);
});

test('cli: when PANOS_SUBJECT_PREFIX is not subject tokens then the error names the variable (exit 2)', async (t) => {
  const r = await runCli(t, ['job', 'list', '--data-dir', tempDir(t)], { env: { PANOS_SUBJECT_PREFIX: 'my lab' } });
  t.is(r.code, 2);
  t.regex(r.stderr, /^error: PANOS_SUBJECT_PREFIX must be NATS subject tokens joined by dots, .* got "my lab"$/m);
});

test('cli: job submit with a mistyped --device is told the flag is unknown and what was meant; without --device, that it is required (exit 2 both)', async (t) => {
  const typo = await runCli(t, ['job', 'submit', '--devcie', '001234567890', '--data-dir', tempDir(t)]);
  t.is(typo.code, 2);
  t.regex(typo.stderr, /^error: unknown option '--devcie'\n\(Did you mean --device\?\)/);
  const none = await runCli(t, ['job', 'submit', '--data-dir', tempDir(t)]);
  t.is(none.code, 2);
  t.regex(none.stderr, /^error: required option '-d, --device <serial>' not specified/);
});
