import { fileTypeFromBuffer } from 'file-type';
import mime from 'mime-types';
import { z } from 'zod';
import { codePoints, noControlCharacters, parseField } from '../../validation.js';
import { normalizeTagName, tagName } from '../tags/tags.rules.js';

// Pure rules of the files domain: names, tag names, content types. No I/O besides sniffing a
// buffer.

export const MAX_NAME_LENGTH = 255;
export const MAX_TAGS_PER_FILE = 50;

/**
 * A file name: any characters except control characters (CR, LF, NUL, tab, …), trimmed, 1 to 255
 * characters (code points). Control characters are refused rather than stripped so a name never
 * silently differs from what was asked; they are checked before trimming, so "a\n" is refused too.
 */
export const fileName = noControlCharacters(
  'must not contain control characters such as line breaks',
)
  .transform((v) => v.trim())
  .refine((v) => codePoints(v) >= 1, 'must not be empty')
  .refine((v) => codePoints(v) <= MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);

export const parseFileName = (raw: string, field = 'name'): string =>
  parseField(field, fileName, raw);

/**
 * The file name as the user's system had it. Browsers (and undici's FormData) write a multipart
 * filename with `"` as %22 and CR/LF as %0D/%0A, per the HTML standard, and leave other `%` as
 * they are, so only those three are undone; CR/LF then meet the control-character rules.
 */
export function decodeFormFileName(raw: string | undefined): string {
  return (raw ?? '').replace(/%(22|0D|0A)/gi, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** The original name as the client sent it, made storable: control characters replaced. */
export function cleanOriginalName(raw: string | undefined, fallback: string): string {
  const cleaned = [...(raw ?? '').replace(/\p{Cc}/gu, '_').trim()].slice(0, MAX_NAME_LENGTH);
  return cleaned.length ? cleaned.join('') : fallback;
}

export interface TagName {
  name: string;
  key: string;
}

/**
 * Tag names as given to an upload or an edit: each by the tags module's rule (trimmed, 1–40
 * characters, no control characters); duplicates by key collapse to the first, then at most 50.
 */
export const tagNames = z
  .array(tagName)
  .transform((tags) => {
    const seen = new Map<string, TagName>();
    for (const tag of tags) if (!seen.has(tag.key)) seen.set(tag.key, tag);
    return [...seen.values()];
  })
  .refine((tags) => tags.length <= MAX_TAGS_PER_FILE, `at most ${MAX_TAGS_PER_FILE} tags per file`)
  // Sorted by key: concurrent uploads creating the same new tags insert them in one order.
  .transform((tags) => tags.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));

export const parseTagNames = (raw: readonly string[]): TagName[] =>
  parseField('tags', tagNames, raw);

/** The tag a file gets when the uploader gives none. */
export function typeTagFor(mimeType: string): TagName {
  const name = mimeType.startsWith('image/')
    ? 'Image'
    : mimeType.startsWith('video/')
      ? 'Video'
      : mimeType.startsWith('audio/')
        ? 'Audio'
        : 'Other';
  return normalizeTagName(name);
}

// Containers whose real type the extension usually names better (docx, xlsx, jar are ZIPs; old
// Office files are CFB): the bytes only prove "some zip".
const GENERIC_CONTAINERS = new Set(['application/zip', 'application/x-cfb']);

// Source files the extension names better than mime-types does: it maps .ts (and .mts) to MPEG
// transport streams and .rs to an XML format (a real stream carries sync bytes that file-type
// recognises, so when the bytes prove nothing these names are far more likely code), and knows no
// type for .py, .go and the like, which then came out as application/octet-stream: no preview.
const SOURCE_TYPES: Record<string, string> = {
  ts: 'text/typescript',
  tsx: 'text/typescript',
  mts: 'text/typescript',
  cts: 'text/typescript',
  py: 'text/x-python',
  rb: 'text/x-ruby',
  go: 'text/x-go',
  rs: 'text/x-rust',
  cs: 'text/x-csharp',
  kt: 'text/x-kotlin',
  swift: 'text/x-swift',
  scala: 'text/x-scala',
  r: 'text/x-r',
  bash: 'application/x-sh',
  diff: 'text/x-diff',
  patch: 'text/x-diff',
};
const sourceType = (name: string) =>
  SOURCE_TYPES[/\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? ''];

/**
 * The content type from the bytes (file-type, on the first KiB that putTemp kept), else from
 * the extension of the given names, else application/octet-stream. The type the client declared
 * is never consulted.
 */
export async function sniffContentType(head: Buffer, names: readonly string[]): Promise<string> {
  const sniffed = head.length ? await fileTypeFromBuffer(head) : undefined;
  const byExtension = names
    .map((n) => sourceType(n) ?? mime.lookup(n))
    .find((t): t is string => Boolean(t));
  if (sniffed && !(GENERIC_CONTAINERS.has(sniffed.mime) && byExtension)) return sniffed.mime;
  return byExtension ?? 'application/octet-stream';
}
