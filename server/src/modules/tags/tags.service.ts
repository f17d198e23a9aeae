import type { Db, TagRow } from '../../db/database.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../../errors.js';
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

export const TAG_NAME_MAX = 40;

/**
 * A tag name as stored: no control characters (checked before trimming, so "a\n" is refused, as
 * for file names), trimmed, 1–40 characters (code points); `key` is its lower-cased form, unique
 * across tags, so "Photos" and "PHOTOS" are one tag. The same rules as files.rules.ts
 * parseTagNames, which uploads use. Throws BAD_USER_INPUT naming `field`.
 */
export function normalizeTagName(raw: string, field = 'name'): { name: string; key: string } {
  if (/\p{Cc}/u.test(raw)) throw BadUserInputError.field(field, 'must not hold control characters');
  const name = raw.trim();
  const length = [...name].length;
  if (length < 1 || length > TAG_NAME_MAX) {
    throw BadUserInputError.field(field, `must be 1 to ${TAG_NAME_MAX} characters`);
  }
  return { name, key: name.toLowerCase() };
}

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

export type TagsService = ReturnType<typeof createTagsService>;
