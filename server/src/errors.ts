/**
 * Expected failures. Each class maps to one `extensions.code` of the API (docs/api.md, "Errors");
 * anything that is not an AppError reaching the client is masked as INTERNAL_SERVER_ERROR and
 * logged.
 */
/** Every `extensions.code` with the HTTP status it answers when it ends a whole request. */
const HTTP_STATUS = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 413,
  TOTP_REQUIRED: 401,
} as const;

export type ErrorCode = keyof typeof HTTP_STATUS;

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;

  /** HTTP status used when the error ends a whole request (download route, 413, CSRF). */
  get status(): number {
    return HTTP_STATUS[this.code];
  }

  extensions(): Record<string, unknown> {
    return { code: this.code };
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'You need to sign in first.') {
    super(message);
  }
}

/**
 * An error that may carry `extensions.ids`: the ids of a bulk request that made it fail
 * (docs/api.md, "Bulk file actions"), so a client can show which of the files it asked for are at
 * fault.
 */
abstract class ErrorWithIds extends AppError {
  constructor(
    message: string,
    readonly ids?: readonly number[],
  ) {
    super(message);
  }

  override extensions(): Record<string, unknown> {
    return this.ids ? { code: this.code, ids: this.ids.map(String) } : { code: this.code };
  }
}

export class ForbiddenError extends ErrorWithIds {
  readonly code = 'FORBIDDEN';
  /** `ids`: the files of a bulk request the caller may see but not change. */
  constructor(message = 'You are not allowed to do that.', ids?: readonly number[]) {
    super(message, ids);
  }
}

export class NotFoundError extends ErrorWithIds {
  readonly code = 'NOT_FOUND';
  /** `ids`: the files of a bulk request that do not exist or the caller may not see, alike. */
  constructor(message = 'Not found.', ids?: readonly number[]) {
    super(message, ids);
  }
}

export type FieldErrors = Record<string, string>;

/** An error about particular arguments: `extensions.fields` maps each to its message. */
abstract class FieldsError extends AppError {
  constructor(
    message: string,
    readonly fields: FieldErrors = {},
  ) {
    super(message);
  }

  override extensions(): Record<string, unknown> {
    return { code: this.code, fields: this.fields };
  }
}

export class BadUserInputError extends FieldsError {
  readonly code = 'BAD_USER_INPUT';

  /** One invalid field, with its message used for the whole error too. */
  static field(field: string, message: string): BadUserInputError {
    return new BadUserInputError(`${field}: ${message}`, { [field]: message });
  }
}

export class ConflictError extends FieldsError {
  readonly code = 'CONFLICT';
}

export class PayloadTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(
    readonly limit: number,
    message = `The upload is larger than the limit of ${limit} bytes.`,
  ) {
    super(message);
  }

  override extensions(): Record<string, unknown> {
    return { code: this.code, limit: this.limit, http: { status: this.status } };
  }
}

/**
 * The client went away before its upload arrived. An ordinary event (a cancelled upload, a closed
 * laptop), not a fault: logged at info, and nobody is left to read the answer.
 */
export class UploadCancelledError extends AppError {
  readonly code = 'BAD_USER_INPUT';
  constructor() {
    super('The upload was cancelled before it arrived.');
  }
}

export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  constructor(
    readonly retryAfter: number,
    message = `Too many attempts. Try again in ${retryAfter} seconds.`,
  ) {
    super(message);
  }

  override extensions(): Record<string, unknown> {
    return { code: this.code, retryAfter: this.retryAfter };
  }
}

/** An upload that would take its uploader past their quota (HTTP 413 on the upload routes). */
export class QuotaExceededError extends AppError {
  readonly code = 'QUOTA_EXCEEDED';
  constructor(
    readonly quotaBytes: number,
    readonly usedBytes: number,
    /** Bytes the user's unfinished resumable uploads may still store (counted at their creation). */
    readonly pendingBytes = 0,
  ) {
    super(
      `This upload would pass your storage quota of ${quotaBytes} bytes (${usedBytes} used, ` +
        'trash included' +
        (pendingBytes ? `, and ${pendingBytes} held by your unfinished uploads` : '') +
        '). Empty the trash' +
        (pendingBytes ? ', cancel unfinished uploads' : '') +
        ' or ask an admin for more room.',
    );
  }

  override extensions(): Record<string, unknown> {
    return {
      code: this.code,
      quotaBytes: this.quotaBytes,
      usedBytes: this.usedBytes,
      ...(this.pendingBytes ? { pendingBytes: this.pendingBytes } : {}),
      http: { status: this.status },
    };
  }
}

/** The password was right, but the account has two-factor on: `login` again with `totp`. */
export class TotpRequiredError extends AppError {
  readonly code = 'TOTP_REQUIRED';
  constructor(message = 'Enter the code from your authenticator app, or a recovery code.') {
    super(message);
  }
}
