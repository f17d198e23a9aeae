import { PostgresAdapter, sql, type Kysely } from 'kysely';

// users.upload_count counted uploads made, deleted files included, so it disagreed with the
// files a user could list. From here it counts the user's files that exist (ACTIVE and HIDDEN),
// and users.uploads_hidden the HIDDEN ones among them: a USER is shown the difference, an admin
// the whole. Triggers on files keep both, so every writer (upload, edit, delete, seed) agrees.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('uploads_hidden', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  if (isPostgres(db)) {
    await sql`
      create function files_upload_counts() returns trigger language plpgsql as $$
      begin
        if tg_op in ('UPDATE', 'DELETE') and old.uploaded_by is not null then
          update users set upload_count = upload_count - 1,
            uploads_hidden = uploads_hidden - (old.status = 'HIDDEN')::int
          where id = old.uploaded_by;
        end if;
        if tg_op in ('UPDATE', 'INSERT') and new.uploaded_by is not null then
          update users set upload_count = upload_count + 1,
            uploads_hidden = uploads_hidden + (new.status = 'HIDDEN')::int
          where id = new.uploaded_by;
        end if;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger files_upload_counts_insert after insert on files
        for each row execute function files_upload_counts()`.execute(db);
    await sql`
      create trigger files_upload_counts_delete after delete on files
        for each row execute function files_upload_counts()`.execute(db);
    await sql`
      create trigger files_upload_counts_update after update of status, uploaded_by on files
        for each row when (old.status is distinct from new.status
          or old.uploaded_by is distinct from new.uploaded_by)
        execute function files_upload_counts()`.execute(db);
  } else {
    await sql`
      create trigger files_upload_counts_insert after insert on files
      when new.uploaded_by is not null begin
        update users set upload_count = upload_count + 1,
          uploads_hidden = uploads_hidden + (new.status = 'HIDDEN')
        where id = new.uploaded_by;
      end`.execute(db);
    await sql`
      create trigger files_upload_counts_delete after delete on files
      when old.uploaded_by is not null begin
        update users set upload_count = upload_count - 1,
          uploads_hidden = uploads_hidden - (old.status = 'HIDDEN')
        where id = old.uploaded_by;
      end`.execute(db);
    await sql`
      create trigger files_upload_counts_update after update of status, uploaded_by on files
      when old.status is not new.status or old.uploaded_by is not new.uploaded_by begin
        update users set upload_count = upload_count - 1,
          uploads_hidden = uploads_hidden - (old.status = 'HIDDEN')
        where id = old.uploaded_by;
        update users set upload_count = upload_count + 1,
          uploads_hidden = uploads_hidden + (new.status = 'HIDDEN')
        where id = new.uploaded_by;
      end`.execute(db);
  }

  // Recount from the files as they are: deleted uploads stop counting here.
  await sql`
    update users set
      upload_count = (select count(*) from files f where f.uploaded_by = users.id),
      uploads_hidden = (
        select count(*) from files f where f.uploaded_by = users.id and f.status = 'HIDDEN'
      )`.execute(db);
}

export async function down(db: Db): Promise<void> {
  for (const name of ['insert', 'delete', 'update']) {
    await sql`drop trigger ${sql.raw(`files_upload_counts_${name}`)}${sql.raw(
      isPostgres(db) ? ' on files' : '',
    )}`.execute(db);
  }
  if (isPostgres(db)) await sql`drop function files_upload_counts()`.execute(db);
  await db.schema.alterTable('users').dropColumn('uploads_hidden').execute();
}
