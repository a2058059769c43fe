/** Errors cross every boundary (IPC, HTTP, CLI) as values, never as thrown exceptions. */

export type ErrorCode =
  | 'invalid-input' // the request did not match the command's schema
  | 'unknown-command'
  | 'not-found' // a file, run or model that does not exist
  | 'bad-file' // a file exists but cannot be used (corrupt, wrong format, wrong architecture)
  | 'conflict' // the request is valid but clashes with current state (e.g. a run already running)
  | 'resource' // a limit was reached: memory, a time or memory budget (the input may be fine elsewhere)
  | 'cancelled'
  | 'internal'; // a bug: the message says what failed, the UI offers to report it

export interface ServiceError {
  readonly code: ErrorCode;
  /** One sentence a user can read: what is wrong. */
  readonly message: string;
  /** What to do about it, when there is something to do. */
  readonly hint?: string;
  /** Per-field problems for `invalid-input`. */
  readonly issues?: readonly { path: string; message: string }[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ServiceError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (error: ServiceError): Result<never> => ({ ok: false, error });

/** An error a handler throws on purpose; the service turns it into a `ServiceError` value. */
export class FreezeLabError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'FreezeLabError';
    this.code = code;
    this.hint = hint;
  }
}
