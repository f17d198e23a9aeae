import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../../db/connection.js';
import type { Executor, RollupKind } from '../../db/database.js';

// The doctor's check of the statistics rollups (modules/stats/STATS.md): download_totals and
// download_days (every file's, user's and tag's downloads, of all time and per UTC day),
// download_tag_hours (every tag's per UTC hour), download_user_tags and download_tag_pairs with
// their day rows (a tag's downloads by each user, and by the files it shares with each other
// tag), each against a recount of the download rows.
// A tag counts a file's downloads by the link's folded weight, as the triggers do: on
// PostgreSQL a link whose move waits in tag_link_moves is not in the tag's rollups yet, and a
// removed link still is. Each comparison reads one snapshot (one statement on PostgreSQL, one
// transaction on SQLite), so running servers cannot make it see a drift that is not there.

export const ROLLUP_TABLES = [
  'download_totals',
  'download_days',
  'download_tag_hours',
  'download_user_tags',
  'download_user_tag_days',
  'download_tag_pairs',
  'download_tag_pair_days',
] as const;
export type RollupTable = (typeof ROLLUP_TABLES)[number];

export interface RollupDrift {
  table: RollupTable;
  kind: RollupKind;
  id: number;
  /** The row's second id: the user of a tag's user row, the other tag of a pair; else 0. */
  other: number;
  /** The UTC day or hour of the row (epoch ms); 0 for the all-time tables. */
  at: number;
  stored: number;
  counted: number;
}

/** Restricts a comparison to these ids of each kind (a repair's batch). */
export type RollupKeys = Record<RollupKind, number[]>;

/**
 * How each table keeps its rows, in the comparison's terms `(kind, id, other, at, downloads)`.
 * The tables of two ids (a tag with a user, a tag with another tag) are the kind `tag`.
 */
interface Shape {
  /** The width of the row's time bucket in ms; 0 for all time. */
  bucket: number;
  /** What `other` names, for the doctor's message: null for the tables of one id. */
  other: 'user' | 'tag' | null;
  rows: RawBuilder<unknown>;
  /** A stored row `t` with the key of a comparison row `c`. */
  match: RawBuilder<unknown>;
  /** The key and value columns, and a comparison row's values for them. */
  columns: RawBuilder<unknown>;
  key: RawBuilder<unknown>;
  values: (d: RollupDrift) => RawBuilder<unknown>;
  /** The recount's columns `r.(kind, id, other, at, n)` in the order of `columns`. */
  recounted: RawBuilder<unknown>;
}

/** A tag's rows with a second id, per day (`day`) or of all time. */
function crossShape(table: string, column: 'user_id' | 'other_id', day: boolean): Shape {
  return {
    bucket: day ? 86_400_000 : 0,
    other: column === 'user_id' ? 'user' : 'tag',
    rows: sql`select 'tag' as kind, tag_id as id, ${sql.ref(column)} as other,
      ${day ? sql`day` : sql`0`} as at, downloads from ${sql.table(table)}`,
    match: day
      ? sql`t.tag_id = c.id and t.${sql.ref(column)} = c.other and t.day = c.at`
      : sql`t.tag_id = c.id and t.${sql.ref(column)} = c.other`,
    columns: day
      ? sql`(tag_id, ${sql.ref(column)}, day, downloads)`
      : sql`(tag_id, ${sql.ref(column)}, downloads)`,
    key: day ? sql`(tag_id, ${sql.ref(column)}, day)` : sql`(tag_id, ${sql.ref(column)})`,
    values: day
      ? (d) => sql`(${d.id}, ${d.other}, ${d.at}, ${d.counted})`
      : (d) => sql`(${d.id}, ${d.other}, ${d.counted})`,
    recounted: day ? sql`r.id, r.other, r.at, r.n` : sql`r.id, r.other, r.n`,
  };
}

const SHAPES: Record<RollupTable, Shape> = {
  download_totals: {
    bucket: 0,
    other: null,
    rows: sql`select kind, id, 0 as other, 0 as at, downloads from download_totals`,
    match: sql`t.kind = c.kind and t.id = c.id`,
    columns: sql`(kind, id, downloads)`,
    key: sql`(kind, id)`,
    values: (d) => sql`(${d.kind}, ${d.id}, ${d.counted})`,
    recounted: sql`r.kind, r.id, r.n`,
  },
  download_days: {
    bucket: 86_400_000,
    other: null,
    rows: sql`select kind, id, 0 as other, day as at, downloads from download_days`,
    match: sql`t.kind = c.kind and t.id = c.id and t.day = c.at`,
    columns: sql`(kind, id, day, downloads)`,
    key: sql`(kind, id, day)`,
    values: (d) => sql`(${d.kind}, ${d.id}, ${d.at}, ${d.counted})`,
    recounted: sql`r.kind, r.id, r.at, r.n`,
  },
  download_tag_hours: {
    bucket: 3_600_000,
    other: null,
    rows: sql`select 'tag' as kind, tag_id as id, 0 as other, hour as at, downloads from download_tag_hours`,
    match: sql`t.tag_id = c.id and t.hour = c.at`,
    columns: sql`(hour, tag_id, downloads)`,
    key: sql`(hour, tag_id)`,
    values: (d) => sql`(${d.at}, ${d.id}, ${d.counted})`,
    recounted: sql`r.at, r.id, r.n`,
  },
  download_user_tags: crossShape('download_user_tags', 'user_id', false),
  download_user_tag_days: crossShape('download_user_tag_days', 'user_id', true),
  download_tag_pairs: crossShape('download_tag_pairs', 'other_id', false),
  download_tag_pair_days: crossShape('download_tag_pair_days', 'other_id', true),
};

/** What a drifted row's `other` names, for the doctor's message; null for one-id tables. */
export const otherOf = (table: RollupTable) => SHAPES[table].other;

const inList = (column: RawBuilder<unknown>, ids: number[] | undefined) =>
  ids === undefined
    ? sql``
    : ids.length
      ? sql`and ${column} in (${sql.join(ids)})`
      : sql`and 1 = 0`;

/**
 * The links as the tags' rollups count them: `(file_id, tag_id, w)`, each link less the net of its
 * moves not folded yet (PostgreSQL: every tag rollup; SQLite: the cross rollups only).
 */
function links(dialect: Dialect, tags: number[] | undefined, cross = false) {
  const only = inList(sql.ref('tag_id'), tags);
  if (dialect === 'sqlite' && !cross)
    return sql`(select file_id, tag_id, 1 as w from file_tags where 1 = 1 ${only})`;
  const moves = sql.table(dialect === 'postgres' ? 'tag_link_moves' : 'cross_link_moves');
  return sql`(select file_id, tag_id, sum(w) as w from (
      select file_id, tag_id, 1 as w from file_tags where 1 = 1 ${only}
      union all
      select file_id, tag_id, -sign as w from ${moves} where 1 = 1 ${only}
    ) x group by file_id, tag_id having sum(w) <> 0)`;
}

/**
 * `(kind, id, other, at, n)`: what the rows of `table` should hold, recounted from the downloads
 * (with `fromId`, only those with ids from it on).
 */
function recount(
  dialect: Dialect,
  table: RollupTable,
  only: RollupKeys | undefined,
  fromId?: number,
) {
  const { bucket } = SHAPES[table];
  const at = bucket ? sql`d.at - d.at % ${sql.lit(bucket)}` : sql`0`;
  // A constant in GROUP BY would be read as a column's position.
  const byAt = bucket ? sql`, ${at}` : sql``;
  const since = fromId === undefined ? sql`` : sql`and d.id >= ${fromId}`;
  switch (table) {
    case 'download_user_tags':
    case 'download_user_tag_days':
      return sql`select 'tag' as kind, l.tag_id as id, d.user_id as other, ${at} as at,
          sum(l.w) as n
        from downloads d join ${links(dialect, only?.tag, true)} l on l.file_id = d.file_id
        where d.user_id is not null ${since}
        group by l.tag_id, d.user_id ${byAt}`;
    case 'download_tag_pairs':
    case 'download_tag_pair_days':
      return sql`select 'tag' as kind, a.tag_id as id, b.tag_id as other, ${at} as at,
          sum(a.w * b.w) as n
        from downloads d join ${links(dialect, only?.tag, true)} a on a.file_id = d.file_id
        join ${links(dialect, undefined, true)} b on b.file_id = d.file_id and b.tag_id <> a.tag_id
        where 1 = 1 ${since}
        group by a.tag_id, b.tag_id ${byAt}`;
  }
  const tags = sql`select 'tag' as kind, l.tag_id as id, 0 as other, ${at} as at, sum(l.w) as n
    from downloads d join ${links(dialect, only?.tag)} l on l.file_id = d.file_id
    where 1 = 1 ${since}
    group by l.tag_id ${byAt}`;
  if (table === 'download_tag_hours') return tags;
  return sql`select 'file' as kind, d.file_id as id, 0 as other, ${at} as at, count(*) as n
      from downloads d
      where d.file_id is not null ${inList(sql.ref('d.file_id'), only?.file)} ${since}
      group by d.file_id ${byAt}
    union all
    select 'user', d.user_id, 0, ${at}, count(*) from downloads d
      where d.user_id is not null ${inList(sql.ref('d.user_id'), only?.user)} ${since}
      group by d.user_id ${byAt}
    union all
    ${tags}`;
}

/** `(kind, id, other, at, downloads)`: the rows of `table` as stored. */
function stored(table: RollupTable, only: RollupKeys | undefined) {
  const { rows } = SHAPES[table];
  if (!only) return rows;
  const kinds = (['file', 'user', 'tag'] as const).map(
    (kind) => sql`(r.kind = ${sql.lit(kind)} ${inList(sql.ref('r.id'), only[kind])})`,
  );
  return sql`select * from (${rows}) r where ${sql.join(kinds, sql` or `)}`;
}

/**
 * The rows of `table` that differ from their recount (a row the recount lacks counts 0: rows
 * of ids whose downloads all went stay at 0), in key order, at most `limit`; with `only`, just
 * those ids' rows.
 */
export async function rollupDrift(
  db: Executor,
  dialect: Dialect,
  table: RollupTable,
  options: { limit: number; only?: RollupKeys },
): Promise<RollupDrift[]> {
  const rows =
    dialect === 'postgres'
      ? (
          await sql<Record<string, unknown>>`
            select coalesce(s.kind, c.kind) as kind, coalesce(s.id, c.id) as id,
              coalesce(s.other, c.other) as other, coalesce(s.at, c.at) as at,
              coalesce(s.downloads, 0) as stored, coalesce(c.n, 0) as counted
            from (${stored(table, options.only)}) s
            full join (${recount(dialect, table, options.only)}) c
              on c.kind = s.kind and c.id = s.id and c.other = s.other and c.at = s.at
            where coalesce(s.downloads, 0) <> coalesce(c.n, 0)
            order by 1, 2, 3, 4
            limit ${sql.lit(options.limit)}`.execute(db)
        ).rows
      : await sqliteDrift(db, table, options);
  return rows.map((r) => ({
    table,
    kind: String(r.kind) as RollupKind,
    id: Number(r.id),
    other: Number(r.other),
    at: Number(r.at),
    stored: Number(r.stored),
    counted: Number(r.counted),
  }));
}

/**
 * SQLite joins a subquery to another only by scanning it, or by an index on one of its columns:
 * a full join of a million-row recount with its table took longer than ten minutes. So the
 * recount goes into a temp table keyed like the rollups, which both sides of the comparison
 * then probe by key. In one transaction, so the two read one snapshot (the temp table is the
 * connection's own; writing it takes no lock on the library).
 */
async function sqliteDrift(
  db: Executor,
  table: RollupTable,
  options: { limit: number; only?: RollupKeys },
): Promise<Record<string, unknown>[]> {
  const compare = async (trx: Executor) => {
    await sql`create temp table if not exists rollup_recount (
      kind text not null, id integer not null, other integer not null, at integer not null,
      n integer not null, primary key (kind, id, other, at)) without rowid`.execute(trx);
    await sql`delete from temp.rollup_recount`.execute(trx);
    await sql`insert into temp.rollup_recount (kind, id, other, at, n)
      select kind, id, other, at, n from (${recount('sqlite', table, options.only)}) r`.execute(
      trx,
    );
    const { rows } = await sql<Record<string, unknown>>`
      select s.kind as kind, s.id as id, s.other as other, s.at as at, s.downloads as stored,
        coalesce(c.n, 0) as counted
      from (${stored(table, options.only)}) s
      left join temp.rollup_recount c
        on c.kind = s.kind and c.id = s.id and c.other = s.other and c.at = s.at
      where s.downloads <> coalesce(c.n, 0)
      union all
      select c.kind, c.id, c.other, c.at, 0, c.n from temp.rollup_recount c
      where c.n <> 0 and not exists (select 1 from ${sql.table(table)} t where ${SHAPES[table].match})
      order by 1, 2, 3, 4
      limit ${sql.lit(options.limit)}`.execute(trx);
    await sql`delete from temp.rollup_recount`.execute(trx);
    return rows;
  };
  return db.isTransaction ? compare(db) : db.transaction().execute(compare);
}

/** Sets each drifted row of `table` to its recount, as `rollupDrift` found it. */
export async function writeRollups(
  db: Executor,
  table: RollupTable,
  drift: readonly RollupDrift[],
): Promise<void> {
  const { columns, key, values } = SHAPES[table];
  // 100 rows of at most 4 values a statement: far below SQLite's bound on variables.
  for (let i = 0; i < drift.length; i += 100) {
    await sql`insert into ${sql.table(table)} ${columns}
      values ${sql.join(drift.slice(i, i + 100).map(values))}
      on conflict ${key} do update set downloads = excluded.downloads`.execute(db);
  }
}

/**
 * Adds the downloads with ids from `fromId` on to every rollup, each table in one grouped
 * statement: for a writer that inserted them with the downloads triggers off (the seed, on
 * PostgreSQL, where the triggers probe each statement's links file by file), in the same
 * transaction. Links are counted by their folded weight, as the triggers count them.
 */
export async function addToRollups(db: Executor, dialect: Dialect, fromId: number) {
  await sql`insert into download_hours (hour, downloads)
    select d.at - d.at % 3600000, count(*) from downloads d where d.id >= ${fromId} group by 1
    on conflict (hour) do update set downloads = download_hours.downloads + excluded.downloads`.execute(
    db,
  );
  for (const table of ROLLUP_TABLES) {
    const { columns, key, recounted } = SHAPES[table];
    // `where true` settles SQLite's parse of `on conflict` after a select.
    await sql`insert into ${sql.table(table)} ${columns}
      select ${recounted} from (${recount(dialect, table, undefined, fromId)}) r where true
      on conflict ${key} do update set downloads = ${sql.table(table)}.downloads + excluded.downloads`.execute(
      db,
    );
  }
}
