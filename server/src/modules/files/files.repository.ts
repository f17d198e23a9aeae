import { sql, type Insertable } from 'kysely';
import type { Executor, FileRow, FileStatus, FilesTable } from '../../db/database.js';

// All SQL of the files domain: file rows, blob reference counts, and the tag links an upload or
// an edit writes (tags themselves: tags.repository.ts). Listing and search: files.search.ts.

export const findFileById = (db: Executor, id: number): Promise<FileRow | undefined> =>
  db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();

/** Rows for `ids`; when `activeOnly`, HIDDEN files are left out (they do not exist for USERs). */
export const findFilesByIds = (
  db: Executor,
  ids: readonly number[],
  activeOnly: boolean,
): Promise<FileRow[]> => {
  if (!ids.length) return Promise.resolve([]);
  let q = db.selectFrom('files').selectAll().where('id', 'in', ids);
  if (activeOnly) q = q.where('status', '=', 'ACTIVE');
  return q.execute();
};

export const insertFile = (db: Executor, file: Insertable<FilesTable>): Promise<FileRow> =>
  db.insertInto('files').values(file).returningAll().executeTakeFirstOrThrow();

export const updateFileRow = (
  db: Executor,
  id: number,
  patch: { name?: string; status?: FileStatus; updated_at: number },
): Promise<FileRow | undefined> =>
  db.updateTable('files').set(patch).where('id', '=', id).returningAll().executeTakeFirst();

/** Deletes the row (its tag links cascade; download rows keep their name with file_id null). */
export const deleteFileRow = (db: Executor, id: number): Promise<FileRow | undefined> =>
  db.deleteFrom('files').where('id', '=', id).returningAll().executeTakeFirst();

/** One more file uses the blob: inserts it with one reference, or counts one more, atomically. */
export async function addBlobRef(
  db: Executor,
  blob: { sha256: string; size: number; now: number },
): Promise<void> {
  await db
    .insertInto('blobs')
    .values({ sha256: blob.sha256, size: blob.size, ref_count: 1, created_at: blob.now })
    .onConflict((oc) =>
      oc.column('sha256').doUpdateSet({ ref_count: sql<number>`blobs.ref_count + 1` }),
    )
    .execute();
}

/**
 * One file fewer uses the blob. Deletes the blob row when that was the last reference and
 * resolves to true then: the caller removes the stored object.
 */
export async function releaseBlobRef(db: Executor, sha256: string): Promise<boolean> {
  await db
    .updateTable('blobs')
    .set({ ref_count: sql<number>`ref_count - 1` })
    .where('sha256', '=', sha256)
    .execute();
  const gone = await db
    .deleteFrom('blobs')
    .where('sha256', '=', sha256)
    .where('ref_count', '<=', 0)
    .executeTakeFirst();
  return gone.numDeletedRows > 0n;
}

export async function blobIsReferenced(db: Executor, sha256: string): Promise<boolean> {
  const row = await db
    .selectFrom('blobs')
    .select('ref_count')
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  return (row?.ref_count ?? 0) > 0;
}

export async function countBlobs(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('blobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function bumpUploadCount(db: Executor, userId: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ upload_count: sql<number>`upload_count + 1` })
    .where('id', '=', userId)
    .execute();
}

/** PostgreSQL: locks the file's row for this transaction (see db/lock-order.ts). */
export async function lockFileRow(db: Executor, id: number): Promise<void> {
  await db.selectFrom('files').select('id').where('id', '=', id).forUpdate().execute();
}

/** PostgreSQL: locks tag rows in id order, before triggers lock them in any order. */
export async function lockTagRows(db: Executor, tagIds: readonly number[]): Promise<void> {
  if (!tagIds.length) return;
  await db
    .selectFrom('tags')
    .select('id')
    .where('id', 'in', tagIds)
    .orderBy('id')
    .forUpdate()
    .execute();
}

export async function tagIdsOfFile(db: Executor, fileId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('file_tags')
    .select('tag_id')
    .where('file_id', '=', fileId)
    .execute();
  return rows.map((r) => r.tag_id);
}

/** Makes `tagIds` exactly the tags of the file. */
export async function replaceFileTags(
  db: Executor,
  fileId: number,
  tagIds: readonly number[],
): Promise<void> {
  await db.deleteFrom('file_tags').where('file_id', '=', fileId).execute();
  if (tagIds.length) {
    await db
      .insertInto('file_tags')
      .values(tagIds.map((tagId) => ({ file_id: fileId, tag_id: tagId })))
      .execute();
  }
}

/**
 * Serializes blob commits and deletions of one SHA-256 across instances sharing a PostgreSQL
 * database: a session-level advisory lock on the pinned connection `db` (see blob-lock.ts).
 */
export async function lockBlobKey(db: Executor, key: string): Promise<void> {
  await sql`select pg_advisory_lock(${key}::bigint)`.execute(db);
}

export async function unlockBlobKey(db: Executor, key: string): Promise<void> {
  await sql`select pg_advisory_unlock(${key}::bigint)`.execute(db);
}
