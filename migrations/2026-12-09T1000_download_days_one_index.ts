import { PostgresAdapter, sql, type Kysely } from 'kysely';

// PostgreSQL: download_days had two indexes on the same key, the primary key (kind, id, day) and
// download_days_counts (kind, id, day) INCLUDE (downloads), added so the top lists' sums are
// index-only scans (migration 2026-12-05T0930s_download_days_covering). Every download, retag and
// trash upserts these rows, and each update wrote both. The primary key now carries the count
// itself and the second index goes: the same index-only reads, one index to write. SQLite's
// table is WITHOUT ROWID, clustered on its key, and needs neither.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`
    alter table download_days drop constraint download_days_pkey,
      add constraint download_days_pkey primary key (kind, id, day) include (downloads)`.execute(
    db,
  );
  await sql`drop index download_days_counts`.execute(db);
  await sql`analyze download_days`.execute(db);
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create index download_days_counts on download_days (kind, id, day) include (downloads)`.execute(
    db,
  );
  await sql`
    alter table download_days drop constraint download_days_pkey,
      add constraint download_days_pkey primary key (kind, id, day)`.execute(db);
}
