/** Stable error codes. Exceptions are for broken programs and bad configuration, never for decisions. */
export type WardenErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_TOO_LARGE'
  | 'STORE_UNAVAILABLE'
  | 'STORE_CORRUPT'
  | 'STORE_CONFLICT'
  | 'LEDGER_BROKEN'
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'APPROVAL_INVALID'
  | 'POLICY_INVALID'
  | 'GATEWAY_ERROR'
  | 'SCENARIO_INVALID'
  | 'CLOSED'
  | 'INTERNAL';

/** Base class of every error Warden throws. `code` is stable across versions; `hint` says what to do. */
export class WardenError extends Error {
  readonly code: WardenErrorCode;
  readonly hint: string | undefined;

  constructor(code: WardenErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WardenError';
    this.code = code;
    this.hint = options?.hint;
  }
}

/** A configuration that cannot be trusted. Each issue names the path, the problem and the fix. */
export class ConfigError extends WardenError {
  readonly issues: { path: string; message: string; fix?: string }[];

  constructor(
    message: string,
    issues: { path: string; message: string; fix?: string }[] = [],
    hint?: string,
  ) {
    super('CONFIG_INVALID', message, hint === undefined ? undefined : { hint });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The store cannot be reached or is in a state Warden will not write to. */
export class StoreError extends WardenError {
  constructor(
    code: 'STORE_UNAVAILABLE' | 'STORE_CORRUPT' | 'STORE_CONFLICT',
    message: string,
    cause?: unknown,
  ) {
    super(code, message, { cause });
    this.name = 'StoreError';
  }
}
