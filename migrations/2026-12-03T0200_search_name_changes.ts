import { PostgresAdapter, sql, type Kysely } from 'kysely';

// A change log of the files whose name, status or uploader changed (or that were added or
// deleted), fed by triggers. Each server process keeps an in-memory index of the one- and
// two-character substrings of file names (modules/search/short-names.ts), for queries the
// trigram indexes cannot answer; before each use it reads the log past the last entry it applied,
// so every instance on one database stays exact. Processes prune the log's old entries.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  await db.schema
    .createTable('file_name_changes')
    .addColumn('seq', pg ? 'bigserial' : 'integer', (c) =>
      pg ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('file_id', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('file_name_changes_at')
    .on('file_name_changes')
    .column('at')
    .execute();
  if (pg) {
    // clock_timestamp: the time of the change itself, so a reader can look back over changes
    // whose transactions committed after later sequence numbers had already been read.
    await sql`
      create function file_name_changes_log() returns trigger language plpgsql as $$
      begin
        insert into file_name_changes (file_id, at)
        values (coalesce(new.id, old.id), (extract(epoch from clock_timestamp()) * 1000)::bigint);
        return null;
      end $$`.execute(db);
    await sql`
      create trigger file_name_changes_insert after insert or delete on files
        for each row execute function file_name_changes_log()`.execute(db);
    await sql`
      create trigger file_name_changes_update after update of name, status, uploaded_by on files
        for each row when (old.name is distinct from new.name or old.status is distinct from new.status
                           or old.uploaded_by is distinct from new.uploaded_by)
        execute function file_name_changes_log()`.execute(db);
    return;
  }
  const now = sql`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
  await sql`
    create trigger file_name_changes_insert after insert on files begin
      insert into file_name_changes (file_id, at) values (new.id, ${now});
    end`.execute(db);
  await sql`
    create trigger file_name_changes_delete after delete on files begin
      insert into file_name_changes (file_id, at) values (old.id, ${now});
    end`.execute(db);
  await sql`
    create trigger file_name_changes_update after update of name, status, uploaded_by on files
      when old.name is not new.name or old.status is not new.status
        or old.uploaded_by is not new.uploaded_by
    begin
      insert into file_name_changes (file_id, at) values (new.id, ${now});
    end`.execute(db);
}

export async function down(db: Db): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop trigger file_name_changes_insert on files`.execute(db);
    await sql`drop trigger file_name_changes_update on files`.execute(db);
    await sql`drop function file_name_changes_log()`.execute(db);
  } else {
    await sql`drop trigger file_name_changes_insert`.execute(db);
    await sql`drop trigger file_name_changes_delete`.execute(db);
    await sql`drop trigger file_name_changes_update`.execute(db);
  }
  await db.schema.dropTable('file_name_changes').execute();
}
