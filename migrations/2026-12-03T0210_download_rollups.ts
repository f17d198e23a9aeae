import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Downloads per UTC day and in all, for each file, user and tag, kept by triggers so every path
// that writes `downloads` or `file_tags` keeps them exact. downloadStats reads them for its top
// lists (server/src/modules/stats/STATS.md): the all-time totals, sorted, bound what any range
// can hold, and the day rows give a candidate's exact count over a range in a few hundred rows.
//
// One pair of tables for the three kinds ('file', 'user', 'tag'), so one algorithm reads them.
// Invariant: for every kind and id, the rows equal a count over `downloads` as it is now; a tag
// counts the downloads of the files that carry it now. Each trigger keeps that invariant from the
// current state, so the cascades of a file deletion (its links deleted, its downloads' file_id
// set to null) leave it right in either order.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const DAY_MS = 86_400_000;
/** Files per backfill statement: bounded memory and a steady pace on millions of downloads. */
const BATCH = 100_000;

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  // WITHOUT ROWID on SQLite: the primary key is the table, no second copy of each row.
  await sql`
    create table download_days (
      kind text not null, id integer not null, day bigint not null, downloads integer not null,
      primary key (kind, id, day)
    ) ${pg ? sql`` : sql`without rowid`}`.execute(db);
  await sql`
    create table download_totals (
      kind text not null, id integer not null, downloads integer not null,
      primary key (kind, id)
    ) ${pg ? sql`` : sql`without rowid`}`.execute(db);
  await sql`
    create index download_totals_rank on download_totals (kind, downloads desc, id)`.execute(db);

  if (pg) await pgTriggers(db);
  else await sqliteTriggers(db);

  // Backfill by ranges of file ids: downloads of deleted files (file_id null) count for users only.
  const bounds = await sql<{ lo: number | null; hi: number | null }>`
    select min(file_id) as lo, max(file_id) as hi from downloads`.execute(db);
  const lo = Number(bounds.rows[0]?.lo ?? 0);
  const hi = Number(bounds.rows[0]?.hi ?? -1);
  for (let start = lo; start <= hi; start += BATCH) {
    const end = start + BATCH;
    await sql`
      insert into download_days (kind, id, day, downloads)
        select 'file', file_id, at - at % ${sql.lit(DAY_MS)}, count(*) from downloads
        where file_id >= ${start} and file_id < ${end} group by file_id, at - at % ${sql.lit(DAY_MS)}`.execute(
      db,
    );
    await sql`
      insert into download_days (kind, id, day, downloads)
        select 'tag', ft.tag_id, d.day, sum(d.downloads) from download_days d
        join file_tags ft on ft.file_id = d.id
        where d.kind = 'file' and d.id >= ${start} and d.id < ${end}
        group by ft.tag_id, d.day
        on conflict (kind, id, day) do update
          set downloads = download_days.downloads + excluded.downloads`.execute(db);
  }
  await sql`
    insert into download_days (kind, id, day, downloads)
      select 'user', user_id, at - at % ${sql.lit(DAY_MS)}, count(*) from downloads
      where user_id is not null group by user_id, at - at % ${sql.lit(DAY_MS)}`.execute(db);
  await sql`
    insert into download_totals (kind, id, downloads)
      select kind, id, sum(downloads) from download_days group by kind, id`.execute(db);
  // Fresh statistics, or PostgreSQL plans the first top lists for empty tables until autovacuum.
  if (pg) await sql`analyze download_days, download_totals`.execute(db);
}

/** SQLite: row triggers, each a handful of primary-key upserts. */
async function sqliteTriggers(db: Db) {
  // `sign` is +1 for a download that appears, -1 for one that goes; `row` is new or old.
  const apply = (row: 'new' | 'old', sign: 1 | -1) =>
    sql.raw(`
    insert into download_days (kind, id, day, downloads)
      select 'file', ${row}.file_id, ${row}.at - ${row}.at % ${DAY_MS}, ${sign} where ${row}.file_id is not null
      union all
      select 'user', ${row}.user_id, ${row}.at - ${row}.at % ${DAY_MS}, ${sign} where ${row}.user_id is not null
      union all
      select 'tag', tag_id, ${row}.at - ${row}.at % ${DAY_MS}, ${sign} from file_tags where file_id = ${row}.file_id
      on conflict (kind, id, day) do update set downloads = downloads + ${sign};
    insert into download_totals (kind, id, downloads)
      select 'file', ${row}.file_id, ${sign} where ${row}.file_id is not null
      union all
      select 'user', ${row}.user_id, ${sign} where ${row}.user_id is not null
      union all
      select 'tag', tag_id, ${sign} from file_tags where file_id = ${row}.file_id
      on conflict (kind, id) do update set downloads = downloads + ${sign};`);
  await sql`create trigger download_rollups_insert after insert on downloads begin ${apply('new', 1)} end`.execute(
    db,
  );
  await sql`create trigger download_rollups_delete after delete on downloads begin ${apply('old', -1)} end`.execute(
    db,
  );
  await sql`
    create trigger download_rollups_update after update of file_id, user_id, at on downloads
    begin ${apply('old', -1)} ${apply('new', 1)} end`.execute(db);

  // A link moves the file's downloads, day by day, into or out of the tag.
  const link = (row: 'new' | 'old', sign: 1 | -1) =>
    sql.raw(`
    insert into download_days (kind, id, day, downloads)
      select 'tag', ${row}.tag_id, day, ${sign} * downloads from download_days
      where kind = 'file' and id = ${row}.file_id and downloads <> 0
      on conflict (kind, id, day) do update set downloads = downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select 'tag', ${row}.tag_id, ${sign} * downloads from download_totals
      where kind = 'file' and id = ${row}.file_id and downloads <> 0
      on conflict (kind, id) do update set downloads = downloads + excluded.downloads;`);
  await sql`create trigger download_rollups_link after insert on file_tags begin ${link('new', 1)} end`.execute(
    db,
  );
  await sql`create trigger download_rollups_unlink after delete on file_tags begin ${link('old', -1)} end`.execute(
    db,
  );
}

/**
 * PostgreSQL: statement triggers with transition tables, one grouped upsert per statement, so a
 * bulk insert of millions of downloads costs a few grouped queries (as download_hours does).
 */
async function pgTriggers(db: Db) {
  for (const [name, event, table, body] of [
    ['insert', 'insert', 'new table as inserted', pgApply(1, 'inserted')],
    ['delete', 'delete', 'old table as removed', pgApply(-1, 'removed')],
    // Transition tables rule out a column list: every update moves its rows out and back in.
    [
      'update',
      'update',
      'old table as removed new table as inserted',
      pgApply(-1, 'removed') + pgApply(1, 'inserted'),
    ],
    ['link', 'insert', 'new table as linked', pgLink(1, 'linked')],
    ['unlink', 'delete', 'old table as unlinked', pgLink(-1, 'unlinked')],
  ] as const) {
    const fn = sql.raw(`download_rollups_${name}`);
    const on = sql.raw(name.endsWith('link') ? 'file_tags' : 'downloads');
    await sql`
      create function ${fn}() returns trigger language plpgsql as $$
      begin ${sql.raw(body)} return null; end $$`.execute(db);
    await sql`
      create trigger ${fn} after ${sql.raw(event)} on ${on}
        referencing ${sql.raw(table)} for each statement execute function ${fn}()`.execute(db);
  }
}

/**
 * Adds (sign 1) or removes (-1) the downloads of a transition table. Rows are upserted in key
 * order so concurrent statements lock shared rows in the same order.
 */
function pgApply(sign: 1 | -1, changed: string): string {
  const rows = (day: boolean) => `
        select 'file' as kind, c.file_id as id${day ? `, c.at - c.at % ${DAY_MS} as day` : ''}
          from ${changed} c where c.file_id is not null
        union all
        select 'user', c.user_id${day ? `, c.at - c.at % ${DAY_MS}` : ''}
          from ${changed} c where c.user_id is not null
        union all
        select 'tag', ft.tag_id${day ? `, c.at - c.at % ${DAY_MS}` : ''}
          from ${changed} c join file_tags ft on ft.file_id = c.file_id`;
  return `
    insert into download_days (kind, id, day, downloads)
      select kind, id, day, ${sign} * count(*) from (${rows(true)}) x
      group by kind, id, day order by kind, id, day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select kind, id, ${sign} * count(*) from (${rows(false)}) x
      group by kind, id order by kind, id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads;`;
}

/** Moves the downloads of the files of a transition table of links into (1) or out of (-1) tags. */
function pgLink(sign: 1 | -1, links: string): string {
  return `
    insert into download_days (kind, id, day, downloads)
      select 'tag', l.tag_id, d.day, ${sign} * sum(d.downloads) from ${links} l
      join download_days d on d.kind = 'file' and d.id = l.file_id
      group by l.tag_id, d.day order by l.tag_id, d.day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select 'tag', l.tag_id, ${sign} * sum(t.downloads) from ${links} l
      join download_totals t on t.kind = 'file' and t.id = l.file_id
      group by l.tag_id order by l.tag_id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads;`;
}

export async function down(db: Db): Promise<void> {
  if (isPostgres(db)) {
    for (const name of ['insert', 'delete', 'update']) {
      await sql`drop trigger ${sql.raw(`download_rollups_${name}`)} on downloads`.execute(db);
      await sql`drop function ${sql.raw(`download_rollups_${name}`)}()`.execute(db);
    }
    for (const name of ['link', 'unlink']) {
      await sql`drop trigger ${sql.raw(`download_rollups_${name}`)} on file_tags`.execute(db);
      await sql`drop function ${sql.raw(`download_rollups_${name}`)}()`.execute(db);
    }
  } else {
    for (const name of ['insert', 'delete', 'update', 'link', 'unlink']) {
      await sql`drop trigger ${sql.raw(`download_rollups_${name}`)}`.execute(db);
    }
  }
  await db.schema.dropTable('download_totals').execute();
  await db.schema.dropTable('download_days').execute();
}
