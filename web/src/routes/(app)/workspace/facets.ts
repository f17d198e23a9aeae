import type { ResultOf } from '$lib/graphql/graphql';
import type { WorkspaceFilesQuery } from './documents';
import type { TagFacet } from './state';

/**
 * Every tag the search reaches (facets), counted in the current filtered result; selected tags
 * outside the search stay listed (with 0) so they can be unselected.
 */
export function facetsOf(
  data: ResultOf<typeof WorkspaceFilesQuery> | undefined,
  selected: readonly string[],
): TagFacet[] {
  const counts: Record<string, number> = {};
  for (const tc of data?.files.tagCounts ?? []) counts[tc.tag.id] = tc.count;
  const list: TagFacet[] = (data?.facets.tagCounts ?? []).map((tc) => ({
    id: tc.tag.id,
    name: tc.tag.name,
    count: counts[tc.tag.id] ?? 0,
  }));
  for (const tc of data?.files.tagCounts ?? []) {
    if (!list.some((t) => t.id === tc.tag.id)) list.push({ ...tc.tag, count: tc.count });
  }
  for (const tc of data?.chosen?.tagCounts ?? []) {
    if (selected.includes(tc.tag.id) && !list.some((t) => t.id === tc.tag.id)) {
      list.push({ ...tc.tag, count: 0 });
    }
  }
  return list;
}
