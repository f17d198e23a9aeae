import { sql } from 'kysely';
import type { Executor, TagRow } from '../../db/database.js';
import { listing } from '../../db/listing.js';
import { rowsByIds } from '../../db/rows.js';
import { escapeLike } from '../../db/text-search.js';
import { sortKey } from '../../db/sort-key.js';

/** True when `error` is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export const findTagsByIds = (db: Executor, ids: readonly number[]): Promise<TagRow[]> =>
  rowsByIds(db, 'tags', ids);

/**
 * Each count with its tag's row, in the order given; a tag deleted since it was counted is left
 * out (DownloadStats.topTags).
 */
export async function withTagRows(
  db: Executor,
  counts: readonly { tagId: number; count: number }[],
): Promise<{ tag: TagRow; count: number }[]> {
  const tagIds = counts.map((c) => c.tagId);
  const byId = new Map((await findTagsByIds(db, tagIds)).map((t) => [t.id, t]));
  return counts.flatMap((c) => {
    const tag = byId.get(c.tagId);
    return tag ? [{ tag, count: c.count }] : [];
  });
}

export const findTagsByKeys = (db: Executor, keys: readonly string[]): Promise<TagRow[]> =>
  keys.length
    ? db.selectFrom('tags').selectAll().where('name_key', 'in', keys).execute()
    : Promise.resolve([]);

/** Tags whose name contains `query`, as an admin (`admin`) or a user sees them. */
export interface TagFilter {
  query?: string | null;
  admin: boolean;
}

// name_key is the lower-cased name, so a LIKE on it is the same case-insensitive substring match
// as containsText(name) used by users and files, without calling lower() per row.
// Non-admins never see a tag that only HIDDEN files carry (its name would reveal them); tags with
// no file at all stay visible, as admins create them ahead of use.
function tagSearch(db: Executor, { query, admin }: TagFilter) {
  let q = db.selectFrom('tags');
  if (!admin) q = q.where((eb) => eb.or([eb('files_active', '>', 0), eb('files_hidden', '=', 0)]));
  if (query) {
    const pattern = `%${escapeLike(query.toLowerCase())}%`;
    q = q.where(sql<boolean>`name_key like ${pattern} escape '\\'`);
  }
  return q;
}

export type TagOrder = 'NAME' | 'NEWEST' | 'OLDEST' | 'MOST_FILES' | 'MOST_DOWNLOADED';

/**
 * Tags whose name contains `query`, in `order` (by name unless told otherwise). File and download
 * counts include HIDDEN files only when `admin`, as Tag.fileCount and Tag.downloadCount do. Tags
 * number in the hundreds, so sorting on the counter sums needs no index.
 */
export const tagListing = listing(tagSearch, (q, { admin }, order: TagOrder = 'NAME') => {
  const rows = q.selectAll();
  if (order === 'NEWEST' || order === 'OLDEST') {
    const direction = order === 'NEWEST' ? 'desc' : 'asc';
    return rows.orderBy('created_at', direction).orderBy('id', direction);
  }
  if (order === 'MOST_FILES' || order === 'MOST_DOWNLOADED') {
    const [active, hidden] =
      order === 'MOST_FILES'
        ? [sql.ref('files_active'), sql.ref('files_hidden')]
        : [sql.ref('downloads_active'), sql.ref('downloads_hidden')];
    return rows
      .orderBy(admin ? sql`${active} + ${hidden}` : active, 'desc')
      .orderBy('name_key')
      .orderBy('id');
  }
  return rows.orderBy('name_sort').orderBy('id');
});

/** Ids of the tags whose name contains `query` (the tag half of a file search). */
export async function matchingTagIds(db: Executor, query: string): Promise<number[]> {
  // Every tag: the files it leads to are filtered by visibility afterwards.
  const rows = await tagSearch(db, { query, admin: true }).select('id').execute();
  return rows.map((r) => r.id);
}

/** The same tags with their postings version (search keeps their file ids in memory). */
export async function matchingTagVersions(
  db: Executor,
  query: string,
): Promise<{ id: number; links_version: number }[]> {
  const rows = await tagSearch(db, { query, admin: true })
    .select(['id', 'links_version'])
    .execute();
  return rows.map((r) => ({ id: r.id, links_version: Number(r.links_version) }));
}

/** Inserts a tag; rejects with a unique violation when the key is taken. */
export const insertTag = (db: Executor, name: string, key: string, now: number): Promise<TagRow> =>
  db
    .insertInto('tags')
    .values({ name, name_key: key, name_sort: sortKey(name), created_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();

export const renameTag = (
  db: Executor,
  id: number,
  name: string,
  key: string,
): Promise<TagRow | undefined> =>
  db
    .updateTable('tags')
    .set({ name, name_key: key, name_sort: sortKey(name) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();

/** Deletes a tag and returns it; its file links go with it (ON DELETE CASCADE). */
export const deleteTag = (db: Executor, id: number): Promise<TagRow | undefined> =>
  db.deleteFrom('tags').where('id', '=', id).returningAll().executeTakeFirst();

/**
 * The tags with these names, creating the missing ones; `tags` are already normalised. Safe
 * against a concurrent creation of the same name (the insert skips existing keys).
 */
export async function ensureTags(
  db: Executor,
  tags: readonly { name: string; key: string }[],
  now: number,
): Promise<TagRow[]> {
  if (!tags.length) return [];
  await db
    .insertInto('tags')
    .values(
      tags.map((t) => ({
        name: t.name,
        name_key: t.key,
        name_sort: sortKey(t.name),
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.column('name_key').doNothing())
    .execute();
  return findTagsByKeys(
    db,
    tags.map((t) => t.key),
  );
}

/** The tags of each file, for File.tags. */
/**
 * The tags a trashed file had when it was deleted (`trashed_files.tag_ids`), those that still
 * exist, by name: the trash shows them, and `restoreFile` brings exactly these back.
 */
export async function tagsOfTrashedFiles(
  db: Executor,
  fileIds: readonly number[],
): Promise<(TagRow & { file_id: number })[]> {
  if (!fileIds.length) return [];
  const trashed = await db
    .selectFrom('trashed_files')
    .select(['id', 'tag_ids'])
    .where('id', 'in', fileIds)
    .execute();
  const wanted = trashed.map((r) => ({ id: r.id, tags: JSON.parse(r.tag_ids) as number[] }));
  const byId = new Map(
    (await findTagsByIds(db, [...new Set(wanted.flatMap((w) => w.tags))])).map((t) => [t.id, t]),
  );
  return wanted.flatMap(({ id, tags }) =>
    tags
      .flatMap((t) => {
        const tag = byId.get(t);
        return tag ? [{ ...tag, file_id: id }] : [];
      })
      .sort((a, b) => (a.name_key < b.name_key ? -1 : a.name_key > b.name_key ? 1 : 0)),
  );
}

export async function tagsOfFiles(
  db: Executor,
  fileIds: readonly number[],
): Promise<(TagRow & { file_id: number })[]> {
  if (!fileIds.length) return [];
  return db
    .selectFrom('file_tags')
    .innerJoin('tags', 'tags.id', 'file_tags.tag_id')
    .selectAll('tags')
    .select('file_tags.file_id')
    .where('file_tags.file_id', 'in', fileIds)
    .orderBy('tags.name_key')
    .execute();
}
