import { PostgresAdapter, sql, type Expression, type SqlBool } from 'kysely';
import type { Executor, FileRow, FileStatus } from '../../db/database.js';
import { escapeLike } from '../../db/text-search.js';
import { matchingTagIds } from '../tags/tags.repository.js';

// The `files` listing and search: the one place that turns listing arguments into SQL. The query
// shapes, indexes and plans it relies on are described in SEARCH.md beside this file; keep the
// two in step.

export type FileOrder = 'NEWEST' | 'OLDEST' | 'NAME' | 'LARGEST' | 'MOST_DOWNLOADED';
export type TagMatch = 'ALL' | 'ANY';

export interface FileListArgs {
  status?: FileStatus | null;
  uploadedBy?: number | null;
  orderBy?: FileOrder | null;
  /** Case-insensitive substring of the file name or of one of its tags' names. */
  query?: string | null;
  tagIds?: readonly number[] | null;
  tagMatch?: TagMatch | null;
}

export interface FileListViewer {
  /** Admins see HIDDEN files; everybody else only ACTIVE ones, whatever `status` asks. */
  admin: boolean;
}

/** The arguments resolved against the database: null when nothing can match. */
interface Filter {
  status: FileStatus | null;
  uploadedBy: number | null;
  text: { query: string; tagIds: number[] } | null;
  all: number[];
  any: number[];
}

const isPostgres = (db: Executor) => db.getExecutor().adapter instanceof PostgresAdapter;

/** GLOB on the lowered name: only `*`, `?` and `[` are special, each escaped as a class. */
const escapeGlob = (text: string) => text.replace(/[*?[]/g, (c) => `[${c}]`);

async function resolveFilter(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
): Promise<Filter | null> {
  let status: FileStatus | null = args.status ?? null;
  if (!viewer.admin) {
    if (status === 'HIDDEN') return null;
    status = 'ACTIVE';
  }
  const tagIds = [...new Set(args.tagIds ?? [])];
  const match = args.tagMatch ?? 'ALL';
  let text: Filter['text'] = null;
  if (args.query) {
    text = { query: args.query, tagIds: await matchingTagIds(db, args.query) };
  }
  return {
    status,
    uploadedBy: args.uploadedBy ?? null,
    text,
    all: match === 'ALL' ? tagIds : [],
    any: match === 'ANY' ? tagIds : [],
  };
}

function nameContains(db: Executor, query: string): Expression<SqlBool> {
  const lowered = query.toLowerCase();
  if (isPostgres(db)) {
    // pg_trgm GIN index on lower(name) (migration 2026-11-25T1100_search).
    return sql<SqlBool>`lower(files.name) like ${`%${escapeLike(lowered)}%`} escape '\\'`;
  }
  // FTS5 trigram table over lower(name): GLOB is answered from the trigram index (for 3+
  // characters) and then checked against the stored text, so it is exact.
  return sql<SqlBool>`files.id in (select rowid from files_fts where files_fts.name glob ${`*${escapeGlob(lowered)}*`})`;
}

const hasTag = (tagId: number) =>
  sql<SqlBool>`exists (select 1 from file_tags ft where ft.file_id = files.id and ft.tag_id = ${tagId})`;

const hasAnyTag = (tagIds: readonly number[]) =>
  sql<SqlBool>`exists (select 1 from file_tags ft where ft.file_id = files.id and ft.tag_id in (${sql.join(tagIds)}))`;

function filtered(db: Executor, f: Filter) {
  let q = db.selectFrom('files');
  if (f.status) q = q.where('files.status', '=', sql.lit(f.status));
  if (f.uploadedBy != null) q = q.where('files.uploaded_by', '=', f.uploadedBy);
  if (f.text) {
    const name = nameContains(db, f.text.query);
    const tagIds = f.text.tagIds;
    q = q.where((eb) => (tagIds.length ? eb.or([name, hasAnyTag(tagIds)]) : name));
  }
  for (const tagId of f.all) q = q.where(hasTag(tagId));
  if (f.any.length) q = q.where(hasAnyTag(f.any));
  return q;
}

const unfiltered = (f: Filter) =>
  f.uploadedBy == null && !f.text && !f.all.length && !f.any.length;

/** One page of the listing; every order ends with the id so pages never overlap. */
export async function listFiles(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
  page: { limit: number; offset: number },
): Promise<FileRow[]> {
  const f = await resolveFilter(db, viewer, args);
  if (!f || page.limit <= 0) return [];
  let q = filtered(db, f).selectAll('files');
  switch (args.orderBy ?? 'NEWEST') {
    case 'NEWEST':
      q = q.orderBy('files.created_at', 'desc').orderBy('files.id', 'desc');
      break;
    case 'OLDEST':
      q = q.orderBy('files.created_at', 'asc').orderBy('files.id', 'asc');
      break;
    case 'NAME':
      q = q.orderBy('files.name', 'asc').orderBy('files.id', 'asc');
      break;
    case 'LARGEST':
      q = q.orderBy('files.size', 'desc').orderBy('files.id', 'desc');
      break;
    case 'MOST_DOWNLOADED':
      q = q.orderBy('files.download_count', 'desc').orderBy('files.id', 'desc');
      break;
  }
  return q.limit(page.limit).offset(page.offset).execute();
}

/** How many files the whole filtered listing holds. */
export async function countFiles(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
): Promise<number> {
  const f = await resolveFilter(db, viewer, args);
  if (!f) return 0;
  if (unfiltered(f)) {
    // Trigger-kept totals: the whole library costs one or two rows, not a million.
    let q = db.selectFrom('file_totals').select(sql<number>`coalesce(sum(files), 0)`.as('n'));
    if (f.status) q = q.where('status', '=', f.status);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }
  const row = await filtered(db, f)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * For each tag, how many files of the whole filtered result carry it; tags with none are left
 * out; most first, then by name.
 */
export async function countTagsOfFiles(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
): Promise<{ tagId: number; count: number }[]> {
  const f = await resolveFilter(db, viewer, args);
  if (!f) return [];
  if (unfiltered(f)) {
    // Trigger-kept per-tag counters (tags.files_active / files_hidden).
    const count =
      f.status === 'ACTIVE'
        ? sql<number>`files_active`
        : f.status === 'HIDDEN'
          ? sql<number>`files_hidden`
          : sql<number>`files_active + files_hidden`;
    const rows = await db
      .selectFrom('tags')
      .select(['id', count.as('count')])
      .where(count, '>', 0)
      .orderBy('count', 'desc')
      .orderBy('name_key')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ tagId: r.id, count: Number(r.count) }));
  }
  const result = filtered(db, f).select('files.id');
  const rows = await db
    .selectFrom('file_tags')
    .innerJoin('tags', 'tags.id', 'file_tags.tag_id')
    .select(['tags.id', (eb) => eb.fn.countAll<number>().as('count')])
    .where('file_tags.file_id', 'in', result)
    .groupBy(['tags.id', 'tags.name_key'])
    .orderBy('count', 'desc')
    .orderBy('tags.name_key')
    .orderBy('tags.id')
    .execute();
  return rows.map((r) => ({ tagId: r.id, count: Number(r.count) }));
}
