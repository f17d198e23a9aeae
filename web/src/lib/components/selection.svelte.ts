import { SvelteMap } from 'svelte/reactivity';

/**
 * The rows ticked in a table, kept across its pages (by key, with the row itself so actions can
 * name rows of other pages) and cleared when the question changes: pages call `scope` with
 * everything that defines the answer (search, filters, sort), not the page.
 */
export class Selection<T> {
  readonly #rows = new SvelteMap<string, T>();
  #scope: string | null = null;
  /** The key last ticked or unticked on purpose: the anchor of a shift-click range. */
  anchor = $state<string | null>(null);

  get size(): number {
    return this.#rows.size;
  }

  get keys(): string[] {
    return [...this.#rows.keys()];
  }

  get rows(): T[] {
    return [...this.#rows.values()];
  }

  has(key: string): boolean {
    return this.#rows.has(key);
  }

  set(key: string, row: T, on: boolean): void {
    if (on) this.#rows.set(key, row);
    else this.#rows.delete(key);
  }

  delete(key: string): void {
    this.#rows.delete(key);
  }

  /**
   * Ticks or unticks `key`; with `range`, every row of `page` between the anchor and it as well
   * (shift-click), to the state of the clicked box.
   */
  toggle(page: readonly T[], rowKey: (row: T) => string, key: string, range: boolean): void {
    const on = !this.has(key);
    const keys = page.map(rowKey);
    const to = keys.indexOf(key);
    const from = range && this.anchor !== null ? keys.indexOf(this.anchor) : -1;
    if (from >= 0 && to >= 0) {
      const [a, b] = from < to ? [from, to] : [to, from];
      for (let i = a; i <= b; i++) this.set(keys[i]!, page[i]!, on);
    } else if (to >= 0) {
      this.set(key, page[to]!, on);
    }
    this.anchor = key;
  }

  /** Whether every row of `page` is ticked (and there is one). */
  allOf(page: readonly T[], rowKey: (row: T) => string): boolean {
    return page.length > 0 && page.every((r) => this.has(rowKey(r)));
  }

  someOf(page: readonly T[], rowKey: (row: T) => string): boolean {
    return page.some((r) => this.has(rowKey(r)));
  }

  setPage(page: readonly T[], rowKey: (row: T) => string, on: boolean): void {
    for (const row of page) this.set(rowKey(row), row, on);
  }

  clear(): void {
    this.#rows.clear();
    this.anchor = null;
  }

  /** Clears the selection when the question (`key`) differs from the last one seen. */
  scope(key: string): void {
    if (this.#scope !== null && this.#scope !== key) this.clear();
    this.#scope = key;
  }
}
