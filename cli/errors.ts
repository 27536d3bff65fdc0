import { RemoteError, NoResponderError, RequestTimeoutError, BusError, NatsAuthorizationError, NatsPermissionError, NatsUrlError } from '../bus/errors.ts';
import { PanosUpgradeError, ScenarioError, ValidationError } from '../panos/errors.ts';
import { hint } from './hints.ts';

/** Remote error codes that mean the request itself was wrong: usage, exit 2. */
const USAGE_CODES = new Set(['VALIDATION', 'BAD_PAYLOAD', 'INVALID_TOKEN', 'CONFIG']);

/** A failure the CLI itself decided on, with its exit code (e.g. a job that ended failed under --wait). */
export class CliError extends PanosUpgradeError {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** Under --json, the one reply printed instead of the generic error (e.g. the failed job with its error). */
    readonly json?: { ok: false; error: Record<string, unknown> } & Record<string, unknown>,
  ) {
    super(json ? String(json.error.code) : 'CLI', message);
  }
}

/** Ctrl-C while following jobs: they go on in the daemon (exit 130, as shells report SIGINT). */
export class InterruptedError extends CliError {
  constructor(message: string) {
    super(message, 130);
  }
}

/** Usage and configuration problems exit with 2, failed operations with 1 (kubectl, terraform). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof ScenarioError || err instanceof ValidationError || err instanceof NatsUrlError) return 2;
  if (err instanceof RemoteError) return USAGE_CODES.has(err.code) ? 2 : 1;
  if (err instanceof PanosUpgradeError && err.code === 'CONFIG') return 2;
  return 1;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Where to see whether a command that timed out went through, by the command's family. */
const TIMEOUT_FOLLOW_UP: Record<string, string> = {
  job: 'job list --active',
  upgrade: 'job list --active',
  download: 'download status',
  device: 'device list',
  campaign: 'campaign list',
};

/** What a transport failure's reason word means, for the person reading it. */
const UNREACHABLE_WORDS: Record<string, string> = {
  dns: 'its name does not resolve (DNS)',
  refused: 'nothing accepts connections at that address and port',
  timeout: 'no answer in time',
  reset: 'the connection was reset',
  network: 'no route to it (network)',
  local: 'this machine could not open a connection (too many open files, or out of memory)',
  'http-5xx': 'it answered with a server error (HTTP 5xx)',
  'not-ready': 'it is not ready yet (starting up)',
};

/** What to do next, for the remote errors a person can act on. */
function remoteHints(err: RemoteError): string[] {
  const d = err.details;
  switch (err.code) {
    case 'DUPLICATE_JOB':
    case 'CONFLICTING_JOB_TYPE': {
      const id = str(d.existingJobId);
      if (!id) return [];
      return [`existing job: ${id}${str(d.existingKind) ? ` (${String(d.existingKind)})` : ''}`, `see it:       panos-upgrade job status ${id}`, `cancel it:    panos-upgrade job cancel ${id}`];
    }
    case 'NOT_FOUND':
      if (d.what === 'device') return err.message.includes('device discover') ? [] : ['the device is not in the inventory: run "panos-upgrade device discover", then "panos-upgrade device list"'];
      if (d.what === 'job') return ['list the jobs with: panos-upgrade job list'];
      return [];
    case 'NO_PATH':
      if (d.targetGiven === true) return ['choose a target the device is offered and newer than what it runs, or add its version to the upgrade paths file'];
      return [`give a target with --target VERSION, or add the version to the upgrade paths file (${hint('config set upgrade.paths_file FILE')}) and restart the daemon`];
    case 'DEVICE_UNREACHABLE': {
      const why = UNREACHABLE_WORDS[String(d.reason)];
      return [
        ...(why ? [`${String(d.target ?? 'it')}: ${why}`] : []),
        'check that Panorama (or the device) answers, then try again',
        `if it is Panorama, its address is ${hint('config get panorama.host')}; correct it with ${hint('config set panorama.host HOST[:PORT]')}, then restart the daemon`,
      ];
    }
    case 'DEVICE_NOT_CONNECTED':
      return ['check that Panorama (or the device) answers, then try again'];
    case 'PANOS_AUTH':
      return [
        `Panorama refused the API key (or the user name and password): set it again with ${hint('config set panorama.api_key -')} (paste it, then Ctrl-D), or, when the daemon logs in with panorama.username, the password with ${hint('config set panorama.password -')}; then restart the daemon`,
      ];
    default:
      return [];
  }
}

/** The reply a script reads on stdout under `--json`: `{ ok: false, error: { code, message, …details, hints } }`. */
export function errorJson(err: unknown): { ok: false; error: Record<string, unknown> } {
  if (err instanceof CliError && err.json) return err.json;
  const code = err instanceof PanosUpgradeError || err instanceof BusError ? err.code : 'ERROR';
  const message = err instanceof Error ? err.message : String(err);
  const error: Record<string, unknown> = { code, message };
  // Where the CLI looked for a daemon and why it found none: what the text says under the message.
  const why = (err as { why?: unknown }).why;
  if (code === 'NO_DAEMON' && typeof why === 'string') error.why = why;
  if (err instanceof RemoteError) for (const [k, v] of Object.entries(err.details)) if (!(k in error)) error[k] = v;
  const hints = err instanceof RemoteError ? remoteHints(err).filter((h) => !message.includes(h)) : [];
  if (hints.length > 0) error.hints = hints;
  error.exitCode = exitCodeFor(err);
  return { ok: false, error };
}

const NATS_CREDENTIALS_HINT =
  '  give credentials with --nats-nkey FILE, --nats-creds FILE or --nats-user USER (password in NATS_PASSWORD), or NATS_NKEY / NATS_CREDS / NATS_USER;\n' +
  '  a daemon with its own NATS keeps them in <data-dir>/nats/daemon/users/ (operator.nk, reader.nk). See docs/nats-security.md';

/** What went wrong and what to do, without a stack trace: the first line starts with `error:`. */
export function describeError(err: unknown): string {
  const lines: string[] = [];
  if (err instanceof PanosUpgradeError && err.code === 'NO_DAEMON') {
    lines.push(`error: ${err.message}`);
    const why = (err as { why?: unknown }).why;
    if (typeof why === 'string') lines.push(`  (${why})`);
  } else if (err instanceof NoResponderError) {
    lines.push(`error: no daemon is answering on ${err.subject}. Start it with: panos-upgrade daemon`);
  } else if (err instanceof RequestTimeoutError) {
    const command = err.subject.split('.cmd.').at(-1) ?? err.subject;
    const seconds = Math.round(err.timeoutMs / 1000);
    lines.push(`error: the daemon did not answer ${command} within ${seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`}.`);
    lines.push(`  It may be busy or stuck (check its log); the command may still complete: see ${hint(TIMEOUT_FOLLOW_UP[command.split('.')[0]!] ?? 'daemon status')}`);
  } else if (err instanceof NatsPermissionError) {
    lines.push(`error: ${err.message}.`);
    if (err.operation === 'publish') {
      lines.push('  sending commands needs the operator user; a read-only user may only read status and events.');
      lines.push(NATS_CREDENTIALS_HINT);
    } else {
      lines.push('  the daemon signs in as the daemon user: panos-upgrade config set nats.nkey_file FILE (or nats.creds_file, or NATS_NKEY / NATS_CREDS). See docs/nats-security.md');
    }
  } else if (err instanceof NatsAuthorizationError) {
    lines.push(`error: ${err.message}.`);
    lines.push(NATS_CREDENTIALS_HINT);
  } else if (err instanceof RemoteError) {
    lines.push(`error: ${err.message}`);
    for (const hint of remoteHints(err)) {
      if (!err.message.includes(hint)) lines.push(`  ${hint}`);
    }
  } else if (err instanceof PanosUpgradeError || err instanceof BusError || err instanceof Error) {
    lines.push(`error: ${err.message}`);
  } else {
    lines.push(`error: ${String(err)}`);
  }
  return lines.join('\n');
}
