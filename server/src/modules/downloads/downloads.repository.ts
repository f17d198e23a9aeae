import { sql } from 'kysely';
import type { Db, DownloadRow } from '../../db/database.js';
import { newestFirstLog, type TimeRange } from '../../db/newest-first.js';

export interface DownloadFilter extends TimeRange {
  fileId?: number | null;
  userId?: number | null;
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
    const file = await trx
      .updateTable('files')
      .set({
        download_count: sql<number>`download_count + 1`,
        // The later of the two: concurrent downloads may commit in the opposite order of their
        // timestamps (found by the crash drill on PostgreSQL).
        last_downloaded_at: sql<number>`case when last_downloaded_at is null
          or last_downloaded_at < ${download.at} then ${download.at} else last_downloaded_at end`,
      })
      .where('id', '=', download.fileId)
      .returning('name')
      .executeTakeFirst();
    if (!file) return null;
    const row = await trx
      .insertInto('downloads')
      .values({
        file_id: download.fileId,
        file_name: file.name,
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
 * One download of each of `fileIds` by one user, all or none (a ZIP of the selection): false,
 * with nothing written, when any file is gone or (`activeOnly`, for a USER) no longer ACTIVE.
 * In lock order, as `recordDownload`: every file row (in id order), then the download rows,
 * then the user.
 */
export async function recordDownloads(
  db: Db,
  download: { fileIds: readonly number[]; userId: number; at: number; activeOnly: boolean },
): Promise<boolean> {
  const gone = new Error('rolled back');
  try {
    return await db.transaction().execute(async (trx) => {
      const names = new Map<number, string>();
      for (const fileId of [...download.fileIds].sort((a, b) => a - b)) {
        let q = trx
          .updateTable('files')
          .set({
            download_count: sql<number>`download_count + 1`,
            last_downloaded_at: sql<number>`case when last_downloaded_at is null
              or last_downloaded_at < ${download.at} then ${download.at} else last_downloaded_at end`,
          })
          .where('id', '=', fileId);
        if (download.activeOnly) q = q.where('status', '=', 'ACTIVE');
        const file = await q.returning('name').executeTakeFirst();
        if (!file) throw gone;
        names.set(fileId, file.name);
      }
      await trx
        .insertInto('downloads')
        .values(
          [...names].map(([fileId, name]) => ({
            file_id: fileId,
            file_name: name,
            user_id: download.userId,
            at: download.at,
          })),
        )
        .execute();
      await trx
        .updateTable('users')
        .set({ download_count: sql<number>`download_count + ${names.size}` })
        .where('id', '=', download.userId)
        .execute();
      return true;
    });
  } catch (err) {
    if (err === gone) return false;
    throw err;
  }
}

/** Newest first; ties (same millisecond) by id, newest first. */
const history = newestFirstLog('downloads', (q, f: DownloadFilter) => {
  if (f.fileId != null) q = q.where('file_id', '=', f.fileId);
  return f.userId != null ? q.where('user_id', '=', f.userId) : q;
});

export const listDownloads = history.list;
export const countDownloads = history.count;
