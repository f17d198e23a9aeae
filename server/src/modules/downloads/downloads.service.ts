import type { Dialect } from '../../db/connection.js';
import type { Db } from '../../db/database.js';
import { retryOnDeadlock } from '../../db/lock-order.js';
import {
  countDownloads,
  listDownloads,
  recordDownload,
  recordDownloads,
  releaseDownloads,
  type DownloadFilter,
  type RecordedDownload,
} from './downloads.repository.js';

export type { DownloadFilter } from './downloads.repository.js';

export function createDownloadsService(db: Db, dialect: Dialect) {
  return {
    /** One history row plus counters; null when the file was deleted meanwhile. */
    record: (fileId: number, userId: number, at = Date.now()) =>
      retryOnDeadlock(dialect, () => recordDownload(db, { fileId, userId, at })),
    /**
     * One download of each file by the user, all or none (the selection's ZIP), answering the
     * history rows; null when any file went away (or, `activeOnly`, turned HIDDEN) meanwhile.
     */
    recordMany: (
      fileIds: readonly number[],
      userId: number,
      activeOnly: boolean,
      at = Date.now(),
    ) => retryOnDeadlock(dialect, () => recordDownloads(db, { fileIds, userId, at, activeOnly })),
    /** Takes back downloads of `recordMany` that did not happen (a ZIP cut by storage). */
    releaseMany: (userId: number, downloads: readonly RecordedDownload[]) =>
      retryOnDeadlock(dialect, () => releaseDownloads(db, { userId, downloads })),
    list: (filter: DownloadFilter, limit: number, offset: number) =>
      listDownloads(db, filter, limit, offset),
    count: (filter: DownloadFilter) => countDownloads(db, filter),
  };
}
