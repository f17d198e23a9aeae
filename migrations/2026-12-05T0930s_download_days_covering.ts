import { PostgresAdapter, sql, type Kysely } from 'kysely';

// PostgreSQL: the top lists of downloadStats count each candidate's day rows of the range
// (server/src/modules/stats/STATS.md). download_days is a heap there, and a tag's or file's rows
// for a year lie on hundreds of pages scattered over it (rows are added day by day and moved by
// every update), so a year of 32 tags read ~12,000 heap pages. With the count carried in the
// index (INCLUDE), those reads are index-only scans of adjacent entries. SQLite needs nothing:
// its download_days is WITHOUT ROWID, clustered on the key already.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create index download_days_counts on download_days (kind, id, day) include (downloads)`.execute(
    db,
  );
  // Index-only scans need the visibility map, which (auto)vacuum keeps; the statistics now, so
  // the planner weighs the new index from the start.
  await sql`analyze download_days`.execute(db);
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop index download_days_counts`.execute(db);
}
