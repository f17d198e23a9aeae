import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Faster searches at a million files (server/src/modules/files/SEARCH.md):
//
// 1. tags.links_version, bumped by triggers whenever a link of the tag is added or removed or its
//    file changes between ACTIVE and HIDDEN. Each server process keeps the sorted file ids of the
//    tags it filters by in memory and reloads a tag's ids only when this version moved, so counting
//    two popular tags intersects two arrays (~1 ms) instead of merging two index ranges (~45 ms),
//    and the instances of a multi-instance install stay exact without talking to each other.
// 2. SQLite: one FTS5 trigram table per visibility (files_fts_active, files_fts_hidden) instead of
//    one for all, with positions (detail=full). A query is then a trigram phrase MATCH, exact
//    without re-reading each matching name (the GLOB re-check cost ~1.5 µs a match), and a USER's
//    search reads the ACTIVE table alone instead of probing every match's status (~1 µs each).

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  await db.schema
    .alterTable('tags')
    .addColumn('links_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  if (isPostgres(db)) await upPostgres(db);
  else await upSqlite(db);
}

const VERSION_TRIGGERS = [
  'file_tags_version_insert',
  'file_tags_version_delete',
  'file_tags_version_update',
];

async function upPostgres(db: Db): Promise<void> {
  // Statement-level with transition tables: a bulk insert bumps each of its tags once, all three
  // events through one function reading the transition table `changed`. Updates of file_tags only
  // ever change `active` (files_links_active); PostgreSQL does not allow transition tables on a
  // trigger with a column list, so every update counts.
  await sql`
    create function file_tags_version() returns trigger language plpgsql as $$
    begin
      update tags set links_version = links_version + 1
      where id in (select distinct tag_id from changed);
      return null;
    end $$`.execute(db);
  const events = ['insert', 'delete', 'update'];
  for (const [i, name] of VERSION_TRIGGERS.entries()) {
    const event = events[i]!;
    const changed = event === 'delete' ? 'old table as changed' : 'new table as changed';
    await sql`
      create trigger ${sql.id(name)} after ${sql.raw(event)} on file_tags
        referencing ${sql.raw(changed)} for each statement
        execute function file_tags_version()`.execute(db);
  }
}

async function upSqlite(db: Db): Promise<void> {
  await sql`
    create trigger file_tags_version_insert after insert on file_tags begin
      update tags set links_version = links_version + 1 where id = new.tag_id;
    end`.execute(db);
  await sql`
    create trigger file_tags_version_delete after delete on file_tags begin
      update tags set links_version = links_version + 1 where id = old.tag_id;
    end`.execute(db);
  await sql`
    create trigger file_tags_version_update after update of active on file_tags
    when old.active is not new.active begin
      update tags set links_version = links_version + 1 where id = new.tag_id;
    end`.execute(db);

  for (const name of ['files_fts_insert', 'files_fts_update', 'files_fts_delete']) {
    await sql`drop trigger ${sql.id(name)}`.execute(db);
  }
  await sql`drop table files_fts`.execute(db);
  for (const [table, where] of FTS_TABLES) {
    await sql`
      create virtual table ${sql.id(table)} using fts5(
        name, tokenize = 'trigram case_sensitive 1', detail = full)`.execute(db);
    await sql`insert into ${sql.id(table)} (rowid, name)
      select id, lower(name) from files where ${sql.raw(where('files'))}`.execute(db);
  }
  const insertInto = (row: string) =>
    sql.join(
      FTS_TABLES.map(
        ([table, where]) =>
          sql`insert into ${sql.id(table)} (rowid, name)
            select ${sql.raw(row)}.id, lower(${sql.raw(row)}.name) where ${sql.raw(where(row))};`,
      ),
      sql` `,
    );
  const deleteFrom = (row: string) =>
    sql.join(
      FTS_TABLES.map(
        ([table]) => sql`delete from ${sql.id(table)} where rowid = ${sql.raw(row)}.id;`,
      ),
      sql` `,
    );
  await sql`
    create trigger files_fts_insert after insert on files begin ${insertInto('new')} end`.execute(
    db,
  );
  await sql`
    create trigger files_fts_update after update of name, status on files
    when old.name is not new.name or old.status is not new.status begin
      ${deleteFrom('old')} ${insertInto('new')}
    end`.execute(db);
  await sql`
    create trigger files_fts_delete after delete on files begin ${deleteFrom('old')} end`.execute(
    db,
  );
}

const FTS_TABLES: [table: string, where: (row: string) => string][] = [
  ['files_fts_active', (row) => `${row}.status = 'ACTIVE'`],
  ['files_fts_hidden', (row) => `${row}.status <> 'ACTIVE'`],
];

export async function down(db: Db): Promise<void> {
  if (isPostgres(db)) {
    for (const name of VERSION_TRIGGERS) {
      await sql`drop trigger ${sql.id(name)} on file_tags`.execute(db);
    }
    await sql`drop function file_tags_version()`.execute(db);
  } else {
    for (const name of [
      ...VERSION_TRIGGERS,
      'files_fts_insert',
      'files_fts_update',
      'files_fts_delete',
    ]) {
      await sql`drop trigger ${sql.id(name)}`.execute(db);
    }
    for (const [table] of FTS_TABLES) await sql`drop table ${sql.id(table)}`.execute(db);
    // As migration 2026-11-25T1100_search left it.
    await sql`
      create virtual table files_fts using fts5(
        name, tokenize = 'trigram case_sensitive 1', detail = none)`.execute(db);
    await sql`insert into files_fts (rowid, name) select id, lower(name) from files`.execute(db);
    await sql`
      create trigger files_fts_insert after insert on files begin
        insert into files_fts (rowid, name) values (new.id, lower(new.name));
      end`.execute(db);
    await sql`
      create trigger files_fts_update after update of name on files
      when old.name is not new.name begin
        update files_fts set name = lower(new.name) where rowid = new.id;
      end`.execute(db);
    await sql`
      create trigger files_fts_delete after delete on files begin
        delete from files_fts where rowid = old.id;
      end`.execute(db);
  }
  await db.schema.alterTable('tags').dropColumn('links_version').execute();
}
