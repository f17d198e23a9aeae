import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Two more rollups for the statistics filtered by one tag or one user (server/src/modules/stats/
// STATS.md). Their lists grouped every download of the filter: a year of the largest tag of the
// 5,000,000-download bench library (1.6 million downloads) took 3.1 s on PostgreSQL with its
// lists (co-tags 1.7 s, top users 0.8 s), the busiest user's 0.6 s. With these, the same
// threshold walk as the unfiltered lists answers them from a few dozen candidates' day rows.
//
// - download_user_tag_days / download_user_tags: a tag's downloads by each user, per UTC day and
//   of all time (a tag's top users, and a user's top tags: the totals are indexed both ways).
// - download_tag_pair_days / download_tag_pairs: the downloads of the files carrying both of two
//   different tags, each pair stored both ways round (a tag's co-tags).
//
// Invariant, as for download_days: the rows equal a count over `downloads` as it is now, a tag
// counting the downloads of the files that carry it now, by the links' folded weights (below).
// Each trigger keeps it from the current state, so the cascades of a file deletion (links
// deleted, downloads' file_id set to null) leave it right in either order. Anonymous downloads
// (user_id null) have no user × tag rows.
//
// On both databases a link's move is folded in later, as PostgreSQL does for the tag rollups
// (migration 2026-12-10T0900_tag_link_moves): moving a file's downloads by user and day and into
// its pairs costs a few dozen rows a link, too many for a request that trashes 1,000 files.
// SQLite: the link triggers record `(file_id, tag_id, ±1)` in `cross_link_moves` (its tag
// rollups still move at once), the row triggers on `downloads` count each link by its folded
// weight, and the fold is modules/stats/tag-moves.ts. PostgreSQL: statement triggers with the same
// fast path as the tag rollups (migration 2026-12-11T0900_download_triggers_fast_path): the links
// as they are unless one of the statement's files has a link move waiting, then their folded
// weights; a pair counts the product of its two links' weights. `fold_tag_link_moves` moves a
// file's rows when it folds its links: a link's weight change times the file's downloads by
// user and day, and each pair's change of weight product times the file's day rows. The
// statements are written after the fold's other rollups and the triggers are named to fire after
// theirs (PostgreSQL fires a table's triggers by name), so a download and a fold take the rollup
// rows' locks table by table in the same order.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const DAY_MS = 86_400_000;
const TABLES = [
  'download_user_tag_days',
  'download_user_tags',
  'download_tag_pair_days',
  'download_tag_pairs',
] as const;

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  // SQLite: WITHOUT ROWID, the key is the table. PostgreSQL: the day rows' count rides in the
  // key's index, so a candidate's year is an index-only scan of adjacent entries.
  const table = (name: string, columns: string, key: string, covering: boolean) =>
    sql`create table ${sql.id(name)} (${sql.raw(columns)}, downloads integer not null,
      primary key (${sql.raw(key)}) ${pg && covering ? sql`include (downloads)` : sql``})
      ${pg ? sql`` : sql`without rowid`}`.execute(db);
  await table(
    'download_user_tag_days',
    'tag_id integer not null, user_id integer not null, day bigint not null',
    'tag_id, user_id, day',
    true,
  );
  await table(
    'download_user_tags',
    'tag_id integer not null, user_id integer not null',
    'tag_id, user_id',
    false,
  );
  await table(
    'download_tag_pair_days',
    'tag_id integer not null, other_id integer not null, day bigint not null',
    'tag_id, other_id, day',
    true,
  );
  await table(
    'download_tag_pairs',
    'tag_id integer not null, other_id integer not null',
    'tag_id, other_id',
    false,
  );
  // The walks' sorted lists: a tag's users, a user's tags, a tag's co-tags, most first.
  await sql`create index download_user_tags_by_tag
    on download_user_tags (tag_id, downloads desc, user_id)`.execute(db);
  await sql`create index download_user_tags_by_user
    on download_user_tags (user_id, downloads desc, tag_id)`.execute(db);
  await sql`create index download_tag_pairs_rank
    on download_tag_pairs (tag_id, downloads desc, other_id)`.execute(db);

  if (pg) await pgTriggers(db);
  else await sqliteTriggers(db);
  await backfill(db, pg);
}

/** The links as the tags' rollups count them: `(file_id, tag_id, w)`. */
const weightedLinks = (pg: boolean) =>
  pg
    ? sql`(select file_id, tag_id, sum(w) as w from (
        select file_id, tag_id, 1 as w from file_tags
        union all
        select file_id, tag_id, -sign from tag_link_moves
      ) x group by file_id, tag_id having sum(w) <> 0)`
    : sql`(select file_id, tag_id, 1 as w from file_tags)`;

/**
 * One grouped statement a table, written in key order: no row is written twice (batches that
 * met on a key would leave PostgreSQL a dead version of it per batch until vacuum, each one read
 * by every later index scan), and a key's day rows land side by side in the heap.
 */
async function backfill(db: Db, pg: boolean) {
  const links = weightedLinks(pg);
  await sql`
    insert into download_user_tag_days (tag_id, user_id, day, downloads)
      select l.tag_id, d.user_id, d.at - d.at % ${sql.lit(DAY_MS)}, sum(l.w)
      from downloads d join ${links} l on l.file_id = d.file_id
      where d.user_id is not null
      group by l.tag_id, d.user_id, d.at - d.at % ${sql.lit(DAY_MS)} having sum(l.w) <> 0
      order by 1, 2, 3`.execute(db);
  // Pairs from the files' day rows (exact, kept by triggers): fewer rows than the downloads.
  await sql`
    insert into download_tag_pair_days (tag_id, other_id, day, downloads)
      select a.tag_id, b.tag_id, d.day, sum(a.w * b.w * d.downloads)
      from download_days d
      join ${links} a on a.file_id = d.id
      join ${links} b on b.file_id = d.id and b.tag_id <> a.tag_id
      where d.kind = 'file'
      group by a.tag_id, b.tag_id, d.day having sum(a.w * b.w * d.downloads) <> 0
      order by 1, 2, 3`.execute(db);
  await sql`
    insert into download_user_tags (tag_id, user_id, downloads)
      select tag_id, user_id, sum(downloads) from download_user_tag_days
      group by tag_id, user_id`.execute(db);
  await sql`
    insert into download_tag_pairs (tag_id, other_id, downloads)
      select tag_id, other_id, sum(downloads) from download_tag_pair_days
      group by tag_id, other_id`.execute(db);
  if (pg) await sql`analyze ${sql.raw(TABLES.join(', '))}`.execute(db);
}

/**
 * Upserts of the four tables from rows `(tag_id, other, day, w)`: `userTags` and `pairs` are
 * FROM-and-WHERE texts yielding, for each download or day row, its tag, its user or other tag,
 * its day and its weight (`x.tag_id, x.other, x.day, x.w`); PostgreSQL sums them per key first.
 */
function upserts(userTags: string, pairs: string, pg: boolean): string {
  const one = (table: string, other: string, rows: string, day: boolean) => {
    const key = `tag_id, ${other}${day ? ', day' : ''}`;
    const select = `x.tag_id, x.other${day ? ', x.day' : ''}`;
    const grouped = pg
      ? `select ${select}, sum(x.w) from ${rows} group by ${select} having sum(x.w) <> 0
        order by ${select}`
      : `select ${select}, x.w from ${rows} and x.w <> 0`;
    return `
    insert into ${table} (${key}, downloads) ${grouped}
      on conflict (${key}) do update set downloads = ${table}.downloads + excluded.downloads;`;
  };
  return (
    one('download_user_tag_days', 'user_id', userTags, true) +
    one('download_user_tags', 'user_id', userTags, false) +
    one('download_tag_pair_days', 'other_id', pairs, true) +
    one('download_tag_pairs', 'other_id', pairs, false)
  );
}

/**
 * SQLite: row triggers on `downloads`, a few primary-key upserts per download, counting each link
 * by its folded weight: the link as it is, less the net of its moves not folded yet.
 */
async function sqliteTriggers(db: Db) {
  await sql`
    create table cross_link_moves (
      seq integer primary key,
      file_id integer not null,
      tag_id integer not null,
      sign integer not null check (sign in (-1, 1))
    )`.execute(db);
  await sql`create index cross_link_moves_file on cross_link_moves (file_id)`.execute(db);
  // The links of a download's file, by their folded weights when a move of the file waits, else
  // as they are (the same weights; on the bench library a download's insert took 255 µs with
  // these triggers, 295 µs weighing every link, 121 µs without them).
  const weights = (row: 'new' | 'old', folded: boolean) =>
    folded
      ? `(
      select tag_id, sum(w) as w from (
        select tag_id, 1 as w from file_tags where file_id = ${row}.file_id
        union all
        select tag_id, -sign from cross_link_moves where file_id = ${row}.file_id
      ) group by tag_id having sum(w) <> 0)`
      : `(select tag_id, 1 as w from file_tags where file_id = ${row}.file_id)`;
  // A download appears (`sign` 1) or goes (-1): one row per tag of its file, one per pair.
  const apply = (row: 'new' | 'old', sign: 1 | -1, folded: boolean) =>
    upserts(
      `(select l.tag_id, ${row}.user_id as other, ${row}.at - ${row}.at % ${DAY_MS} as day,
          ${sign} * l.w as w from ${weights(row, folded)} l) x
        where ${row}.user_id is not null`,
      `(select a.tag_id, b.tag_id as other, ${row}.at - ${row}.at % ${DAY_MS} as day,
          ${sign} * a.w * b.w as w
          from ${weights(row, folded)} a join ${weights(row, folded)} b on b.tag_id <> a.tag_id) x
        where true`,
      false,
    );
  const moveWaits = (row: 'new' | 'old') =>
    `exists (select 1 from cross_link_moves where file_id = ${row}.file_id)`;
  for (const [name, event, rows] of [
    ['insert', 'insert', ['new']],
    ['delete', 'delete', ['old']],
    ['update', 'update of file_id, user_id, at', ['old', 'new']],
  ] as const) {
    const waits = rows.map(moveWaits).join(' or ');
    const body = (folded: boolean) =>
      rows.map((row) => apply(row, row === 'new' ? 1 : -1, folded)).join('');
    await sql`create trigger ${sql.id(`download_user_tags_${name}`)} after ${sql.raw(event)}
      on downloads when not (${sql.raw(waits)}) begin ${sql.raw(body(false))} end`.execute(db);
    await sql`create trigger ${sql.id(`download_user_tags_${name}_moved`)} after ${sql.raw(event)}
      on downloads when ${sql.raw(waits)} begin ${sql.raw(body(true))} end`.execute(db);
  }

  // A link records its move for the fold (modules/stats/tag-moves.ts). Moving the file's
  // downloads at once, by user and day and into the pairs with each of its other tags, made
  // trashing 1,000 files of the bulk bench 118 → 279 ms. A file without downloads has nothing
  // to move: its link counts as folded at once.
  const link = (row: 'new' | 'old', sign: 1 | -1) => `
    insert into cross_link_moves (file_id, tag_id, sign)
      select ${row}.file_id, ${row}.tag_id, ${sign}
      where exists (select 1 from downloads where file_id = ${row}.file_id);`;
  await sql`create trigger download_user_tags_link after insert on file_tags
    begin ${sql.raw(link('new', 1))} end`.execute(db);
  await sql`create trigger download_user_tags_unlink after delete on file_tags
    begin ${sql.raw(link('old', -1))} end`.execute(db);
}

/** The downloads trigger functions on PostgreSQL, with the transition tables each one reads. */
const PG_DOWNLOAD_TRIGGERS = [
  ['download_user_tags_insert', 'insert', 'new table as inserted', [['inserted', 1]]],
  ['download_user_tags_delete', 'delete', 'old table as removed', [['removed', -1]]],
  // Transition tables rule out a column list: every update moves its rows out and back in.
  [
    'download_user_tags_update',
    'update',
    'old table as removed new table as inserted',
    [
      ['removed', -1],
      ['inserted', 1],
    ],
  ],
] as const;

/** The fold's net moves, from the arrays it gathers them in (migration 2026-12-10T0900). */
const NET = 'unnest(net_files, net_tags, net_weights) as n (file_id, tag_id, w)';

/**
 * The fold's moves of these rollups. User × tag: each link's net move times the file's downloads
 * by user and day. Pairs: for each file, every pair of its tags (before or after) changes by its
 * weight product after less before (`tag_link_weights` answers after: the fold has deleted the
 * file's moves; before is after less the net move), times the file's day rows.
 */
const FOLD = (() => {
  const pairMoves = `(
      with moved as (select * from ${NET}),
      linked as (select * from tag_link_weights(net_files)),
      tag_set as (
        select coalesce(k.file_id, m.file_id) as file_id, coalesce(k.tag_id, m.tag_id) as tag_id,
          coalesce(k.w, 0) as after_w, coalesce(k.w, 0) - coalesce(m.w, 0) as before_w
        from linked k full join moved m on m.file_id = k.file_id and m.tag_id = k.tag_id)
      select a.file_id, a.tag_id, b.tag_id as other_id, a.after_w * b.after_w - a.before_w * b.before_w as w
      from tag_set a join tag_set b on b.file_id = a.file_id and b.tag_id <> a.tag_id) p`;
  return upserts(
    `(select n.tag_id, d.user_id as other, d.at - d.at % ${DAY_MS} as day, n.w
        from ${NET} join downloads d on d.file_id = n.file_id where d.user_id is not null) x`,
    `(select p.tag_id, p.other_id as other, d.day, p.w * d.downloads as w
        from ${pairMoves} join download_days d on d.kind = 'file' and d.id = p.file_id
        where p.w <> 0) x`,
    true,
  );
})();

/** Where the fold's added statements go: before its last line. */
const FOLD_END = 'return folded;';

async function rewriteFold(db: Db, from: string, to: string) {
  const { rows } = await sql<{ def: string }>`
    select pg_get_functiondef('fold_tag_link_moves'::regproc) as def`.execute(db);
  const def = rows[0]!.def;
  if (def.split(from).length !== 2) throw new Error('fold_tag_link_moves: its end not found');
  await sql.raw(def.replace(from, to)).execute(db);
}

async function pgTriggers(db: Db) {
  // The same two ways of weighing links as the tag rollups' triggers, chosen per statement.
  const weights = (changed: string, folded: boolean) =>
    folded
      ? `tag_link_weights(array(select distinct file_id from ${changed} where file_id is not null))`
      : '(select file_id, tag_id, 1 as w from file_tags)';
  const apply = (changed: string, sign: number, folded: boolean) =>
    upserts(
      `(select l.tag_id, c.user_id as other, c.at - c.at % ${DAY_MS} as day, ${sign} * l.w as w
          from ${changed} c join ${weights(changed, folded)} l on l.file_id = c.file_id
          where c.user_id is not null) x`,
      `(select a.tag_id, b.tag_id as other, c.at - c.at % ${DAY_MS} as day, ${sign} * a.w * b.w as w
          from ${changed} c join ${weights(changed, folded)} a on a.file_id = c.file_id
          join ${weights(changed, folded)} b on b.file_id = c.file_id and b.tag_id <> a.tag_id) x`,
      true,
    );
  for (const [fn, event, transition, changes] of PG_DOWNLOAD_TRIGGERS) {
    const movesWait = changes
      .map(
        ([table]) => `exists (select 1 from tag_link_moves m
          where m.file_id in (select c.file_id from ${table} c where c.file_id is not null))`,
      )
      .join(' or ');
    const body = (folded: boolean) =>
      changes.map(([table, sign]) => apply(table, sign, folded)).join('');
    await sql`
      create function ${sql.id(fn)}() returns trigger language plpgsql as $$
      begin
        if ${sql.raw(movesWait)} then ${sql.raw(body(true))} else ${sql.raw(body(false))} end if;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger ${sql.id(fn)} after ${sql.raw(event)} on downloads
        referencing ${sql.raw(transition)} for each statement execute function ${sql.id(fn)}()`.execute(
      db,
    );
  }
  // A link is only recorded (tag_link_moves); the fold moves these rows with the others.
  await rewriteFold(db, FOLD_END, `${FOLD}\n      ${FOLD_END}`);
}

export async function down(db: Db): Promise<void> {
  if (isPostgres(db)) {
    await rewriteFold(db, `${FOLD}\n      ${FOLD_END}`, FOLD_END);
    for (const [fn] of PG_DOWNLOAD_TRIGGERS) {
      await sql`drop trigger ${sql.id(fn)} on downloads`.execute(db);
      await sql`drop function ${sql.id(fn)}()`.execute(db);
    }
  } else {
    for (const name of ['insert', 'delete', 'update']) {
      await sql`drop trigger ${sql.id(`download_user_tags_${name}`)}`.execute(db);
      await sql`drop trigger ${sql.id(`download_user_tags_${name}_moved`)}`.execute(db);
    }
    for (const name of ['link', 'unlink']) {
      await sql`drop trigger ${sql.id(`download_user_tags_${name}`)}`.execute(db);
    }
    await sql`drop table cross_link_moves`.execute(db);
  }
  for (const name of [...TABLES].reverse()) await sql`drop table ${sql.id(name)}`.execute(db);
}
