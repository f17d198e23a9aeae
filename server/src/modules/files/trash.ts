import type { Executor, FileRow } from '../../db/database.js';
import { audit, type Actor } from '../audit/audit.service.js';
import { deleteFileRow, tagIdsOfFile } from './files.repository.js';
import { detachDownloads, insertTrashedFile } from './trash.repository.js';

// The steps of deleting one file, shared by `deleteFile` (files.service.ts) and `deleteFiles`
// (files.bulk.ts): both run them in their own transaction, after taking the files' row locks.

/** The `file.delete` event of `row`: what it was, and whether it went to the trash. */
export function recordFileDelete(
  trx: Executor,
  actor: Actor,
  row: FileRow,
  how: { trash: boolean; bulk?: true; at?: number },
): Promise<void> {
  const { at, ...details } = how;
  return audit.record(trx, {
    actor,
    action: 'file.delete',
    target: { type: 'file', id: row.id, label: row.name },
    details: {
      before: { status: row.status, size: row.size, uploadedBy: row.uploaded_by },
      ...details,
    },
    at,
  });
}

/**
 * Moves the file to the trash: its tags are remembered, its downloads keep their name with file
 * null, its `files` row goes (the triggers of a deletion run) into trashed_files; audited.
 */
export async function moveToTrash(
  trx: Executor,
  row: FileRow,
  actor: Actor,
  at: number,
  bulk?: true,
): Promise<void> {
  const tagIds = await tagIdsOfFile(trx, row.id);
  await detachDownloads(trx, row.id);
  await deleteFileRow(trx, row.id);
  await insertTrashedFile(trx, row, { deletedAt: at, deletedBy: actor.user?.id ?? null, tagIds });
  await recordFileDelete(trx, actor, row, { trash: true, bulk, at });
}
