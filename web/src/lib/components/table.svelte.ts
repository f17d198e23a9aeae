import { page } from '$app/state';
import { DEFAULT_PAGE_SIZE, parsePage, parsePageSize } from './paging';
import { setParams } from './url';

export type SortDir = 'asc' | 'desc';

export interface Sort<K extends string> {
  key: K;
  dir: SortDir;
}

export interface TableOptions<K extends string> {
  defaultSort: Sort<K>;
  /** The sort orders this table offers (key:dir pairs); anything else in the URL is ignored. */
  sorts: readonly `${K}:${SortDir}`[];
  /**
   * Whether each new search, sort or page is a history entry of its own (the workspace, where the
   * back button steps through searches) or replaces the current one (admin tables).
   */
  history?: 'push' | 'replace';
}

const SEARCH_DEBOUNCE_MS = 250;

/**
 * The state of one table: the search, the sort order and the page, read from the address bar
 * (`?q=…&sort=name:asc&page=3&size=50`) and written back through `setParams`, the app's one
 * URL-state model. Only the text being typed lives here, until it is sent.
 */
export class TableState<K extends string> {
  readonly #options: TableOptions<K>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Text typed but not yet in the URL: it wins over the URL until it has landed there. */
  #typed = $state<string | null>(null);
  #pending = $state(false);

  constructor(options: TableOptions<K>) {
    this.#options = options;
  }

  /** The trimmed search that queries use. */
  get query(): string {
    return (page.url.searchParams.get('q') ?? '').trim();
  }

  /** What the search box shows: the text being typed, else the URL's search (back button). */
  get search(): string {
    const typed = this.#typed;
    if (typed !== null && (this.#pending || typed.trim() === this.query)) return typed;
    return page.url.searchParams.get('q') ?? '';
  }

  get sort(): Sort<K> {
    const value = page.url.searchParams.get('sort');
    return value && this.#allowed(value) ? this.#parse(value) : { ...this.#options.defaultSort };
  }

  get page(): number {
    return parsePage(page.url.searchParams.get('page'));
  }

  get pageSize(): number {
    return parsePageSize(page.url.searchParams.get('size'));
  }

  get offset(): number {
    return (this.page - 1) * this.pageSize;
  }

  /** Call on every keystroke; the query follows after a pause, back on page 1. */
  setSearch(text: string): void {
    this.#typed = text;
    this.#pending = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.commitSearch(), SEARCH_DEBOUNCE_MS);
  }

  /** Applies the search at once (Enter, clear button). */
  commitSearch(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const next = (this.#typed ?? this.query).trim();
    if (next === this.query) {
      this.#pending = false;
      return;
    }
    void this.#write({ q: next || null, page: null }).finally(() => {
      if (this.#timer === undefined) this.#pending = false;
    });
  }

  /** Sets the search at once, e.g. from a search field that waits for its own pause. */
  setQuery(text: string): void {
    this.#typed = text;
    this.commitSearch();
  }

  clearSearch(): void {
    this.setQuery('');
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
    const sort = this.sort;
    if (sort.key === key) {
      const other: SortDir = sort.dir === 'asc' ? 'desc' : 'asc';
      if (this.offers(key, other)) this.setSort({ key, dir: other });
    } else {
      const first = this.#options.sorts.find((s) => s.startsWith(`${key}:`));
      if (first) this.setSort(this.#parse(first));
    }
  }

  setSort(next: Sort<K>): void {
    const d = this.#options.defaultSort;
    const isDefault = next.key === d.key && next.dir === d.dir;
    void this.#write({ sort: isDefault ? null : `${next.key}:${next.dir}`, page: null });
  }

  setPage(next: number, replace = false): void {
    if (next === this.page || next < 1) return;
    void this.#write({ page: next > 1 ? String(next) : null }, replace);
  }

  setPageSize(size: number): void {
    if (size === this.pageSize) return;
    void this.#write({ size: size !== DEFAULT_PAGE_SIZE ? String(size) : null, page: null });
  }

  /** After a deletion empties the last page (or an old link), step back to the page that exists. */
  clampPage(total: number): void {
    const last = Math.max(1, Math.ceil(total / this.pageSize));
    if (this.page > last) this.setPage(last, true);
  }

  #allowed(value: string): boolean {
    return (this.#options.sorts as readonly string[]).includes(value);
  }

  #parse(value: string): Sort<K> {
    const [key, dir] = value.split(':') as [K, SortDir];
    return { key, dir };
  }

  #write(patch: Record<string, string | null>, replace = false): Promise<void> {
    return setParams(patch, { push: !replace && this.#options.history === 'push' });
  }
}
