import { sql, type Selectable } from 'kysely';
import type { Database, Executor } from './database.js';

// The statements every repository writes alike, by table and column values: deleting the rows
// that match, asking whether one exists, locking rows in id order. Each stays one call with the
// table's own types; SQL with more to it stays in its repository.

type Table = keyof Database;

/** Column values a row must have, each compared with `=`. */
export type Match<T extends Table> = {
  [C in keyof Selectable<Database[T]>]?: Selectable<Database[T]>[C] & {};
};

/** Deletes the rows of `table` matching `match`: true when there was one. */
export async function deleteRows<T extends Table>(
  db: Executor,
  table: T,
  match: Match<T>,
): Promise<boolean> {
  const result = await db
    .deleteFrom(table as Table)
    .where((eb) => eb.and(match as object))
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Whether `table` has a row matching `match`. */
export async function rowExists<T extends Table>(
  db: Executor,
  table: T,
  match: Match<T>,
): Promise<boolean> {
  const row = await db
    .selectFrom(table as Table)
    .select(sql.lit(1).as('one'))
    .where((eb) => eb.and(match as object))
    .executeTakeFirst();
  return row !== undefined;
}

/** The tables whose rows have (at least) the columns of `Shape`. */
export type TableWith<Shape> = {
  [T in Table]: Selectable<Database[T]> extends Shape ? T : never;
}[Table];

/** The tables whose rows have a numeric id. */
type IdTable = TableWith<{ id: number }>;

/** The rows of `table` whose id is among `ids`, in any order (none, and no query, for no ids). */
export async function rowsByIds<T extends IdTable>(
  db: Executor,
  table: T,
  ids: readonly number[],
): Promise<Selectable<Database[T]>[]> {
  if (!ids.length) return [];
  const rows = await db
    .selectFrom(table as IdTable)
    .selectAll()
    .where('id', 'in', ids)
    .execute();
  // selectAll of a table that is a type parameter is what Selectable names; Kysely cannot prove it.
  return rows as Selectable<Database[T]>[];
}

/**
 * PostgreSQL: locks the rows of `ids` for this transaction, in id order, so two transactions
 * locking overlapping sets never wait on each other crosswise (db/lock-order.ts).
 */
export async function lockRows(
  db: Executor,
  table: IdTable,
  ids: readonly number[],
): Promise<void> {
  if (!ids.length) return;
  await db
    .selectFrom(table)
    .select('id')
    .where('id', 'in', ids)
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** The tables of single-use or expiring rows: each has an `expires_at` (epoch ms). */
type ExpiringTable = TableWith<{ expires_at: number }>;

/** Deletes the rows of `table` that expired at or before `now`. */
export async function deleteExpired(
  db: Executor,
  table: ExpiringTable,
  now: number,
): Promise<void> {
  await db.deleteFrom(table).where('expires_at', '<=', now).execute();
}

/**
 * The live (unexpired at `now`) row of `table` matching `match`: `find` reads it and leaves it in
 * place; `take` uses it up, deleting and answering it (undefined when it is unknown, expired or
 * already used) in one DELETE … RETURNING, so of two requests racing for one row only one gets it.
 */
export function liveRow<T extends ExpiringTable>(
  db: Executor,
  table: T,
  match: Match<T>,
  now: number,
): {
  find(): Promise<Selectable<Database[T]> | undefined>;
  take(): Promise<Selectable<Database[T]> | undefined>;
} {
  // selectAll and returningAll of a table that is a type parameter are what Selectable names;
  // Kysely cannot prove it.
  type Row = Selectable<Database[T]> | undefined;
  return {
    find: async () =>
      (await db
        .selectFrom(table as ExpiringTable)
        .selectAll()
        .where((eb) => eb.and(match as object))
        .where('expires_at', '>', now)
        .executeTakeFirst()) as Row,
    take: async () =>
      (await db
        .deleteFrom(table as ExpiringTable)
        .where((eb) => eb.and(match as object))
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst()) as Row,
  };
}
