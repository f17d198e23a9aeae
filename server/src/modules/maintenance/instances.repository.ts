import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../../db/connection.js';
import type { Executor } from '../../db/database.js';

// All SQL of instance leases (migration 2026-12-01T0900_instance_leases); the blob intents that
// name an instance: blobs/blobs.repository.ts.

/**
 * Now, in epoch ms, by the database's clock on PostgreSQL: instances on several hosts compare
 * lease expiries on one clock, so a host whose clock runs behind cannot make a live instance look
 * lapsed. SQLite has one process, whose clock is the only one.
 */
function dbNow(dialect: Dialect): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`${Date.now()}`;
}

/** Creates or renews the instance's lease until `leaseMs` from now; true if the row existed. */
export async function renewLease(
  db: Executor,
  dialect: Dialect,
  id: string,
  leaseMs: number,
): Promise<boolean> {
  const now = dbNow(dialect);
  const renewed = await db
    .updateTable('instances')
    .set({ heartbeat_at: now, expires_at: sql<number>`${now} + ${leaseMs}` })
    .where('id', '=', id)
    .executeTakeFirst();
  if (renewed.numUpdatedRows > 0n) return true;
  await db
    .insertInto('instances')
    .values({
      id,
      started_at: now,
      heartbeat_at: now,
      expires_at: sql<number>`${now} + ${leaseMs}`,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return false;
}

export async function removeLease(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('instances').where('id', '=', id).execute();
}

/** Which of `ids` hold a lease that has not lapsed. */
export async function liveInstances(
  db: Executor,
  dialect: Dialect,
  ids: readonly string[],
): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db
    .selectFrom('instances')
    .select('id')
    .where('id', 'in', ids)
    .where('expires_at', '>=', dbNow(dialect))
    .execute();
  return new Set(rows.map((r) => r.id));
}

export interface LeaseRow {
  id: string;
  startedAt: number;
  heartbeatAt: number;
  expiresAt: number;
  live: boolean;
}

export async function listLeases(db: Executor, dialect: Dialect): Promise<LeaseRow[]> {
  const rows = await db
    .selectFrom('instances')
    .select(['id', 'started_at', 'heartbeat_at', 'expires_at'])
    .select(sql<number>`case when expires_at >= ${dbNow(dialect)} then 1 else 0 end`.as('live'))
    .orderBy('started_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    startedAt: Number(r.started_at),
    heartbeatAt: Number(r.heartbeat_at),
    expiresAt: Number(r.expires_at),
    live: Number(r.live) === 1,
  }));
}

/** SQLite at start: no other process can be running, so every other lease is a crashed one. */
export async function removeOtherLeases(db: Executor, keep: string): Promise<number> {
  const res = await db.deleteFrom('instances').where('id', '<>', keep).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Removes lapsed leases, except `keep`'s (the caller's own, alive whatever its row says). */
export async function removeLapsedLeases(
  db: Executor,
  dialect: Dialect,
  keep: string | null = null,
): Promise<number> {
  let q = db.deleteFrom('instances').where('expires_at', '<', dbNow(dialect));
  if (keep) q = q.where('id', '<>', keep);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}
