import type { Executor, FileRow } from '../../db/database.js';
import { audit, type Actor, type AuditEventInput } from '../audit/audit.service.js';
import { deleteFileRows, tagIdsOfFiles } from './files.repository.js';
import { detachDownloadsOf, insertTrashedFiles } from './trash.repository.js';

// The steps of deleting one file, shared by `deleteFile` (files.service.ts) and `deleteFiles`
// (files.bulk.ts): both run them in their own transaction, after taking the files' row locks.

/** The `file.delete` event of `row`: what it was, and whether it went to the trash. */
export function recordFileDelete(
  trx: Executor,
  actor: Actor,
  row: FileRow,
  how: { trash: boolean; bulk?: true; at?: number },
): Promise<void> {
  return audit.record(trx, fileDeleteEvent(actor, row, how));
}

function fileDeleteEvent(
  actor: Actor,
  row: FileRow,
  how: { trash: boolean; bulk?: true; at?: number },
): AuditEventInput {
  const { at, ...details } = how;
  return {
    actor,
    action: 'file.delete',
    target: { type: 'file', id: row.id, label: row.name },
    details: {
      before: { status: row.status, size: row.size, uploadedBy: row.uploaded_by },
      ...details,
    },
    at,
  };
}

/**
 * Moves the files to the trash: their tags are remembered, their downloads keep their name with
 * file null, their `files` rows go (the triggers of a deletion run) into trashed_files; one
 * `file.delete` event each. Set-based: a handful of statements whatever the number of files.
 */
export async function moveToTrash(
  trx: Executor,
  rows: readonly FileRow[],
  actor: Actor,
  at: number,
  bulk?: true,
): Promise<void> {
  if (!rows.length) return;
  const ids = rows.map((r) => r.id);
  const tagIds = await tagIdsOfFiles(trx, ids);
  await detachDownloadsOf(trx, ids);
  await deleteFileRows(trx, ids);
  const deletedBy = actor.user?.id ?? null;
  await insertTrashedFiles(
    trx,
    rows.map((file) => ({ file, deletedAt: at, deletedBy, tagIds: tagIds.get(file.id)! })),
  );
  await audit.recordMany(
    trx,
    rows.map((row) => fileDeleteEvent(actor, row, { trash: true, bulk, at })),
  );
}
