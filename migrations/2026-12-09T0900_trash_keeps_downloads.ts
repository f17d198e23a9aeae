import { PostgresAdapter, sql, type Kysely } from 'kysely';

// The trash leaves a file's downloads where they are. Moving a file to the trash used to move its
// download rows aside (`file_id` null, the id kept in `trashed_file_id`) and a restore moved them
// back: on a request of 1,000 files (about 5,000 downloads) that one UPDATE was 71 of the
// statements' 140 ms on SQLite and 277 of 410 ms on PostgreSQL, every row firing the rollup
// triggers and rewriting two indexes. Now a download keeps its `file_id` while the file is in the
// trash (the id is never reused: `files` ids only grow, and a restore brings the same row back),
// and only a purge, which runs in the background, sets it to null.
//
// So `downloads.file_id` names a row of `files` or of `trashed_files`, and no longer carries a
// foreign key (a key on one table cannot allow the other). Readers that must treat a trashed file
// as deleted (the file loader, the statistics' file lists, a filter by file) check `files`; the
// download rollups count a trashed file's downloads under its id until the purge, and its tag
// links are gone, so no tag counts them.
//
// SQLite cannot drop a foreign key in place: the table is rebuilt as SQLite's documentation
// describes (new table, copy, drop, rename, then its indexes and triggers from their saved SQL),
// which takes seconds a million downloads.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const FILE_ID_PLAIN = '"file_id" integer';
const FILE_ID_REFERENCES = '"file_id" integer references "files" ("id") on delete set null';

// Kysely runs PostgreSQL's migrations in a transaction but not SQLite's; the rebuild drops the
// table it copied, so on SQLite each direction runs in one transaction of its own: a failure or a
// crash half-way leaves `downloads` as it was.
export const up = (db: Db): Promise<void> =>
  isPostgres(db) ? upIn(db) : db.transaction().execute(upIn);

export const down = (db: Db): Promise<void> =>
  isPostgres(db) ? downIn(db) : db.transaction().execute(downIn);

async function upIn(db: Db): Promise<void> {
  if (isPostgres(db)) {
    const { rows } = await sql<{ name: string }>`
      select c.conname as name from pg_constraint c
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any (c.conkey)
      where c.conrelid = 'downloads'::regclass and c.contype = 'f' and a.attname = 'file_id'`.execute(
      db,
    );
    if (rows.length !== 1) throw new Error(`expected one foreign key on downloads.file_id`);
    await sql`alter table downloads drop constraint ${sql.id(rows[0]!.name)}`.execute(db);
  } else {
    await rebuildDownloads(db, FILE_ID_REFERENCES, FILE_ID_PLAIN);
  }
  // Downloads the old trash set aside go back under their file's id; the rollup triggers count
  // them for that id again (its tag links are gone, so for no tag).
  await sql`
    update downloads set file_id = trashed_file_id, trashed_file_id = null
    where trashed_file_id is not null`.execute(db);
  await sql`drop index downloads_trashed_file`.execute(db);
  await db.schema.alterTable('downloads').dropColumn('trashed_file_id').execute();
}

async function downIn(db: Db): Promise<void> {
  await db.schema.alterTable('downloads').addColumn('trashed_file_id', 'integer').execute();
  await sql`
    create index downloads_trashed_file on downloads (trashed_file_id)
    where trashed_file_id is not null`.execute(db);
  await sql`
    update downloads set trashed_file_id = file_id, file_id = null
    where file_id in (select id from trashed_files)`.execute(db);
  if (isPostgres(db)) {
    await sql`
      alter table downloads add foreign key (file_id) references files (id) on delete set null`.execute(
      db,
    );
  } else {
    await rebuildDownloads(db, FILE_ID_PLAIN, FILE_ID_REFERENCES);
  }
}

/**
 * SQLite: rebuilds `downloads` with `from` replaced by `to` in its definition, keeping its rows,
 * indexes, triggers and AUTOINCREMENT position. Triggers of other tables that name `downloads`
 * are text resolved when they run, so they find the new table; `legacy_alter_table` keeps the
 * rename from rewriting (and first checking) them while no `downloads` exists.
 */
async function rebuildDownloads(db: Db, from: string, to: string): Promise<void> {
  const { rows: tables } = await sql<{ sql: string }>`
    select sql from sqlite_master where type = 'table' and name = 'downloads'`.execute(db);
  const definition = tables[0]?.sql ?? '';
  if (definition.split(from).length !== 2 || !definition.startsWith('CREATE TABLE "downloads"')) {
    throw new Error(`downloads is not defined as expected: ${definition}`);
  }
  const { rows: dependents } = await sql<{ sql: string }>`
    select sql from sqlite_master
    where tbl_name = 'downloads' and type in ('index', 'trigger') and sql is not null
    order by case type when 'index' then 0 else 1 end, rowid`.execute(db);
  const { rows: sequence } = await sql<{ seq: number }>`
    select seq from sqlite_sequence where name = 'downloads'`.execute(db);

  const created = definition
    .replace('CREATE TABLE "downloads"', 'CREATE TABLE "downloads_rebuilt"')
    .replace(from, to);
  await sql.raw(created).execute(db);
  await sql`insert into downloads_rebuilt select * from downloads`.execute(db);
  await sql`drop table downloads`.execute(db);
  await sql`pragma legacy_alter_table = on`.execute(db);
  try {
    await sql`alter table downloads_rebuilt rename to downloads`.execute(db);
  } finally {
    await sql`pragma legacy_alter_table = off`.execute(db);
  }
  for (const d of dependents) await sql.raw(d.sql).execute(db);
  if (sequence[0]) {
    await sql`
      update sqlite_sequence set seq = ${sequence[0].seq} where name = 'downloads'`.execute(db);
  }
  const { rows: problems } = await sql<{
    table: string;
  }>`pragma foreign_key_check(downloads)`.execute(db);
  if (problems.length) throw new Error(`downloads: ${problems.length} rows break a foreign key`);
}
