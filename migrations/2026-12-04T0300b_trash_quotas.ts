import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Trash and quotas (issue 16).
//
// A deleted file moves out of `files` into `trashed_files`, the same columns plus when and by whom
// it was deleted and the ids of its tags. Leaving `files` fires every trigger a deletion fires (tag
// counts, totals, upload counts, search, rollups), so a trashed file is deleted for everything but
// the trash itself without any other query learning about it. Its row keeps the blob referenced
// (blobs.ref_count counts trashed files too) until it is purged. Its downloads keep it in
// `downloads.trashed_file_id` (with `file_id` null, as after a deletion), so a restore relinks them.
//
// users.used_bytes sums the sizes of the user's files in `files` and `trashed_files`, kept by
// triggers on both, so every writer agrees and concurrent uploads and deletions stay exact (each
// trigger is one relative update of the user's row). users.quota_bytes: null means the default.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  await db.schema
    .createTable('trashed_files')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_sort', 'text', (c) => c.notNull())
    .addColumn('original_name', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull().references('blobs.sha256'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('uploaded_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('download_count', 'integer', (c) => c.notNull())
    .addColumn('last_downloaded_at', 'bigint')
    .addColumn('deleted_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_by', 'integer')
    .addColumn('tag_ids', 'text', (c) => c.notNull())
    .execute();
  // The purge takes the oldest; a person's trash lists their own, newest first.
  await db.schema
    .createIndex('trashed_files_deleted_at')
    .on('trashed_files')
    .columns(['deleted_at', 'id'])
    .execute();
  await db.schema
    .createIndex('trashed_files_uploaded_by')
    .on('trashed_files')
    .columns(['uploaded_by', 'deleted_at', 'id'])
    .execute();
  await db.schema
    .createIndex('trashed_files_sha256')
    .on('trashed_files')
    .column('sha256')
    .execute();

  await db.schema.alterTable('downloads').addColumn('trashed_file_id', 'integer').execute();
  await sql`
    create index downloads_trashed_file on downloads (trashed_file_id)
    where trashed_file_id is not null`.execute(db);

  await db.schema.alterTable('users').addColumn('quota_bytes', 'bigint').execute();
  await db.schema
    .alterTable('users')
    .addColumn('used_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  if (pg) {
    await sql`
      create function used_bytes_track() returns trigger language plpgsql as $$
      begin
        if tg_op in ('UPDATE', 'DELETE') and old.uploaded_by is not null then
          update users set used_bytes = used_bytes - old.size where id = old.uploaded_by;
        end if;
        if tg_op in ('UPDATE', 'INSERT') and new.uploaded_by is not null then
          update users set used_bytes = used_bytes + new.size where id = new.uploaded_by;
        end if;
        return null;
      end $$`.execute(db);
    for (const table of ['files', 'trashed_files']) {
      await sql`
        create trigger ${sql.id(`${table}_used_bytes_change`)} after insert or delete on ${sql.id(table)}
          for each row execute function used_bytes_track()`.execute(db);
      await sql`
        create trigger ${sql.id(`${table}_used_bytes_update`)} after update of size, uploaded_by
          on ${sql.id(table)} for each row
          when (old.size is distinct from new.size or old.uploaded_by is distinct from new.uploaded_by)
          execute function used_bytes_track()`.execute(db);
    }
  } else {
    for (const table of ['files', 'trashed_files']) {
      const t = sql.id(table);
      await sql`
        create trigger ${sql.id(`${table}_used_bytes_insert`)} after insert on ${t}
        when new.uploaded_by is not null begin
          update users set used_bytes = used_bytes + new.size where id = new.uploaded_by;
        end`.execute(db);
      await sql`
        create trigger ${sql.id(`${table}_used_bytes_delete`)} after delete on ${t}
        when old.uploaded_by is not null begin
          update users set used_bytes = used_bytes - old.size where id = old.uploaded_by;
        end`.execute(db);
      await sql`
        create trigger ${sql.id(`${table}_used_bytes_update`)} after update of size, uploaded_by
          on ${t}
        when old.size <> new.size or old.uploaded_by is not new.uploaded_by begin
          update users set used_bytes = used_bytes - old.size where id = old.uploaded_by;
          update users set used_bytes = used_bytes + new.size where id = new.uploaded_by;
        end`.execute(db);
    }
  }

  await sql`
    update users set used_bytes = coalesce(
      (select sum(f.size) from files f where f.uploaded_by = users.id), 0)`.execute(db);
}

export async function down(db: Db): Promise<void> {
  const pg = isPostgres(db);
  for (const table of ['files', 'trashed_files']) {
    const names = pg
      ? ['used_bytes_change', 'used_bytes_update']
      : ['used_bytes_insert', 'used_bytes_delete', 'used_bytes_update'];
    for (const name of names) {
      await sql`drop trigger ${sql.id(`${table}_${name}`)}${pg ? sql` on ${sql.id(table)}` : sql``}`.execute(
        db,
      );
    }
  }
  if (pg) await sql`drop function used_bytes_track()`.execute(db);
  await db.schema.alterTable('users').dropColumn('used_bytes').execute();
  await db.schema.alterTable('users').dropColumn('quota_bytes').execute();
  await sql`drop index downloads_trashed_file`.execute(db);
  await db.schema.alterTable('downloads').dropColumn('trashed_file_id').execute();
  await db.schema.dropTable('trashed_files').execute();
}
