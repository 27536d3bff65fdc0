import { InvalidArgumentError } from 'commander';
import { NatsUrlError } from '../bus/errors.ts';
import { natsUrlProblem } from '../bus/nats-url.ts';

// Where the state lives and the subject prefix are the actors' (actors/data-dir.ts); re-exported for the commands.
export { dataDirPath, resolveDataDir, subjectPrefix } from '../actors/data-dir.ts';

/** `--nats-url`: one or more comma-separated `nats://host:port` (or tls://, ws://, wss://), or `host:port`. */
export function parseNatsUrl(value: string): string {
  // Before commander's own message, which repeats the value: a password in it is refused masked, in any form.
  const problem = natsUrlProblem(value);
  if (problem) throw new NatsUrlError(problem);
  const host = String.raw`(\[[0-9a-fA-F:.]+\]|[^\s/:@\[\]]+)`;
  const withScheme = new RegExp(String.raw`^(nats|tls|ws|wss)://([^\s/@]+@)?${host}(:\d{1,5})?/?$`);
  const bare = new RegExp(String.raw`^${host}:\d{1,5}$`);
  const ok = value.split(',').every((u) => withScheme.test(u.trim()) || bare.test(u.trim()));
  if (!ok) throw new InvalidArgumentError(`expected a NATS server URL such as nats://127.0.0.1:4222 (or host:port), got "${value}"`);
  return value;
}
