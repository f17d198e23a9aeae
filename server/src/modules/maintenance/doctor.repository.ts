import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../../db/connection.js';
import type { Executor } from '../../db/database.js';
import { rowExists } from '../../db/rows.js';

// All SQL of `npm run doctor` (doctor.ts): integrity checks, every counter that triggers or code
// keep next to the rows it summarises, and the repairs that recompute them from those rows.
// Counter columns are written by triggers only (Database types them as never-written), so the
// repairs use plain SQL. Values are compared as numbers: pg returns bigint sums as strings until
// the connection's type parsers turn them into numbers, and SQLite returns them as numbers.

const num = (v: unknown) => Number(v ?? 0);
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * The repairs of counters: sets `assignments` (each a column recomputed from the rows it
 * summarises) on the rows of `table` whose `key` is in `ids`.
 */
async function recompute(
  db: Executor,
  table: 'files' | 'users' | 'tags' | 'file_tags',
  ids: readonly number[],
  assignments: RawBuilder<unknown>,
  key = 'id',
): Promise<void> {
  if (!ids.length) return;
  await sql`update ${sql.table(table)} set ${assignments}
    where ${sql.ref(key)} in (${sql.join(ids)})`.execute(db);
}

// ---------------------------------------------------------------------------------------------
// Integrity

/** SQLite's own page, b-tree and index check: ['ok'] when sound. */
export async function sqliteIntegrityCheck(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
  return rows.map((r) => r.integrity_check);
}

/** Whether the amcheck extension is installed, available to install, or absent. */
export async function amcheckState(db: Executor): Promise<'installed' | 'available' | 'absent'> {
  const { rows } = await sql<{ installed: string | null }>`
    select installed_version as installed from pg_available_extensions where name = 'amcheck'
  `.execute(db);
  if (!rows.length) return 'absent';
  return rows[0]!.installed ? 'installed' : 'available';
}

/** amcheck's structural check of every b-tree index in the current schema; failures by index. */
export async function pgCheckIndexes(db: Executor): Promise<{ index: string; error: string }[]> {
  const { rows } = await sql<{ name: string; oid: number }>`
    select c.relname as name, c.oid::int as oid from pg_index i
    join pg_class c on c.oid = i.indexrelid
    join pg_am am on am.oid = c.relam
    join pg_namespace n on n.oid = c.relnamespace
    where am.amname = 'btree' and n.nspname = current_schema() and i.indisvalid
    order by c.relname`.execute(db);
  const failures: { index: string; error: string }[] = [];
  for (const row of rows) {
    try {
      await sql`select bt_index_check(${row.oid}::oid)`.execute(db);
    } catch (err) {
      failures.push({ index: row.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return failures;
}

/** PostgreSQL constraints created NOT VALID and never validated: rows may break them. */
export async function pgUnvalidatedConstraints(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select conname as name from pg_constraint c
    join pg_namespace n on n.oid = c.connamespace
    where n.nspname = current_schema() and not c.convalidated`.execute(db);
  return rows.map((r) => r.name);
}

// The references the schema declares, checked by query on both databases: SQLite enforces them
// only on connections that turned foreign keys on, and a restore or manual edit may not have.
const REFERENCES: [table: string, column: string, targets: string[], targetColumn: string][] = [
  ['files', 'sha256', ['blobs'], 'sha256'],
  ['files', 'uploaded_by', ['users'], 'id'],
  ['file_tags', 'file_id', ['files'], 'id'],
  ['file_tags', 'tag_id', ['tags'], 'id'],
  // A download keeps its file's id while the file is in the trash (no declared key for that).
  ['downloads', 'file_id', ['files', 'trashed_files'], 'id'],
  ['downloads', 'user_id', ['users'], 'id'],
  ['sessions', 'user_id', ['users'], 'id'],
  ['api_tokens', 'user_id', ['users'], 'id'],
];

/** Rows whose reference points nowhere, per declared reference. */
export async function danglingReferences(
  db: Executor,
): Promise<{ reference: string; rows: number }[]> {
  const found: { reference: string; rows: number }[] = [];
  for (const [table, column, targets, targetColumn] of REFERENCES) {
    const nowhere = targets.map(
      (target) => sql`not exists (
        select 1 from ${sql.table(target)} r where r.${sql.ref(targetColumn)} = t.${sql.ref(column)})`,
    );
    const { rows } = await sql<{ n: number }>`
      select count(*) as n from ${sql.table(table)} t
      where t.${sql.ref(column)} is not null and ${sql.join(nowhere, sql` and `)}
    `.execute(db);
    const n = num(rows[0]?.n);
    const target = targets.map((t) => `${t}.${targetColumn}`).join(' or ');
    if (n) found.push({ reference: `${table}.${column} → ${target}`, rows: n });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Counters

export interface FileDownloadDrift {
  id: number;
  name: string;
  storedCount: number;
  countedCount: number;
  storedLast: number | null;
  countedLast: number | null;
}

/** files.download_count and last_downloaded_at against the file's download rows. */
export async function fileDownloadDrift(db: Executor): Promise<FileDownloadDrift[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select f.id, f.name, f.download_count, f.last_downloaded_at, d.n, d.last
    from files f left join (
      select file_id, count(*) as n, max(at) as last from downloads
      where file_id is not null group by file_id) d on d.file_id = f.id
    where f.download_count <> coalesce(d.n, 0)
       or coalesce(f.last_downloaded_at, -1) <> coalesce(d.last, -1)
    order by f.id`.execute(db);
  return rows.map((r) => ({
    id: num(r.id),
    name: String(r.name),
    storedCount: num(r.download_count),
    countedCount: num(r.n),
    storedLast: numOrNull(r.last_downloaded_at),
    countedLast: numOrNull(r.last),
  }));
}

/** Recomputes both from the download rows (the tags' download sums follow by trigger). */
export const repairFileDownloads = (db: Executor, ids: readonly number[]) =>
  recompute(
    db,
    'files',
    ids,
    sql`
      download_count = (select count(*) from downloads d where d.file_id = files.id),
      last_downloaded_at = (select max(at) from downloads d where d.file_id = files.id)`,
  );

export interface UserCounterDrift {
  id: number;
  email: string;
  stored: number;
  counted: number;
}

/** Users whose `column` differs from `counted`, a subquery of (owner_id, n) per user. */
async function userCounterDrift(
  db: Executor,
  column: 'download_count' | 'used_bytes',
  counted: RawBuilder<unknown>,
): Promise<UserCounterDrift[]> {
  const stored = sql.ref(`u.${column}`);
  const { rows } = await sql<Record<string, unknown>>`
    select u.id, u.email, ${stored} as stored, c.n
    from users u left join (${counted}) c on c.owner_id = u.id
    where ${stored} <> coalesce(c.n, 0)
    order by u.id`.execute(db);
  return rows.map((r) => userDrift(r, r.stored, r.n));
}

/** A user's row of a drift query: its id and email, and the counter's stored and counted value. */
const userDrift = (r: Record<string, unknown>, stored: unknown, counted: unknown) => ({
  id: num(r.id),
  email: String(r.email),
  stored: num(stored),
  counted: num(counted ?? 0),
});

/** users.download_count against the user's download rows (they stay when files go). */
export const userDownloadDrift = (db: Executor): Promise<UserCounterDrift[]> =>
  userCounterDrift(
    db,
    'download_count',
    sql`select user_id as owner_id, count(*) as n from downloads
        where user_id is not null group by user_id`,
  );

export const repairUserDownloads = (db: Executor, ids: readonly number[]) =>
  recompute(
    db,
    'users',
    ids,
    sql`download_count = (select count(*) from downloads d where d.user_id = users.id)`,
  );

export interface UserUploadDrift {
  id: number;
  email: string;
  stored: number;
  counted: number;
  storedHidden: number;
  countedHidden: number;
}

/** users.upload_count and users.uploads_hidden against the user's files (ACTIVE+HIDDEN, HIDDEN). */
export async function userUploadDrift(db: Executor): Promise<UserUploadDrift[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select u.id, u.email, u.upload_count, u.uploads_hidden, f.n, f.hidden
    from users u left join (
      select uploaded_by, count(*) as n,
        sum(case when status = 'HIDDEN' then 1 else 0 end) as hidden
      from files where uploaded_by is not null group by uploaded_by
    ) f on f.uploaded_by = u.id
    where u.upload_count <> coalesce(f.n, 0) or u.uploads_hidden <> coalesce(f.hidden, 0)
    order by u.id`.execute(db);
  return rows.map((r) => ({
    ...userDrift(r, r.upload_count, r.n),
    storedHidden: num(r.uploads_hidden),
    countedHidden: num(r.hidden ?? 0),
  }));
}

export type UserBytesDrift = UserCounterDrift;

/** users.used_bytes against the sizes of the user's files, trashed ones included. */
export const userBytesDrift = (db: Executor): Promise<UserBytesDrift[]> =>
  userCounterDrift(
    db,
    'used_bytes',
    sql`select uploaded_by as owner_id, sum(size) as n from (
          select uploaded_by, size from files
          union all select uploaded_by, size from trashed_files
        ) a where uploaded_by is not null group by uploaded_by`,
  );

/** Recounts used_bytes from the user's files and trash. */
export const repairUserBytes = (db: Executor, ids: readonly number[]) =>
  recompute(
    db,
    'users',
    ids,
    sql`used_bytes =
      coalesce((select sum(size) from files f where f.uploaded_by = users.id), 0)
      + coalesce((select sum(size) from trashed_files f where f.uploaded_by = users.id), 0)`,
  );

/** Recounts both from the user's files. */
export const repairUserUploads = (db: Executor, ids: readonly number[]) =>
  recompute(
    db,
    'users',
    ids,
    sql`
      upload_count = (select count(*) from files f where f.uploaded_by = users.id),
      uploads_hidden = (
        select count(*) from files f where f.uploaded_by = users.id and f.status = 'HIDDEN'
      )`,
  );

export interface BlobRefDrift {
  sha256: string;
  stored: number;
  counted: number;
}

/**
 * blobs.ref_count against the files using the blob, trashed ones included (they keep their blob
 * until purged); counted 0 means a row that should be gone.
 */
export async function blobRefDrift(db: Executor): Promise<BlobRefDrift[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select b.sha256, b.ref_count, f.n
    from blobs b left join (
      select sha256, count(*) as n from (
        select sha256 from files union all select sha256 from trashed_files
      ) u group by sha256
    ) f
      on f.sha256 = b.sha256
    where b.ref_count <> coalesce(f.n, 0)
    order by b.sha256`.execute(db);
  return rows.map((r) => ({
    sha256: String(r.sha256),
    stored: num(r.ref_count),
    counted: num(r.n),
  }));
}

/** Sets the blob's ref_count to its files; run under the blob's lock. */
export async function repairBlobRef(db: Executor, sha256: string): Promise<void> {
  await sql`
    update blobs set ref_count =
      (select count(*) from files f where f.sha256 = blobs.sha256)
      + (select count(*) from trashed_files f where f.sha256 = blobs.sha256)
    where sha256 = ${sha256}`.execute(db);
}

/** Deletes the blob row if no file uses it; run under the blob's lock. True if it was deleted. */
export async function deleteUnusedBlobRow(db: Executor, sha256: string): Promise<boolean> {
  const res = await sql`
    delete from blobs where sha256 = ${sha256}
      and not exists (select 1 from files f where f.sha256 = ${sha256})
      and not exists (select 1 from trashed_files f where f.sha256 = ${sha256})`.execute(db);
  return num(res.numAffectedRows) > 0;
}

export interface TagCounterDrift {
  id: number;
  name: string;
  stored: TagCounters;
  counted: TagCounters;
}

export interface TagCounters {
  filesActive: number;
  filesHidden: number;
  downloadsActive: number;
  downloadsHidden: number;
}

const TAG_COUNTS = sql`
  select ft.tag_id,
    sum(case when f.status = 'ACTIVE' then 1 else 0 end) as fa,
    sum(case when f.status <> 'ACTIVE' then 1 else 0 end) as fh,
    sum(case when f.status = 'ACTIVE' then f.download_count else 0 end) as da,
    sum(case when f.status <> 'ACTIVE' then f.download_count else 0 end) as dh
  from file_tags ft join files f on f.id = ft.file_id group by ft.tag_id`;

/** The four per-tag counters against the tag's links and their files. */
export async function tagCounterDrift(db: Executor): Promise<TagCounterDrift[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select t.id, t.name, t.files_active, t.files_hidden, t.downloads_active, t.downloads_hidden,
      c.fa, c.fh, c.da, c.dh
    from tags t left join (${TAG_COUNTS}) c on c.tag_id = t.id
    where t.files_active <> coalesce(c.fa, 0) or t.files_hidden <> coalesce(c.fh, 0)
       or t.downloads_active <> coalesce(c.da, 0) or t.downloads_hidden <> coalesce(c.dh, 0)
    order by t.id`.execute(db);
  return rows.map((r) => ({
    id: num(r.id),
    name: String(r.name),
    stored: {
      filesActive: num(r.files_active),
      filesHidden: num(r.files_hidden),
      downloadsActive: num(r.downloads_active),
      downloadsHidden: num(r.downloads_hidden),
    },
    counted: {
      filesActive: num(r.fa),
      filesHidden: num(r.fh),
      downloadsActive: num(r.da),
      downloadsHidden: num(r.dh),
    },
  }));
}

export function repairTagCounters(db: Executor, ids: readonly number[]): Promise<void> {
  const of = (where: string, value: string) =>
    sql.raw(`(select coalesce(sum(${value}), 0) from file_tags ft join files f on f.id = ft.file_id
              where ft.tag_id = tags.id and ${where})`);
  return recompute(
    db,
    'tags',
    ids,
    sql`
      files_active = ${of("f.status = 'ACTIVE'", '1')},
      files_hidden = ${of("f.status <> 'ACTIVE'", '1')},
      downloads_active = ${of("f.status = 'ACTIVE'", 'f.download_count')},
      downloads_hidden = ${of("f.status <> 'ACTIVE'", 'f.download_count')}`,
  );
}

export interface TotalDrift {
  status: string;
  stored: number | null;
  counted: number;
}

/** file_totals per status (ACTIVE and HIDDEN rows must exist) against the files. */
export async function fileTotalsDrift(db: Executor): Promise<TotalDrift[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select s.status, t.files, (select count(*) from files f where f.status = s.status) as n
    from (select 'ACTIVE' as status union all select 'HIDDEN') s
    left join file_totals t on t.status = s.status`.execute(db);
  return rows
    .map((r) => ({ status: String(r.status), stored: numOrNull(r.files), counted: num(r.n) }))
    .filter((r) => r.stored !== r.counted);
}

export async function repairFileTotals(db: Executor): Promise<void> {
  await sql`
    insert into file_totals (status, files) values ('ACTIVE', 0), ('HIDDEN', 0)
    on conflict (status) do nothing`.execute(db);
  await sql`
    update file_totals set files = (select count(*) from files f where f.status = file_totals.status)
  `.execute(db);
}

export interface HourDrift {
  hour: number;
  stored: number | null;
  counted: number;
}

/** download_hours against the download rows, hour by hour (a year is 8,760 rows). */
export async function downloadHoursDrift(db: Executor): Promise<HourDrift[]> {
  const stored = await sql<Record<string, unknown>>`
    select hour, downloads from download_hours`.execute(db);
  const counted = await sql<Record<string, unknown>>`
    select at - at % 3600000 as hour, count(*) as n from downloads group by 1`.execute(db);
  const byHour = new Map<number, HourDrift>();
  for (const r of stored.rows) {
    byHour.set(num(r.hour), { hour: num(r.hour), stored: num(r.downloads), counted: 0 });
  }
  for (const r of counted.rows) {
    const hour = num(r.hour);
    const row = byHour.get(hour) ?? { hour, stored: null, counted: 0 };
    row.counted = num(r.n);
    byHour.set(hour, row);
  }
  // Hours whose downloads were all deleted keep a row at 0: that is what the triggers leave.
  return [...byHour.values()]
    .filter((r) => (r.stored ?? 0) !== r.counted)
    .sort((a, b) => a.hour - b.hour);
}

export async function repairDownloadHour(db: Executor, hour: number): Promise<void> {
  await sql`
    insert into download_hours (hour, downloads)
      values (${hour}, (select count(*) from downloads where at >= ${hour} and at < ${hour + 3_600_000}))
    on conflict (hour) do update set downloads = excluded.downloads`.execute(db);
}

export interface LinkDrift {
  fileId: number;
  tagId: number;
  stored: number;
  expected: number;
}

/** file_tags.active against the file's status. */
export async function linkActiveDrift(db: Executor): Promise<LinkDrift[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select ft.file_id, ft.tag_id, ft.active,
      case when f.status = 'ACTIVE' then 1 else 0 end as expected
    from file_tags ft join files f on f.id = ft.file_id
    where ft.active <> case when f.status = 'ACTIVE' then 1 else 0 end
    order by ft.file_id, ft.tag_id`.execute(db);
  return rows.map((r) => ({
    fileId: num(r.file_id),
    tagId: num(r.tag_id),
    stored: num(r.active),
    expected: num(r.expected),
  }));
}

export const repairLinkActive = (db: Executor, fileIds: readonly number[]) =>
  recompute(
    db,
    'file_tags',
    fileIds,
    sql`active = (
      select case when f.status = 'ACTIVE' then 1 else 0 end from files f where f.id = file_tags.file_id)`,
    'file_id',
  );

/**
 * Files whose row in the trigger-kept search index is missing, extra or out of date: SQLite's two
 * FTS5 tables (one per visibility), PostgreSQL's file_search.
 */
export async function searchIndexDrift(db: Executor, dialect: Dialect): Promise<number[]> {
  const { rows } =
    dialect === 'postgres'
      ? await sql<{ id: number }>`
          select coalesce(f.id, s.id) as id from files f full join file_search s on s.id = f.id
          where f.id is null or s.id is null or s.name_lower <> lower(f.name)
             or s.status <> f.status or s.uploaded_by is distinct from f.uploaded_by
             or s.created_at <> f.created_at or s.size <> f.size
          order by 1`.execute(db)
      : await sql<{ id: number }>`
          select id from files where status = 'ACTIVE'
            and id not in (select rowid from files_fts_active)
          union select id from files where status <> 'ACTIVE'
            and id not in (select rowid from files_fts_hidden)
          union select rowid from files_fts_active
            where rowid not in (select id from files where status = 'ACTIVE')
          union select rowid from files_fts_hidden
            where rowid not in (select id from files where status <> 'ACTIVE')
          union select f.id from files f join files_fts_active a on a.rowid = f.id
            where a.name <> lower(f.name)
          union select f.id from files f join files_fts_hidden h on h.rowid = f.id
            where h.name <> lower(f.name)
          order by 1`.execute(db);
  return rows.map((r) => num(r.id));
}

export async function repairSearchIndex(
  db: Executor,
  dialect: Dialect,
  ids: readonly number[],
): Promise<void> {
  if (!ids.length) return;
  const list = sql.join(ids);
  if (dialect === 'postgres') {
    await sql`delete from file_search where id in (${list})`.execute(db);
    await sql`
      insert into file_search (id, name_lower, status, uploaded_by, created_at, size)
      select id, lower(name), status, uploaded_by, created_at, size from files
      where id in (${list})`.execute(db);
    return;
  }
  for (const [table, where] of [
    ['files_fts_active', "status = 'ACTIVE'"],
    ['files_fts_hidden', "status <> 'ACTIVE'"],
  ] as const) {
    await sql`delete from ${sql.table(table)} where rowid in (${list})`.execute(db);
    await sql`
      insert into ${sql.table(table)} (rowid, name)
      select id, lower(name) from files where id in (${list}) and ${sql.raw(where)}`.execute(db);
  }
}

// ---------------------------------------------------------------------------------------------
// Blobs against storage

/** Blob rows in SHA-256 order after `after`, a page at a time (keyset, constant memory). */
export async function blobRowsAfter(
  db: Executor,
  after: string,
  limit: number,
): Promise<{ sha256: string; size: number }[]> {
  const rows = await db
    .selectFrom('blobs')
    .select(['sha256', 'size'])
    .where('sha256', '>', after)
    .orderBy('sha256')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ sha256: r.sha256, size: Number(r.size) }));
}

/** The files whose bytes are `sha256`, for a report that names them. */
export async function filesOfBlob(
  db: Executor,
  sha256: string,
): Promise<{ id: number; name: string }[]> {
  return db
    .selectFrom('files')
    .select(['id', 'name'])
    .where('sha256', '=', sha256)
    .orderBy('id')
    .execute();
}

export const blobRowExists = (db: Executor, sha256: string) => rowExists(db, 'blobs', { sha256 });
