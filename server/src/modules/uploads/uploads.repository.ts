import type { Executor, UploadSessionRow } from '../../db/database.js';
import { countRows } from '../../db/listing.js';

// All SQL of resumable uploads (migration 2026-12-03T0240_upload_sessions).

export async function insertUploadSession(db: Executor, row: UploadSessionRow): Promise<void> {
  await db.insertInto('upload_sessions').values(row).execute();
}

/**
 * A user's unfinished uploads that have not expired: how many, the bytes they declared, and when
 * the first of them expires (read through upload_sessions_user).
 */
export async function openUploadsOf(
  db: Executor,
  userId: number,
  now: number,
): Promise<{ count: number; bytes: number; firstExpiry: number }> {
  const row = await db
    .selectFrom('upload_sessions')
    .select((eb) => [
      eb.fn.countAll<number>().as('count'),
      eb.fn.sum<number | null>('length').as('bytes'),
      eb.fn.min<number | null>('expires_at').as('first_expiry'),
    ])
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .where('file_id', 'is', null)
    .executeTakeFirstOrThrow();
  return {
    count: Number(row.count),
    bytes: Number(row.bytes ?? 0),
    firstExpiry: Number(row.first_expiry ?? now),
  };
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

/**
 * Takes the lock of the viewer's upload for a PATCH at `offset` of up to `end` bytes, and returns
 * the row as locked, in one conditional UPDATE … RETURNING: only when the upload is `userId`'s,
 * unexpired, unfinished, at `offset`, at least `end` long, and no live lock holds it. Undefined
 * otherwise (the caller reads the row to say which rule refused it).
 */
export function lockUploadForAppend(
  db: Executor,
  lock: {
    id: string;
    userId: number;
    offset: number;
    end: number;
    token: string;
    until: number;
    now: number;
  },
): Promise<UploadSessionRow | undefined> {
  return db
    .updateTable('upload_sessions')
    .set({ lock_token: lock.token, locked_until: lock.until })
    .where('id', '=', lock.id)
    .where('user_id', '=', lock.userId)
    .where('expires_at', '>=', lock.now)
    .where('file_id', 'is', null)
    .where('upload_offset', '=', lock.offset)
    .where('length', '>=', lock.end)
    .where((eb) => eb.or([eb('lock_token', 'is', null), eb('locked_until', '<', lock.now)]))
    .returningAll()
    .executeTakeFirst();
}

export type UploadProgress = Pick<
  UploadSessionRow,
  'upload_offset' | 'storage_state' | 'hash_state' | 'head' | 'locked_until'
>;

/**
 * Saves how far the upload got, if `token` still holds its lock; `release` lets go of the lock in
 * the same UPDATE (a request's last save). True when saved.
 */
export async function saveUploadProgress(
  db: Executor,
  id: string,
  token: string,
  progress: UploadProgress,
  release = false,
): Promise<boolean> {
  const res = await db
    .updateTable('upload_sessions')
    .set(release ? { ...progress, lock_token: null, locked_until: null } : progress)
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

/** Unfinished uploads past their expiry, for the doctor's report (at most `limit`). */
export function listExpiredUnfinished(
  db: Executor,
  now: number,
  limit: number,
): Promise<Pick<UploadSessionRow, 'id' | 'user_id' | 'upload_offset' | 'length' | 'expires_at'>[]> {
  return db
    .selectFrom('upload_sessions')
    .select(['id', 'user_id', 'upload_offset', 'length', 'expires_at'])
    .where('expires_at', '<', now)
    .where('file_id', 'is', null)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

/** How many uploads are unfinished and not yet expired (the doctor's note). */
export async function countLiveUnfinished(db: Executor, now: number): Promise<number> {
  return countRows(
    db.selectFrom('upload_sessions').where('expires_at', '>=', now).where('file_id', 'is', null),
  );
}
