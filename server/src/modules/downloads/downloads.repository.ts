import { sql } from 'kysely';
import type { Db, DownloadRow, Executor } from '../../db/database.js';
import { allOrNone } from '../../db/all-or-none.js';
import { newestFirstLog, type TimeRange } from '../../db/newest-first.js';
import { isInFiles } from '../files/files.repository.js';

export interface DownloadFilter extends TimeRange {
  fileId?: number | null;
  userId?: number | null;
}

/** A history row written by `recordDownloads` or `recordShareDownloads`, to take back. */
export interface RecordedDownload {
  id: number;
  fileId: number;
}

/**
 * Counts one download of the file at `at` and answers its name at this moment; undefined when
 * the file is gone (or, `activeOnly`, not ACTIVE). Every way of downloading counts through here,
 * so the file's row is the first lock each of them takes (db/lock-order.ts).
 */
export async function countFileDownload(
  trx: Executor,
  download: { fileId: number; at: number; activeOnly: boolean },
): Promise<string | undefined> {
  let q = trx
    .updateTable('files')
    .set({
      download_count: sql<number>`download_count + 1`,
      // The later of the two: concurrent downloads may commit in the opposite order of their
      // timestamps (found by the crash drill on PostgreSQL).
      last_downloaded_at: sql<number>`case when last_downloaded_at is null
        or last_downloaded_at < ${download.at} then ${download.at} else last_downloaded_at end`,
    })
    .where('id', '=', download.fileId);
  if (download.activeOnly) q = q.where('status', '=', 'ACTIVE');
  const file = await q.returning('name').executeTakeFirst();
  return file?.name;
}

/**
 * Counts one download of each of `fileIds` and writes its history row, by `user_id` or through
 * `share_link_id`: the files first, in id order (the lock order), then the rows. Null when any
 * file is gone (or, `activeOnly`, not ACTIVE), for `allOrNone` to roll back the others.
 */
export async function recordFileDownloads(
  trx: Executor,
  download: {
    fileIds: readonly number[];
    at: number;
    activeOnly: boolean;
    by: { user_id: number; share_link_id?: never } | { user_id: null; share_link_id: number };
  },
): Promise<RecordedDownload[] | null> {
  const names = new Map<number, string>();
  for (const fileId of [...download.fileIds].sort((a, b) => a - b)) {
    const name = await countFileDownload(trx, { ...download, fileId });
    if (name === undefined) return null;
    names.set(fileId, name);
  }
  if (names.size === 0) return [];
  const rows = await trx
    .insertInto('downloads')
    .values(
      [...names].map(([fileId, name]) => ({
        file_id: fileId,
        file_name: name,
        at: download.at,
        ...download.by,
      })),
    )
    .returning(['id', 'file_id'])
    .execute();
  // file_id goes null only when its file is deleted, and this transaction holds those rows.
  return rows.map((r) => ({ id: r.id, fileId: r.file_id! }));
}

/**
 * Takes back counted downloads that never happened, in the lock order of their file rows: each
 * history row goes (with it, by trigger, the hourly and rolled-up counts) and its file's counter
 * drops by one; the file's last-download time is set again from the rows that remain, so it names
 * no download that did not take place. A file moved to the trash meanwhile has its trashed row
 * updated instead (a restore brings the counter back with it); on PostgreSQL that row is then the
 * one locked, as the fold of the tags' moves locks it (modules/stats/tag-moves.ts), so the two
 * never count the same download apart.
 */
export async function uncountFileDownloads(
  trx: Executor,
  downloads: readonly RecordedDownload[],
): Promise<void> {
  for (const download of [...downloads].sort((a, b) => a.fileId - b.fileId)) {
    const uncountIn = async (table: 'files' | 'trashed_files') =>
      (
        await trx
          .updateTable(table)
          .set({
            download_count: sql<number>`download_count - 1`,
            last_downloaded_at: sql<number | null>`(select max(d.at) from downloads d
              where d.file_id = ${download.fileId} and d.id <> ${download.id})`,
          })
          .where('id', '=', download.fileId)
          .executeTakeFirst()
      ).numUpdatedRows > 0n;
    // A restore that took the trashed row first leaves neither row to this transaction: the file
    // is back in `files` and is asked for again. Holding neither, a fold could count this
    // download into a restored link while its removal is still uncommitted (found by
    // tag-moves.test.ts on a busy machine). Bounded: a file purged meanwhile has neither row.
    let found = await uncountIn('files');
    for (let tries = 0; !found && tries < 3; tries++) {
      found = (await uncountIn('trashed_files')) || (await uncountIn('files'));
    }
    await trx.deleteFrom('downloads').where('id', '=', download.id).execute();
  }
}

/**
 * Writes one history row and bumps the file's and the user's counters, in one transaction and
 * with `x = x + 1` in SQL: concurrent downloads never lose a count to a read-modify-write. The
 * file's row is updated first and gives the name at this moment; null when the file is gone.
 * Statements in lock order (db/lock-order.ts): the file (and its tags, by trigger), the
 * download row (download_hours, by trigger), the user.
 */
export async function recordDownload(
  db: Db,
  download: { fileId: number; userId: number; at: number },
): Promise<DownloadRow | null> {
  return db.transaction().execute(async (trx) => {
    const name = await countFileDownload(trx, { ...download, activeOnly: false });
    if (name === undefined) return null;
    const row = await trx
      .insertInto('downloads')
      .values({
        file_id: download.fileId,
        file_name: name,
        user_id: download.userId,
        at: download.at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('users')
      .set({ download_count: sql<number>`download_count + 1` })
      .where('id', '=', download.userId)
      .execute();
    return row;
  });
}

/**
 * One download of each of `fileIds` by one user, all or none (a ZIP of the selection): null,
 * with nothing written, when any file is gone or (`activeOnly`, for a USER) no longer ACTIVE.
 * In lock order, as `recordDownload`: every file row (in id order), then the download rows,
 * then the user.
 */
export const recordDownloads = (
  db: Db,
  download: { fileIds: readonly number[]; userId: number; at: number; activeOnly: boolean },
): Promise<RecordedDownload[] | null> =>
  allOrNone(db, async (trx) => {
    const by = { user_id: download.userId };
    const recorded = await recordFileDownloads(trx, { ...download, by });
    if (!recorded) return null;
    await trx
      .updateTable('users')
      .set({ download_count: sql<number>`download_count + ${recorded.length}` })
      .where('id', '=', download.userId)
      .execute();
    return recorded;
  });

/**
 * Takes back downloads by one user that never happened (a ZIP of the selection whose later files
 * could not be read), in one transaction and in the lock order of `recordDownloads`: the files,
 * their download rows, then the user, whose counter drops by as much.
 */
export async function releaseDownloads(
  db: Db,
  release: { userId: number; downloads: readonly RecordedDownload[] },
): Promise<void> {
  if (release.downloads.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await uncountFileDownloads(trx, release.downloads);
    await trx
      .updateTable('users')
      .set({ download_count: sql<number>`download_count - ${release.downloads.length}` })
      .where('id', '=', release.userId)
      .execute();
  });
}

/** Newest first; ties (same millisecond) by id, newest first. */
const history = newestFirstLog('downloads', (q, f: DownloadFilter) => {
  if (f.fileId != null) {
    // A trashed file's downloads keep its id; for the history it is deleted, so none match.
    const fileId = f.fileId;
    q = q.where('file_id', '=', fileId).where(isInFiles(sql.val(fileId)));
  }
  return f.userId != null ? q.where('user_id', '=', f.userId) : q;
});

export const listDownloads = history.list;
export const countDownloads = history.count;
