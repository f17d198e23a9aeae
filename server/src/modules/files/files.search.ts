import {
  PostgresAdapter,
  sql,
  type Expression,
  type Kysely,
  type RawBuilder,
  type SqlBool,
} from 'kysely';
import type { Database, Executor, FileRow, FileStatus, TagRow } from '../../db/database.js';
import { escapeLike } from '../../db/text-search.js';
import { matchingTagIds } from '../tags/tags.repository.js';
import {
  IdBitset,
  intersect,
  intersectAll,
  firstInOrder,
  parseNumberList,
  toIdSet,
  unionAll,
  type IdSet,
} from './sorted-ids.js';
import { linkActive, tagPostings } from './tag-postings.js';

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

/** The arguments resolved against the database once per request. */
interface Plan {
  status: FileStatus | null;
  uploadedBy: number | null;
  /**
   * With a query, the whole result: ids matching it (by name or by a tag's name) that meet every
   * other condition too, sorted; null without a query.
   */
  candidates: IdSet | null;
  /**
   * PostgreSQL only, ordering by date or size: each candidate's order key, read along with the
   * candidates so the page is picked without reading 10,000s of rows again.
   */
  keys: Map<number, number> | null;
  all: number[];
  any: number[];
  /** Files in the library the viewer's status filter allows (trigger-kept totals). */
  libraryFiles: number;
  /** For ALL: the listed tag carrying the fewest files, and how many. */
  rarest: { tagId: number; files: number } | null;
  /** For ALL: how many files (any status) carry each listed tag. */
  tagFiles: Map<number, number>;
  /** The listed tags (ALL or ANY) in order, with their postings version; null: no such tag. */
  listed: ListedTag[];
  /** Without a query or uploader: the result of the tag filter, from the postings (lazy). */
  tagResult?: Promise<IdSet>;
}

type ListedTag = { id: number; links_version: number | null };

const isPostgres = (db: Executor) => db.getExecutor().adapter instanceof PostgresAdapter;

/** GLOB on the lowered name: only `*`, `?` and `[` are special, each escaped as a class. */
const escapeGlob = (text: string) => text.replace(/[*?[]/g, (c) => `[${c}]`);

// One listing request asks for its page, totalCount and tagCounts through the same arguments
// object; the plan (and so the text search) is computed once for all three.
const plans = new WeakMap<object, Promise<Plan | null>>();

function planFor(db: Executor, viewer: FileListViewer, args: FileListArgs) {
  const key = args as object;
  let plan = plans.get(key);
  if (!plan) {
    plan = makePlan(db, viewer, args);
    plans.set(key, plan);
  }
  return plan;
}

async function makePlan(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
): Promise<Plan | null> {
  let status: FileStatus | null = args.status ?? null;
  if (!viewer.admin) {
    if (status === 'HIDDEN') return null;
    status = 'ACTIVE';
  }
  const tagIds = [...new Set(args.tagIds ?? [])];
  const match = args.tagMatch ?? 'ALL';
  const all = match === 'ALL' ? tagIds : [];
  const any = match === 'ANY' ? tagIds : [];

  const totals = await db.selectFrom('file_totals').select(['status', 'files']).execute();
  const libraryFiles = totals
    .filter((t) => !status || t.status === status)
    .reduce((sum, t) => sum + Number(t.files), 0);

  let rarest: Plan['rarest'] = null;
  const tagFiles = new Map<number, number>();
  let listed: ListedTag[] = [];
  if (tagIds.length) {
    // One read of the listed tags: their sizes for choosing a plan, their versions for postings.
    const rows = await db
      .selectFrom('tags')
      .select(['id', 'links_version', sql<number>`files_active + files_hidden`.as('files')])
      .where('id', 'in', tagIds)
      .execute();
    if (all.length && rows.length < all.length) return null; // nothing carries an unknown tag
    const byId = new Map(rows.map((r) => [r.id, r]));
    listed = tagIds.map((id) => {
      const row = byId.get(id);
      return { id, links_version: row ? Number(row.links_version) : null };
    });
    if (all.length) {
      const min = rows.reduce((a, b) => (Number(b.files) < Number(a.files) ? b : a));
      rarest = { tagId: min.id, files: Number(min.files) };
      for (const r of rows) tagFiles.set(r.id, Number(r.files));
    }
  }

  const uploadedBy = args.uploadedBy ?? null;
  let candidates: IdSet | null = null;
  let keys: Map<number, number> | null = null;
  if (args.query) {
    const order = ORDERS[args.orderBy ?? 'NEWEST'];
    // file_search holds the immutable order keys (created_at, size).
    const first = order.columns[0]!;
    const keyColumn = isPostgres(db) && (first === 'created_at' || first === 'size') ? first : null;
    ({ ids: candidates, keys } = await textCandidates(
      db,
      args.query,
      { status, uploadedBy, all, listed },
      keyColumn,
    ));
  }
  return {
    status,
    uploadedBy,
    candidates,
    keys,
    all,
    any,
    libraryFiles,
    rarest,
    tagFiles,
    listed,
  };
}

/**
 * The whole result of a search with a query: ids of the files the viewer may see (status,
 * uploader) that carry the listed tags (ALL/ANY) and whose lower-cased name contains the
 * lower-cased query, or that carry a tag whose name does. The name half is answered by the
 * trigram index of each dialect, the tag conditions by intersecting with the tags' postings in
 * memory; everything is settled here, once per request, so the count is the length of this list
 * and the page and tag counts work on it alone.
 */
async function textCandidates(
  db: Executor,
  query: string,
  f: Pick<Plan, 'status' | 'uploadedBy' | 'all' | 'listed'>,
  keyColumn: string | null,
): Promise<{ ids: IdSet; keys: Map<number, number> | null }> {
  const { status, uploadedBy } = f;
  const lowered = query.toLowerCase();
  const pg = isPostgres(db);
  const byName = pg
    ? pgNameMatches(db, lowered, status, uploadedBy, keyColumn)
    : sqliteNameMatches(db, lowered, status, uploadedBy).then((ids) => ({ ids, keys: null }));
  const [named, tagIds] = await Promise.all([byName, matchingTagIds(db, query)]);
  let ids = toIdSet(named.ids);
  const keys = named.keys && new Map(named.ids.map((id, i) => [id, named.keys![i]!]));
  if (tagIds.length) {
    const checks = [
      ...(status ? [sql`v.status = ${sql.lit(status)}`] : []),
      ...(uploadedBy != null ? [sql`v.uploaded_by = ${uploadedBy}`] : []),
    ];
    const v = pg ? sql`files v` : sql`files v indexed by files_visibility`;
    const tagged = await sql<{ id: number; key?: number }>`
      select distinct l.file_id as id
        ${keyColumn ? sql`, (select ${sql.ref(`k.${keyColumn}`)} from files k where k.id = l.file_id) as key` : sql``}
      from file_tags l
      where l.tag_id in (${sql.join(tagIds)}) ${
        checks.length
          ? sql`and exists (select 1 from ${v} where v.id = l.file_id and ${sql.join(checks, sql` and `)})`
          : sql``
      }`.execute(db);
    for (const r of tagged.rows) keys?.set(Number(r.id), Number(r.key));
    ids = unionAll([ids, toIdSet(tagged.rows.map((r) => Number(r.id)))]);
  }
  if (ids.length && f.listed.length) ids = await filterByListedTags(db, f, ids);
  return { ids, keys };
}

/**
 * PostgreSQL: ids of the visible files whose lower-cased name contains `lowered`, with their
 * `keyColumn` when asked, from file_search, a narrow trigger-kept copy with the pg_trgm GIN index
 * (migration 2026-11-25T1300_pg_file_search). Materialized: the planner misjudges the selectivity
 * of the pattern and would otherwise start from the visibility conditions. Aggregated into one
 * string: 12,605 row objects cost ~10 ms and most of the variance.
 */
async function pgNameMatches(
  db: Executor,
  lowered: string,
  status: FileStatus | null,
  uploadedBy: number | null,
  keyColumn: string | null,
): Promise<{ ids: number[]; keys: number[] | null }> {
  // With keys, one list of id, key pairs: one aggregate, so ids and keys cannot fall out of step.
  const result = await sql<{ list: string | null }>`
    with m as materialized (
      select s.id ${keyColumn ? sql`, ${sql.ref(`s.${keyColumn}`)} as key` : sql``}
      from file_search s
      where s.name_lower like ${`%${escapeLike(lowered)}%`} escape '\\'
      ${status ? sql`and s.status = ${sql.lit(status)}` : sql``}
      ${uploadedBy != null ? sql`and s.uploaded_by = ${uploadedBy}` : sql``})
    select string_agg(${keyColumn ? sql`m.id::text || ',' || m.key::text` : sql`m.id::text`}, ',')
      as list
    from m`.execute(db);
  const list = parseNumberList(result.rows[0]?.list);
  if (!keyColumn) return { ids: list, keys: null };
  const ids = new Array<number>(list.length / 2);
  const keys = new Array<number>(list.length / 2);
  for (let i = 0; i < ids.length; i++) {
    ids[i] = list[2 * i]!;
    keys[i] = list[2 * i + 1]!;
  }
  return { ids, keys };
}

/**
 * SQLite: ids of the files whose lower-cased name contains `lowered`, from the FTS5 trigram table
 * of each status the viewer may see (migration 2026-11-30T1000). Three characters or more are a
 * trigram phrase, exact from the index positions; shorter ones have no trigram and scan the
 * table's names with GLOB. The ids come back as one comma-separated value, not one row object each.
 */
async function sqliteNameMatches(
  db: Executor,
  lowered: string,
  status: FileStatus | null,
  uploadedBy: number | null,
): Promise<number[]> {
  const tables =
    status === 'ACTIVE'
      ? ['files_fts_active']
      : status === 'HIDDEN'
        ? ['files_fts_hidden']
        : ['files_fts_active', 'files_fts_hidden'];
  const phrase = [...lowered].length >= 3;
  const out: number[] = [];
  for (const table of tables) {
    const match = phrase
      ? sql`${sql.id(table)} match ${`"${lowered.replace(/"/g, '""')}"`}`
      : sql`f.name glob ${`*${escapeGlob(lowered)}*`}`;
    const uploader =
      uploadedBy != null
        ? sql`and exists (select 1 from files v indexed by files_visibility
            where v.id = f.rowid and v.uploaded_by = ${uploadedBy})`
        : sql``;
    const row = await sql<{ ids: string | null }>`select group_concat(f.rowid) as ids
      from ${sql.id(table)} f where ${match} ${uploader}`.execute(db);
    for (const id of parseNumberList(row.rows[0]?.ids)) out.push(id);
  }
  return out;
}

/**
 * Runs counting queries without PostgreSQL's parallel workers: on a small machine serving
 * concurrent requests they compete for the same cores, and a merge join of two index-only scans
 * (~30 ms for two popular tags) beats a parallel hash join (~90–300 ms under load).
 */
async function serial<T>(db: Executor, run: (conn: Executor) => Promise<T>): Promise<T> {
  if (!isPostgres(db) || db.isTransaction) return run(db);
  return (db as Kysely<Database>).connection().execute(async (conn) => {
    await sql`set max_parallel_workers_per_gather = 0`.execute(conn);
    try {
      return await run(conn);
    } finally {
      await sql`reset max_parallel_workers_per_gather`.execute(conn);
    }
  });
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** A set of ids as a one-column subquery, passed as one parameter whatever its size. */
function idSet(db: Executor, ids: IdSet): RawBuilder<unknown> {
  const list = Array.from(ids);
  return isPostgres(db)
    ? sql`(select unnest(${list}::int[]) as id)`
    : sql`(select value as id from json_each(${JSON.stringify(list)}))`;
}

const hasTag = (fileId: RawBuilder<unknown>, tagId: number) =>
  sql<SqlBool>`exists (select 1 from file_tags ft where ft.file_id = ${fileId} and ft.tag_id = ${tagId})`;

const hasAnyTag = (fileId: RawBuilder<unknown>, tagIds: readonly number[]) =>
  sql<SqlBool>`exists (select 1 from file_tags ft where ft.file_id = ${fileId} and ft.tag_id in (${sql.join(tagIds)}))`;

/** The conditions of a plan on `files` (aliased `files`), except those on `skipTag`. */
function conditions(db: Executor, p: Plan, skipTag?: number): Expression<SqlBool>[] {
  const id = sql`files.id`;
  const out: Expression<SqlBool>[] = [];
  if (p.status) out.push(sql<SqlBool>`files.status = ${sql.lit(p.status)}`);
  if (p.candidates) {
    // The candidates already meet every other condition (textCandidates).
    out.push(sql<SqlBool>`files.id in ${idSet(db, p.candidates)}`);
    return out;
  }
  if (p.uploadedBy != null) out.push(sql<SqlBool>`files.uploaded_by = ${p.uploadedBy}`);
  for (const t of p.all) if (t !== skipTag) out.push(hasTag(id, t));
  if (p.any.length) out.push(hasAnyTag(id, p.any));
  return out;
}

const ORDERS: Record<FileOrder, { columns: string[]; dir: 'asc' | 'desc'; index: string }> = {
  NEWEST: { columns: ['created_at', 'id'], dir: 'desc', index: 'created' },
  OLDEST: { columns: ['created_at', 'id'], dir: 'asc', index: 'created' },
  NAME: { columns: ['name', 'id'], dir: 'asc', index: 'name' },
  LARGEST: { columns: ['size', 'id'], dir: 'desc', index: 'size' },
  MOST_DOWNLOADED: { columns: ['download_count', 'id'], dir: 'desc', index: 'downloads' },
};

const INDEXES: Record<string, [withStatus: string, without: string]> = {
  created: ['files_status_created', 'files_created_at'],
  name: ['files_status_name', 'files_name'],
  size: ['files_status_size', 'files_size'],
  downloads: ['files_status_downloads', 'files_downloads'],
};

/**
 * Below `driveLimit` candidates a page is cheapest read from the candidates themselves (one row
 * lookup each, then a sort); above it, walking the order's index and testing each row is, unless
 * the walk would visit more than `walkFactor` times as many rows as there are candidates. From
 * `tagCountsFromPostings` files in a result, its tag counts intersect it with every tag's
 * postings in memory instead of grouping its links in SQL. Exported so tests can force either
 * path.
 */
export const searchTuning = { driveLimit: 3000, walkFactor: 5, tagCountsFromPostings: 5000 };

/** One page of the listing; every order ends with the id so pages never overlap. */
export async function listFiles(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
  page: { limit: number; offset: number },
): Promise<FileRow[]> {
  const p = await planFor(db, viewer, args);
  if (!p || page.limit <= 0 || p.candidates?.length === 0) return [];
  const order = ORDERS[args.orderBy ?? 'NEWEST'];
  const orderBy = sql.join(
    order.columns.map((c) => sql`${sql.ref(`files.${c}`)} ${sql.raw(order.dir)}`),
  );
  if (p.candidates && p.keys) return pageFromKeys(db, p.candidates, p.keys, order.dir, page);

  // Which set drives the page: the query's candidates, the rarest listed tag, or the order index.
  const drivingSize = Math.min(p.candidates?.length ?? Infinity, p.rarest?.files ?? Infinity);
  const walkRows = ((page.offset + page.limit) * p.libraryFiles) / Math.max(1, drivingSize);
  const drive =
    drivingSize <= searchTuning.driveLimit || walkRows > drivingSize * searchTuning.walkFactor;

  let from = sql`files`;
  if (!isPostgres(db) && !drive && p.uploadedBy == null) {
    // SQLite cannot estimate how many ids a subquery or EXISTS keeps, and tends to drive from
    // them; walking the order's index is far cheaper when the result is dense.
    const [withStatus, without] = INDEXES[order.index]!;
    from = sql`files indexed by ${sql.id(p.status ? withStatus : without)}`;
  }
  let where = conditions(db, p);
  if (drive && p.rarest && (p.candidates?.length ?? Infinity) > p.rarest.files) {
    where = [
      sql<SqlBool>`files.id in (select file_id from file_tags where tag_id = ${p.rarest.tagId})`,
      ...conditions(db, p, p.rarest.tagId),
    ];
  }
  const whereSql = where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``;
  if (isPostgres(db)) {
    // Deferred join: the offset skips index entries (an index-only scan of the order's index),
    // and only the page's rows are read from the heap: offset 100,000 in ~15 ms, not ~200.
    const result = await sql<FileRow>`
      select files.* from files where files.id in (
        select files.id from files ${whereSql}
        order by ${orderBy} limit ${page.limit} offset ${page.offset})
      order by ${orderBy}`.execute(db);
    return result.rows;
  }
  const result = await sql<FileRow>`
    select files.* from ${from} ${whereSql}
    order by ${orderBy} limit ${page.limit} offset ${page.offset}`.execute(db);
  return result.rows;
}

/** The page of `ids` in (key, id) order, read by primary key. */
async function pageFromKeys(
  db: Executor,
  ids: IdSet,
  keys: Map<number, number>,
  dir: 'asc' | 'desc',
  page: { limit: number; offset: number },
): Promise<FileRow[]> {
  const wanted = firstInOrder(ids, keys, dir, page.offset + page.limit).slice(page.offset);
  if (!wanted.length) return [];
  const rows = await db.selectFrom('files').selectAll().where('id', 'in', wanted).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return wanted.flatMap((id) => byId.get(id) ?? []);
}

/**
 * The ids of the whole filtered result as a query (for counting): driven by the candidates, or
 * by the rarest ALL tag, with visibility read from the narrow files_visibility index on SQLite.
 */
function resultIds(db: Executor, p: Plan) {
  const pg = isPostgres(db);
  const files = pg ? sql`files` : sql`files indexed by files_visibility`;
  if (p.candidates) return sql`select c.id from ${idSet(db, p.candidates)} c`;
  if (p.rarest && p.uploadedBy == null) {
    // Links carry their file's visibility (file_tags.active), so tags alone never read a file.
    const active = linkActive(p.status);
    const range = (link: string, tagId: number) =>
      sql`${sql.ref(`${link}.tag_id`)} = ${tagId}
        ${active === null ? sql`` : sql`and ${sql.ref(`${link}.active`)} = ${active}`}`;
    const sizes = p.all.map((t) => p.tagFiles.get(t) ?? 0);
    if (p.all.length > 1 && !p.any.length && sum(sizes) <= 4 * p.rarest.files) {
      // Tags of similar sizes: merge their (tag_id, active, file_id) ranges, both sorted by
      // file id. SQLite runs INTERSECT as a merge of the two index scans; PostgreSQL a merge or
      // hash join of index-only scans.
      if (!pg) {
        return sql.join(
          p.all.map((t) => sql`select l.file_id as id from file_tags l where ${range('l', t)}`),
          sql` intersect `,
        );
      }
      const joins = p.all
        .slice(1)
        .map(
          (t, i) =>
            sql`join file_tags ${sql.id(`l${i + 1}`)} on ${sql.ref(`l${i + 1}.file_id`)} = l0.file_id and ${range(`l${i + 1}`, t)}`,
        );
      return sql`select l0.file_id as id from file_tags l0 ${sql.join(joins, sql` `)}
        where ${range('l0', p.all[0]!)}`;
    }
    // Otherwise start from the rarest tag's links and probe the others (primary key).
    const others = p.all.filter((t) => t !== p.rarest!.tagId);
    const checks = [
      ...others.map((t) => hasTag(sql`l.file_id`, t)),
      ...(p.any.length ? [hasAnyTag(sql`l.file_id`, p.any)] : []),
    ];
    return sql`select l.file_id as id from file_tags l where ${range('l', p.rarest.tagId)}
      ${checks.length ? sql`and ${sql.join(checks, sql` and `)}` : sql``}`;
  }
  if (p.rarest) {
    // With an uploader: links of the rarest tag first; the other tags are probed on the link
    // (cheap, covering) before the file's row is checked, so only survivors pay for that.
    const others = p.all.filter((t) => t !== p.rarest!.tagId);
    const id = sql`l.file_id`;
    const checks = [
      ...others.map((t) => hasTag(id, t)),
      ...(p.any.length ? [hasAnyTag(id, p.any)] : []),
      ...(p.status ? [sql<SqlBool>`files.status = ${sql.lit(p.status)}`] : []),
      sql<SqlBool>`files.uploaded_by = ${p.uploadedBy}`,
    ];
    return sql`select l.file_id as id from file_tags l
      ${pg ? sql`join` : sql`cross join`} ${files} on files.id = l.file_id
      where l.tag_id = ${p.rarest.tagId} and ${sql.join(checks, sql` and `)}`;
  }
  const where = conditions(db, p);
  return sql`select files.id from files ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}`;
}

/** A tag's files with the status (null: either), from its trigger-kept counters. */
const tagFilesWith = (status: FileStatus | null) =>
  status === 'ACTIVE'
    ? sql<number>`files_active`
    : status === 'HIDDEN'
      ? sql<number>`files_hidden`
      : sql<number>`files_active + files_hidden`;

const unfiltered = (p: Plan) =>
  p.uploadedBy == null && !p.candidates && !p.all.length && !p.any.length;

/**
 * The files of `ids` (all files when omitted) that carry every listed tag (ALL) or one of them
 * (ANY) with the viewer's status, by intersecting with the tags' postings in memory.
 */
async function filterByListedTags(
  db: Executor,
  f: Pick<Plan, 'status' | 'all' | 'listed'>,
  ids?: IdSet,
): Promise<IdSet> {
  const sets = await tagPostings(db).filesOf(db, f.listed, f.status);
  if (f.all.length) return intersectAll(ids ? [ids, ...sets] : sets);
  return ids ? intersect(ids, unionAll(sets)) : unionAll(sets);
}

/**
 * Tags alone (no query, no uploader): the whole result from the postings, computed once per
 * request for the count and the tag counts.
 */
function tagFilterResult(db: Executor, p: Plan): Promise<IdSet> | null {
  if (p.candidates || p.uploadedBy != null || !p.listed.length) return null;
  p.tagResult ??= filterByListedTags(db, p);
  return p.tagResult;
}

/** How many files the whole filtered listing holds. */
export async function countFiles(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
): Promise<number> {
  const p = await planFor(db, viewer, args);
  if (!p || p.candidates?.length === 0) return 0;
  if (unfiltered(p)) return p.libraryFiles;
  // With a query, the candidates are the whole result already.
  if (p.candidates) return p.candidates.length;
  const tagged = tagFilterResult(db, p);
  if (tagged) return (await tagged).length;
  const row = await serial(db, (conn) =>
    sql<{ n: number }>`select count(*) as n from (${resultIds(db, p)}) r`.execute(conn),
  );
  return Number(row.rows[0]?.n ?? 0);
}

/**
 * For each tag, how many files of the whole filtered result carry it; tags with none are left
 * out; most first, then by name. The tag rows come with the counts (both queries read `tags`
 * anyway), so the resolver needs no second query.
 */
export async function countTagsOfFiles(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
): Promise<{ tag: TagRow; count: number }[]> {
  const p = await planFor(db, viewer, args);
  if (!p || p.candidates?.length === 0) return [];
  if (unfiltered(p)) {
    const count = tagFilesWith(p.status);
    const rows = await db
      .selectFrom('tags')
      .selectAll()
      .select(count.as('count'))
      .where(count, '>', 0)
      .orderBy('count', 'desc')
      .orderBy('name_key')
      .orderBy('id')
      .execute();
    return rows.map(({ count, ...tag }) => ({ tag, count: Number(count) }));
  }
  const result = p.candidates ?? (await tagFilterResult(db, p));
  if (result && result.length >= searchTuning.tagCountsFromPostings) {
    const counts = await countTagsInPostings(db, result, p.status);
    if (counts) return counts;
  }
  const rows = await serial(db, (conn) =>
    sql<TagRow & { count: number }>`
    select t.*, c.count from (
      select ft.tag_id, count(*) as count
      from (${resultIds(db, p)}) r join file_tags ft on ft.file_id = r.id
      group by ft.tag_id) c
    join tags t on t.id = c.tag_id
    order by c.count desc, t.name_key, t.id`.execute(conn),
  );
  return rows.rows.map(({ count, ...tag }) => ({ tag, count: Number(count) }));
}

/**
 * Tag counts of a large result: its size in common with each tag's postings, in memory. Grouping
 * the links of 149,000 files in SQL took ~300 ms at a million files, of 411,000 (ANY of two
 * popular tags) ~3 s; this reads every tag's postings once per process (and a tag again when it
 * changed) and then tests each of their ids against the result as a bitset. Null when all the
 * tags' postings would not fit in the cache together, or there are over a thousand tags. Tags
 * come ordered by the database (name_key, id, in its collation) and a stable sort puts the counts
 * first, so ties fall as in the SQL path.
 */
async function countTagsInPostings(
  db: Executor,
  result: IdSet,
  status: FileStatus | null,
): Promise<{ tag: TagRow; count: number }[] | null> {
  const files = tagFilesWith(status);
  const tags = await db
    .selectFrom('tags')
    .selectAll()
    .select(files.as('files'))
    .where(files, '>', 0)
    .orderBy('name_key')
    .orderBy('id')
    .execute();
  const postings = tagPostings(db);
  // Every tag's postings must fit in the cache together, or each request would reload them all;
  // and each tag is one query when (re)loaded, so thousands of tags stay with SQL.
  if (tags.length > 1000 || sum(tags.map((t) => Number(t.files))) > postings.maxIds / 2) {
    return null;
  }
  const sets = await postings.filesOf(
    db,
    tags.map((t) => ({ id: t.id, links_version: Number(t.links_version) })),
    status,
  );
  const inResult = new IdBitset(result);
  return tags
    .map(({ files: _files, ...tag }, i) => ({ tag, count: inResult.countIn(sets[i]!) }))
    .filter((c) => c.count > 0)
    .sort((a, b) => b.count - a.count);
}
