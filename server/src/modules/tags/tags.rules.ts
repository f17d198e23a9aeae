import { codePoints, noControlCharacters, parseField } from '../../validation.js';

// Pure rules of the tags domain, shared with uploads and edits (files.rules.ts). No I/O.

export const TAG_NAME_MAX = 40;

/**
 * A tag name as stored: no control characters (checked before trimming, so "a\n" is refused, as
 * for file names), trimmed, 1–40 characters (code points); `key` is its lower-cased form, unique
 * across tags, so "Photos" and "PHOTOS" are one tag.
 */
export const tagName = noControlCharacters('must not hold control characters')
  .transform((v) => v.trim())
  .refine(
    (v) => codePoints(v) >= 1 && codePoints(v) <= TAG_NAME_MAX,
    `must be 1 to ${TAG_NAME_MAX} characters`,
  )
  .transform((name) => ({ name, key: name.toLowerCase() }));

/** One tag name by `tagName`; BAD_USER_INPUT naming `field`. */
export const normalizeTagName = (raw: string, field = 'name'): { name: string; key: string } =>
  parseField(field, tagName, raw);
