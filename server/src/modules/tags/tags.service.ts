import type { Db, TagRow } from '../../db/database.js';
import { normalizeTagName } from './tags.rules.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { audit, type Actor } from '../audit/audit.service.js';
import {
  deleteTag,
  findTagsByIds,
  insertTag,
  isUniqueViolation,
  renameTag,
  tagListing,
  tagsOfFiles,
  tagsOfTrashedFiles,
  type TagOrder,
} from './tags.repository.js';

/** Counts as the viewer may see them: HIDDEN files count for admins only. */
export const tagFileCount = (tag: TagRow, admin: boolean) =>
  Number(tag.files_active) + (admin ? Number(tag.files_hidden) : 0);
export const tagDownloadCount = (tag: TagRow, admin: boolean) =>
  Number(tag.downloads_active) + (admin ? Number(tag.downloads_hidden) : 0);

export function createTagsService(db: Db) {
  const conflict = (name: string) =>
    new ConflictError(`A tag named “${name}” already exists.`, { name: 'is already taken' });

  return {
    byIds: (ids: readonly number[]) => findTagsByIds(db, ids),
    list: (
      query: string | null | undefined,
      limit: number,
      offset: number,
      order?: TagOrder,
      admin?: boolean,
    ) => tagListing.list(db, { query, admin: admin ?? false }, limit, offset, order),
    count: (query: string | null | undefined, admin: boolean) =>
      tagListing.count(db, { query, admin }),

    /** The tags of each of `fileIds`, by name, in the order of `fileIds`. */
    async ofFiles(fileIds: readonly number[]): Promise<TagRow[][]> {
      const rows = await tagsOfFiles(db, fileIds);
      // A file id is either in `files` or in the trash, never both: the ones without tags here
      // may be trashed files, whose tags are kept aside until they are restored.
      const tagged = new Set(rows.map((r) => r.file_id));
      const untagged = fileIds.filter((id) => !tagged.has(id));
      const byFile = new Map<number, TagRow[]>();
      for (const { file_id, ...tag } of [...rows, ...(await tagsOfTrashedFiles(db, untagged))]) {
        const list = byFile.get(file_id);
        if (list) list.push(tag);
        else byFile.set(file_id, [tag]);
      }
      return fileIds.map((id) => byFile.get(id) ?? []);
    },

    async create(actor: Actor, rawName: string): Promise<TagRow> {
      const { name, key } = normalizeTagName(rawName);
      try {
        return await db.transaction().execute(async (trx) => {
          const tag = await insertTag(trx, name, key, Date.now());
          await audit.record(trx, {
            actor,
            action: 'tag.create',
            target: { type: 'tag', id: tag.id, label: tag.name },
            details: { after: { name: tag.name } },
          });
          return tag;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(name);
        throw error;
      }
    },

    async rename(actor: Actor, id: number, rawName: string): Promise<TagRow> {
      const { name, key } = normalizeTagName(rawName);
      let tag: TagRow | undefined;
      try {
        tag = await db.transaction().execute(async (trx) => {
          const [before] = await findTagsByIds(trx, [id]);
          const after = before && (await renameTag(trx, id, name, key));
          if (!before || !after) return undefined;
          const target = { type: 'tag', id, label: before.name };
          const change = { key: 'name', before: before.name, after: after.name };
          await audit.recordChange(trx, { actor, action: 'tag.update', target }, change);
          return after;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(name);
        throw error;
      }
      if (!tag) throw new NotFoundError('No such tag.');
      return tag;
    },

    async delete(actor: Actor, id: number): Promise<true> {
      await db.transaction().execute(async (trx) => {
        const tag = await deleteTag(trx, id);
        if (!tag) throw new NotFoundError('No such tag.');
        await audit.record(trx, {
          actor,
          action: 'tag.delete',
          target: { type: 'tag', id, label: tag.name },
          details: { before: { name: tag.name, files: tag.files_active + tag.files_hidden } },
        });
      });
      return true;
    },
  };
}
