import { replaceState } from '$app/navigation';
import { resolve } from '$app/paths';
import { page } from '$app/state';
import type { Pathname } from '$app/types';
import { DEFAULT_PAGE_SIZE, parsePage, parsePageSize } from './paging';
import { withParams } from './url';

export type SortDir = 'asc' | 'desc';

export interface Sort<K extends string> {
  key: K;
  dir: SortDir;
}

export interface TableOptions<K extends string> {
  defaultSort: Sort<K>;
  /** The sort orders this table offers (key:dir pairs); anything else in the URL is ignored. */
  sorts: readonly `${K}:${SortDir}`[];
}

const SEARCH_DEBOUNCE_MS = 250;

/**
 * The state of one admin table: the search text (debounced into `query`), the sort order and the
 * page. It lives in the address bar (`?q=…&sort=name:asc&page=3&size=50`) so a reload, a shared link or
 * the back button lands on the same view. Create it during component initialisation.
 */
export class TableState<K extends string> {
  /** What is typed in the search box. */
  search = $state('');
  /** The trimmed search that queries use; follows `search` after a short pause. */
  query = $state('');
  sort = $state() as Sort<K>;
  page = $state(1);
  pageSize = $state(DEFAULT_PAGE_SIZE);
  readonly #options: TableOptions<K>;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: TableOptions<K>) {
    this.#options = options;
    const params = page.url.searchParams;
    this.search = params.get('q') ?? '';
    this.query = this.search.trim();
    const sort = params.get('sort');
    this.sort = sort && this.#allowed(sort) ? this.#parse(sort) : { ...options.defaultSort };
    this.page = parsePage(params.get('page'));
    this.pageSize = parsePageSize(params.get('size'));
  }

  get offset(): number {
    return (this.page - 1) * this.pageSize;
  }

  /** Call on every keystroke; the query follows after a pause, back on page 1. */
  setSearch(text: string): void {
    this.search = text;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.commitSearch(), SEARCH_DEBOUNCE_MS);
  }

  /** Applies the search at once (Enter, clear button). */
  commitSearch(): void {
    clearTimeout(this.#timer);
    const next = this.search.trim();
    if (next === this.query) return;
    this.query = next;
    this.page = 1;
    this.#write();
  }

  clearSearch(): void {
    this.search = '';
    this.commitSearch();
  }

  /** Whether the column offers this direction. */
  offers(key: K, dir: SortDir): boolean {
    return this.#allowed(`${key}:${dir}`);
  }

  /**
   * A click on a column header: a new column starts in its first offered direction; the current
   * column flips when it offers the other direction.
   */
  toggleSort(key: K): void {
    if (this.sort.key === key) {
      const other: SortDir = this.sort.dir === 'asc' ? 'desc' : 'asc';
      if (!this.offers(key, other)) return;
      this.sort = { key, dir: other };
    } else {
      const first = this.#options.sorts.find((s) => s.startsWith(`${key}:`));
      if (!first) return;
      this.sort = this.#parse(first);
    }
    this.page = 1;
    this.#write();
  }

  setPage(next: number): void {
    if (next === this.page || next < 1) return;
    this.page = next;
    this.#write();
  }

  setPageSize(size: number): void {
    if (size === this.pageSize) return;
    this.pageSize = size;
    this.page = 1;
    this.#write();
  }

  /** After a deletion empties the last page, step back to the page that now exists. */
  clampPage(total: number): void {
    const last = Math.max(1, Math.ceil(total / this.pageSize));
    if (this.page > last) this.setPage(last);
  }

  #allowed(value: string): boolean {
    return (this.#options.sorts as readonly string[]).includes(value);
  }

  #parse(value: string): Sort<K> {
    const [key, dir] = value.split(':') as [K, SortDir];
    return { key, dir };
  }

  #write(): void {
    const d = this.#options.defaultSort;
    const isDefault = this.sort.key === d.key && this.sort.dir === d.dir;
    const search = withParams(location.search, {
      q: this.query || null,
      sort: isDefault ? null : `${this.sort.key}:${this.sort.dir}`,
      page: this.page > 1 ? String(this.page) : null,
      size: this.pageSize !== DEFAULT_PAGE_SIZE ? String(this.pageSize) : null,
    });
    try {
      // Shallow: the address changes, nothing is loaded again.
      replaceState(resolve(`${location.pathname}${search}` as Pathname), {});
    } catch {
      // The router is not ready yet (first render): the state still applies, the URL follows later.
    }
  }
}
