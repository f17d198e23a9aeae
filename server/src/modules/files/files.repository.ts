import type { Insertable } from 'kysely';
import type { Executor, FileRow, FileStatus, FilesTable } from '../../db/database.js';
import { sortKey } from '../../db/sort-key.js';

// All SQL of the files domain: file rows and the tag links an upload or an edit writes (tags
// themselves: tags.repository.ts; blob rows: blobs/blobs.repository.ts). Listing and search:
// search/search.service.ts.

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

/** Inserts a file row; its name_sort comes from the name (db/sort-key.ts). */
export const insertFile = (
  db: Executor,
  file: Omit<Insertable<FilesTable>, 'name_sort'>,
): Promise<FileRow> =>
  db
    .insertInto('files')
    .values({ ...file, name_sort: sortKey(file.name) })
    .returningAll()
    .executeTakeFirstOrThrow();

export const updateFileRow = (
  db: Executor,
  id: number,
  patch: { name?: string; status?: FileStatus; updated_at: number },
): Promise<FileRow | undefined> =>
  db
    .updateTable('files')
    .set(patch.name !== undefined ? { ...patch, name_sort: sortKey(patch.name) } : patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();

/** Deletes the row (its tag links cascade; download rows keep their name with file_id null). */
export const deleteFileRow = (db: Executor, id: number): Promise<FileRow | undefined> =>
  db.deleteFrom('files').where('id', '=', id).returningAll().executeTakeFirst();

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

/** PostgreSQL: locks many file rows in id order (bulk actions; see db/lock-order.ts). */
export async function lockFileRows(db: Executor, ids: readonly number[]): Promise<void> {
  if (!ids.length) return;
  await db
    .selectFrom('files')
    .select('id')
    .where('id', 'in', ids)
    .orderBy('id')
    .forUpdate()
    .execute();
}
