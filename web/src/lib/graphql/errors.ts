import type { CombinedError } from '@urql/core';
import { capitalize } from '$lib/format';

/**
 * The API's `extensions.code` values (docs/api.md, "Errors"), plus NETWORK for a request that
 * never got an answer and ABORTED for one the user cancelled.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'QUOTA_EXCEEDED'
  | 'RATE_LIMITED'
  | 'TOTP_REQUIRED'
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'INTERNAL_SERVER_ERROR'
  | 'NETWORK'
  | 'ABORTED';

/** What the UI shows for a failed request: one message, and messages per input field. */
export interface AppError {
  code: ErrorCode;
  message: string;
  /** Field name → message, ready to show next to the field (a sentence, see fieldMessage). */
  fields: Record<string, string>;
  /** Seconds until a RATE_LIMITED caller may try again. */
  retryAfter?: number;
}

/** The GraphQL error shape as it travels over the wire (and inside urql's CombinedError). */
export interface WireError {
  message?: string;
  extensions?: Record<string, unknown>;
}

const KNOWN: ReadonlySet<string> = new Set<ErrorCode>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'QUOTA_EXCEEDED',
  'RATE_LIMITED',
  'TOTP_REQUIRED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'INTERNAL_SERVER_ERROR',
]);

/**
 * Server field messages are fragments ("must be at least 8 characters"): name the field when the
 * fragment needs a subject ("Password must be at least 8 characters"), else just capitalise.
 */
export function fieldMessage(field: string, message: string): string {
  if (/^(must|is|are|should|cannot|can't|has|have|needs?|may)\b/i.test(message)) {
    const label = field.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    return capitalize(`${label} ${message}`);
  }
  return capitalize(message);
}

/** "in 45 seconds", "in 3 minutes". */
export function waitPhrase(seconds: number): string {
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * The one place where error codes become words. Server messages are written for people, so they
 * are kept where they carry detail (bans, conflicts, invalid input); codes whose server
 * message is generic get a friendlier sentence.
 */
export function describe(code: ErrorCode, serverMessage: string | undefined, retryAfter?: number) {
  switch (code) {
    case 'UNAUTHENTICATED':
      return 'Your session has ended. Please sign in again.';
    case 'FORBIDDEN':
      return serverMessage || 'You are not allowed to do that.';
    case 'NOT_FOUND':
      return serverMessage || 'That no longer exists. It may have been deleted.';
    case 'BAD_USER_INPUT':
      return serverMessage || 'Please check the highlighted fields.';
    case 'CONFLICT':
      return serverMessage || 'That conflicts with something that already exists.';
    case 'PAYLOAD_TOO_LARGE':
      return 'This file is larger than the server accepts.';
    case 'QUOTA_EXCEEDED':
      return serverMessage || 'This file would go over your storage quota.';
    case 'RATE_LIMITED':
      return retryAfter
        ? `Too many attempts. Please try again ${waitPhrase(retryAfter)}.`
        : 'Too many attempts. Please wait a moment and try again.';
    case 'TOTP_REQUIRED':
      return 'Enter the code from your authenticator app, or a recovery code.';
    case 'GRAPHQL_PARSE_FAILED':
    case 'GRAPHQL_VALIDATION_FAILED':
      return 'The app sent a request the server does not understand. Reload the page and try again.';
    case 'NETWORK':
      return 'Cannot reach the server. Check your connection and try again.';
    case 'ABORTED':
      return 'Cancelled.';
    case 'INTERNAL_SERVER_ERROR':
    default:
      return 'Something went wrong on our side. Please try again.';
  }
}

/** Builds an AppError from the first GraphQL error of a response. */
export function fromWireErrors(errors: readonly WireError[]): AppError {
  const first = errors[0] ?? {};
  const ext = first.extensions ?? {};
  const raw = typeof ext.code === 'string' ? ext.code : 'INTERNAL_SERVER_ERROR';
  const code = (KNOWN.has(raw) ? raw : 'INTERNAL_SERVER_ERROR') as ErrorCode;
  const retryAfter = typeof ext.retryAfter === 'number' ? ext.retryAfter : undefined;
  const fields: Record<string, string> = {};
  if (ext.fields && typeof ext.fields === 'object') {
    for (const [name, message] of Object.entries(ext.fields as Record<string, unknown>)) {
      if (typeof message === 'string') fields[name] = fieldMessage(name, message);
    }
  }
  return { code, message: describe(code, first.message, retryAfter), fields, retryAfter };
}

/** Maps an urql CombinedError (urql never throws: always check `result.error`). */
export function toAppError(error: CombinedError): AppError {
  if (error.graphQLErrors.length > 0) return fromWireErrors(error.graphQLErrors);
  const status = (error.response as Response | undefined)?.status;
  if (status === 413)
    return { code: 'PAYLOAD_TOO_LARGE', message: describe('PAYLOAD_TOO_LARGE', ''), fields: {} };
  if (status && status >= 500) {
    return {
      code: 'INTERNAL_SERVER_ERROR',
      message: describe('INTERNAL_SERVER_ERROR', ''),
      fields: {},
    };
  }
  return { code: 'NETWORK', message: describe('NETWORK', ''), fields: {} };
}

/** Field errors whose field the form does not show: they belong in the banner instead. */
export function bannerMessage(error: AppError, shownFields: readonly string[]): string | null {
  const hasShown = Object.keys(error.fields).some((f) => shownFields.includes(f));
  if (!hasShown) return error.message;
  const others = Object.entries(error.fields).filter(([f]) => !shownFields.includes(f));
  return others.length ? others.map(([, m]) => (/[.!?]$/.test(m) ? m : `${m}.`)).join(' ') : null;
}
