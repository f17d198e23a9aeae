import { BadUserInputError } from '../errors.js';

/**
 * Longest search text, in characters. Names are at most 255 characters, so a longer query can
 * match nothing; and the cost of a substring search grows with the query (one 900 KB query held
 * SQLite, and with it every request, for seconds).
 */
export const MAX_SEARCH_LENGTH = 255;

/**
 * A `query` argument of a list: null or the text as given, refused when it holds control
 * characters (a NUL matched every file on SQLite and failed on PostgreSQL) or is too long.
 */
export function parseSearchText(raw: string | null | undefined, field = 'query'): string | null {
  if (raw == null) return null;
  if (/\p{Cc}/u.test(raw)) {
    throw BadUserInputError.field(field, 'must not contain control characters');
  }
  // Code points are at most as many as UTF-16 units: only a long string needs counting.
  if (raw.length > MAX_SEARCH_LENGTH && [...raw].length > MAX_SEARCH_LENGTH) {
    throw BadUserInputError.field(field, `must be at most ${MAX_SEARCH_LENGTH} characters`);
  }
  return raw;
}
