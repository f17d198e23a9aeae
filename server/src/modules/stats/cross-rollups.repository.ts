import { sql, type SqlBool } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { Ranked } from './rollups.repository.js';

// The SQL that reads the cross rollups (migration 2026-12-14T0900_download_cross_rollups): a
// tag's downloads by each user (download_user_tags, download_user_tag_days) and the downloads of
// the files carrying two tags (download_tag_pairs, download_tag_pair_days, each pair both ways
// round). They rank a tag's users, a user's tags and a tag's co-tags for the threshold walk
// (rank-sources.ts), which counts the partial days at either end of a range raw, here too.

/** The keyset position after `after` in (downloads desc, `id`), as a range the index can seek. */
const below = (after: Ranked, id: 'user_id' | 'tag_id' | 'other_id') =>
  sql<SqlBool>`downloads <= ${after.total} and (downloads < ${after.total} or ${sql.ref(id)} > ${after.id})`;

const toRanked = (rows: { id: number; downloads: number }[]): Ranked[] =>
  rows.map((r) => ({ id: Number(r.id), total: Number(r.downloads) }));

const toMap = (rows: { id: number; n: number | string | bigint }[]) =>
  new Map(rows.map((r) => [Number(r.id), Number(r.n)]));

/** The users of tag `tagId`'s files, ranked: the (tag_id, downloads desc, user_id) index. */
export async function rankedTagUsers(
  db: Executor,
  tagId: number,
  after: Ranked | null,
  limit: number,
): Promise<Ranked[]> {
  const rows = await db
    .selectFrom('download_user_tags')
    .select(['user_id as id', 'downloads'])
    .where('tag_id', '=', tagId)
    .where('downloads', '>', 0)
    .$if(after !== null, (q) => q.where(below(after!, 'user_id')))
    .orderBy('downloads', 'desc')
    .orderBy('user_id')
    .limit(limit)
    .execute();
  return toRanked(rows);
}

/** The tags of the files user `userId` downloaded, ranked: (user_id, downloads desc, tag_id). */
export async function rankedUserTags(
  db: Executor,
  userId: number,
  after: Ranked | null,
  limit: number,
): Promise<Ranked[]> {
  const rows = await db
    .selectFrom('download_user_tags')
    .select(['tag_id as id', 'downloads'])
    .where('user_id', '=', userId)
    .where('downloads', '>', 0)
    .$if(after !== null, (q) => q.where(below(after!, 'tag_id')))
    .orderBy('downloads', 'desc')
    .orderBy('tag_id')
    .limit(limit)
    .execute();
  return toRanked(rows);
}

/** The tags sharing files with tag `tagId`, ranked: (tag_id, downloads desc, other_id). */
export async function rankedCoTags(
  db: Executor,
  tagId: number,
  after: Ranked | null,
  limit: number,
): Promise<Ranked[]> {
  const rows = await db
    .selectFrom('download_tag_pairs')
    .select(['other_id as id', 'downloads'])
    .where('tag_id', '=', tagId)
    .where('downloads', '>', 0)
    .$if(after !== null, (q) => q.where(below(after!, 'other_id')))
    .orderBy('downloads', 'desc')
    .orderBy('other_id')
    .limit(limit)
    .execute();
  return toRanked(rows);
}

/** Downloads of tag `tagId`'s files by each of `userIds` over the whole UTC days [fromDay, toDay). */
export async function tagUserDays(
  db: Executor,
  tagId: number,
  userIds: number[],
  fromDay: number,
  toDay: number,
): Promise<Map<number, number>> {
  if (!userIds.length || fromDay >= toDay) return new Map();
  const rows = await db
    .selectFrom('download_user_tag_days')
    .select(['user_id as id', (eb) => eb.fn.sum<number>('downloads').as('n')])
    .where('tag_id', '=', tagId)
    .where('user_id', 'in', userIds)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy('user_id')
    .execute();
  return toMap(rows);
}

/** Downloads by user `userId` of the files of each of `tagIds` over the whole UTC days. */
export async function userTagDays(
  db: Executor,
  userId: number,
  tagIds: number[],
  fromDay: number,
  toDay: number,
): Promise<Map<number, number>> {
  if (!tagIds.length || fromDay >= toDay) return new Map();
  const rows = await db
    .selectFrom('download_user_tag_days')
    .select(['tag_id as id', (eb) => eb.fn.sum<number>('downloads').as('n')])
    .where('tag_id', 'in', tagIds)
    .where('user_id', '=', userId)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy('tag_id')
    .execute();
  return toMap(rows);
}

/** Downloads of the files carrying tag `tagId` and each of `otherIds`, over the whole UTC days. */
export async function coTagDays(
  db: Executor,
  tagId: number,
  otherIds: number[],
  fromDay: number,
  toDay: number,
): Promise<Map<number, number>> {
  if (!otherIds.length || fromDay >= toDay) return new Map();
  const rows = await db
    .selectFrom('download_tag_pair_days')
    .select(['other_id as id', (eb) => eb.fn.sum<number>('downloads').as('n')])
    .where('tag_id', '=', tagId)
    .where('other_id', 'in', otherIds)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy('other_id')
    .execute();
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
