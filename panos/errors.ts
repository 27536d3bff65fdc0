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

/** Something named by the caller does not exist (job id, serial). */
export class NotFoundError extends PanosUpgradeError {
  constructor(readonly what: string, readonly id: string) {
    super('NOT_FOUND', `${what} ${id} not found`);
  }
}
