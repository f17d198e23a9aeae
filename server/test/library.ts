import { sql, type Transaction } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../src/db/database.js';
import { sortKey } from '../src/db/sort-key.js';
import { lockRowsInOrder } from '../src/modules/files/files.repository.js';
import type { TestServer } from './harness.js';

// Direct inserts for tests that need many files, tags or downloads in a given shape (search,
// counts, statistics) without uploading each one through the API.

export interface FileSpec {
  name: string;
  status?: 'ACTIVE' | 'HIDDEN';
  tags?: string[];
  uploadedBy?: number | null;
  size?: number;
  createdAt?: number;
  downloadCount?: number;
}

const BLOB = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Inserts files (and their tags, created when missing); returns the new file ids in order. */
export async function insertFiles(t: TestServer, files: FileSpec[]): Promise<number[]> {
  const db = t.server.connection.db;
  const now = Date.now();
  await db
    .insertInto('blobs')
    .values({ sha256: BLOB, size: 0, ref_count: 0, created_at: now })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
  const ids: number[] = [];
  for (const [i, f] of files.entries()) {
    const row = await db
      .insertInto('files')
      .values({
        name: f.name,
        name_sort: sortKey(f.name),
        original_name: f.name,
        size: f.size ?? 100 + i,
        mime_type: 'application/octet-stream',
        sha256: BLOB,
        status: f.status ?? 'ACTIVE',
        uploaded_by: f.uploadedBy ?? null,
        created_at: f.createdAt ?? now - (files.length - i) * 1000,
        updated_at: now,
        download_count: f.downloadCount ?? 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const name of f.tags ?? []) {
      const key = name.toLowerCase();
      await db
        .insertInto('tags')
        .values({ name, name_key: key, name_sort: sortKey(name), created_at: now })
        .onConflict((oc) => oc.column('name_key').doNothing())
        .execute();
      const tag = await db
        .selectFrom('tags')
        .select('id')
        .where('name_key', '=', key)
        .executeTakeFirstOrThrow();
      await db.insertInto('file_tags').values({ file_id: row.id, tag_id: tag.id }).execute();
    }
    ids.push(row.id);
  }
  // One reference per file, as an upload keeps it: purging them releases the blob in turn.
  await db
    .updateTable('blobs')
    .set((eb) => ({ ref_count: eb('ref_count', '+', files.length) }))
    .where('sha256', '=', BLOB)
    .execute();
  return ids;
}

/**
 * Runs `write` on `downloads` in a transaction that first locks the rows of the files whose
 * downloads it changes, as the server's own writers do: on PostgreSQL a fold of the tags' moves
 * (modules/stats/tag-moves.ts) must not run beside a change to the same files' downloads, or the
 * change is counted by both or by neither.
 */
export async function writeDownloads(
  t: TestServer,
  fileIds: readonly (number | null)[],
  write: (trx: Transaction<Database>) => Promise<unknown>,
): Promise<void> {
  const { db, dialect } = t.server.connection;
  await db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') {
      const ids = [...new Set(fileIds.flatMap((id) => (id === null ? [] : [id])))];
      await lockRowsInOrder(trx, 'files', ids);
      await lockRowsInOrder(trx, 'trashed_files', ids);
    }
    await write(trx);
  });
}

/** Inserts download rows at the given times (epoch ms). */
export async function insertDownloads(
  t: TestServer,
  rows: { fileId: number | null; userId?: number | null; at: number; fileName?: string }[],
): Promise<void> {
  if (!rows.length) return;
  await writeDownloads(
    t,
    rows.map((r) => r.fileId),
    (trx) =>
      trx
        .insertInto('downloads')
        .values(
          rows.map((r) => ({
            file_id: r.fileId,
            file_name: r.fileName ?? `file ${r.fileId}`,
            user_id: r.userId ?? null,
            at: r.at,
          })),
        )
        .execute(),
  );
}

/** Makes an API token for a signed-in user. */
export async function apiToken(t: TestServer, session: string, scopes: string[]): Promise<string> {
  const res = await t.gql<{ createApiToken: { token: string } }>(
    `mutation($scopes: [ApiScope!]!) { createApiToken(name: "test", scopes: $scopes) { token } }`,
    { scopes },
    { token: session },
  );
  if (!res.data?.createApiToken) throw new Error(JSON.stringify(res.errors));
  return res.data.createApiToken.token;
}

/**
 * Checks a throttled "last used" time (db/touch.ts) of one user or session: `request` writes a
 * stale one, and leaves one written within the minute alone.
 */
export async function expectTouchedOncePerMinute(
  t: TestServer,
  row: { table: 'users' | 'sessions'; id: number | string },
  request: () => Promise<unknown>,
): Promise<void> {
  const db = t.server.connection.db;
  const set = (at: number) =>
    sql`update ${sql.table(row.table)} set last_active_at = ${at} where id = ${row.id}`.execute(db);
  const stored = async () =>
    (
      await sql<{ last_active_at: number | null }>`
        select last_active_at from ${sql.table(row.table)} where id = ${row.id}`.execute(db)
    ).rows[0]?.last_active_at;
  await set(1000);
  await request();
  expect(await stored()).toBeGreaterThan(Date.now() - 10_000);
  const recent = Date.now() - 30_000;
  await set(recent);
  await request();
  expect(await stored()).toBe(recent);
}

/** How many rows `table` holds. */
export async function countRows(t: TestServer, table: keyof Database): Promise<number> {
  const row = await t.server.connection.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
