import type { FileUpload } from 'graphql-upload-minimal';
import type { Readable } from 'node:stream';
import type { Db, Executor, FileRow, FileStatus } from '../../db/database.js';
import type { Dialect } from '../../db/connection.js';
import {
  AppError,
  BadUserInputError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
} from '../../errors.js';
import { requestLog } from '../../request-log.js';
import type { ByteRange, StorageDriver, TempObject } from '../../storage/storage.js';
import type { Viewer } from '../auth/viewer.js';
import { canSeeStatus, isAdmin, mayChangeFile, seesHiddenFiles } from '../auth/visibility.js';
import { ensureTags } from '../tags/tags.repository.js';
import { retryOnDeadlock } from '../../db/lock-order.js';
import { createBlobLock } from '../blobs/blob-lock.js';
import { addBlobRef, blobIsReferenced, releaseBlobRef } from '../blobs/blobs.repository.js';
import {
  deleteFileRow,
  findFileById,
  findFilesByIds,
  insertFile,
  lockFileRow,
  lockTagRows,
  replaceFileTags,
  tagIdsOfFile,
  updateFileRow,
} from './files.repository.js';
import {
  cleanOriginalName,
  decodeFormFileName,
  parseFileName,
  parseTagNames,
  sniffContentType,
  typeTagFor,
  type TagName,
} from './files.rules.js';
import { createSearchService } from '../search/search.service.js';
import { createQuota } from './quota.js';
import { createBulkFiles } from './files.bulk.js';
import { moveToTrash, purgeTrashed, recordFileDelete, type PurgeDeps } from './trash.js';
import { audit, SYSTEM_ACTOR, type Actor } from '../audit/audit.service.js';
import {
  deleteTrashedFile,
  existingTagIds,
  expiredTrashedFiles,
  findTrashedFile,
  lockTrashedFiles,
  forgetDownloads,
  reinsertFile,
  trashListing,
  type TrashScope,
} from './trash.repository.js';

/** A file part that can also tell when its whole request arrived (http/multipart.ts). */
export interface StreamedUpload extends FileUpload {
  requestComplete(): Promise<void>;
}

export interface UploadInput {
  file: Promise<FileUpload>;
  name?: string | null;
  tags?: readonly string[] | null;
  status?: FileStatus | null;
}

export interface FileUpdateInput {
  name?: string | null;
  tags?: readonly string[] | null;
  status?: FileStatus | null;
}

export const canSee = (viewer: Viewer | null, file: FileRow) => canSeeStatus(viewer, file.status);

export function createFilesService(deps: {
  db: Db;
  /** Where searches run: worker threads on SQLite (db/read-pool.ts), else `db`. */
  reads?: Db;
  dialect: Dialect;
  storage: StorageDriver;
  maxUploadBytes: number;
  /** Days a deleted file stays in the trash; 0 deletes for good at once. */
  trashDays: number;
  /** DEFAULT_QUOTA_BYTES: the quota of users without their own; null for none. */
  defaultQuotaBytes?: number | null;
}) {
  const reads = deps.reads ?? deps.db;
  const { db, storage } = deps;
  const withBlobLock = createBlobLock(db, deps.dialect);
  const pg = deps.dialect === 'postgres';
  const purgeDeps: PurgeDeps = { dialect: deps.dialect, withBlobLock, removeBlob };
  const search = createSearchService({ reads, db, dialect: deps.dialect });
  const quota = createQuota(deps.defaultQuotaBytes ?? null);
  // One rule for when a trashed file goes: what the trash shows (purgeAt) and what the job takes.
  const retentionMs = deps.trashDays * DAY_MS;
  const purgeAt = (deletedAt: number): number => deletedAt + retentionMs;

  async function visibleFile(viewer: Viewer, id: number): Promise<FileRow> {
    const file = await findFileById(db, id);
    if (!file || !canSee(viewer, file)) throw new NotFoundError('No such file.');
    return file;
  }

  function assertMayEdit(
    viewer: Viewer,
    file: Pick<FileRow, 'uploaded_by'>,
    status: FileStatus | null | undefined,
  ) {
    if (status != null && !isAdmin(viewer)) {
      throw new ForbiddenError('Only an admin may change the status of a file.');
    }
    if (!mayChangeFile(viewer, file)) {
      throw new ForbiddenError('Only the uploader or an admin may change this file.');
    }
  }

  /**
   * Streams the upload into a temp object, stopped at MAX_UPLOAD_BYTES or at the uploader's room
   * left (`room`, null for no quota), whichever is smaller; every failure leaves no temp object
   * behind.
   */
  async function receive(
    upload: FileUpload,
    uploaderId: number,
    room: number | null,
  ): Promise<TempObject> {
    const stream = upload.createReadStream() as Readable & { truncated?: boolean };
    const byQuota = room !== null && room < deps.maxUploadBytes;
    const limit = byQuota ? room : deps.maxUploadBytes;
    const tooLarge = async () =>
      (byQuota && (await quota.refusal(db, uploaderId, limit + 1))) ||
      new PayloadTooLargeError(deps.maxUploadBytes);
    let temp: TempObject;
    try {
      temp = await storage.putTemp(stream, { maxBytes: limit });
    } catch (err) {
      const mapped = uploadError(err, deps.maxUploadBytes);
      throw mapped instanceof PayloadTooLargeError ? await tooLarge() : mapped;
    }
    // busboy ends a file it truncated at a limit normally; never store a truncated file.
    if (stream.truncated) {
      await storage.discardTemp(temp.tempKey);
      throw await tooLarge();
    }
    return temp;
  }

  /**
   * Makes the temp object a visible file: the blob is committed and the rows written under the
   * blob's lock, so a concurrent deletion of the same bytes cannot remove them in between. If the
   * rows fail, the blob is removed again unless another file uses it; the temp object goes either
   * way. The blob lock's intent row (blobs/blob-lock.ts) covers a crash between the storage commit and
   * the transaction: the object is then deleted by a later sweep unless a blobs row uses it.
   */
  async function commitUpload(
    temp: TempObject,
    row: Omit<FileRow, 'id' | 'sha256' | 'size' | 'name_sort'>,
    tags: TagName[],
  ): Promise<FileRow> {
    try {
      return await withBlobLock(temp.sha256, async (conn) => {
        try {
          await storage.commit(temp.tempKey, temp.sha256);
          return await retryOnDeadlock(deps.dialect, () =>
            conn.transaction().execute(async (trx) => {
              // The blob row first (files reference it; the blob lock already keeps other writers
              // of this blob out), then in lock order (db/lock-order.ts): tags, file_totals, users.
              await addBlobRef(trx, { sha256: temp.sha256, size: temp.size, now: row.created_at });
              const tagRows = await ensureTags(trx, tags, row.created_at);
              const tagIds = tagRows.map((t) => t.id);
              if (pg) await lockTagRows(trx, tagIds);
              const file = await insertFile(trx, { ...row, sha256: temp.sha256, size: temp.size });
              // After the row counted in used_bytes (whose trigger holds the user's row on
              // PostgreSQL): concurrent uploads are checked one after the other.
              if (row.uploaded_by !== null) {
                await quota.assertWithin(trx, row.uploaded_by, temp.size);
              }
              await replaceFileTags(trx, file.id, tagIds);
              return file;
            }),
          );
        } catch (err) {
          if (!(await blobIsReferenced(conn, temp.sha256))) await storage.delete(temp.sha256);
          throw err;
        }
      });
    } catch (err) {
      await storage.discardTemp(temp.tempKey).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Makes bytes already received into a temp object a visible file, by the rules every upload
   * follows: the type sniffed from the head (never the client's word), the given tags or else the
   * type's tag, the uploader's counters. The caller has checked the viewer's right to upload and
   * to set `status`, and parsed name and tags (so a request fails before its bytes are read).
   * The temp object is gone afterwards, committed or discarded. `upload` and resumable uploads
   * (modules/uploads) both finish here.
   */
  async function commitReceived(
    viewer: Viewer,
    temp: TempObject,
    meta: { filename: string; name: string; tags: TagName[] | null; status: FileStatus | null },
  ): Promise<FileRow> {
    let mimeType: string;
    try {
      mimeType = await sniffContentType(temp.head, [meta.filename, meta.name]);
    } catch (err) {
      await storage.discardTemp(temp.tempKey);
      throw err;
    }
    const now = Date.now();
    return commitUpload(
      temp,
      {
        name: meta.name,
        original_name: cleanOriginalName(meta.filename, meta.name),
        mime_type: mimeType,
        status: meta.status ?? 'ACTIVE',
        uploaded_by: viewer.user.id,
        created_at: now,
        updated_at: now,
        download_count: 0,
        last_downloaded_at: null,
      },
      meta.tags ?? [typeTagFor(mimeType)],
    );
  }

  return {
    /** Bulk actions over many files, each all or nothing (files.bulk.ts). */
    bulk: createBulkFiles({
      db,
      dialect: deps.dialect,
      purge: (files, actor) => purgeTrashed(purgeDeps, files, actor),
      purgeAtOnce: deps.trashDays === 0,
    }),

    /** The file if the viewer may see it, else null. */
    async get(viewer: Viewer, id: number): Promise<FileRow | null> {
      const file = await findFileById(db, id);
      return file && canSee(viewer, file) ? file : null;
    },

    /** The bytes of a file `get` returned, or of one range of them (the download route). */
    read: (file: FileRow, range?: ByteRange): Promise<Readable> => storage.read(file.sha256, range),

    /** Whether a file's bytes are in storage now (a ZIP checks all before it counts any). */
    stored: (file: FileRow): Promise<boolean> => storage.exists(file.sha256),

    /** Files by id for a dataloader: the ones the viewer may not see are left out. */
    visibleByIds: (viewer: Viewer | null, ids: readonly number[]) =>
      viewer ? findFilesByIds(db, ids, !seesHiddenFiles(viewer)) : Promise.resolve([]),

    /** The listing and search of one `files` request (search/search.service.ts). */
    search: search.open,
    /** Search's start-up work (search/search.service.ts, `warmUp`). */
    warmUpSearch: search.warmUp,
    nameIndexReady: search.nameIndexReady,

    /**
     * Stores an upload: checks what can be checked before reading a byte (permissions, name and
     * tags as given), streams the bytes through a hash into a temp object, sniffs the type from
     * the first bytes, then commits blob and rows in one step.
     */
    async upload(viewer: Viewer, input: UploadInput): Promise<FileRow> {
      if (input.status != null && !isAdmin(viewer)) {
        throw new ForbiddenError('Only an admin may set the status of a file.');
      }
      const givenName = input.name != null ? parseFileName(input.name) : null;
      const givenTags = input.tags != null ? parseTagNames(input.tags) : null;
      // Asked before the file part is awaited: once it is there, its stream is read at once, with
      // no query in between (the commit checks the quota again in its transaction).
      const room = await quota.room(db, viewer.user.id);
      const upload = await input.file.catch((err: unknown) => {
        throw uploadError(err, deps.maxUploadBytes);
      });
      const filename = decodeFormFileName(upload.filename);
      const name = givenName ?? parseFileName(filename, 'name');
      const temp = await receive(upload, viewer.user.id, room);
      // The file's part may end before its request does; a request cut off after it keeps nothing.
      const requestComplete = (upload as Partial<StreamedUpload>).requestComplete?.();
      if (requestComplete) {
        await requestComplete.catch(async (err: unknown) => {
          await storage.discardTemp(temp.tempKey);
          throw uploadError(err, deps.maxUploadBytes);
        });
      }
      return commitReceived(viewer, temp, {
        filename,
        name,
        tags: givenTags,
        status: input.status ?? null,
      });
    },

    commitReceived,

    /**
     * QUOTA_EXCEEDED when `bytes` more, beyond `pending` bytes promised to unfinished uploads,
     * would take the viewer past their quota, else null. `conn`: inside a caller's transaction.
     */
    quotaRefusal: (viewer: Viewer, bytes: number, pending = 0, conn: Executor = db) =>
      quota.refusal(conn, viewer.user.id, bytes, pending),

    /**
     * When a file trashed at `deletedAt` is due for purging: TRASH_DAYS later (the retention job,
     * every PURGE_EVERY_MS, takes it at its first run from then on).
     */
    purgeAt,

    async update(
      viewer: Viewer,
      id: number,
      input: FileUpdateInput,
      actor: Actor,
    ): Promise<FileRow> {
      const file = await visibleFile(viewer, id);
      assertMayEdit(viewer, file, input.status);
      const name = input.name != null ? parseFileName(input.name) : undefined;
      const tags = input.tags != null ? parseTagNames(input.tags) : undefined;
      const now = Date.now();
      const updated = await retryOnDeadlock(deps.dialect, () =>
        db.transaction().execute(async (trx) => {
          // In lock order (db/lock-order.ts): the file, its old and new tags, then the rest.
          if (pg) await lockFileRow(trx, id);
          const before = input.status != null ? await findFileById(trx, id) : undefined;
          const tagRows = tags ? await ensureTags(trx, tags, now) : [];
          if (pg) {
            const old = await tagIdsOfFile(trx, id);
            await lockTagRows(trx, [...new Set([...old, ...tagRows.map((t) => t.id)])]);
          }
          const row = await updateFileRow(trx, id, {
            ...(name !== undefined ? { name } : {}),
            ...(input.status != null ? { status: input.status } : {}),
            updated_at: now,
          });
          if (row && tags) {
            await replaceFileTags(
              trx,
              id,
              tagRows.map((t) => t.id),
            );
          }
          if (row && input.status != null && before && before.status !== row.status) {
            const target = { type: 'file', id, label: before.name };
            const change = { key: 'status', before: before.status, after: row.status };
            await audit.recordChange(trx, { actor, action: 'file.status', target }, change);
          }
          return row;
        }),
      );
      if (!updated) throw new NotFoundError('No such file.');
      return updated;
    },

    /**
     * Moves the file to the trash (with TRASH_DAYS 0: deletes it for good, as `purge` does). From
     * then on it is deleted for every query and counter: its `files` row goes (the triggers of a
     * deletion run), its downloads keep their name with file null. The uploader's usedBytes still
     * counts it, and its blob stays, until it is purged.
     */
    async delete(viewer: Viewer, id: number, actor: Actor): Promise<true> {
      const file = await visibleFile(viewer, id);
      assertMayEdit(viewer, file, null);
      if (deps.trashDays === 0) return deleteForGood(file, actor);
      await retryOnDeadlock(deps.dialect, () =>
        db.transaction().execute(async (trx) => {
          // In lock order (db/lock-order.ts): the file, then what its deletion's triggers lock.
          if (pg) await lockFileRow(trx, id);
          const row = await findFileById(trx, id);
          if (!row) throw new NotFoundError('No such file.');
          await moveToTrash(trx, deps.dialect, [row], actor, Date.now());
        }),
      );
      return true;
    },

    /** The trash the viewer may see: their own files (ACTIVE ones), or everyone's for admins. */
    trash(viewer: Viewer) {
      const scope: TrashScope = isAdmin(viewer)
        ? { owner: null, activeOnly: false }
        : { owner: viewer.user.id, activeOnly: true };
      return {
        page: (limit: number, offset: number) => trashListing.list(db, scope, limit, offset),
        count: () => trashListing.count(db, scope),
      };
    },

    /**
     * Brings a file back from the trash with its id, name, status, counters, the tags that still
     * exist and its download history. The uploader or an admin.
     */
    async restore(viewer: Viewer, id: number, actor: Actor): Promise<FileRow> {
      return retryOnDeadlock(deps.dialect, () =>
        db.transaction().execute(async (trx) => {
          // In lock order: the trashed row (restore and purge race for it), tags, then the
          // file's insertion (file_totals, users); the trashed row's deletion last (users again).
          if (pg) await lockTrashedFiles(trx, [id]);
          const row = await trashedFileFor(viewer, trx, id);
          const tagIds = await existingTagIds(trx, JSON.parse(row.tag_ids) as number[]);
          if (pg) await lockTagRows(trx, tagIds);
          const file = await reinsertFile(trx, row);
          await replaceFileTags(trx, id, tagIds);
          await deleteTrashedFile(trx, id);
          await audit.record(trx, {
            actor,
            action: 'file.restore',
            target: { type: 'file', id, label: row.name },
            details: { deletedAt: row.deleted_at },
          });
          return file;
        }),
      );
    },

    /** Deletes a trashed file for good; its blob goes with the last file using it. */
    async purge(viewer: Viewer, id: number, actor: Actor): Promise<true> {
      const row = await trashedFileFor(viewer, db, id);
      if (!(await purgeTrashed(purgeDeps, [row], actor)))
        throw new NotFoundError('No such file in the trash.');
      return true;
    },

    /**
     * Purges the files trashed more than TRASH_DAYS before `now`, in batches, oldest first. Safe
     * with several instances at once: each file's row is deleted by exactly one of them, and its
     * blob handled under the blob's lock. Resolves to how many this call purged.
     */
    async purgeExpired(now = Date.now()): Promise<number> {
      // The files whose purgeAt has come: deleted at or before this instant.
      const deletedBy = now - retentionMs;
      let purged = 0;
      for (;;) {
        const batch = await expiredTrashedFiles(db, deletedBy, PURGE_BATCH);
        purged += await purgeTrashed(purgeDeps, batch, SYSTEM_ACTOR);
        if (batch.length < PURGE_BATCH) return purged;
      }
    },
  };

  /** The trashed file if the viewer may restore or purge it, else NOT_FOUND or FORBIDDEN. */
  async function trashedFileFor(viewer: Viewer, conn: Executor, id: number) {
    const row = await findTrashedFile(conn, id);
    if (!row || !canSeeStatus(viewer, row.status)) {
      throw new NotFoundError('No such file in the trash.');
    }
    assertMayEdit(viewer, row, null);
    return row;
  }

  /** The rows are gone for good; a failure here leaves only an unreferenced object. */
  async function removeBlob(sha256: string) {
    await storage.delete(sha256).catch((err: unknown) => {
      requestLog()?.warn({ err, sha256 }, 'could not delete a blob');
    });
    // Its thumbnails too (modules/previews); rows left behind are made good on next use.
    await storage.deleteDerived(sha256).catch((err: unknown) => {
      requestLog()?.warn({ err, sha256 }, 'could not delete derived objects');
    });
  }

  /**
   * Deletes the file for good at once (TRASH_DAYS 0); its download history stays (file null,
   * name kept). The blob goes with its last file.
   */
  async function deleteForGood(file: FileRow, actor: Actor): Promise<true> {
    const id = file.id;
    await withBlobLock(file.sha256, async (conn) => {
      // In lock order (db/lock-order.ts): the file (its tags, file_totals and uploader by
      // trigger), blobs.
      const result = await retryOnDeadlock(deps.dialect, () =>
        conn.transaction().execute(async (trx) => {
          const row = await deleteFileRow(trx, id);
          if (!row) return null;
          await forgetDownloads(trx, [id]);
          await recordFileDelete(trx, actor, row, { trash: false });
          return { last: await releaseBlobRef(trx, row.sha256) };
        }),
      );
      if (!result) throw new NotFoundError('No such file.');
      if (result.last) await removeBlob(file.sha256);
    });
    return true;
  }
}

const DAY_MS = 86_400_000;
/** How often each instance runs the retention job (trash purge, audit retention). */
export const PURGE_EVERY_MS = 10 * 60 * 1000;
const PURGE_BATCH = 100;

export type FilesService = ReturnType<typeof createFilesService>;

/**
 * graphql-upload-minimal rejects with HTTP-ish errors (status 400 for a malformed request, 413
 * for its limits, 499 when the client went away); turn them into the API's codes.
 */
function uploadError(err: unknown, limit: number): unknown {
  if (err instanceof AppError) return err;
  const status = (err as { status?: unknown } | null)?.status;
  if (status === 413) return new PayloadTooLargeError(limit);
  if (status === 400 && err instanceof Error) return BadUserInputError.field('file', err.message);
  return err;
}
