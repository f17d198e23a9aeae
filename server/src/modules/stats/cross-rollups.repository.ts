import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { Ranked } from './rollups.repository.js';

// The SQL that reads the cross rollups (migration 2026-12-14T0900_download_cross_rollups): a
// tag's downloads by each user (download_user_tags, download_user_tag_days) and the downloads of
// the files carrying two tags (download_tag_pairs, download_tag_pair_days, each pair both ways
// round). They rank a tag's users, a user's tags and a tag's co-tags for the threshold walk
// (rank-sources.ts), which counts the partial days at either end of a range raw, here too. Raw
// SQL for the rollups: one reader serves the three lists by table and column names, and the
// tables stay out of the app's Database type (only this file and the doctor read them).

const toMap = (rows: { id: number; n: number | string | bigint }[]) =>
  new Map(rows.map((r) => [Number(r.id), Number(r.n)]));

/**
 * One way to read a cross rollup: its totals and day tables, the column a list is of (`by`, one
 * value) and the column it ranks (`id`). Each has an index `(by, downloads desc, id)` on the
 * totals, and the day rows' key leads with `(tag_id, the other, day)` either way round.
 */
interface CrossList {
  totals: 'download_user_tags' | 'download_tag_pairs';
  days: 'download_user_tag_days' | 'download_tag_pair_days';
  by: 'tag_id' | 'user_id';
  id: 'user_id' | 'tag_id' | 'other_id';
}

/** A tag's users; a user's tags; a tag's co-tags. */
export const TAG_USERS: CrossList = {
  totals: 'download_user_tags',
  days: 'download_user_tag_days',
  by: 'tag_id',
  id: 'user_id',
};
export const USER_TAGS: CrossList = {
  totals: 'download_user_tags',
  days: 'download_user_tag_days',
  by: 'user_id',
  id: 'tag_id',
};
export const CO_TAGS: CrossList = {
  totals: 'download_tag_pairs',
  days: 'download_tag_pair_days',
  by: 'tag_id',
  id: 'other_id',
};

/**
 * The next `limit` ids of `list` for `key`, most downloads of all time first, then by id, after
 * `after`: a keyset walk down the totals' `(by, downloads desc, id)` index. The position is
 * written as a range the index can seek (`downloads <= total` before the tie-break).
 */
export async function rankedCross(
  db: Executor,
  list: CrossList,
  key: number,
  after: Ranked | null,
  limit: number,
): Promise<Ranked[]> {
  const id = sql.ref(list.id);
  const position = after
    ? sql`and downloads <= ${after.total} and (downloads < ${after.total} or ${id} > ${after.id})`
    : sql``;
  const { rows } = await sql<{ id: number; downloads: number }>`
    select ${id} as id, downloads from ${sql.table(list.totals)}
    where ${sql.ref(list.by)} = ${key} and downloads > 0 ${position}
    order by downloads desc, ${id} limit ${limit}`.execute(db);
  return rows.map((r) => ({ id: Number(r.id), total: Number(r.downloads) }));
}

/** Downloads of `list` for `key`, each of `ids`, over the whole UTC days [fromDay, toDay). */
export async function crossDays(
  db: Executor,
  list: CrossList,
  key: number,
  ids: number[],
  fromDay: number,
  toDay: number,
): Promise<Map<number, number>> {
  if (!ids.length || fromDay >= toDay) return new Map();
  const id = sql.ref(list.id);
  const { rows } = await sql<{ id: number; n: number }>`
    select ${id} as id, sum(downloads) as n from ${sql.table(list.days)}
    where ${sql.ref(list.by)} = ${key} and ${id} in (${sql.join(ids)})
      and day >= ${fromDay} and day < ${toDay}
    group by ${id}`.execute(db);
  return toMap(rows);
}

// The raw counts below join the range's downloads with `file_tags` as a cross join with the
// condition in WHERE: SQLite keeps the written order, so it reads the downloads of the interval
// (less than a day) by their index and probes each one's links (file_tags' key leads with
// file_id), rather than every download of a large tag's files; PostgreSQL plans it as a join.

const inRange = (db: Executor, from: number, to: number) =>
  db.selectFrom('downloads as d').where('d.at', '>=', from).where('d.at', '<', to);

/** Downloads of tag `tagId`'s files by each of `userIds` in [from, to), raw. */
export async function tagUserRaw(
  db: Executor,
  tagId: number,
  userIds: number[],
  from: number,
  to: number,
): Promise<Map<number, number>> {
  if (!userIds.length || from >= to) return new Map();
  const rows = await inRange(db, from, to)
    .where('d.user_id', 'in', userIds)
    .crossJoin('file_tags as ft')
    .whereRef('ft.file_id', '=', 'd.file_id')
    .where('ft.tag_id', '=', tagId)
    .select(['d.user_id as id', sql<number>`count(*)`.as('n')])
    .groupBy('d.user_id')
    .execute();
  return toMap(rows.flatMap((r) => (r.id === null ? [] : [{ id: r.id, n: r.n }])));
}

/** Downloads by user `userId` in [from, to), raw, counted once for each tag of their file. */
export async function userTagRaw(
  db: Executor,
  userId: number,
  from: number,
  to: number,
): Promise<Map<number, number>> {
  if (from >= to) return new Map();
  const rows = await inRange(db, from, to)
    .where('d.user_id', '=', userId)
    .crossJoin('file_tags as ft')
    .whereRef('ft.file_id', '=', 'd.file_id')
    .select(['ft.tag_id as id', sql<number>`count(*)`.as('n')])
    .groupBy('ft.tag_id')
    .execute();
  return toMap(rows);
}

/** Downloads in [from, to) of tag `tagId`'s files, raw, counted once for each other tag of theirs. */
export async function coTagRaw(
  db: Executor,
  tagId: number,
  from: number,
  to: number,
): Promise<Map<number, number>> {
  if (from >= to) return new Map();
  const rows = await inRange(db, from, to)
    .crossJoin('file_tags as a')
    .crossJoin('file_tags as b')
    .whereRef('a.file_id', '=', 'd.file_id')
    .where('a.tag_id', '=', tagId)
    .whereRef('b.file_id', '=', 'd.file_id')
    .where('b.tag_id', '<>', tagId)
    .select(['b.tag_id as id', sql<number>`count(*)`.as('n')])
    .groupBy('b.tag_id')
    .execute();
  return toMap(rows);
}
