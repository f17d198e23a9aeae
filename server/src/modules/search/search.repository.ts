import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Dialect } from '../../db/connection.js';
import type { Database, Executor, FileRow, FileStatus, TagRow } from '../../db/database.js';
import { escapeLike } from '../../db/text-search.js';
import { linkActive, parseNumberList, toIdSet, type IdSet } from './postings.js';

// Every statement search runs, for both dialects. What to run when is the service's choice
// (search.service.ts); the indexes these statements count on and why are in SEARCH.md.

export type FileOrder = 'NEWEST' | 'OLDEST' | 'NAME' | 'LARGEST' | 'MOST_DOWNLOADED';

/** The columns of each order (each ends with the id) and the index family walked for it. */
export const ORDERS: Record<FileOrder, { columns: string[]; dir: 'asc' | 'desc'; index: string }> =
  {
    NEWEST: { columns: ['created_at', 'id'], dir: 'desc', index: 'created' },
    OLDEST: { columns: ['created_at', 'id'], dir: 'asc', index: 'created' },
    NAME: { columns: ['name_sort', 'id'], dir: 'asc', index: 'name' },
    LARGEST: { columns: ['size', 'id'], dir: 'desc', index: 'size' },
    MOST_DOWNLOADED: { columns: ['download_count', 'id'], dir: 'desc', index: 'downloads' },
  };

/** SQLite: the index of each family with a leading status column, and the one without. */
const INDEXES: Record<string, [withStatus: string, without: string]> = {
  created: ['files_status_created', 'files_created_at'],
  name: ['files_status_name_sort', 'files_name_sort'],
  size: ['files_status_size', 'files_size'],
  downloads: ['files_status_downloads', 'files_downloads'],
};

/** The conditions of a listing, already resolved against the database by the service. */
export interface Filter {
  status: FileStatus | null;
  uploadedBy: number | null;
  /** With a query: the whole result, every other condition met already. */
  candidates: IdSet | null;
  all: number[];
  any: number[];
  /** For ALL: the listed tag carrying the fewest files, and how many. */
  rarest: { tagId: number; files: number } | null;
  /** For ALL: how many files (any status) carry each listed tag. */
  tagFiles: Map<number, number>;
}

/** GLOB on the lowered name: only `*`, `?` and `[` are special, each escaped as a class. */
const escapeGlob = (text: string) => text.replace(/[*?[]/g, (c) => `[${c}]`);

/** Files in the library with the status (null: any), from the trigger-kept totals. */
export async function countLibraryFiles(db: Executor, status: FileStatus | null): Promise<number> {
  const totals = await db.selectFrom('file_totals').select(['status', 'files']).execute();
  return totals
    .filter((t) => !status || t.status === status)
    .reduce((sum, t) => sum + Number(t.files), 0);
}

/** The listed tags that exist: their sizes for choosing a plan, their versions for postings. */
export const readListedTags = (db: Executor, tagIds: readonly number[]) =>
  db
    .selectFrom('tags')
    .select(['id', 'links_version', sql<number>`files_active + files_hidden`.as('files')])
    .where('id', 'in', tagIds)
    .execute();

/**
 * Ids (and, when `keyColumn` is given, each one's value of it) of the files with the status and
 * uploader whose lower-cased name contains `lowered`.
 */
export function readNameMatches(
  db: Executor,
  dialect: Dialect,
  lowered: string,
  status: FileStatus | null,
  uploadedBy: number | null,
  keyColumn: string | null,
): Promise<{ ids: number[]; keys: number[] | null }> {
  return dialect === 'postgres'
    ? pgNameMatches(db, lowered, status, uploadedBy, keyColumn)
    : sqliteNameMatches(db, lowered, status, uploadedBy).then((ids) => ({ ids, keys: null }));
}

/**
 * PostgreSQL: from file_search, a narrow trigger-kept copy with the pg_trgm GIN index (migration
 * 2026-11-25T1300_pg_file_search). Materialized: the planner misjudges the selectivity of the
 * pattern and would otherwise start from the visibility conditions. Aggregated into one string:
 * 12,605 row objects cost ~10 ms and most of the variance.
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
 * SQLite: from the FTS5 trigram table of each status the viewer may see (migration
 * 2026-11-30T1000). Three characters or more are a trigram phrase, exact from the index
 * positions; shorter ones have no trigram and scan the table's names with GLOB. The ids come back
 * as one comma-separated value, not one row object each.
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

/** Ids (and `keyColumn` values) of the files with the status and uploader carrying a tag. */
export async function readTaggedFiles(
  db: Executor,
  dialect: Dialect,
  tagIds: readonly number[],
  status: FileStatus | null,
  uploadedBy: number | null,
  keyColumn: string | null,
): Promise<{ id: number; key?: number }[]> {
  const checks = [
    ...(status ? [sql`v.status = ${sql.lit(status)}`] : []),
    ...(uploadedBy != null ? [sql`v.uploaded_by = ${uploadedBy}`] : []),
  ];
  const v = dialect === 'postgres' ? sql`files v` : sql`files v indexed by files_visibility`;
  const tagged = await sql<{ id: number; key?: number }>`
    select distinct l.file_id as id
      ${keyColumn ? sql`, (select ${sql.ref(`k.${keyColumn}`)} from files k where k.id = l.file_id) as key` : sql``}
    from file_tags l
    where l.tag_id in (${sql.join(tagIds)}) ${
      checks.length
        ? sql`and exists (select 1 from ${v} where v.id = l.file_id and ${sql.join(checks, sql` and `)})`
        : sql``
    }`.execute(db);
  return tagged.rows;
}

/**
 * One tag's file ids for one visibility (file_tags.active; null: both), as a single
 * comma-separated value rather than 100,000s of rows (PostgreSQL's string_agg beat json_agg and
 * array_agg here: ~70 against ~90 and ~180 ms for 300,000 ids, parsing included).
 */
export async function readTagFileIds(
  db: Executor,
  dialect: Dialect,
  tagId: number,
  active: number | null,
): Promise<IdSet> {
  const list =
    dialect === 'postgres' ? sql`string_agg(file_id::text, ',')` : sql`group_concat(file_id)`;
  const row = (
    await sql<{ ids: string | null }>`select ${list} as ids
      from file_tags where tag_id = ${tagId}
      ${active === null ? sql`` : sql`and active = ${active}`}`.execute(db)
  ).rows[0];
  return toIdSet(parseNumberList(row?.ids));
}

/**
 * Runs counting queries without PostgreSQL's parallel workers: on a small machine serving
 * concurrent requests they compete for the same cores, and a merge join of two index-only scans
 * (~30 ms for two popular tags) beats a parallel hash join (~90–300 ms under load).
 */
async function serial<T>(
  db: Executor,
  dialect: Dialect,
  run: (conn: Executor) => Promise<T>,
): Promise<T> {
  if (dialect !== 'postgres') return run(db);
  if (db.isTransaction) {
    // A read snapshot (db/snapshot.ts): for the rest of it, which is this request's reads.
    await sql`set local max_parallel_workers_per_gather = 0`.execute(db);
    return run(db);
  }
  return (db as Kysely<Database>).connection().execute(async (conn) => {
    await sql`set max_parallel_workers_per_gather = 0`.execute(conn);
    try {
      return await run(conn);
    } finally {
      await sql`reset max_parallel_workers_per_gather`.execute(conn);
    }
  });
}

/** A set of ids as a one-column subquery, passed as one parameter whatever its size. */
function idSet(dialect: Dialect, ids: IdSet): RawBuilder<unknown> {
  const list = Array.from(ids);
  return dialect === 'postgres'
    ? sql`(select unnest(${list}::int[]) as id)`
    : sql`(select value as id from json_each(${JSON.stringify(list)}))`;
}

const hasTag = (fileId: RawBuilder<unknown>, tagId: number) =>
  sql<SqlBool>`exists (select 1 from file_tags ft where ft.file_id = ${fileId} and ft.tag_id = ${tagId})`;

const hasAnyTag = (fileId: RawBuilder<unknown>, tagIds: readonly number[]) =>
  sql<SqlBool>`exists (select 1 from file_tags ft where ft.file_id = ${fileId} and ft.tag_id in (${sql.join(tagIds)}))`;

/** The conditions of a filter on `files` (aliased `files`), except those on `skipTag`. */
function conditions(dialect: Dialect, f: Filter, skipTag?: number): Expression<SqlBool>[] {
  const id = sql`files.id`;
  const out: Expression<SqlBool>[] = [];
  if (f.status) out.push(sql<SqlBool>`files.status = ${sql.lit(f.status)}`);
  if (f.candidates) {
    out.push(sql<SqlBool>`files.id in ${idSet(dialect, f.candidates)}`);
    return out;
  }
  if (f.uploadedBy != null) out.push(sql<SqlBool>`files.uploaded_by = ${f.uploadedBy}`);
  for (const t of f.all) if (t !== skipTag) out.push(hasTag(id, t));
  if (f.any.length) out.push(hasAnyTag(id, f.any));
  return out;
}

/**
 * One page of the filtered files in `order`. `drive`: start from the smaller of the candidates
 * and the rarest tag's links (one row lookup each, then a sort) instead of walking the order's
 * index and testing each row.
 */
export async function readFilesPage(
  db: Executor,
  dialect: Dialect,
  f: Filter,
  orderName: FileOrder,
  drive: boolean,
  page: { limit: number; offset: number },
): Promise<FileRow[]> {
  const order = ORDERS[orderName];
  const orderBy = sql.join(
    order.columns.map((c) => sql`${sql.ref(`files.${c}`)} ${sql.raw(order.dir)}`),
  );
  let from = sql`files`;
  if (dialect === 'sqlite' && !drive && f.uploadedBy == null) {
    // SQLite cannot estimate how many ids a subquery or EXISTS keeps, and tends to drive from
    // them; walking the order's index is far cheaper when the result is dense.
    const [withStatus, without] = INDEXES[order.index]!;
    from = sql`files indexed by ${sql.id(f.status ? withStatus : without)}`;
  }
  let where = conditions(dialect, f);
  if (drive && f.rarest && (f.candidates?.length ?? Infinity) > f.rarest.files) {
    where = [
      sql<SqlBool>`files.id in (select file_id from file_tags where tag_id = ${f.rarest.tagId})`,
      ...conditions(dialect, f, f.rarest.tagId),
    ];
  }
  const whereSql = where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``;
  if (dialect === 'postgres') {
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

/** Files by id, in the order of `ids`. */
export async function readFilesInOrder(db: Executor, ids: number[]): Promise<FileRow[]> {
  if (!ids.length) return [];
  const rows = await db.selectFrom('files').selectAll().where('id', 'in', ids).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/**
 * The ids of the whole filtered result as a query (for counting): driven by the candidates, or
 * by the rarest ALL tag, with visibility read from the narrow files_visibility index on SQLite.
 */
function resultIds(dialect: Dialect, f: Filter) {
  const pg = dialect === 'postgres';
  const files = pg ? sql`files` : sql`files indexed by files_visibility`;
  if (f.candidates) return sql`select c.id from ${idSet(dialect, f.candidates)} c`;
  if (f.rarest && f.uploadedBy == null) {
    // Links carry their file's visibility (file_tags.active), so tags alone never read a file.
    const active = linkActive(f.status);
    const range = (link: string, tagId: number) =>
      sql`${sql.ref(`${link}.tag_id`)} = ${tagId}
        ${active === null ? sql`` : sql`and ${sql.ref(`${link}.active`)} = ${active}`}`;
    const sizes = f.all.map((t) => f.tagFiles.get(t) ?? 0);
    if (f.all.length > 1 && !f.any.length && sum(sizes) <= 4 * f.rarest.files) {
      // Tags of similar sizes: merge their (tag_id, active, file_id) ranges, both sorted by
      // file id. SQLite runs INTERSECT as a merge of the two index scans; PostgreSQL a merge or
      // hash join of index-only scans.
      if (!pg) {
        return sql.join(
          f.all.map((t) => sql`select l.file_id as id from file_tags l where ${range('l', t)}`),
          sql` intersect `,
        );
      }
      const joins = f.all
        .slice(1)
        .map(
          (t, i) =>
            sql`join file_tags ${sql.id(`l${i + 1}`)} on ${sql.ref(`l${i + 1}.file_id`)} = l0.file_id and ${range(`l${i + 1}`, t)}`,
        );
      return sql`select l0.file_id as id from file_tags l0 ${sql.join(joins, sql` `)}
        where ${range('l0', f.all[0]!)}`;
    }
    // Otherwise start from the rarest tag's links and probe the others (primary key).
    const others = f.all.filter((t) => t !== f.rarest!.tagId);
    const checks = [
      ...others.map((t) => hasTag(sql`l.file_id`, t)),
      ...(f.any.length ? [hasAnyTag(sql`l.file_id`, f.any)] : []),
    ];
    return sql`select l.file_id as id from file_tags l where ${range('l', f.rarest.tagId)}
      ${checks.length ? sql`and ${sql.join(checks, sql` and `)}` : sql``}`;
  }
  if (f.rarest) {
    // With an uploader: links of the rarest tag first; the other tags are probed on the link
    // (cheap, covering) before the file's row is checked, so only survivors pay for that.
    const others = f.all.filter((t) => t !== f.rarest!.tagId);
    const id = sql`l.file_id`;
    const checks = [
      ...others.map((t) => hasTag(id, t)),
      ...(f.any.length ? [hasAnyTag(id, f.any)] : []),
      ...(f.status ? [sql<SqlBool>`files.status = ${sql.lit(f.status)}`] : []),
      sql<SqlBool>`files.uploaded_by = ${f.uploadedBy}`,
    ];
    return sql`select l.file_id as id from file_tags l
      ${pg ? sql`join` : sql`cross join`} ${files} on files.id = l.file_id
      where l.tag_id = ${f.rarest.tagId} and ${sql.join(checks, sql` and `)}`;
  }
  const where = conditions(dialect, f);
  return sql`select files.id from files ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}`;
}

/** How many files the filtered result holds, counted in SQL. */
export async function countResult(db: Executor, dialect: Dialect, f: Filter): Promise<number> {
  const row = await serial(db, dialect, (conn) =>
    sql<{ n: number }>`select count(*) as n from (${resultIds(dialect, f)}) r`.execute(conn),
  );
  return Number(row.rows[0]?.n ?? 0);
}

/** A tag's files with the status (null: either), from its trigger-kept counters. */
const tagFilesWith = (status: FileStatus | null) =>
  status === 'ACTIVE'
    ? sql<number>`files_active`
    : status === 'HIDDEN'
      ? sql<number>`files_hidden`
      : sql<number>`files_active + files_hidden`;

/**
 * Tags with files of the status, by name_key then id (the database's collation), each with how
 * many files of the status carry it (`files`).
 */
export const readTagsWithFiles = (db: Executor, status: FileStatus | null) => {
  const files = tagFilesWith(status);
  return db
    .selectFrom('tags')
    .selectAll()
    .select(files.as('files'))
    .where(files, '>', 0)
    .orderBy('name_key')
    .orderBy('id')
    .execute();
};

/** Tag counts of the whole library (no filter): the trigger-kept counters, most first. */
export async function libraryTagCounts(
  db: Executor,
  status: FileStatus | null,
): Promise<{ tag: TagRow; count: number }[]> {
  const count = tagFilesWith(status);
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

/** Tag counts of a filtered result, by grouping its links in SQL; most first, then by name. */
export async function resultTagCounts(
  db: Executor,
  dialect: Dialect,
  f: Filter,
): Promise<{ tag: TagRow; count: number }[]> {
  const rows = await serial(db, dialect, (conn) =>
    sql<TagRow & { count: number }>`
    select t.*, c.count from (
      select ft.tag_id, count(*) as count
      from (${resultIds(dialect, f)}) r join file_tags ft on ft.file_id = r.id
      group by ft.tag_id) c
    join tags t on t.id = c.tag_id
    order by c.count desc, t.name_key, t.id`.execute(conn),
  );
  return rows.rows.map(({ count, ...tag }) => ({ tag, count: Number(count) }));
}

/** What the short-name index keeps of a file. */
export interface IndexedFile {
  id: number;
  name: string;
  status: FileStatus;
  uploaded_by: number | null;
}

const indexedFiles = (db: Executor) =>
  db.selectFrom('files').select(['id', 'name', 'status', 'uploaded_by']);

/** Up to `limit` files with ids above `afterId`, by id: the short-name index is built in chunks. */
export const readIndexedFiles = (db: Executor, afterId: number, limit: number) =>
  indexedFiles(db).where('id', '>', afterId).orderBy('id').limit(limit).execute() as Promise<
    IndexedFile[]
  >;

/** The files of `ids` that still exist. */
export const readIndexedFilesByIds = (db: Executor, ids: readonly number[]) =>
  indexedFiles(db).where('id', 'in', ids).execute() as Promise<IndexedFile[]>;

/**
 * Where a build of the name index starts: the last entry of the change log and the highest file
 * id (each 0 when there is none), read together so they describe one moment.
 */
export async function readIndexStart(db: Executor): Promise<{ lastSeq: number; maxId: number }> {
  const row = await sql<{ seq: number | null; id: number | null }>`
    select (select max(seq) from file_name_changes) as seq, (select max(id) from files) as id`.execute(
    db,
  );
  return { lastSeq: Number(row.rows[0]?.seq ?? 0), maxId: Number(row.rows[0]?.id ?? 0) };
}

/**
 * Change log entries after `afterSeq`, and those written since `since` (epoch ms) whatever their
 * number: on PostgreSQL a lower number can commit after a higher one was read. `first`: the
 * oldest entry kept (null: none), to tell whether entries the caller needs were pruned. One
 * statement: every search asks, and on a busy machine each round trip costs.
 */
export async function readNameChanges(
  db: Executor,
  afterSeq: number,
  since: number,
): Promise<{ first: number | null; changes: { seq: number; file_id: number; at: number }[] }> {
  // The row without a file (file_id is never null in the log) carries the oldest seq.
  const rows = await sql<{ seq: number | null; file_id: number | null; at: number | null }>`
    select seq, file_id, at from file_name_changes where seq > ${afterSeq} or at >= ${since}
    union all
    select min(seq), null, null from file_name_changes`.execute(db);
  let first: number | null = null;
  const changes: { seq: number; file_id: number; at: number }[] = [];
  for (const r of rows.rows) {
    if (r.file_id == null) first = r.seq == null ? null : Number(r.seq);
    else changes.push({ seq: Number(r.seq), file_id: Number(r.file_id), at: Number(r.at) });
  }
  return { first, changes };
}

/** Removes change log entries older than `before`, always keeping the newest. */
export async function pruneNameChanges(db: Executor, before: number): Promise<void> {
  await db
    .deleteFrom('file_name_changes')
    .where('at', '<', before)
    .where('seq', '<', (eb) =>
      eb.selectFrom('file_name_changes').select((e) => e.fn.max('seq').as('m')),
    )
    .execute();
}

/**
 * Ids of the files with the status (null: any) in `order`, `limit` of them from `offset`, as one
 * aggregated value: a page of a large in-memory result is found by walking the order's index and
 * keeping the ids in the result.
 */
export async function readIdsInOrder(
  db: Executor,
  dialect: Dialect,
  status: FileStatus | null,
  orderName: FileOrder,
  limit: number,
  offset: number,
): Promise<number[]> {
  const order = ORDERS[orderName];
  const orderBy = sql.join(
    order.columns.map((c) => sql`${sql.ref(`files.${c}`)} ${sql.raw(order.dir)}`),
  );
  // The aggregate is ordered too: the order of a subquery's rows is not promised to it.
  const columns = sql.join(order.columns.map((c) => sql.ref(`files.${c}`)));
  const outer = sql.join(order.columns.map((c) => sql`${sql.ref(`p.${c}`)} ${sql.raw(order.dir)}`));
  const where = status ? sql`where files.status = ${sql.lit(status)}` : sql``;
  if (dialect === 'postgres') {
    const row = await sql<{ ids: string | null }>`
      select string_agg(p.id::text, ',' order by ${outer}) as ids from (
        select ${columns} from files ${where} order by ${orderBy} limit ${limit} offset ${offset}) p`.execute(
      db,
    );
    return parseNumberList(row.rows[0]?.ids);
  }
  const [withStatus, without] = INDEXES[order.index]!;
  const row = await sql<{ ids: string | null }>`
    select group_concat(p.id, ',' order by ${outer}) as ids from (
      select ${columns} from files indexed by ${sql.id(status ? withStatus : without)} ${where}
      order by ${orderBy} limit ${limit} offset ${offset}) p`.execute(db);
  return parseNumberList(row.rows[0]?.ids);
}
