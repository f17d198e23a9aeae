import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../../db/connection.js';
import type { Executor } from '../../db/database.js';
import { idsInFiles } from '../files/files.repository.js';
import { countRows } from '../../db/listing.js';
import { DAY_MS, HOUR_MS, WEEK_MS, WEEK_OFFSET_MS, type StatsInterval } from './buckets.js';

// All SQL of download statistics. Times are epoch milliseconds; ranges are [from, to).
//
// Bucketing happens in the database. PostgreSQL truncates with date_trunc in UTC (its 'week' is
// the ISO week, from Monday); SQLite uses arithmetic on the epoch (hours, days and ISO weeks are
// fixed lengths in UTC; 1970-01-05 was a Monday) and strftime's 'start of month' for months.
// Both give the bucket's start in epoch milliseconds, the same numbers buckets.ts computes.

export interface StatsFilter {
  from: number;
  to: number;
  fileId?: number | null;
  tagId?: number | null;
  userId?: number | null;
}

/** A file, user or tag id and its downloads in a range. */
export interface Counted {
  id: number;
  count: number;
}

export interface BucketCount {
  start: number;
  count: number;
}

function bucketOf(dialect: Dialect, interval: StatsInterval, column: RawBuilder<number>) {
  if (dialect === 'postgres') {
    const unit = { HOUR: 'hour', DAY: 'day', WEEK: 'week', MONTH: 'month' }[interval];
    return sql<number>`(extract(epoch from date_trunc(${sql.lit(unit)}, to_timestamp(${column} / 1000.0), 'UTC')) * 1000)::bigint`;
  }
  switch (interval) {
    case 'HOUR':
      return sql<number>`(${column} - ${column} % ${sql.lit(HOUR_MS)})`;
    case 'DAY':
      return sql<number>`(${column} - ${column} % ${sql.lit(DAY_MS)})`;
    case 'WEEK':
      return sql<number>`(${column} - (${column} - ${sql.lit(WEEK_OFFSET_MS)}) % ${sql.lit(WEEK_MS)})`;
    case 'MONTH':
      return sql<number>`(cast(strftime('%s', ${column} / 1000, 'unixepoch', 'start of month') as integer) * 1000)`;
  }
}

const isFiltered = (f: StatsFilter) => f.fileId != null || f.tagId != null || f.userId != null;

function filteredDownloads(db: Executor, f: StatsFilter) {
  let q = db.selectFrom('downloads as d').where('d.at', '>=', f.from).where('d.at', '<', f.to);
  if (f.fileId != null) q = q.where('d.file_id', '=', f.fileId);
  if (f.userId != null) q = q.where('d.user_id', '=', f.userId);
  if (f.tagId != null) {
    const tagId = f.tagId;
    q = q.where('d.file_id', 'in', (eb) =>
      eb.selectFrom('file_tags as ft').select('ft.file_id').where('ft.tag_id', '=', tagId),
    );
  }
  return q;
}

async function countDownloadsByBucket(
  db: Executor,
  dialect: Dialect,
  interval: StatsInterval,
  f: StatsFilter,
): Promise<BucketCount[]> {
  if (f.from >= f.to) return [];
  const bucket = bucketOf(dialect, interval, sql<number>`d.at`);
  const rows = await filteredDownloads(db, f)
    .select([bucket.as('start'), (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(sql`1`)
    .execute();
  return rows.map((r) => ({ start: Number(r.start), count: Number(r.count) }));
}

/**
 * Downloads per bucket over [from, to). Unfiltered ranges read download_hours (one row per hour
 * with downloads, kept by triggers) for every whole hour inside the range, and `downloads` only for
 * the partial hours at either end: a year by day sums ~8,760 rows, whatever the traffic.
 * Filtered ranges count `downloads` through the index of their filter.
 */
export async function downloadsByBucket(
  db: Executor,
  dialect: Dialect,
  interval: StatsInterval,
  f: StatsFilter,
): Promise<BucketCount[]> {
  if (isFiltered(f)) return countDownloadsByBucket(db, dialect, interval, f);
  const firstWhole = Math.ceil(f.from / HOUR_MS) * HOUR_MS;
  const endWhole = Math.floor(f.to / HOUR_MS) * HOUR_MS;
  if (firstWhole >= endWhole) return countDownloadsByBucket(db, dialect, interval, f);
  const bucket = bucketOf(dialect, interval, sql<number>`hour`);
  const [whole, head, tail] = await Promise.all([
    db
      .selectFrom('download_hours')
      .select([bucket.as('start'), (eb) => eb.fn.sum<number>('downloads').as('count')])
      .where('hour', '>=', firstWhole)
      .where('hour', '<', endWhole)
      .groupBy(sql`1`)
      .execute(),
    countDownloadsByBucket(db, dialect, interval, { from: f.from, to: firstWhole }),
    countDownloadsByBucket(db, dialect, interval, { from: endWhole, to: f.to }),
  ]);
  return [
    ...whole.map((r) => ({ start: Number(r.start), count: Number(r.count) })),
    ...head,
    ...tail,
  ];
}

/**
 * Distinct users who downloaded in [from, to). Without a file filter it probes the
 * (user_id, at) index once per user instead of reading every download of the range: a year of
 * millions of downloads by thousands of users costs thousands of index seeks.
 */
export async function countUniqueUsers(db: Executor, f: StatsFilter): Promise<number> {
  if (f.from >= f.to) return 0;
  if (f.fileId != null || f.userId != null) {
    const row = await filteredDownloads(db, f)
      .select(sql<number>`count(distinct d.user_id)`.as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  const tagId = f.tagId;
  return countRows(
    db.selectFrom('users as u').where(({ exists }) =>
      exists(
        tagId == null
          ? filteredDownloads(db, f)
              .select(sql.lit(1).as('one'))
              .where('d.user_id', '=', sql<number>`u.id`)
          : // The user's downloads of the range through (user_id, at), each probing its file's
            // links, stopping at the first of the tag. Written as filteredDownloads writes a tag
            // (file_id in the tag's files), SQLite walked every file of the tag for every user:
            // 23 s for a tag of 300,000 files in the bench library, against 0.13 s.
            db
              .selectFrom('downloads as d')
              .crossJoin('file_tags as ft')
              .select(sql.lit(1).as('one'))
              .where('d.user_id', '=', sql<number>`u.id`)
              .where('d.at', '>=', f.from)
              .where('d.at', '<', f.to)
              .whereRef('ft.file_id', '=', 'd.file_id')
              .where('ft.tag_id', '=', tagId),
      ),
    ),
  );
}

/** Downloads in [from, to) made through share links (downloads_share_link_at serves it). */
export async function countLinkDownloads(db: Executor, f: StatsFilter): Promise<number> {
  if (f.from >= f.to) return 0;
  return countRows(filteredDownloads(db, f).where('d.share_link_id', 'is not', null));
}

/** The files downloaded most in [from, to), most first, then by id; deleted and trashed files left out. */
export const topDownloadedFiles = (db: Executor, f: StatsFilter, limit: number) =>
  topBy(db, f, limit, 'd.file_id');

/** The users who downloaded most in [from, to), most first, then by id; anonymous rows left out. */
export const topDownloaders = (db: Executor, f: StatsFilter, limit: number) =>
  topBy(db, f, limit, 'd.user_id');

/** The values of `column` with the most downloads in [from, to), most first, then by value. */
async function topBy(
  db: Executor,
  f: StatsFilter,
  limit: number,
  column: 'd.file_id' | 'd.user_id',
): Promise<Counted[]> {
  if (f.from >= f.to || limit <= 0) return [];
  const ranked = filteredDownloads(db, f)
    .select([sql.ref<number>(column).as('id'), (eb) => eb.fn.countAll<number>().as('count')])
    .where(column, 'is not', null)
    .groupBy(column)
    .orderBy('count', 'desc')
    .orderBy(column);
  const read = async (n: number) =>
    (await ranked.limit(n).execute()).map((r) => ({ id: Number(r.id), count: Number(r.count) }));
  if (column === 'd.user_id') return read(limit);
  // Downloads of a trashed file keep its id until the purge; here it counts as deleted. The
  // ranked ids are checked after the ranking: checked per group before it, the busiest user's
  // year (103,000 files) took 0.4 s of probes on PostgreSQL for a list of ten. Few of the leaders
  // are in the trash; when too many are, rank further.
  for (let n = limit + 8; ; n *= 4) {
    const rows = await read(n);
    const live = await idsInFiles(
      db,
      rows.map((r) => r.id),
    );
    const kept = rows.filter((r) => live.has(r.id));
    if (kept.length >= limit || rows.length < n) return kept.slice(0, limit);
  }
}

/**
 * The tags whose files were downloaded most in [from, to): a download counts once for each tag
 * its file carries now. Most first, then by tag id; downloads of deleted files have no tags.
 */
export async function topDownloadedTags(
  db: Executor,
  f: StatsFilter,
  limit: number,
): Promise<Counted[]> {
  if (f.from >= f.to || limit <= 0) return [];
  // Counted per file first, then spread over each file's tags: the per-file count reads only the
  // (file_id, at) index, and the links are joined once a file instead of once a download (a year
  // of a tag of 300,000 files in the bench library: 10 s to 1 s on SQLite).
  const perFile = filteredDownloads(db, f)
    .select(['d.file_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('d.file_id', 'is not', null)
    .groupBy('d.file_id');
  const rows = await db
    .selectFrom(perFile.as('c'))
    .innerJoin('file_tags as t', 't.file_id', 'c.file_id')
    .select(['t.tag_id', (eb) => eb.fn.sum<number>('c.n').as('count')])
    .groupBy('t.tag_id')
    .orderBy('count', 'desc')
    .orderBy('t.tag_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.tag_id), count: Number(r.count) }));
}
