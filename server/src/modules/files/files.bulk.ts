import { z } from 'zod';
import type { Db, Executor, FileRow, FileStatus } from '../../db/database.js';
import type { Dialect } from '../../db/connection.js';
import { retryOnDeadlock } from '../../db/lock-order.js';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../errors.js';
import { parseField } from '../../validation.js';
import type { Viewer } from '../auth/viewer.js';
import { canSeeStatus, isAdmin, mayChangeFile } from '../auth/visibility.js';
import { audit, type Actor, type AuditEventInput } from '../audit/audit.service.js';
import { ensureTags, findTagsByKeys } from '../tags/tags.repository.js';
import {
  deleteFileTags,
  findFilesByIds,
  findFilesForUpdate,
  insertFileTags,
  lockTagRows,
  tagIdsOfFiles,
  updateFileRows,
} from './files.repository.js';
import { MAX_TAGS_PER_FILE, parseTagNames } from './files.rules.js';
import { fileEvent, moveToTrash } from './trash.js';
import {
  deleteTrashedFiles,
  existingTagIds,
  findTrashedFiles,
  lockTrashedFiles,
  reinsertFiles,
} from './trash.repository.js';

/** Most files one bulk mutation may name: large enough for a page of "all matching", bounded. */
export const MAX_BULK_IDS = 1000;

const bulkIds = z
  .array(z.number().int().positive())
  .min(1, 'must name at least one file')
  .max(MAX_BULK_IDS, `at most ${MAX_BULK_IDS} files per request`)
  // Duplicates collapse; id order is the lock order (db/lock-order.ts).
  .transform((ids) => [...new Set(ids)].sort((a, b) => a - b));

export const parseBulkIds = (ids: readonly number[]): number[] => parseField('ids', bulkIds, ids);

/**
 * `rows` (the files or trashed files found for `ids`) in id order once the viewer may change
 * every one. Else NOT_FOUND listing the ids that do not exist or that the viewer may not see
 * (alike: the caller named them, and learns nothing it could not tell apart), or FORBIDDEN
 * listing the ones they see but may not change; both in `extensions.ids`.
 */
function checked<T extends Pick<FileRow, 'id' | 'status' | 'uploaded_by'>>(
  viewer: Viewer,
  ids: readonly number[],
  rows: readonly T[],
  notFound: string,
): T[] {
  const visible = new Map(rows.filter((f) => canSeeStatus(viewer, f.status)).map((f) => [f.id, f]));
  const missing = ids.filter((id) => !visible.has(id));
  if (missing.length) throw new NotFoundError(notFound, missing);
  const others = ids.filter((id) => !mayChangeFile(viewer, visible.get(id)!));
  if (others.length) {
    throw new ForbiddenError('Only the uploader or an admin may change these files.', others);
  }
  return ids.map((id) => visible.get(id)!);
}

/**
 * Bulk actions over many files: each runs in one transaction, all or nothing. Every file is
 * checked first, under its row lock: one the viewer cannot see makes the whole request NOT_FOUND
 * (naming no file), one they can see but not change FORBIDDEN; then each file is changed and
 * audited as its single mutation would be, one event per file in the same transaction.
 */
export function createBulkFiles(deps: {
  db: Db;
  dialect: Dialect;
  /**
   * Purges trashed files, one transaction per blob under its lock, as `purgeFile` does for one
   * (trash.ts, `purgeTrashed`); resolves to how many, skipping those a restore or another purge
   * took first.
   */
  purge: (files: readonly { id: number; sha256: string }[], actor: Actor) => Promise<number>;
  /** TRASH_DAYS 0: a file moved to the trash is purged at once. */
  purgeAtOnce: boolean;
}) {
  const { db } = deps;
  const pg = deps.dialect === 'postgres';

  /** The files, locked in id order, once the viewer may change every one of them. */
  async function editableFiles(
    trx: Executor,
    viewer: Viewer,
    ids: readonly number[],
  ): Promise<FileRow[]> {
    const rows = pg ? await findFilesForUpdate(trx, ids) : await findFilesByIds(trx, ids, false);
    return checked(viewer, ids, rows, 'No such file.');
  }

  const run = <T>(work: (trx: Executor) => Promise<T>) =>
    retryOnDeadlock(deps.dialect, () => db.transaction().execute(work));

  return {
    /** Admins: sets the status of every file; unchanged ones get no event. */
    async setStatus(
      viewer: Viewer,
      rawIds: readonly number[],
      status: FileStatus,
      actor: Actor,
    ): Promise<FileRow[]> {
      if (!isAdmin(viewer))
        throw new ForbiddenError('Only an admin may change the status of a file.');
      const ids = parseBulkIds(rawIds);
      const now = Date.now();
      return run(async (trx) => {
        const files = await editableFiles(trx, viewer, ids);
        const changing = files.filter((f) => f.status !== status);
        // One statement for all of them: the status triggers run once per row, as before.
        const changed = new Map(
          (
            await updateFileRows(
              trx,
              changing.map((f) => f.id),
              { status, updated_at: now },
            )
          ).map((r) => [r.id, r]),
        );
        if (changed.size !== changing.length) throw new NotFoundError('No such file.');
        await audit.recordMany(
          trx,
          deps.dialect,
          changing.map((file) =>
            fileEvent(
              actor,
              file,
              'file.status',
              { before: { status: file.status }, after: { status }, bulk: true },
              now,
            ),
          ),
        );
        return files.map((f) => changed.get(f.id) ?? f);
      });
    },

    /**
     * Adds and removes tags on every file (tags to add are created when missing; a tag in both
     * lists is removed). A file left with more than 50 tags refuses the whole request.
     */
    async tag(
      viewer: Viewer,
      rawIds: readonly number[],
      add: readonly string[],
      remove: readonly string[],
      actor: Actor,
    ): Promise<FileRow[]> {
      const ids = parseBulkIds(rawIds);
      const adding = parseField('add', z.array(z.string()).max(MAX_TAGS_PER_FILE), add);
      const removing = parseField('remove', z.array(z.string()).max(MAX_TAGS_PER_FILE), remove);
      const addNames = adding.length ? parseTagNames(adding) : [];
      const removeKeys = new Set(removing.length ? parseTagNames(removing).map((t) => t.key) : []);
      const now = Date.now();
      return run(async (trx) => {
        const files = await editableFiles(trx, viewer, ids);
        const toAdd = await ensureTags(
          trx,
          addNames.filter((t) => !removeKeys.has(t.key)),
          now,
        );
        const toRemove = await findTagsByKeys(trx, [...removeKeys]);
        const removeIds = new Set(toRemove.map((t) => t.id));
        const current = await tagIdsOfFiles(
          trx,
          files.map((f) => f.id),
        );
        if (pg) {
          const all = new Set([...toAdd.map((t) => t.id), ...removeIds]);
          for (const list of current.values()) for (const id of list) all.add(id);
          await lockTagRows(trx, [...all]);
        }
        const events: AuditEventInput[] = [];
        const changed: number[] = [];
        const links: { file_id: number; tag_id: number }[] = [];
        for (const file of files) {
          const before = current.get(file.id)!;
          const had = new Set(before);
          const added = toAdd.filter((t) => !had.has(t.id));
          const removed = toRemove.filter((t) => had.has(t.id));
          if (!added.length && !removed.length) continue;
          if (before.length - removed.length + added.length > MAX_TAGS_PER_FILE) {
            throw BadUserInputError.field('add', `at most ${MAX_TAGS_PER_FILE} tags per file`);
          }
          changed.push(file.id);
          for (const t of added) links.push({ file_id: file.id, tag_id: t.id });
          events.push(
            fileEvent(
              actor,
              file,
              'file.tags',
              { added: added.map((t) => t.name), removed: removed.map((t) => t.name) },
              now,
            ),
          );
        }
        // Only the links that change: the link triggers keep the tags' counters by the row.
        await deleteFileTags(trx, changed, [...removeIds]);
        await insertFileTags(trx, links);
        const updated = new Map(
          (await updateFileRows(trx, changed, { updated_at: now })).map((r) => [r.id, r]),
        );
        await audit.recordMany(trx, deps.dialect, events);
        // `files` is in id order; the changed ones as the update left them.
        return files.map((f) => updated.get(f.id) ?? f);
      });
    },

    /**
     * Moves every file to the trash, as `deleteFile` does for one; resolves to how many. With
     * TRASH_DAYS 0 each is then purged for good, under its blob's lock.
     */
    async trash(viewer: Viewer, rawIds: readonly number[], actor: Actor): Promise<number> {
      const ids = parseBulkIds(rawIds);
      const now = Date.now();
      const trashed = await run(async (trx) => {
        const files = await editableFiles(trx, viewer, ids);
        await moveToTrash(trx, deps.dialect, files, actor, now, true);
        return files;
      });
      if (deps.purgeAtOnce) await deps.purge(trashed, actor);
      return trashed.length;
    },

    /**
     * Brings every file back from the trash, as `restoreFile` does for one (its id, name,
     * status, counters, history and the tags that still exist), in one transaction. Resolves to
     * the files in id order.
     */
    async restore(viewer: Viewer, rawIds: readonly number[], actor: Actor): Promise<FileRow[]> {
      const ids = parseBulkIds(rawIds);
      const now = Date.now();
      return run(async (trx) => {
        // In lock order, as `restoreFile`: the trashed rows (restores and purges race for them),
        // the tags, then each file's insertion and the trashed row's deletion.
        if (pg) await lockTrashedFiles(trx, ids);
        const rows = checked(
          viewer,
          ids,
          await findTrashedFiles(trx, ids),
          'No such file in the trash.',
        );
        const wanted = new Map(rows.map((r) => [r.id, JSON.parse(r.tag_ids) as number[]]));
        const existing = new Set(
          await existingTagIds(trx, [...new Set([...wanted.values()].flat())]),
        );
        if (pg)
          await lockTagRows(
            trx,
            [...existing].sort((a, b) => a - b),
          );
        const restoredIds = rows.map((r) => r.id);
        const out = await reinsertFiles(trx, rows);
        await insertFileTags(
          trx,
          rows.flatMap((row) =>
            wanted
              .get(row.id)!
              .filter((id) => existing.has(id))
              .sort((a, b) => a - b)
              .map((tagId) => ({ file_id: row.id, tag_id: tagId })),
          ),
        );
        await deleteTrashedFiles(trx, restoredIds);
        await audit.recordMany(
          trx,
          deps.dialect,
          rows.map((row) =>
            fileEvent(actor, row, 'file.restore', { deletedAt: row.deleted_at, bulk: true }, now),
          ),
        );
        return out;
      });
    },

    /**
     * Deletes trashed files for good, as `purgeFile` does for one. Every file is checked first
     * (all or nothing: NOT_FOUND or FORBIDDEN with `extensions.ids`, nothing purged); then the
     * files of each blob are purged together under that blob's lock, since the blob goes with its
     * last file and uploads of the same bytes wait on that lock. A file restored or purged by
     * someone else in between is skipped. Resolves to how many this call purged.
     */
    async purge(viewer: Viewer, rawIds: readonly number[], actor: Actor): Promise<number> {
      const ids = parseBulkIds(rawIds);
      const rows = checked(
        viewer,
        ids,
        await findTrashedFiles(db, ids),
        'No such file in the trash.',
      );
      return deps.purge(rows, actor);
    },
  };
}
