import { sql } from 'kysely';
import type { Dialect } from '../../db/connection.js';
import type { Executor, FileRow, FilesTable, TrashedFileRow } from '../../db/database.js';
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

/** Ids of files trashed at or before `deletedBy`, oldest first: the purge's next batch. */
export async function expiredTrashedFiles(
  db: Executor,
  deletedBy: number,
  limit: number,
): Promise<{ id: number; sha256: string }[]> {
  return db
    .selectFrom('trashed_files')
    .select(['id', 'sha256'])
    .where('deleted_at', '<=', deletedBy)
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

/** Every column of `files`; `trashed_files` repeats them (the compiler checks the list is whole). */
const FILE_COLUMNS = [
  'id',
  'name',
  'name_sort',
  'original_name',
  'size',
  'mime_type',
  'sha256',
  'status',
  'uploaded_by',
  'created_at',
  'updated_at',
  'download_count',
  'last_downloaded_at',
] as const satisfies readonly (keyof FilesTable)[];
type Unlisted = Exclude<keyof FilesTable, (typeof FILE_COLUMNS)[number]>;
const everyColumnListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyColumnListed;

/**
 * Moves the rows of `ids` from `files` into `trashed_files`, stamped with when and by whom, with
 * the tags each carried (`tagIds`, read before their links went). The rows are copied inside the
 * database, never sent to the server and back: at 1,000 files the values insert spent more time
 * binding its ~16,000 parameters than PostgreSQL spent storing them.
 *
 * PostgreSQL deletes and inserts in one statement (a data-modifying WITH), so the triggers of
 * both run after the links' as before, in the lock order (db/lock-order.ts); the tags travel as
 * two array parameters. SQLite (one writer, no lock order) copies the rows, then deletes them.
 */
export async function moveFileRowsToTrash(
  db: Executor,
  dialect: Dialect,
  ids: readonly number[],
  stamp: { at: number; by: number | null },
  tagIds: ReadonlyMap<number, readonly number[]>,
): Promise<void> {
  const columns = sql.join(FILE_COLUMNS.map((c) => sql.ref(c)));
  const into = sql`trashed_files (${columns}, deleted_at, deleted_by, tag_ids)`;
  if (dialect === 'postgres') {
    for (const part of chunks(ids)) {
      const tags = part.map((id) => JSON.stringify(tagIds.get(id) ?? []));
      await sql`
        with gone as (delete from files where id = any(${part}::int[]) returning *)
        insert into ${into}
        select ${sql.join(FILE_COLUMNS.map((c) => sql.ref(`gone.${c}`)))}, ${stamp.at}::bigint,
          ${stamp.by}::int, t.tags
        from gone join unnest(${part}::int[], ${tags}::text[]) as t(id, tags) on t.id = gone.id`.execute(
        db,
      );
    }
    return;
  }
  for (const part of chunks(ids)) {
    const tags = JSON.stringify(Object.fromEntries(part.map((id) => [id, tagIds.get(id) ?? []])));
    await sql`
      insert into ${into}
      select ${columns}, ${stamp.at}, ${stamp.by}, json_extract(${tags}, '$."' || id || '"')
      from files where id in (${sql.join(part)})`.execute(db);
    await db.deleteFrom('files').where('id', 'in', part).execute();
  }
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
