import { BadUserInputError } from '../../errors.js';

// Pure rules of the tags domain, shared with uploads and edits (files.rules.ts). No I/O.

export const TAG_NAME_MAX = 40;

/**
 * A tag name as stored: no control characters (checked before trimming, so "a\n" is refused, as
 * for file names), trimmed, 1–40 characters (code points); `key` is its lower-cased form, unique
 * across tags, so "Photos" and "PHOTOS" are one tag. The same rules as files.rules.ts
 * parseTagNames, which uploads use. Throws BAD_USER_INPUT naming `field`.
 */
export function normalizeTagName(raw: string, field = 'name'): { name: string; key: string } {
  if (/\p{Cc}/u.test(raw)) throw BadUserInputError.field(field, 'must not hold control characters');
  const name = raw.trim();
  const length = [...name].length;
  if (length < 1 || length > TAG_NAME_MAX) {
    throw BadUserInputError.field(field, `must be 1 to ${TAG_NAME_MAX} characters`);
  }
  return { name, key: name.toLowerCase() };
}
