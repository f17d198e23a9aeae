import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Downloads per UTC hour of each tag, kept by triggers like download_days (migration
// 2026-12-03T0210_download_rollups). The top tags of a range count its partial days at either
// end for every tag at once (server/src/modules/stats/STATS.md); raw, that joins up to a day of
// downloads with file_tags, one link probe per download (~14,000 for a busy day of the
// 5,000,000-download bench library). With these rows the whole hours of those partial days are
// read from here (at most 24 rows per tag) and only the partial hours, under half an hour each,
// stay raw.
//
// Keyed by (hour, tag_id): those reads take every tag over a few hours, one contiguous range of
// the key. Invariant, as for download_days: the rows of a tag equal the downloads, now, of the
// files that carry it now; each trigger keeps it from the current state, so the cascades of a
// file deletion leave it right in either order.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const HOUR_MS = 3_600_000;
/** Files per backfill statement, as in the rollups migration. */
const BATCH = 100_000;

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  // SQLite: WITHOUT ROWID, the key is the table. PostgreSQL: the count rides in the key's index,
  // so the reads are index-only scans of adjacent entries.
  await sql`
    create table download_tag_hours (
      hour bigint not null, tag_id integer not null, downloads integer not null,
      primary key (hour, tag_id) ${pg ? sql`include (downloads)` : sql``}
    ) ${pg ? sql`` : sql`without rowid`}`.execute(db);

  if (pg) await pgTriggers(db);
  else await sqliteTriggers(db);

  const bounds = await sql<{ lo: number | null; hi: number | null }>`
    select min(file_id) as lo, max(file_id) as hi from downloads`.execute(db);
  const lo = Number(bounds.rows[0]?.lo ?? 0);
  const hi = Number(bounds.rows[0]?.hi ?? -1);
  for (let start = lo; start <= hi; start += BATCH) {
    await sql`
      insert into download_tag_hours (hour, tag_id, downloads)
        select d.at - d.at % ${sql.lit(HOUR_MS)}, ft.tag_id, count(*) from downloads d
        join file_tags ft on ft.file_id = d.file_id
        where d.file_id >= ${start} and d.file_id < ${start + BATCH}
        group by d.at - d.at % ${sql.lit(HOUR_MS)}, ft.tag_id
        on conflict (hour, tag_id) do update
          set downloads = download_tag_hours.downloads + excluded.downloads`.execute(db);
  }
  if (pg) await sql`analyze download_tag_hours`.execute(db);
}

/** SQLite: row triggers, one upsert per tag of the download's file. */
async function sqliteTriggers(db: Db) {
  const apply = (row: 'new' | 'old', sign: 1 | -1) =>
    sql.raw(`
    insert into download_tag_hours (hour, tag_id, downloads)
      select ${row}.at - ${row}.at % ${HOUR_MS}, tag_id, ${sign} from file_tags where file_id = ${row}.file_id
      on conflict (hour, tag_id) do update set downloads = downloads + ${sign};`);
  await sql`create trigger download_tag_hours_insert after insert on downloads begin ${apply('new', 1)} end`.execute(
    db,
  );
  await sql`create trigger download_tag_hours_delete after delete on downloads begin ${apply('old', -1)} end`.execute(
    db,
  );
  await sql`
    create trigger download_tag_hours_update after update of file_id, at on downloads
    begin ${apply('old', -1)} ${apply('new', 1)} end`.execute(db);

  // A link moves the file's downloads, hour by hour, into or out of the tag: read through the
  // (file_id, at) index of downloads.
  const link = (row: 'new' | 'old', sign: 1 | -1) =>
    sql.raw(`
    insert into download_tag_hours (hour, tag_id, downloads)
      select at - at % ${HOUR_MS}, ${row}.tag_id, ${sign} * count(*) from downloads
      where file_id = ${row}.file_id group by at - at % ${HOUR_MS}
      on conflict (hour, tag_id) do update set downloads = downloads + excluded.downloads;`);
  await sql`create trigger download_tag_hours_link after insert on file_tags begin ${link('new', 1)} end`.execute(
    db,
  );
  await sql`create trigger download_tag_hours_unlink after delete on file_tags begin ${link('old', -1)} end`.execute(
    db,
  );
}

/** PostgreSQL: statement triggers with transition tables, one grouped upsert per statement. */
async function pgTriggers(db: Db) {
  // `rows` names the download rows `d` and their tags' links `t`.
  const upsert = (sign: 1 | -1, rows: string) => `
    insert into download_tag_hours (hour, tag_id, downloads)
      select d.at - d.at % ${HOUR_MS}, t.tag_id, ${sign} * count(*) from ${rows}
      group by 1, 2 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads;`;
  const apply = (sign: 1 | -1, changed: string) =>
    upsert(sign, `${changed} d join file_tags t on t.file_id = d.file_id`);
  const link = (sign: 1 | -1, links: string) =>
    upsert(sign, `${links} t join downloads d on d.file_id = t.file_id`);
  for (const [name, event, table, body] of [
    ['insert', 'insert', 'new table as inserted', apply(1, 'inserted')],
    ['delete', 'delete', 'old table as removed', apply(-1, 'removed')],
    // Transition tables rule out a column list: every update moves its rows out and back in.
    [
      'update',
      'update',
      'old table as removed new table as inserted',
      apply(-1, 'removed') + apply(1, 'inserted'),
    ],
    ['link', 'insert', 'new table as linked', link(1, 'linked')],
    ['unlink', 'delete', 'old table as unlinked', link(-1, 'unlinked')],
  ] as const) {
    const fn = sql.raw(`download_tag_hours_${name}`);
    const on = sql.raw(name.endsWith('link') ? 'file_tags' : 'downloads');
    await sql`
      create function ${fn}() returns trigger language plpgsql as $$
      begin ${sql.raw(body)} return null; end $$`.execute(db);
    await sql`
      create trigger ${fn} after ${sql.raw(event)} on ${on}
        referencing ${sql.raw(table)} for each statement execute function ${fn}()`.execute(db);
  }
}

export async function down(db: Db): Promise<void> {
  for (const [name, table] of [
    ['insert', 'downloads'],
    ['delete', 'downloads'],
    ['update', 'downloads'],
    ['link', 'file_tags'],
    ['unlink', 'file_tags'],
  ] as const) {
    const fn = sql.raw(`download_tag_hours_${name}`);
    if (isPostgres(db)) {
      await sql`drop trigger ${fn} on ${sql.raw(table)}`.execute(db);
      await sql`drop function ${fn}()`.execute(db);
    } else {
      await sql`drop trigger ${fn}`.execute(db);
    }
  }
  await db.schema.dropTable('download_tag_hours').execute();
}
