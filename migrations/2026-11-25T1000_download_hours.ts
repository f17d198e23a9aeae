import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Downloads per UTC hour, kept by triggers so every insert path (the download route, the seed
// command, a manual import) keeps it right. downloadStats sums these rows for unfiltered totals
// and series: a year is 8,760 rows instead of millions of downloads. Hours nest exactly in UTC
// days, ISO weeks and months, so any interval's count is a sum of whole hours; the partial hours
// at either end of a range are counted from `downloads` itself.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('download_hours')
    .addColumn('hour', 'bigint', (c) => c.primaryKey())
    .addColumn('downloads', 'integer', (c) => c.notNull())
    .execute();

  if (isPostgres(db)) {
    // Statement-level triggers with transition tables: one upsert per statement and hour, so a
    // bulk insert or COPY of millions of rows costs one grouped query, not a trigger per row.
    await sql`
      create function download_hours_add() returns trigger language plpgsql as $$
      begin
        insert into download_hours (hour, downloads)
          select at - at % 3600000, count(*) from inserted group by 1
          on conflict (hour) do update set downloads = download_hours.downloads + excluded.downloads;
        return null;
      end $$`.execute(db);
    await sql`
      create function download_hours_remove() returns trigger language plpgsql as $$
      begin
        update download_hours h set downloads = h.downloads - d.n
          from (select at - at % 3600000 as hour, count(*) as n from removed group by 1) d
          where h.hour = d.hour;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger download_hours_insert after insert on downloads
        referencing new table as inserted for each statement
        execute function download_hours_add()`.execute(db);
    await sql`
      create trigger download_hours_delete after delete on downloads
        referencing old table as removed for each statement
        execute function download_hours_remove()`.execute(db);
  } else {
    await sql`
      create trigger download_hours_insert after insert on downloads begin
        insert into download_hours (hour, downloads) values (new.at - new.at % 3600000, 1)
          on conflict (hour) do update set downloads = downloads + 1;
      end`.execute(db);
    await sql`
      create trigger download_hours_delete after delete on downloads begin
        update download_hours set downloads = downloads - 1 where hour = old.at - old.at % 3600000;
      end`.execute(db);
  }

  await sql`
    insert into download_hours (hour, downloads)
      select at - at % 3600000, count(*) from downloads group by 1`.execute(db);
}

export async function down(db: Db): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop trigger download_hours_insert on downloads`.execute(db);
    await sql`drop trigger download_hours_delete on downloads`.execute(db);
    await sql`drop function download_hours_add()`.execute(db);
    await sql`drop function download_hours_remove()`.execute(db);
  } else {
    await sql`drop trigger download_hours_insert`.execute(db);
    await sql`drop trigger download_hours_delete`.execute(db);
  }
  await db.schema.dropTable('download_hours').execute();
}
