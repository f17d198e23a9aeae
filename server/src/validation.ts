import { z } from 'zod';
import { BadUserInputError } from './errors.js';

// Every mutation's input is checked by a zod schema and parsed here, so every refusal has one
// shape: BAD_USER_INPUT with `extensions.fields`, one message per argument named as in the schema.

/** Refuses control characters (CR, LF, NUL, tab…) before any trimming, so "a\n" is refused too. */
export const noControlCharacters = (message = 'must not contain control characters') =>
  z.string().refine((v) => !/\p{Cc}/u.test(v), message);

/** A name people give (their account's, a passkey's): trimmed, one line, 1–100 characters. */
export const displayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .pipe(noControlCharacters());

/** Length in code points, as people count characters ("é" and "你" are one each). */
export const codePoints = (v: string) => [...v].length;

/**
 * Parses `input` with `schema`; a failure becomes BAD_USER_INPUT whose `fields` name the argument
 * each issue is about (the first segment of its path: `tags.3` is `tags`), first message wins.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const key = String(issue.path[0] ?? 'input');
    fields[key] ??= issue.message;
  }
  const summary = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  throw new BadUserInputError(summary, fields);
}

/** Parses one argument: `parseInput` on `{ [field]: value }`, returning the parsed value. */
export function parseField<T extends z.ZodType>(
  field: string,
  schema: T,
  value: unknown,
): z.output<T> {
  return (
    parseInput(z.object({ [field]: schema }), { [field]: value }) as Record<string, z.output<T>>
  )[field]!;
}
