import { sql, type Compilable, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Database, Executor } from './database.js';
import { countRows } from './listing.js';
import type { TableWith } from './rows.js';

// The logs read newest first a page at a time (the audit log, the download history): rows with
// an `at` (epoch ms) and an id, narrowed by the log's own filters and a time range, each page
// with its total count. One shape for all of them, so they agree on the rules: `from` inclusive,
// `to` exclusive, ties (the same millisecond) newest id first, and the count narrowed exactly as
// the page. Each log's indexes end in (at, id), so a page is an index walk, not a sort.

/** The tables with an `at` and an id. */
type LogTable = TableWith<{ at: number; id: number }>;

export interface TimeRange {
  /** Epoch ms, inclusive. */
  from?: number | null;
  /** Epoch ms, exclusive. */
  to?: number | null;
}

export interface NewestFirstLog<T extends LogTable, F extends TimeRange> {
  /** The rows matching `filter`, to select from. */
  filtered(db: Executor, filter: F): SelectQueryBuilder<Database, T, object>;
  /** The query of `list`, to run or to explain. */
  page(db: Executor, filter: F, limit: number, offset: number): Compilable<Selectable<Database[T]>>;
  /** `limit` rows matching `filter` from the `offset`-th, newest first. */
  list(db: Executor, filter: F, limit: number, offset: number): Promise<Selectable<Database[T]>[]>;
  /** How many rows match `filter`. */
  count(db: Executor, filter: F): Promise<number>;
}

/** `narrow` applies the log's own filters (all but the time range) to a query of `table`. */
export function newestFirstLog<T extends LogTable, F extends TimeRange>(
  table: T,
  narrow: (
    query: SelectQueryBuilder<Database, T, object>,
    filter: F,
  ) => SelectQueryBuilder<Database, T, object>,
): NewestFirstLog<T, F> {
  // References by name: Kysely cannot check a column of a table that is still a type parameter;
  // LogTable guarantees both columns exist.
  const at = sql.ref<number>('at');
  const id = sql.ref<number>('id');
  const filtered = (db: Executor, filter: F) => {
    let q = narrow(
      db.selectFrom(table as LogTable) as unknown as SelectQueryBuilder<Database, T, object>,
      filter,
    );
    if (filter.from != null) q = q.where(at, '>=', filter.from);
    if (filter.to != null) q = q.where(at, '<', filter.to);
    return q;
  };
  const page = (db: Executor, filter: F, limit: number, offset: number) =>
    filtered(db, filter)
      .selectAll()
      .orderBy(at, 'desc')
      .orderBy(id, 'desc')
      .limit(limit)
      // selectAll of a generic table is what Selectable names; Kysely cannot prove it.
      .offset(offset) as unknown as Compilable<Selectable<Database[T]>>;
  return {
    filtered,
    page,
    list: async (db, filter, limit, offset) =>
      (await db.executeQuery(page(db, filter, limit, offset).compile())).rows,
    count: (db, filter) => countRows(filtered(db, filter)),
  };
}
