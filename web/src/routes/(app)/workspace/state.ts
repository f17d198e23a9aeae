import { DEFAULT_PAGE_SIZE, parsePage, parsePageSize } from '$lib/components/paging';

/**
 * The workspace keeps its whole state in the URL (shareable links, working back button):
 * `?q=report&tags=3,7&match=ANY&sort=NAME&page=2&size=50`. Defaults are left out.
 */
export type FileOrder = 'NEWEST' | 'OLDEST' | 'NAME' | 'LARGEST' | 'MOST_DOWNLOADED';
export type TagMatch = 'ALL' | 'ANY';

export interface WorkspaceState {
  q: string;
  tags: string[];
  match: TagMatch;
  sort: FileOrder;
  page: number;
  size: number;
}

export interface TagFacet {
  id: string;
  name: string;
  /** Files of the current (filtered) result carrying the tag. */
  count: number;
}

export const ORDERS: { value: FileOrder; label: string }[] = [
  { value: 'NEWEST', label: 'Newest first' },
  { value: 'OLDEST', label: 'Oldest first' },
  { value: 'NAME', label: 'Name (A–Z)' },
  { value: 'LARGEST', label: 'Largest first' },
  { value: 'MOST_DOWNLOADED', label: 'Most downloaded' },
];

export const DEFAULTS: WorkspaceState = {
  q: '',
  tags: [],
  match: 'ALL',
  sort: 'NEWEST',
  page: 1,
  size: DEFAULT_PAGE_SIZE,
};

export function parseState(params: URLSearchParams): WorkspaceState {
  const sort = params.get('sort');
  return {
    q: params.get('q') ?? '',
    tags: [
      ...new Set(
        (params.get('tags') ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ],
    match: params.get('match') === 'ANY' ? 'ANY' : 'ALL',
    sort: ORDERS.some((o) => o.value === sort) ? (sort as FileOrder) : 'NEWEST',
    page: parsePage(params.get('page')),
    size: parsePageSize(params.get('size')),
  };
}

/** The search string for a state ('' when everything is default). */
export function toSearch(state: WorkspaceState): string {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.tags.length) params.set('tags', state.tags.join(','));
  if (state.match !== 'ALL') params.set('match', state.match);
  if (state.sort !== 'NEWEST') params.set('sort', state.sort);
  if (state.page > 1) params.set('page', String(state.page));
  if (state.size !== DEFAULT_PAGE_SIZE) params.set('size', String(state.size));
  return params.toString();
}
