import type { Dialect } from '../../db/connection.js';
import type { Db } from '../../db/database.js';
import { retryOnDeadlock } from '../../db/lock-order.js';
import {
  countDownloads,
  listDownloads,
  recordDownload,
  type DownloadFilter,
} from './downloads.repository.js';

export type { DownloadFilter } from './downloads.repository.js';

export function createDownloadsService(db: Db, dialect: Dialect) {
  return {
    /** One history row plus counters; null when the file was deleted meanwhile. */
    record: (fileId: number, userId: number, at = Date.now()) =>
      retryOnDeadlock(dialect, () => recordDownload(db, { fileId, userId, at })),
    list: (filter: DownloadFilter, limit: number, offset: number) =>
      listDownloads(db, filter, limit, offset),
    count: (filter: DownloadFilter) => countDownloads(db, filter),
  };
}
