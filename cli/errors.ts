import { RemoteError, NoResponderError, RequestTimeoutError, BusError } from '../bus/index.ts';
import { PanosUpgradeError, ScenarioError, ValidationError } from '../panos/errors.ts';

/** Usage and configuration problems exit with 2, failed operations with 1 (kubectl, terraform). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ScenarioError || err instanceof ValidationError) return 2;
  if (err instanceof RemoteError && (err.code === 'VALIDATION' || err.code === 'BAD_PAYLOAD')) return 2;
  if (err instanceof PanosUpgradeError && err.code === 'CONFIG') return 2;
  return 1;
}

/** One line a person can act on, without a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof NoResponderError) {
    return `error: nothing is answering on ${err.subject}. Is the daemon running? Start it with: panos-upgrade daemon`;
  }
  if (err instanceof RequestTimeoutError) return `error: ${err.message}. The daemon may be busy or stuck; check its log.`;
  if (err instanceof PanosUpgradeError || err instanceof BusError) return `error: ${err.message}`;
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}
