import { sql, type Expression, type Insertable, type RawBuilder, type SqlBool } from 'kysely';
import type { Executor, FileRow, FileStatus, FilesTable } from '../../db/database.js';
import { lockRows } from '../../db/rows.js';
import { insertNamed, updateNamed } from '../../db/named-rows.js';

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

/**
 * PostgreSQL: the files of `ids`, locked in id order (db/lock-order.ts) by the statement that reads
 * them: one round trip where locking then reading took two. The ids travel as one array, not one
 * parameter each.
 */
export const findFilesForUpdate = (db: Executor, ids: readonly number[]): Promise<FileRow[]> =>
  inChunks(
    [...ids].sort((a, b) => a - b),
    (part) =>
      db
        .selectFrom('files')
        .selectAll()
        .where(sql<SqlBool>`id = any(${part}::int[])`)
        .orderBy('id')
        .forUpdate()
        .execute(),
  );

/** Inserts a file row; its name_sort comes from the name (db/named-rows.ts). */
export const insertFile = (db: Executor, file: Omit<Insertable<FilesTable>, 'name_sort'>) =>
  insertNamed(db, 'files', file);

export const updateFileRow = (
  db: Executor,
  id: number,
  patch: { name?: string; status?: FileStatus; updated_at: number },
) => updateNamed(db, 'files', id, patch);

/** Deletes the row (its tag links cascade; download rows keep their name with file_id null). */
export const deleteFileRow = (db: Executor, id: number): Promise<FileRow | undefined> =>
  db.deleteFrom('files').where('id', '=', id).returningAll().executeTakeFirst();

/** PostgreSQL: locks the file's row for this transaction (see db/lock-order.ts). */
export const lockFileRow = (db: Executor, id: number) => lockRows(db, 'files', [id]);

/**
 * PostgreSQL: locks rows of `table` by id in id order (the lock order, db/lock-order.ts), before
 * statements and triggers lock them in their plans' order; in slices under the parameter limits.
 */
export async function lockRowsInOrder(
  db: Executor,
  table: 'files' | 'tags' | 'trashed_files',
  ids: readonly number[],
): Promise<void> {
  for (const part of chunks([...ids].sort((a, b) => a - b))) await lockRows(db, table, part);
}

/** PostgreSQL: locks tag rows in id order, before triggers lock them in any order. */
export const lockTagRows = (db: Executor, tagIds: readonly number[]): Promise<void> =>
  lockRowsInOrder(db, 'tags', tagIds);

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
 * `items` in slices small enough for one statement: SQLite takes at most 32,766 parameters a
 * statement and PostgreSQL 65,535; `perItem` is how many each item binds.
 */
export function chunks<T>(items: readonly T[], perItem = 1): T[][] {
  const size = Math.max(1, Math.floor(30_000 / perItem));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `statement` on each of the `chunks` of `items` in turn; the rows of all of them. */
export async function inChunks<T, R>(
  items: readonly T[],
  statement: (part: T[]) => Promise<R[]>,
  perItem = 1,
): Promise<R[]> {
  const out: R[] = [];
  for (const part of chunks(items, perItem)) out.push(...(await statement(part)));
  return out;
}

/** The tag ids of every file of `fileIds` (files without tags map to an empty list). */
export async function tagIdsOfFiles(
  db: Executor,
  fileIds: readonly number[],
): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>(fileIds.map((id) => [id, []]));
  const rows = await inChunks(fileIds, (part) =>
    db.selectFrom('file_tags').select(['file_id', 'tag_id']).where('file_id', 'in', part).execute(),
  );
  for (const r of rows) out.get(r.file_id)!.push(r.tag_id);
  return out;
}

/** Sets the same columns on many files in one statement a slice; the changed rows (any order). */
export const updateFileRows = (
  db: Executor,
  ids: readonly number[],
  patch: { status?: FileStatus; updated_at: number },
): Promise<FileRow[]> =>
  inChunks(ids, (part) =>
    db.updateTable('files').set(patch).where('id', 'in', part).returningAll().execute(),
  );

/** Adds tag links (none of them may exist yet). */
export async function insertFileTags(
  db: Executor,
  links: readonly { file_id: number; tag_id: number }[],
): Promise<void> {
  for (const part of chunks(links, 2)) await db.insertInto('file_tags').values(part).execute();
}

/** Removes the links of `fileIds` to any of `tagIds`. */
export async function deleteFileTags(
  db: Executor,
  fileIds: readonly number[],
  tagIds: readonly number[],
): Promise<void> {
  if (!tagIds.length) return;
  for (const part of chunks(fileIds, 1)) {
    await db
      .deleteFrom('file_tags')
      .where('file_id', 'in', part)
      .where('tag_id', 'in', tagIds)
      .execute();
  }
}

/**
 * The condition that `id` names a row of `files`. A download keeps its file's id while the file
 * is in the trash (until the purge), so a reader of downloads that must take a trashed file for
 * deleted (the statistics' file lists, a filter by file) asks this of the id; one primary-key
 * probe.
 */
export const isInFiles = (id: Expression<number | null>): RawBuilder<SqlBool> =>
  sql<SqlBool>`exists (select 1 from files where files.id = ${id})`;

/** The ids of `ids` that name a row of `files` (isInFiles, for a list already in hand). */
export async function idsInFiles(db: Executor, ids: readonly number[]): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const rows = await db.selectFrom('files').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => Number(r.id)));
}
