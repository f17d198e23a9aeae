import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Search and tag counters for a library of millions of files (server/src/modules/files/SEARCH.md).
//
// 1. Substring search on file names: SQLite gets an FTS5 table with the trigram tokenizer over the
//    lower-cased name (lowered by the connection's Unicode-aware lower(), see connection.ts), so a
//    GLOB '*text*' on it is answered from the trigram index and then verified exactly; PostgreSQL
//    gets a pg_trgm GIN index on lower(name) serving LIKE '%text%'. Both mean the same thing:
//    lower(name) contains lower(query).
// 2. Per-tag counters, kept by triggers: how many ACTIVE and HIDDEN files carry the tag, and the sum
//    of their download counts. Tag.fileCount / downloadCount and the unfiltered tagCounts read them
//    instead of counting millions of file_tags rows.
// 3. File totals per status, kept by triggers, for the unfiltered totalCount.
// 4. Indexes for every FileOrder, with and without the status that visibility always filters on,
//    and a narrow (id, status, uploaded_by) index for visibility checks of candidate ids.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const ORDER_INDEXES: [string, string[]][] = [
  ['files_status_created', ['status', 'created_at', 'id']],
  ['files_name', ['name', 'id']],
  ['files_status_name', ['status', 'name', 'id']],
  ['files_size', ['size', 'id']],
  ['files_status_size', ['status', 'size', 'id']],
  ['files_downloads', ['download_count', 'id']],
  ['files_status_downloads', ['status', 'download_count', 'id']],
  ['files_uploader_status', ['uploaded_by', 'status', 'created_at', 'id']],
  // Narrow covering index for visibility checks of candidate ids (status, uploader) without
  // reading the wide file rows: ~0.3 µs a probe instead of ~2 µs at a million files.
  ['files_visibility', ['id', 'status', 'uploaded_by']],
];

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  for (const column of ['files_active', 'files_hidden', 'downloads_active', 'downloads_hidden']) {
    await db.schema
      .alterTable('tags')
      .addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  await db.schema
    .createTable('file_totals')
    .addColumn('status', 'text', (c) => c.primaryKey())
    .addColumn('files', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into file_totals (status, files) values ('ACTIVE', 0), ('HIDDEN', 0)`.execute(
    db,
  );

  for (const [name, columns] of ORDER_INDEXES) {
    await db.schema.createIndex(name).on('files').columns(columns).execute();
  }
  await db.schema.createIndex('tags_name_key_id').on('tags').columns(['name_key', 'id']).execute();

  if (pg) await upPostgres(db);
  else await upSqlite(db);

  // Backfill whatever the library already holds.
  await sql`
    update file_totals set files = (select count(*) from files where files.status = file_totals.status)
  `.execute(db);
  await sql`
    update tags set
      files_active = (select count(*) from file_tags ft join files f on f.id = ft.file_id
                      where ft.tag_id = tags.id and f.status = 'ACTIVE'),
      files_hidden = (select count(*) from file_tags ft join files f on f.id = ft.file_id
                      where ft.tag_id = tags.id and f.status <> 'ACTIVE'),
      downloads_active = (select coalesce(sum(f.download_count), 0) from file_tags ft
                          join files f on f.id = ft.file_id
                          where ft.tag_id = tags.id and f.status = 'ACTIVE'),
      downloads_hidden = (select coalesce(sum(f.download_count), 0) from file_tags ft
                          join files f on f.id = ft.file_id
                          where ft.tag_id = tags.id and f.status <> 'ACTIVE')
  `.execute(db);
}

async function upSqlite(db: Db): Promise<void> {
  // detail=none: the GLOB/LIKE path needs only which rows hold every trigram, then checks the
  // pattern against the stored text; positions would triple the index for nothing.
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

  await sql`
    create trigger files_totals_insert after insert on files begin
      update file_totals set files = files + 1 where status = new.status;
    end`.execute(db);
  await sql`
    create trigger files_totals_delete after delete on files begin
      update file_totals set files = files - 1 where status = old.status;
    end`.execute(db);

  // A file's tag links go before the file does, while its status and download count can still be
  // read by the file_tags trigger below.
  await sql`
    create trigger files_before_delete before delete on files begin
      delete from file_tags where file_id = old.id;
    end`.execute(db);
  await sql`
    create trigger file_tags_counts_insert after insert on file_tags begin
      update tags set
        files_active = files_active
          + coalesce((select status = 'ACTIVE' from files where id = new.file_id), 0),
        files_hidden = files_hidden
          + coalesce((select status <> 'ACTIVE' from files where id = new.file_id), 0),
        downloads_active = downloads_active + coalesce((select
          case when status = 'ACTIVE' then download_count else 0 end
          from files where id = new.file_id), 0),
        downloads_hidden = downloads_hidden + coalesce((select
          case when status <> 'ACTIVE' then download_count else 0 end
          from files where id = new.file_id), 0)
      where id = new.tag_id;
    end`.execute(db);
  await sql`
    create trigger file_tags_counts_delete after delete on file_tags begin
      update tags set
        files_active = files_active
          - coalesce((select status = 'ACTIVE' from files where id = old.file_id), 0),
        files_hidden = files_hidden
          - coalesce((select status <> 'ACTIVE' from files where id = old.file_id), 0),
        downloads_active = downloads_active - coalesce((select
          case when status = 'ACTIVE' then download_count else 0 end
          from files where id = old.file_id), 0),
        downloads_hidden = downloads_hidden - coalesce((select
          case when status <> 'ACTIVE' then download_count else 0 end
          from files where id = old.file_id), 0)
      where id = old.tag_id;
    end`.execute(db);
  await sql`
    create trigger files_tag_counts after update of status, download_count on files
    when old.status is not new.status or old.download_count is not new.download_count begin
      update tags set
        files_active = files_active + (new.status = 'ACTIVE') - (old.status = 'ACTIVE'),
        files_hidden = files_hidden + (new.status <> 'ACTIVE') - (old.status <> 'ACTIVE'),
        downloads_active = downloads_active
          + (case when new.status = 'ACTIVE' then new.download_count else 0 end)
          - (case when old.status = 'ACTIVE' then old.download_count else 0 end),
        downloads_hidden = downloads_hidden
          + (case when new.status <> 'ACTIVE' then new.download_count else 0 end)
          - (case when old.status <> 'ACTIVE' then old.download_count else 0 end)
      where id in (select tag_id from file_tags where file_id = new.id);
      update file_totals set files = files + 1
        where status = new.status and old.status is not new.status;
      update file_totals set files = files - 1
        where status = old.status and old.status is not new.status;
    end`.execute(db);
}

async function upPostgres(db: Db): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create index files_name_trgm on files using gin (lower(name) gin_trgm_ops)`.execute(db);

  // Links: statement-level triggers with transition tables, so a bulk insert of a million links
  // costs one grouped update per statement rather than a tags update per row.
  const linkDelta = (sign: '+' | '-', table: string) =>
    sql.raw(`
    update tags t set
      files_active = t.files_active ${sign} d.fa, files_hidden = t.files_hidden ${sign} d.fh,
      downloads_active = t.downloads_active ${sign} d.da,
      downloads_hidden = t.downloads_hidden ${sign} d.dh
    from (select l.tag_id,
            count(*) filter (where f.status = 'ACTIVE') as fa,
            count(*) filter (where f.status <> 'ACTIVE') as fh,
            coalesce(sum(f.download_count) filter (where f.status = 'ACTIVE'), 0) as da,
            coalesce(sum(f.download_count) filter (where f.status <> 'ACTIVE'), 0) as dh
          from ${table} l join files f on f.id = l.file_id group by l.tag_id) d
    where t.id = d.tag_id;`);
  await sql`
    create function file_tags_counts_insert() returns trigger language plpgsql as $$
    begin ${linkDelta('+', 'inserted')} return null; end $$`.execute(db);
  await sql`
    create function file_tags_counts_delete() returns trigger language plpgsql as $$
    begin ${linkDelta('-', 'removed')} return null; end $$`.execute(db);
  await sql`
    create trigger file_tags_counts_insert after insert on file_tags
      referencing new table as inserted for each statement
      execute function file_tags_counts_insert()`.execute(db);
  await sql`
    create trigger file_tags_counts_delete after delete on file_tags
      referencing old table as removed for each statement
      execute function file_tags_counts_delete()`.execute(db);

  // A file's tag links go before the file does, while its status and download count can still be
  // read by the trigger above.
  await sql`
    create function files_before_delete() returns trigger language plpgsql as $$
    begin delete from file_tags where file_id = old.id; return old; end $$`.execute(db);
  await sql`
    create trigger files_before_delete before delete on files
      for each row execute function files_before_delete()`.execute(db);

  await sql`
    create function files_tag_counts() returns trigger language plpgsql as $$
    begin
      update tags set
        files_active = files_active + (new.status = 'ACTIVE')::int - (old.status = 'ACTIVE')::int,
        files_hidden = files_hidden + (new.status <> 'ACTIVE')::int - (old.status <> 'ACTIVE')::int,
        downloads_active = downloads_active
          + (case when new.status = 'ACTIVE' then new.download_count else 0 end)
          - (case when old.status = 'ACTIVE' then old.download_count else 0 end),
        downloads_hidden = downloads_hidden
          + (case when new.status <> 'ACTIVE' then new.download_count else 0 end)
          - (case when old.status <> 'ACTIVE' then old.download_count else 0 end)
      where id in (select tag_id from file_tags where file_id = new.id);
      if old.status is distinct from new.status then
        update file_totals set files = files + 1 where status = new.status;
        update file_totals set files = files - 1 where status = old.status;
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger files_tag_counts after update of status, download_count on files
      for each row when (old.status is distinct from new.status
                         or old.download_count is distinct from new.download_count)
      execute function files_tag_counts()`.execute(db);

  const totalsDelta = (sign: '+' | '-', table: string) =>
    sql.raw(`
    update file_totals t set files = t.files ${sign} d.n
    from (select status, count(*) as n from ${table} group by status) d
    where t.status = d.status;`);
  await sql`
    create function files_totals_insert() returns trigger language plpgsql as $$
    begin ${totalsDelta('+', 'inserted')} return null; end $$`.execute(db);
  await sql`
    create function files_totals_delete() returns trigger language plpgsql as $$
    begin ${totalsDelta('-', 'removed')} return null; end $$`.execute(db);
  await sql`
    create trigger files_totals_insert after insert on files
      referencing new table as inserted for each statement
      execute function files_totals_insert()`.execute(db);
  await sql`
    create trigger files_totals_delete after delete on files
      referencing old table as removed for each statement
      execute function files_totals_delete()`.execute(db);
}

const PG_TRIGGERS: [string, string][] = [
  ['file_tags_counts_insert', 'file_tags'],
  ['file_tags_counts_delete', 'file_tags'],
  ['files_before_delete', 'files'],
  ['files_tag_counts', 'files'],
  ['files_totals_insert', 'files'],
  ['files_totals_delete', 'files'],
];

const SQLITE_TRIGGERS = [
  'files_fts_insert',
  'files_fts_update',
  'files_fts_delete',
  'files_totals_insert',
  'files_totals_delete',
  'files_before_delete',
  'files_tag_counts',
  'file_tags_counts_insert',
  'file_tags_counts_delete',
];

export async function down(db: Db): Promise<void> {
  if (isPostgres(db)) {
    for (const [name, table] of PG_TRIGGERS) {
      await sql`drop trigger ${sql.id(name)} on ${sql.id(table)}`.execute(db);
      await sql`drop function ${sql.id(name)}()`.execute(db);
    }
    await sql`drop index files_name_trgm`.execute(db);
  } else {
    for (const name of SQLITE_TRIGGERS) await sql`drop trigger ${sql.id(name)}`.execute(db);
    await sql`drop table files_fts`.execute(db);
  }
  await db.schema.dropIndex('tags_name_key_id').execute();
  for (const [name] of ORDER_INDEXES) await db.schema.dropIndex(name).execute();
  await db.schema.dropTable('file_totals').execute();
  for (const column of ['files_active', 'files_hidden', 'downloads_active', 'downloads_hidden']) {
    await db.schema.alterTable('tags').dropColumn(column).execute();
  }
}
