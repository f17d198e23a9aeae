/**
 * The workspace keeps its whole view in the URL (shareable links, working back button):
 * `?q=report&tags=3,7&match=ANY&sort=name:asc&page=2&size=50`. Search, sort and page belong to the
 * file table's TableState (sorts from `$lib/components/fileOrder`); the tag filter is read here. Defaults are left out.
 */
export type TagMatch = 'ALL' | 'ANY';

export interface TagFacet {
  id: string;
  name: string;
  /** Files of the current (filtered) result carrying the tag. */
  count: number;
}

export interface TagFilter {
  tags: string[];
  match: TagMatch;
}

export function parseTagFilter(params: URLSearchParams): TagFilter {
  return {
    tags: [
      ...new Set(
        (params.get('tags') ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ],
    match: params.get('match') === 'ANY' ? 'ANY' : 'ALL',
  };
}

/** URL parameters for a tag filter; defaults are left out. */
export function tagParams(filter: Partial<TagFilter>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (filter.tags) out.tags = filter.tags.length ? filter.tags.join(',') : null;
  if (filter.match) out.match = filter.match === 'ANY' ? 'ANY' : null;
  return out;
}
