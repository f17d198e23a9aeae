import type { Db, TagRow } from '../../db/database.js';
import { normalizeTagName } from './tags.rules.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import {
  countTags,
  deleteTag,
  findTagsByIds,
  insertTag,
  isUniqueViolation,
  listTags,
  renameTag,
  tagsOfFiles,
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
    ) => listTags(db, query, limit, offset, order, admin),
    count: (query: string | null | undefined, admin: boolean) => countTags(db, query, admin),

    /** The tags of each of `fileIds`, by name, in the order of `fileIds`. */
    async ofFiles(fileIds: readonly number[]): Promise<TagRow[][]> {
      const rows = await tagsOfFiles(db, fileIds);
      const byFile = new Map<number, TagRow[]>();
      for (const { file_id, ...tag } of rows) {
        const list = byFile.get(file_id);
        if (list) list.push(tag);
        else byFile.set(file_id, [tag]);
      }
      return fileIds.map((id) => byFile.get(id) ?? []);
    },

    async create(rawName: string): Promise<TagRow> {
      const { name, key } = normalizeTagName(rawName);
      try {
        return await insertTag(db, name, key, Date.now());
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(name);
        throw error;
      }
    },

    async rename(id: number, rawName: string): Promise<TagRow> {
      const { name, key } = normalizeTagName(rawName);
      let tag: TagRow | undefined;
      try {
        tag = await renameTag(db, id, name, key);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(name);
        throw error;
      }
      if (!tag) throw new NotFoundError('No such tag.');
      return tag;
    },

    async delete(id: number): Promise<true> {
      if (!(await deleteTag(db, id))) throw new NotFoundError('No such tag.');
      return true;
    },
  };
}
