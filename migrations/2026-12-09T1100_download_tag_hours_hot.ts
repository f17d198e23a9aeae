import { PostgresAdapter, sql, type Kysely } from 'kysely';

// PostgreSQL: download_tag_hours rows are updated in place by every download of a tagged file and
// by every retag or trash of files with downloads (each moves those files' downloads between their
// tags' hours: ~12,000 rows for 1,000 files of the bench library). With the count in the key's
// index (INCLUDE) no such update could be HOT: each wrote a new index entry too. The key now
// leaves the count out and the table keeps a fifth of each page free, so an update rewrites the
// row in its page and no index at all: unlinking 1,000 files' tags, median ~100 instead of
// ~128–171 ms over three alternations. Its one reader, the whole hours of a range's partial days
// (at most 24 rows a tag at each end), now reads those rows from the heap: 0.7 ms for a day of
// every tag, as before. Existing full pages make room as their old row versions are pruned.
// SQLite's table is WITHOUT ROWID, updated in its key's b-tree either way.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`
    alter table download_tag_hours drop constraint download_tag_hours_pkey,
      add constraint download_tag_hours_pkey primary key (hour, tag_id)`.execute(db);
  await sql`alter table download_tag_hours set (fillfactor = 80)`.execute(db);
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table download_tag_hours reset (fillfactor)`.execute(db);
  await sql`
    alter table download_tag_hours drop constraint download_tag_hours_pkey,
      add constraint download_tag_hours_pkey primary key (hour, tag_id) include (downloads)`.execute(
    db,
  );
}
