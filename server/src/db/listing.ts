import type { SelectQueryBuilder } from 'kysely';
import type { Executor } from './database.js';

// The lists the API pages through (users, tags, the trash, share links): the rows a filter lets
// through, a page of them in an order, and how many there are in all. Both read the one query
// `filtered` builds, so a page and its count never disagree.

/** How many rows `query` selects. */
export async function countRows<DB, TB extends keyof DB>(
  query: SelectQueryBuilder<DB, TB, object>,
): Promise<number> {
  const row = await query
    .select((eb) => eb.fn.countAll<number>().as('n'))
    // Kysely cannot name the selection of a query whose tables are type parameters.
    .$castTo<{ n: number | string | bigint }>()
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface Listing<F, Row, O> {
  /** `limit` rows matching `filter` from the `offset`-th, in `order` (the list's own default). */
  list(db: Executor, filter: F, limit: number, offset: number, order?: O): Promise<Row[]>;
  /** How many rows match `filter`. */
  count(db: Executor, filter: F): Promise<number>;
}

/**
 * `filtered` narrows a query to the rows `filter` lets through; `sorted` selects their columns in
 * `order`, ending with the id so that pages neither overlap nor skip rows with equal keys.
 */
export function listing<DB, TB extends keyof DB, F, Row, O = never>(
  filtered: (db: Executor, filter: F) => SelectQueryBuilder<DB, TB, object>,
  sorted: (
    query: SelectQueryBuilder<DB, TB, object>,
    filter: F,
    order?: O,
  ) => SelectQueryBuilder<DB, TB, Row>,
): Listing<F, Row, O> {
  return {
    list: (db, filter, limit, offset, order) =>
      sorted(filtered(db, filter), filter, order).limit(limit).offset(offset).execute(),
    count: (db, filter) => countRows(filtered(db, filter)),
  };
}
