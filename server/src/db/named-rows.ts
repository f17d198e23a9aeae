import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Database, Executor } from './database.js';
import { sortKey } from './sort-key.js';

// Files and users are listed by name as people read them: each row keeps name_sort (sort-key.ts)
// beside its name. Their inserts and updates go through here, so no write of a name leaves its
// sort key stale.

type NamedTable = 'files' | 'users';

/** Inserts a row of `table` with the sort key of its name, and answers it. */
export async function insertNamed<T extends NamedTable>(
  db: Executor,
  table: T,
  row: Omit<Insertable<Database[T]>, 'name_sort'> & { name: string },
): Promise<Selectable<Database[T]>> {
  const inserted = await db
    .insertInto(table as NamedTable)
    // Kysely cannot check values against a table that is a type parameter; `row` is checked
    // against that table's Insertable above.
    .values({ ...row, name_sort: sortKey(row.name) } as Insertable<Database[NamedTable]>)
    .returningAll()
    .executeTakeFirstOrThrow();
  return inserted as Selectable<Database[T]>;
}

/** Updates the row `id` of `table` (and its sort key with a new name); undefined when gone. */
export async function updateNamed<T extends NamedTable>(
  db: Executor,
  table: T,
  id: number,
  patch: Omit<Updateable<Database[T]>, 'name_sort'> & { name?: string },
): Promise<Selectable<Database[T]> | undefined> {
  const updated = await db
    .updateTable(table as NamedTable)
    // As above: `patch` is checked against the table's Updateable in the signature.
    .set(
      (patch.name !== undefined
        ? { ...patch, name_sort: sortKey(patch.name) }
        : patch) as Updateable<Database[NamedTable]>,
    )
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return updated as Selectable<Database[T]> | undefined;
}
