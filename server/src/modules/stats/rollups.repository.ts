import { sql } from 'kysely';
import type { Executor, RollupKind } from '../../db/database.js';
import { isInFiles } from '../files/files.repository.js';

// The SQL that reads the download rollups (migration 2026-12-03T0210_download_rollups):
// download_totals, every file's, user's and tag's downloads of all time, and download_days, the
// same per UTC day; and download_tag_hours (migration 2026-12-06T1100s_download_tag_hours), every
// tag's per UTC hour. The top lists walk them (threshold-top.ts, rank-sources.ts; STATS.md).

export interface Ranked {
  id: number;
  total: number;
}

/**
 * The next `limit` ids of `kind` with downloads, most downloads of all time first, then by id,
 * after the position `after` (exclusive): a keyset walk down the (kind, downloads desc, id) index.
 */
export async function rankedTotals(
  db: Executor,
  kind: RollupKind,
  after: Ranked | null,
  limit: number,
  withinTag: number | null = null,
): Promise<Ranked[]> {
  let q = db
    .selectFrom('download_totals')
    .select(['id', 'downloads'])
    .where('kind', '=', kind)
    .where('downloads', '>', 0);
  if (kind === 'file') {
    // A file in the trash keeps its rollups (and its downloads their file_id) until the purge;
    // for the lists it is deleted. One primary-key probe per candidate.
    q = q.where(isInFiles(sql.ref('download_totals.id')));
  }
  if (withinTag !== null) {
    // Files only: the walk goes on down the same index and probes each file's links (file_tags'
    // key leads with file_id), so a large tag costs a few probes per candidate it keeps.
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('file_tags as ft')
          .select(sql.lit(1).as('one'))
          .whereRef('ft.file_id', '=', 'download_totals.id')
          .where('ft.tag_id', '=', withinTag),
      ),
    );
  }
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('downloads', '<', after.total),
        eb.and([eb('downloads', '=', after.total), eb('id', '>', after.id)]),
      ]),
    );
  }
  const rows = await q.orderBy('downloads', 'desc').orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: Number(r.id), total: Number(r.downloads) }));
}

/** Downloads of each of `ids` over the whole UTC days [fromDay, toDay), from the day rows. */
export async function daysCounts(
  db: Executor,
  kind: RollupKind,
  ids: number[],
  fromDay: number,
  toDay: number,
): Promise<Map<number, number>> {
  if (!ids.length || fromDay >= toDay) return new Map();
  const rows = await db
    .selectFrom('download_days')
    .select(['id', (eb) => eb.fn.sum<number>('downloads').as('n')])
    .where('kind', '=', kind)
    .where('id', 'in', ids)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .groupBy('id')
    .execute();
  return new Map(rows.map((r) => [Number(r.id), Number(r.n)]));
}

/** One file's, user's or tag's day rows over the whole UTC days [fromDay, toDay), by day. */
export async function dayRows(
  db: Executor,
  kind: RollupKind,
  id: number,
  fromDay: number,
  toDay: number,
): Promise<{ day: number; downloads: number }[]> {
  if (fromDay >= toDay) return [];
  const rows = await db
    .selectFrom('download_days')
    .select(['day', 'downloads'])
    .where('kind', '=', kind)
    .where('id', '=', id)
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .execute();
  return rows.map((r) => ({ day: Number(r.day), downloads: Number(r.downloads) }));
}

/**
 * Downloads of each of `ids` in [from, to), counted from `downloads` itself: the partial days at
 * either end of a range, less than a day of downloads each, read through the `at` index. Tags
 * are counted all at once (there are few, and a list of tag ids would make each download probe
 * its file's links once per id); pass null for `ids` to get them.
 */
export async function rawCounts(
  db: Executor,
  kind: RollupKind,
  ids: number[] | null,
  from: number,
  to: number,
): Promise<Map<number, number>> {
  if (ids?.length === 0 || from >= to) return new Map();
  const inRange = db.selectFrom('downloads as d').where('d.at', '>=', from).where('d.at', '<', to);
  const rows =
    kind === 'tag'
      ? // A cross join with the condition in WHERE: SQLite keeps the written order, so it reads
        // the range's downloads by `at` and probes each file's links, rather than every download
        // of the tags' files (seconds for a large tag); PostgreSQL plans it as an inner join.
        await inRange
          .crossJoin('file_tags as ft')
          .whereRef('ft.file_id', '=', 'd.file_id')
          .select(['ft.tag_id as id', sql<number>`count(*)`.as('n')])
          .groupBy('ft.tag_id')
          .execute()
      : await inRange
          .select([`d.${kind}_id as id`, sql<number>`count(*)`.as('n')])
          .$if(ids !== null, (q) => q.where(`d.${kind}_id`, 'in', ids!))
          .where(`d.${kind}_id`, 'is not', null)
          .groupBy(`d.${kind}_id`)
          .execute();
  return new Map(rows.map((r) => [Number(r.id), Number(r.n)]));
}

/**
 * Downloads of every tag over the whole UTC hours [fromHour, toHour), from download_tag_hours:
 * one range of its (hour, tag_id) key. Raw SQL: the table is read here only, so it stays out of
 * the app's Database type.
 */
export async function tagHoursCounts(
  db: Executor,
  fromHour: number,
  toHour: number,
): Promise<Map<number, number>> {
  if (fromHour >= toHour) return new Map();
  const { rows } = await sql<{ id: number; n: number }>`
    select tag_id as id, sum(downloads) as n from download_tag_hours
    where hour >= ${fromHour} and hour < ${toHour} group by tag_id`.execute(db);
  return new Map(rows.map((r) => [Number(r.id), Number(r.n)]));
}
