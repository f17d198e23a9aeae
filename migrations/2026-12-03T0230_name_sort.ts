import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { sortKey } from '../server/src/db/sort-key.js';

// Sorting by name as people read it (db/sort-key.ts): files, tags and users get a `name_sort`
// column, filled by the application on insert and rename and here for existing rows, and the
// NAME orders walk an index on it. PostgreSQL compares the keys with the "C" collation, as SQLite
// does (BINARY), so both order identically whatever the database's locale.
//
// The key is computed by the application's own function: the rows filled here must compare with
// the rows it writes later. Should that function ever change, a new migration refills the column.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

/** Rows per batch: a million files are filled in a hundred statements on PostgreSQL. */
const BATCH = 10_000;

async function fill(db: Db, table: string, pg: boolean): Promise<void> {
  for (let after = 0; ;) {
    const rows = (await db
      .selectFrom(table)
      .select(['id', 'name'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute()) as { id: number; name: string }[];
    if (!rows.length) return;
    after = rows[rows.length - 1]!.id;
    const ids = rows.map((r) => r.id);
    const keys = rows.map((r) => sortKey(r.name));
    if (pg) {
      await sql`update ${sql.table(table)} t set name_sort = v.k
        from (select unnest(${ids}::int[]) as id, unnest(${keys}::text[]) as k) v
        where t.id = v.id`.execute(db);
    } else {
      await sql`update ${sql.table(table)} set name_sort = v.value ->> 1
        from json_each(${JSON.stringify(rows.map((r, i) => [r.id, keys[i]]))}) v
        where ${sql.table(table)}.id = v.value ->> 0`.execute(db);
    }
  }
}

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  for (const table of ['files', 'tags', 'users']) {
    await db.schema
      .alterTable(table)
      .addColumn('name_sort', 'text', (c) =>
        (pg ? c.modifyFront(sql`collate "C"`) : c).notNull().defaultTo(''),
      )
      .execute();
    await fill(db, table, pg);
  }
  // Replaces the indexes on `name`, which no order uses any more.
  await db.schema.dropIndex('files_status_name').execute();
  await db.schema.dropIndex('files_name').execute();
  await db.schema
    .createIndex('files_status_name_sort')
    .on('files')
    .columns(['status', 'name_sort', 'id'])
    .execute();
  await db.schema.createIndex('files_name_sort').on('files').columns(['name_sort', 'id']).execute();
  await db.schema.createIndex('tags_name_sort').on('tags').columns(['name_sort', 'id']).execute();
  await db.schema.createIndex('users_name_sort').on('users').columns(['name_sort', 'id']).execute();
}

export async function down(db: Db): Promise<void> {
  for (const index of [
    'files_status_name_sort',
    'files_name_sort',
    'tags_name_sort',
    'users_name_sort',
  ]) {
    await db.schema.dropIndex(index).execute();
  }
  await db.schema
    .createIndex('files_status_name')
    .on('files')
    .columns(['status', 'name', 'id'])
    .execute();
  await db.schema.createIndex('files_name').on('files').columns(['name', 'id']).execute();
  for (const table of ['files', 'tags', 'users']) {
    await db.schema.alterTable(table).dropColumn('name_sort').execute();
  }
}
