import type { Executor, UploadSessionRow } from '../../db/database.js';

// All SQL of resumable uploads (migration 2026-12-03T0240_upload_sessions).

export async function insertUploadSession(db: Executor, row: UploadSessionRow): Promise<void> {
  await db.insertInto('upload_sessions').values(row).execute();
}

export function findUploadSession(db: Executor, id: string): Promise<UploadSessionRow | undefined> {
  return db.selectFrom('upload_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Takes the upload's lock for `token` until `until`, unless another live one holds it: one
 * conditional UPDATE, so two instances racing for it cannot both win. True when taken.
 */
export async function lockUploadSession(
  db: Executor,
  id: string,
  token: string,
  until: number,
  now: number,
): Promise<boolean> {
  const res = await db
    .updateTable('upload_sessions')
    .set({ lock_token: token, locked_until: until })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('lock_token', 'is', null), eb('locked_until', '<', now)]))
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

export type UploadProgress = Pick<
  UploadSessionRow,
  'upload_offset' | 'storage_state' | 'hash_state' | 'head' | 'locked_until'
>;

/** Saves how far the upload got, if `token` still holds its lock. True when saved. */
export async function saveUploadProgress(
  db: Executor,
  id: string,
  token: string,
  progress: UploadProgress,
): Promise<boolean> {
  const res = await db
    .updateTable('upload_sessions')
    .set(progress)
    .where('id', '=', id)
    .where('lock_token', '=', token)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/** Records the file a finished upload became; its resume state is of no more use. */
export async function markUploadComplete(db: Executor, id: string, fileId: number): Promise<void> {
  await db
    .updateTable('upload_sessions')
    .set({ file_id: fileId, storage_state: '{}', hash_state: null, head: '' })
    .where('id', '=', id)
    .execute();
}

export async function unlockUploadSession(db: Executor, id: string, token: string): Promise<void> {
  await db
    .updateTable('upload_sessions')
    .set({ lock_token: null, locked_until: null })
    .where('id', '=', id)
    .where('lock_token', '=', token)
    .execute();
}

export async function deleteUploadSession(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('upload_sessions').where('id', '=', id).execute();
}

/** Ids of uploads past their expiry, oldest first. */
export async function listExpiredUploads(
  db: Executor,
  now: number,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom('upload_sessions')
    .select('id')
    .where('expires_at', '<', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** How many uploads are unfinished, and how many of those are past their expiry (the doctor). */
export async function countUnfinishedUploads(
  db: Executor,
  now: number,
): Promise<{ unfinished: number; expired: number }> {
  const rows = await db
    .selectFrom('upload_sessions')
    .select(['expires_at'])
    .where('file_id', 'is', null)
    .execute();
  return { unfinished: rows.length, expired: rows.filter((r) => r.expires_at < now).length };
}
