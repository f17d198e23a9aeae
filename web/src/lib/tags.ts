/** Splits "a, b ,c" into trimmed tag names, dropping duplicates (case-insensitively). */
export function parseTags(text: string): string[] {
  const tags: string[] = [];
  for (const raw of text.split(',')) {
    const tag = raw.trim();
    if (tag && !tags.some((t) => t.toLowerCase() === tag.toLowerCase())) tags.push(tag);
  }
  return tags;
}

/** The server's limit on a tag name, in characters (code points, so "🙂" counts once). */
export const TAG_MAX = 40;

/** A tag's length as the limit counts it. */
export function tagLength(tag: string): number {
  return [...tag].length;
}

/** What to say when one of `tags` is over the limit; undefined when all fit. */
export function tooLongTagMessage(tags: readonly string[]): string | undefined {
  const long = tags.find((t) => tagLength(t) > TAG_MAX);
  return long
    ? `“${[...long].slice(0, 24).join('')}…” is longer than ${TAG_MAX} characters.`
    : undefined;
}
