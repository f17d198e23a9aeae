import type { Db } from '../../db/database.js';
import {
  countDownloads,
  listDownloads,
  recordDownload,
  type DownloadFilter,
} from './downloads.repository.js';

export type { DownloadFilter } from './downloads.repository.js';

export function createDownloadsService(db: Db) {
  return {
    /** One history row plus counters; null when the file was deleted meanwhile. */
    record: (fileId: number, userId: number, at = Date.now()) =>
      recordDownload(db, { fileId, userId, at }),
    list: (filter: DownloadFilter, limit: number, offset: number) =>
      listDownloads(db, filter, limit, offset),
    count: (filter: DownloadFilter) => countDownloads(db, filter),
  };
}

export type DownloadsService = ReturnType<typeof createDownloadsService>;
