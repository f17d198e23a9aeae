import type { Executor, FileRow, TrashedFileRow } from '../../db/database.js';
import type { Dialect } from '../../db/connection.js';
import { retryOnDeadlock } from '../../db/lock-order.js';
import { audit, type Actor, type AuditEventInput } from '../audit/audit.service.js';
import { releaseBlobRef } from '../blobs/blobs.repository.js';
import { deleteFileTags, tagIdsOfFiles } from './files.repository.js';
import {
  deleteTrashedRowsOfBlob,
  moveFileRowsToTrash,
  lockTrashedFiles,
  forgetDownloads,
} from './trash.repository.js';

// The steps of deleting and purging files, shared by the single mutations (files.service.ts) and
// the bulk ones (files.bulk.ts).

/** An audit event about one file: `action` on it, named by its name as it was. */
export function fileEvent(
  actor: Actor,
  file: Pick<FileRow, 'id' | 'name'>,
  action: AuditEventInput['action'],
  details: Record<string, unknown>,
  at?: number,
): AuditEventInput {
  return { actor, action, target: { type: 'file', id: file.id, label: file.name }, details, at };
}

/** The `file.delete` event of `row`: what it was, and whether it went to the trash. */
function fileDeleteEvent(
  actor: Actor,
  row: FileRow,
  how: { trash: boolean; bulk?: true; at?: number },
): AuditEventInput {
  const { at, ...details } = how;
  const before = { status: row.status, size: row.size, uploadedBy: row.uploaded_by };
  return fileEvent(actor, row, 'file.delete', { before, ...details }, at);
}

/** Records the `file.delete` event of `row` (a deletion for good, TRASH_DAYS 0). */
export function recordFileDelete(
  trx: Executor,
  actor: Actor,
  row: FileRow,
  how: { trash: boolean; bulk?: true; at?: number },
): Promise<void> {
  return audit.record(trx, fileDeleteEvent(actor, row, how));
}

/**
 * Moves the files to the trash (the caller holds their row locks): their tags are remembered,
 * their downloads stay as they are (file_id names the trashed row), their links and then their
 * `files` rows go (the triggers of a deletion run) into trashed_files; one `file.delete` event
 * each. Set-based: a handful of statements whatever the number of files. The links go first in
 * one statement, so the row trigger `files_before_delete` finds none to delete file by file.
 */
export async function moveToTrash(
  trx: Executor,
  dialect: Dialect,
  rows: readonly FileRow[],
  actor: Actor,
  at: number,
  bulk?: true,
): Promise<void> {
  if (!rows.length) return;
  const ids = rows.map((r) => r.id);
  const tagIds = await tagIdsOfFiles(trx, ids);
  await deleteFileTags(trx, ids, [...new Set([...tagIds.values()].flat())]);
  await moveFileRowsToTrash(trx, dialect, ids, { at, by: actor.user?.id ?? null }, tagIds);
  await audit.recordMany(
    trx,
    dialect,
    rows.map((row) => fileDeleteEvent(actor, row, { trash: true, bulk, at })),
  );
}

/** The `file.purge` event of a trashed row deleted for good. */
const filePurgeEvent = (actor: Actor, row: TrashedFileRow): AuditEventInput =>
  fileEvent(actor, row, 'file.purge', {
    before: { size: row.size, uploadedBy: row.uploaded_by, deletedAt: row.deleted_at },
  });

export interface PurgeDeps {
  dialect: Dialect;
  withBlobLock: <T>(sha256: string, fn: (conn: Executor) => Promise<T>) => Promise<T>;
  /** Removes a blob's stored object once its row is gone. */
  removeBlob: (sha256: string) => Promise<void>;
}

/**
 * Deletes trashed files for good, one transaction per blob under that blob's lock: their rows,
 * their downloads' link, one `file.purge` event each, as many blob references as rows deleted
 * (and the stored object with the last). The blob lock makes "the blob goes with the last file
 * using it" exact: uploads of the same bytes and other purges of that blob wait on it. A file a
 * restore or another purge took first is skipped. Resolves to how many this call purged.
 */
export async function purgeTrashed(
  deps: PurgeDeps,
  files: readonly Pick<TrashedFileRow, 'id' | 'sha256'>[],
  actor: Actor,
): Promise<number> {
  const byBlob = new Map<string, number[]>();
  for (const f of files) byBlob.set(f.sha256, [...(byBlob.get(f.sha256) ?? []), f.id]);
  let purged = 0;
  for (const [sha256, ids] of byBlob) {
    // The stored object goes inside the blob's lock, as every release does: the lock's intent
    // row lets the doctor finish a removal a crash cut short, and an upload of the same bytes
    // waits for the lock, so it never has its new object deleted under it.
    purged += await deps.withBlobLock(sha256, async (conn) => {
      const result = await retryOnDeadlock(deps.dialect, () =>
        conn.transaction().execute(async (trx) => {
          // In lock order: the trashed rows (restores race for them), users (their trigger),
          // then blobs.
          if (deps.dialect === 'postgres') await lockTrashedFiles(trx, ids);
          const rows = await deleteTrashedRowsOfBlob(trx, ids, sha256);
          if (!rows.length) return { n: 0, last: false };
          await forgetDownloads(
            trx,
            rows.map((r) => r.id),
          );
          await audit.recordMany(
            trx,
            deps.dialect,
            rows.map((r) => filePurgeEvent(actor, r)),
          );
          return { n: rows.length, last: await releaseBlobRef(trx, sha256, rows.length) };
        }),
      );
      if (result.last) await deps.removeBlob(sha256);
      return result.n;
    });
  }
  return purged;
}
