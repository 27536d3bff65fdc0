// NATS URLs as the CLI, NATS_URL and config take them: a comma-separated list of servers.

/** The servers of a URL list: `nats://a:4222,nats://b:4222` (a cluster, as `NATS_URL` and the nats CLI take it). */
export function natsServers(url: string): string[] {
  return url.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A server's scheme and its credentials (`user:secret@`, `token@`), when it carries them. */
const CREDENTIALS = /^((?:[a-z][a-z0-9+.-]*:\/\/)?)([^@/]*)@/i;

/** `nats://user:secret@host` as `nats://user:****@host` (a token alone, `nats://secret@host`, as `****@host`). */
export function maskNatsUrl(url: string): string {
  return natsServers(url)
    .map((s) => s.replace(CREDENTIALS, (_, scheme: string, user: string) => `${scheme}${user.includes(':') ? `${user.slice(0, user.indexOf(':'))}:` : ''}****@`))
    .join(',');
}

/** Where a NATS URL's credentials go instead: files, which nothing repeats. */
export const NATS_CREDENTIAL_FILES = 'nats.user with nats.password_file, or nats.creds_file, nats.nkey_file, nats.token_file (docs/nats-security.md)';

/**
 * Why a NATS URL is refused: one that carries credentials (`user:password@` or a token), which would be
 * repeated wherever the URL is shown or recorded (daemon.json, logs, a run's event, `status`, errors).
 * Credentials are given as files (nats.* settings, NATS_* variables). Undefined when the URL is fine.
 */
export function natsUrlProblem(url: string): string | undefined {
  if (!natsServers(url).some((s) => CREDENTIALS.test(s))) return undefined;
  return `the NATS URL ${maskNatsUrl(url)} carries credentials: give the URL without them, and the credentials as files: ${NATS_CREDENTIAL_FILES}`;
}
