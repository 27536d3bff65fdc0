/**
 * Base of every error of panos-upgrade that a caller might act on. `code` is stable, upper snake case,
 * and is what NATS replies and the CLI report.
 */
export class PanosUpgradeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A PAN-OS `<response status="error">`: the PAN-OS code (when any) and its message lines. */
export class PanosApiError extends PanosUpgradeError {
  constructor(
    readonly panosCode: string | undefined,
    readonly lines: readonly string[],
    readonly httpStatus = 200,
  ) {
    super('PANOS_API', `PAN-OS error${panosCode ? ` ${panosCode}` : ''}: ${lines.join(' ') || 'no message'}`);
  }
}

/** Bad credentials or API key (HTTP 403, PAN-OS code 403). */
export class PanosAuthError extends PanosUpgradeError {
  constructor(message = 'Invalid Credential') {
    super('PANOS_AUTH', message);
  }
}

/** The device could not be reached: refused, reset, timed out, not connected to Panorama. */
export class DeviceUnreachableError extends PanosUpgradeError {
  constructor(
    readonly target: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super('DEVICE_UNREACHABLE', `${target} is unreachable: ${reason}`, options);
  }
}

/** The device answered, but not with PAN-OS XML (HTML from a booting web server, an empty body). */
export class BadResponseError extends PanosUpgradeError {
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super('BAD_RESPONSE', `${target} answered with ${reason}`);
  }
}

/** A PAN-OS job finished with result FAIL. */
export class PanosJobFailedError extends PanosUpgradeError {
  constructor(
    readonly jobId: string,
    readonly jobType: string,
    readonly details: readonly string[],
  ) {
    super('PANOS_JOB_FAILED', `${jobType} job ${jobId} failed: ${details.join(' ') || 'no details'}`);
  }
}

/** A scenario file is invalid; names the file, line and field path. */
export class ScenarioError extends PanosUpgradeError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly path: string,
    readonly problem: string,
  ) {
    super('SCENARIO_INVALID', `${file}${line !== undefined ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${problem}`);
  }
}

/** A machine was started without one of its effects provided. */
export class NotProvidedError extends PanosUpgradeError {
  constructor(readonly effect: string) {
    super('NOT_PROVIDED', `effect ${effect} was not provided`);
  }
}

/** A payload, flag or configuration value is invalid (CLI exit code 2). */
export class ValidationError extends PanosUpgradeError {
  constructor(message: string, readonly field?: string) {
    super('VALIDATION', message);
  }
}

/** A device already has an active job of the same kind. */
export class DuplicateJobError extends PanosUpgradeError {
  constructor(
    readonly device: string,
    readonly existingJobId: string,
  ) {
    super(
      'DUPLICATE_JOB',
      `device ${device} already has an active job ${existingJobId}; wait for it, or cancel it with: panos-upgrade job cancel ${existingJobId}`,
    );
  }
}

/** A device has an active job of the other kind (download-only vs upgrade). */
export class ConflictingJobTypeError extends PanosUpgradeError {
  constructor(
    readonly device: string,
    readonly existingJobId: string,
    readonly existingKind: 'download-only' | 'upgrade',
  ) {
    super(
      'CONFLICTING_JOB_TYPE',
      `device ${device} already has an active ${existingKind} job ${existingJobId}; cancel it first with: panos-upgrade job cancel ${existingJobId}`,
    );
  }
}

/** A campaign's state does not allow the command: approve with no gate open, pause when paused, anything once it ended. */
export class CampaignStateError extends PanosUpgradeError {
  constructor(
    readonly campaignId: string,
    readonly status: string,
    message: string,
  ) {
    super('CAMPAIGN_STATE', message);
  }
}

/** A job asked for something its state does not allow: a cancel of one that ended, a resume of one not paused. */
export class JobStateError extends PanosUpgradeError {
  constructor(
    readonly jobId: string,
    readonly status: string,
    message: string,
  ) {
    super('JOB_STATE', message);
  }
}

/** Something named by the caller does not exist (job id, serial). */
export class NotFoundError extends PanosUpgradeError {
  constructor(readonly what: string, readonly id: string, message = `${what} ${id} not found`) {
    super('NOT_FOUND', message);
  }
}

/** Why a call did not get a PAN-OS answer; `tls` covers handshake and certificate failures. */
export type UnreachableReason =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'dns'
  | 'network'
  /** This machine could not open the connection: out of file descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM). */
  | 'local'
  | 'tls'
  | 'http-5xx'
  | 'not-connected'
  | 'not-ready';

/**
 * A transport failure of one HTTP call. `requestSent` is false only when the request cannot have reached
 * the device (refused, DNS, TLS handshake); otherwise a mutating command may have run and must be reconciled.
 */
export class TransportError extends DeviceUnreachableError {
  declare readonly reason: UnreachableReason;
  /** Set for `http-5xx`. */
  readonly httpStatus: number | undefined;
  /** The server's certificate was rejected (verification or pin): configuration, not a transient fault. */
  readonly certificate: boolean;

  constructor(
    target: string,
    reason: UnreachableReason,
    readonly requestSent: boolean,
    options?: ErrorOptions & { httpStatus?: number; certificate?: boolean },
  ) {
    super(target, reason, options);
    // Not the device's fault: say what ran out here, or the operator looks for a network problem.
    if (reason === 'local') this.message = `${target} is unreachable: this machine could not open a connection (${(options?.cause as NodeJS.ErrnoException | undefined)?.code ?? 'out of resources'}: too many open files, or out of memory)`;
    this.httpStatus = options?.httpStatus;
    this.certificate = options?.certificate ?? false;
  }
}

/** Panorama answered that the `target` firewall is not connected (or not attached): it may be rebooting. */
export class DeviceNotConnectedError extends DeviceUnreachableError {
  override readonly code = 'DEVICE_NOT_CONNECTED';
  constructor(
    target: string,
    readonly lines: readonly string[],
  ) {
    super(target, 'not-connected');
  }
}

/** A PAN-OS job did not finish within the time allowed. */
export class JobTimeoutError extends PanosUpgradeError {
  constructor(
    readonly jobId: string,
    readonly elapsedMs: number,
    readonly lastStatus: string | undefined,
    options?: ErrorOptions,
  ) {
    super('JOB_TIMEOUT', `job ${jobId} did not finish within ${elapsedMs} ms${lastStatus ? ` (last status ${lastStatus})` : ''}`, options);
  }
}

/** The phases of waiting for a reboot, in order. */
export type RebootPhase = 'waiting-for-shutdown' | 'rebooting' | 'waiting-for-chassis' | 'waiting-for-autocommit' | 'verifying' | 'done';

/** The reboot did not complete within its budget; `phase` is where it was stuck. */
export class RebootTimeoutError extends PanosUpgradeError {
  constructor(
    readonly device: string,
    readonly phase: RebootPhase,
    readonly elapsedMs: number,
    readonly budgetMs: number,
    options?: ErrorOptions,
  ) {
    super('REBOOT_TIMEOUT', `${device}: reboot not complete after ${elapsedMs} ms (budget ${budgetMs} ms), stuck in phase ${phase}`, options);
  }
}

/** The device kept answering as before for the whole grace period: the restart did not take (yet). */
export class RebootNotStartedError extends PanosUpgradeError {
  constructor(
    readonly device: string,
    readonly elapsedMs: number,
    readonly graceMs: number,
  ) {
    super('REBOOT_NOT_STARTED', `${device}: no sign of a reboot within ${graceMs} ms (waited ${elapsedMs} ms)`);
  }
}

/** The auto-commit after boot (job type AutoCom) finished with FAIL. */
export class AutoCommitFailedError extends PanosUpgradeError {
  constructor(
    readonly device: string,
    readonly jobId: string,
    readonly details: readonly string[],
  ) {
    super('AUTOCOMMIT_FAILED', `${device}: auto-commit job ${jobId} failed: ${details.join(' ') || 'no details'}`);
  }
}

/** The device came back on another version than the one installed. */
export class VersionMismatchError extends PanosUpgradeError {
  constructor(
    readonly device: string,
    readonly actual: string,
    readonly expected: string,
  ) {
    super('VERSION_MISMATCH', `${device}: running ${actual} after reboot, expected ${expected}`);
  }
}
