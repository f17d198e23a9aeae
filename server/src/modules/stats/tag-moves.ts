import { sql } from 'kysely';
import type { Dialect } from '../../db/connection.js';
import type { Executor } from '../../db/database.js';
import { retryOnDeadlock } from '../../db/lock-order.js';

// A link's downloads are folded into some rollups later. PostgreSQL, every tag rollup (migration
// 2026-12-10T0900_tag_link_moves): (un)linking a tag records a move in `tag_link_moves`, and
// `fold_tag_link_moves` applies the recorded moves. SQLite, the cross rollups only (a tag's users
// and pairs of tags, migration 2026-12-14T0900_download_cross_rollups): the moves wait in
// `cross_link_moves` and `foldCrossLinkMoves` below applies them; its other tag rollups move in
// their own triggers. The rollups are exact for every other change at all times; they lag only
// behind links whose moves are not folded yet. So every read of a tag's rollups folds first, and
// a timer (server.ts) folds in the background so that the read rarely finds anything to do.

/** Files a fold transaction takes at most: each holds their rows' locks while it runs. */
const FOLD_FILES = 500;

/** Folds every recorded move, 500 files a transaction; resolves to how many it applied. */
export async function foldTagLinkMoves(db: Executor, dialect: Dialect): Promise<number> {
  let total = 0;
  for (;;) {
    const folded =
      dialect === 'postgres'
        ? // One statement, its own transaction: the function's row locks last until it returns.
          await retryOnDeadlock(dialect, async () => {
            const { rows } = await sql<{ folded: number }>`
              select fold_tag_link_moves(${FOLD_FILES}) as folded`.execute(db);
            return Number(rows[0]?.folded ?? 0);
          })
        : await foldCrossLinkMoves(db);
    total += folded;
    // SQLite folds on the server's own thread (better-sqlite3 is synchronous), ~57 ms for 500
    // trashed files of the bulk bench: waiting requests go between two transactions.
    if (dialect === 'sqlite' && folded) await new Promise((resolve) => setImmediate(resolve));
    // None left, or only moves of files this fold could not lock (a restore in flight): the
    // next fold takes those.
    if (folded === 0) return total;
  }
}

/** How many moves wait to be folded. */
export async function pendingTagLinkMoves(db: Executor, dialect: Dialect): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(
    dialect === 'postgres' ? 'tag_link_moves' : 'cross_link_moves',
  )}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

const DAY_MS = 86_400_000;

/**
 * SQLite: folds the moves of the first 500 files waiting in `cross_link_moves` into the cross
 * rollups, in one transaction (SQLite has one writer: no download or retag of those files runs
 * meanwhile). Each link's net move times the file's downloads by user and day; each pair of the
 * file's tags changes by its weight product after less before (after: the links as they are, once
 * the file's moves are deleted; before: after less the net move) times the file's day rows.
 */
async function foldCrossLinkMoves(db: Executor): Promise<number> {
  const waiting = await sql`select 1 from cross_link_moves limit 1`.execute(db);
  if (!waiting.rows.length) return 0;
  const fold = async (trx: Executor) => {
    const run = (query: ReturnType<typeof sql>) => query.execute(trx);
    await run(sql`create temp table if not exists cross_fold_files (
      file_id integer primary key)`);
    await run(sql`create temp table if not exists cross_fold_net (
      file_id integer not null, tag_id integer not null, w integer not null,
      primary key (file_id, tag_id)) without rowid`);
    await run(sql`create temp table if not exists cross_fold_pairs (
      file_id integer not null, tag_id integer not null, other_id integer not null,
      w integer not null, primary key (file_id, tag_id, other_id)) without rowid`);
    for (const table of ['cross_fold_files', 'cross_fold_net', 'cross_fold_pairs']) {
      await run(sql`delete from ${sql.table(`temp.${table}`)}`);
    }
    await run(sql`insert into temp.cross_fold_files (file_id)
      select distinct file_id from cross_link_moves order by file_id limit ${FOLD_FILES}`);
    const moved = await run(sql`
      insert into temp.cross_fold_net (file_id, tag_id, w)
        select file_id, tag_id, sum(sign) from cross_link_moves
        where file_id in (select file_id from temp.cross_fold_files)
        group by file_id, tag_id having sum(sign) <> 0`);
    const { numAffectedRows } = await run(sql`delete from cross_link_moves
      where file_id in (select file_id from temp.cross_fold_files)`);
    await run(sql`
      insert into temp.cross_fold_pairs (file_id, tag_id, other_id, w)
        select a.file_id, a.tag_id, b.tag_id, a.after_w * b.after_w - a.before_w * b.before_w
        from (${weights}) a join (${weights}) b on b.file_id = a.file_id and b.tag_id <> a.tag_id
        where a.after_w * b.after_w - a.before_w * b.before_w <> 0`);
    if (Number(moved.numAffectedRows ?? 0) > 0) {
      for (const statement of MOVES) await run(statement);
    }
    return Number(numAffectedRows ?? 0);
  };
  return db.isTransaction ? fold(db) : db.transaction().execute(fold);
}

/** The folded files' links, after and before the fold: `(file_id, tag_id, after_w, before_w)`. */
const weights = sql`
  select file_id, tag_id, sum(a) as after_w, sum(a) - sum(n) as before_w from (
    select file_id, tag_id, 1 as a, 0 as n from file_tags
      where file_id in (select file_id from temp.cross_fold_files)
    union all
    select file_id, tag_id, 0, w from temp.cross_fold_net
  ) group by file_id, tag_id`;

/** The fold's upserts; `where true` settles SQLite's parse of `on conflict` after a select. */
const MOVES = [
  sql`insert into download_user_tag_days (tag_id, user_id, day, downloads)
    select n.tag_id, d.user_id, d.at - d.at % ${sql.lit(DAY_MS)}, sum(n.w)
    from temp.cross_fold_net n join downloads d on d.file_id = n.file_id
    where d.user_id is not null
    group by n.tag_id, d.user_id, d.at - d.at % ${sql.lit(DAY_MS)} having sum(n.w) <> 0
    on conflict (tag_id, user_id, day) do update
      set downloads = download_user_tag_days.downloads + excluded.downloads`,
  sql`insert into download_user_tags (tag_id, user_id, downloads)
    select n.tag_id, d.user_id, sum(n.w)
    from temp.cross_fold_net n join downloads d on d.file_id = n.file_id
    where d.user_id is not null
    group by n.tag_id, d.user_id having sum(n.w) <> 0
    on conflict (tag_id, user_id) do update
      set downloads = download_user_tags.downloads + excluded.downloads`,
  sql`insert into download_tag_pair_days (tag_id, other_id, day, downloads)
    select p.tag_id, p.other_id, d.day, sum(p.w * d.downloads)
    from temp.cross_fold_pairs p join download_days d on d.kind = 'file' and d.id = p.file_id
    where true
    group by p.tag_id, p.other_id, d.day having sum(p.w * d.downloads) <> 0
    on conflict (tag_id, other_id, day) do update
      set downloads = download_tag_pair_days.downloads + excluded.downloads`,
  sql`insert into download_tag_pairs (tag_id, other_id, downloads)
    select p.tag_id, p.other_id, sum(p.w * t.downloads)
    from temp.cross_fold_pairs p join download_totals t on t.kind = 'file' and t.id = p.file_id
    where true
    group by p.tag_id, p.other_id having sum(p.w * t.downloads) <> 0
    on conflict (tag_id, other_id) do update
      set downloads = download_tag_pairs.downloads + excluded.downloads`,
];
