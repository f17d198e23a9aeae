import type { Executor, FileRow, TrashedFileRow } from '../../db/database.js';
import { listing } from '../../db/listing.js';
import { rowsByIds } from '../../db/rows.js';
import { sortKey } from '../../db/sort-key.js';
import { chunks, inChunks, lockRowsInOrder } from './files.repository.js';

// All SQL of the trash (migration 2026-12-04T0300b_trash_quotas): moving a file row into
// `trashed_files` and back, and the download rows that follow it.

export const findTrashedFile = (db: Executor, id: number): Promise<TrashedFileRow | undefined> =>
  db.selectFrom('trashed_files').selectAll().where('id', '=', id).executeTakeFirst();

/** The trashed files of `ids` that are in the trash (any order). */
export const findTrashedFiles = (db: Executor, ids: readonly number[]): Promise<TrashedFileRow[]> =>
  rowsByIds(db, 'trashed_files', ids);

/** PostgreSQL: locks the trashed rows in id order (the lock order, db/lock-order.ts). */
export const lockTrashedFiles = (db: Executor, ids: readonly number[]): Promise<void> =>
  lockRowsInOrder(db, 'trashed_files', ids);

/** Deletes the trashed row and returns it; undefined when another purge or restore took it. */
export const deleteTrashedFile = (db: Executor, id: number): Promise<TrashedFileRow | undefined> =>
  db.deleteFrom('trashed_files').where('id', '=', id).returningAll().executeTakeFirst();

/** Puts a trashed file back into `files` with its id and every column as it was. */
export async function reinsertFile(db: Executor, row: TrashedFileRow): Promise<FileRow> {
  const { deleted_at: _at, deleted_by: _by, tag_ids: _tags, ...file } = row;
  return db
    .insertInto('files')
    .values({ ...file, name_sort: sortKey(file.name) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Which of `tagIds` still exist (a tag deleted while its file was in the trash stays gone). */
export async function existingTagIds(db: Executor, tagIds: readonly number[]): Promise<number[]> {
  if (!tagIds.length) return [];
  const rows = await db
    .selectFrom('tags')
    .select('id')
    .where('id', 'in', tagIds)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** Whose trash: everyone's, or one uploader's files (ACTIVE ones only when `activeOnly`). */
export interface TrashScope {
  owner: number | null;
  activeOnly: boolean;
}

function trashIn(db: Executor, scope: TrashScope) {
  let q = db.selectFrom('trashed_files');
  if (scope.owner !== null) q = q.where('uploaded_by', '=', scope.owner);
  if (scope.activeOnly) q = q.where('status', '=', 'ACTIVE');
  return q;
}

/** The trash a page at a time, newest deletion first. */
export const trashListing = listing(trashIn, (q) =>
  q.selectAll().orderBy('deleted_at', 'desc').orderBy('id', 'desc'),
);

/** Ids of files trashed before `before`, oldest first: the purge's next batch. */
export async function expiredTrashedFiles(
  db: Executor,
  before: number,
  limit: number,
): Promise<{ id: number; sha256: string }[]> {
  return db
    .selectFrom('trashed_files')
    .select(['id', 'sha256'])
    .where('deleted_at', '<', before)
    .orderBy('deleted_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Downloads keep their file's id while it is in the trash (so a restore has nothing to relink);
 * a file deleted for good leaves them only their name.
 */
export async function forgetDownloads(db: Executor, fileIds: readonly number[]): Promise<void> {
  for (const part of chunks(fileIds))
    await db.updateTable('downloads').set({ file_id: null }).where('file_id', 'in', part).execute();
}

/** Inserts the trashed rows of files leaving `files`, with the tags each carried. */
export async function insertTrashedFiles(
  db: Executor,
  rows: readonly {
    file: FileRow;
    deletedAt: number;
    deletedBy: number | null;
    tagIds: readonly number[];
  }[],
): Promise<void> {
  const values = rows.map(({ file, deletedAt, deletedBy, tagIds }) => ({
    ...file,
    deleted_at: deletedAt,
    deleted_by: deletedBy,
    tag_ids: JSON.stringify(tagIds),
  }));
  const perRow = values.length ? Object.keys(values[0]!).length : 1;
  for (const part of chunks(values, perRow))
    await db.insertInto('trashed_files').values(part).execute();
}

/**
 * Deletes the trashed rows of `ids` that still use the blob `sha256` and are still there (a
 * restore or another purge may have taken some); the deleted rows.
 */
export const deleteTrashedRowsOfBlob = (
  db: Executor,
  ids: readonly number[],
  sha256: string,
): Promise<TrashedFileRow[]> =>
  inChunks(ids, (part) =>
    db
      .deleteFrom('trashed_files')
      .where('id', 'in', part)
      .where('sha256', '=', sha256)
      .returningAll()
      .execute(),
  );

/** Deletes many trashed rows (the caller holds their locks, so all are there). */
export async function deleteTrashedFiles(db: Executor, ids: readonly number[]): Promise<void> {
  for (const part of chunks(ids))
    await db.deleteFrom('trashed_files').where('id', 'in', part).execute();
}

/** Puts many trashed files back, as `reinsertFile` does for one; the rows in id order. */
export async function reinsertFiles(
  db: Executor,
  rows: readonly TrashedFileRow[],
): Promise<FileRow[]> {
  const values = rows.map((row) => {
    const { deleted_at: _at, deleted_by: _by, tag_ids: _tags, ...file } = row;
    return { ...file, name_sort: sortKey(file.name) };
  });
  const perRow = values.length ? Object.keys(values[0]!).length : 1;
  const out = await inChunks(
    values,
    (part) => db.insertInto('files').values(part).returningAll().execute(),
    perRow,
  );
  return out.sort((a, b) => a.id - b.id);
}
