import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { deleteRows, rowExists } from '../../db/rows.js';

// All SQL of stored blobs' bookkeeping: the rows that count a blob's files, the advisory lock that
// serializes commits and deletions of one blob across instances, and the intents that let a
// crashed instance's half-done commits be found (migration 2026-12-01T0900_instance_leases).

/** One more file uses the blob: inserts it with one reference, or counts one more, atomically. */
export async function addBlobRef(
  db: Executor,
  blob: { sha256: string; size: number; now: number },
): Promise<void> {
  await db
    .insertInto('blobs')
    .values({ sha256: blob.sha256, size: blob.size, ref_count: 1, created_at: blob.now })
    .onConflict((oc) =>
      oc.column('sha256').doUpdateSet({ ref_count: sql<number>`blobs.ref_count + 1` }),
    )
    .execute();
}

/**
 * `count` files fewer use the blob. Deletes the blob row when those were the last references and
 * resolves to true then: the caller removes the stored object.
 */
export async function releaseBlobRef(db: Executor, sha256: string, count = 1): Promise<boolean> {
  await db
    .updateTable('blobs')
    .set({ ref_count: sql<number>`ref_count - ${count}` })
    .where('sha256', '=', sha256)
    .execute();
  const gone = await db
    .deleteFrom('blobs')
    .where('sha256', '=', sha256)
    .where('ref_count', '<=', 0)
    .executeTakeFirst();
  return gone.numDeletedRows > 0n;
}

export async function blobIsReferenced(db: Executor, sha256: string): Promise<boolean> {
  const row = await db
    .selectFrom('blobs')
    .select('ref_count')
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  return (row?.ref_count ?? 0) > 0;
}

/**
 * Serializes blob commits and deletions of one SHA-256 across instances sharing a PostgreSQL
 * database: a session-level advisory lock on the pinned connection `db` (see blob-lock.ts, beside this file).
 */
export async function lockBlobKey(db: Executor, key: string): Promise<void> {
  await sql`select pg_advisory_lock(${key}::bigint)`.execute(db);
}

export async function unlockBlobKey(db: Executor, key: string): Promise<void> {
  await sql`select pg_advisory_unlock(${key}::bigint)`.execute(db);
}

/** Records that `instance` is about to commit the blob `sha256` to storage. */
export async function addBlobIntent(
  db: Executor,
  instance: string,
  sha256: string,
  now: number,
): Promise<void> {
  await db
    .insertInto('blob_intents')
    .values({ instance_id: instance, sha256, created_at: now })
    .onConflict((oc) => oc.columns(['instance_id', 'sha256']).doNothing())
    .execute();
}

export const removeBlobIntent = (db: Executor, instance: string, sha256: string) =>
  deleteRows(db, 'blob_intents', { instance_id: instance, sha256 });

export interface BlobIntent {
  instance: string;
  sha256: string;
  createdAt: number;
}

/** Every intent; there are only as many as commits in flight, plus a crash's leftovers. */
export async function listBlobIntents(db: Executor): Promise<BlobIntent[]> {
  const rows = await db
    .selectFrom('blob_intents')
    .select(['instance_id', 'sha256', 'created_at'])
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    instance: r.instance_id,
    sha256: r.sha256,
    createdAt: Number(r.created_at),
  }));
}

export const blobIntentExists = (db: Executor, instance: string, sha256: string) =>
  rowExists(db, 'blob_intents', { instance_id: instance, sha256 });
