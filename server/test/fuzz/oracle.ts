import type { WireOutcome, WireRequest } from './wire.js';
import { encodeHead } from './wire.js';

// What every answer must satisfy, whatever was sent (docs/api.md, "Errors").

/** The codes a client may see, INTERNAL_SERVER_ERROR excepted: bad input must be coded. */
export const CONTRACT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  // Codes of capabilities announced for the next release (quotas, two-factor sign-in).
  'QUOTA_EXCEEDED',
  'TOTP_REQUIRED',
]);

// graphql-js's messages for variable values that do not fit their declared type: one finding.
const COERCION =
  /cannot represent|does not exist in ".*" enum|Expected non-nullable type|Upload value invalid|was not provided|got invalid value|Expected type|Not a valid ISO 8601/;

export interface Problem {
  /** Groups failures of one cause: the same signature is one finding, however many cases. */
  signature: string;
  detail: string;
}

export interface GraphQLBody {
  data?: unknown;
  errors?: { message?: unknown; path?: unknown; extensions?: { code?: unknown } }[];
}

/** Messages with their variable parts (quoted values, numbers) blanked, for grouping. */
export function normalizeMessage(message: string): string {
  return message
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/\d+/g, 'N')
    .slice(0, 90);
}

/**
 * Problems with one exchange. `mustAnswer`: the request was complete on the wire, so the server
 * owes an answer (a cut or half-closed request may go unanswered).
 */
export function judge(
  outcome: WireOutcome,
  options: { mustAnswer: boolean },
): { problems: Problem[]; body: GraphQLBody | null } {
  const problems: Problem[] = [];
  if (outcome.kind === 'cut') return { problems, body: null };
  if (outcome.kind === 'timeout') {
    problems.push({
      signature: 'no answer: the server hung',
      detail: `no answer within the timeout; got ${JSON.stringify(outcome.partial)}`,
    });
    return { problems, body: null };
  }
  if (outcome.kind === 'reset' || outcome.kind === 'closed') {
    if (options.mustAnswer) {
      problems.push({
        signature: `no answer: connection ${outcome.kind}`,
        detail: `${outcome.kind}${outcome.kind === 'reset' ? ` (${outcome.code})` : ''} before a complete answer; got ${JSON.stringify(outcome.partial)}`,
      });
    }
    return { problems, body: null };
  }
  const text = outcome.body.toString('utf8');
  if (outcome.status >= 500) {
    problems.push({
      signature: `HTTP ${outcome.status}`,
      detail: `HTTP ${outcome.status}: ${text.slice(0, 300)}`,
    });
  }
  if (!/json/i.test(outcome.headers['content-type'] ?? '')) return { problems, body: null };
  let body: GraphQLBody;
  try {
    body = JSON.parse(text) as GraphQLBody;
  } catch {
    problems.push({ signature: 'invalid JSON body', detail: text.slice(0, 300) });
    return { problems, body: null };
  }
  for (const error of body.errors ?? []) {
    const message = typeof error.message === 'string' ? error.message : JSON.stringify(error);
    const code = error.extensions?.code;
    if (code === 'INTERNAL_SERVER_ERROR') {
      problems.push({
        signature: `INTERNAL_SERVER_ERROR at ${JSON.stringify(error.path ?? null)}`,
        detail: `HTTP ${outcome.status}: ${text.slice(0, 400)}`,
      });
    } else if (typeof code !== 'string') {
      problems.push({
        signature: COERCION.test(message)
          ? 'no extensions.code on a variable coercion error (should be BAD_USER_INPUT)'
          : `no extensions.code: ${normalizeMessage(message)}`,
        detail: `HTTP ${outcome.status}: ${text.slice(0, 400)}`,
      });
    } else if (!CONTRACT_CODES.has(code)) {
      problems.push({
        signature: `code ${code} is not an API error code: ${normalizeMessage(message)}`,
        detail: `HTTP ${outcome.status}: ${text.slice(0, 400)}`,
      });
    }
  }
  return { problems, body };
}

/** The request as printable text (control and non-ASCII bytes escaped), shortened in the middle. */
export function showRequest(req: WireRequest, max = 3000): string {
  const raw = Buffer.concat([encodeHead(req), req.body]).toString('latin1');
  const shown =
    raw.length > max
      ? `${raw.slice(0, max / 2)}[… ${raw.length - max} bytes …]${raw.slice(-max / 2)}`
      : raw;
  const delivery =
    req.delivery.kind === 'whole'
      ? 'whole'
      : `${req.delivery.kind} after ${req.delivery.at} body bytes${req.delivery.kind === 'cut' ? (req.delivery.rst ? ' (RST)' : ' (FIN)') : ''}`;
  return `delivery: ${delivery}\n${JSON.stringify(shown)}`;
}

export function showOutcome(outcome: WireOutcome): string {
  if (outcome.kind !== 'answered') return JSON.stringify(outcome);
  return `HTTP ${outcome.status} ${outcome.body.toString('utf8').slice(0, 400)}`;
}
