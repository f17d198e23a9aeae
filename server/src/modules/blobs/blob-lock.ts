import type { Db, Executor } from '../../db/database.js';
import type { Dialect } from '../../db/connection.js';
import { addBlobIntent, lockBlobKey, removeBlobIntent, unlockBlobKey } from './blobs.repository.js';

const queuesByDb = new WeakMap<Db, Map<string, Promise<void>>>();
const instanceByDb = new WeakMap<Db, string>();

/**
 * From now on, every blob lock taken on `db` records an intent for `instance` while it is held
 * (null: no more intents). Called by the instance's lease (maintenance/lease.ts).
 */
export function recordBlobIntentsAs(db: Db, instance: string | null): void {
  if (instance) instanceByDb.set(db, instance);
  else instanceByDb.delete(db);
}

/**
 * Runs `fn` while no other commit or deletion of the same blob runs.
 *
 * Why: a blob's row (reference count) and its stored object change in two systems. Without a
 * lock, deleting the last file (row gone, then object deleted) can interleave with an upload of
 * the same bytes (row re-created, object "already there" so the new temp is dropped), leaving a
 * file whose bytes are gone. Under the lock each side sees the other's finished state.
 *
 * One process: an in-process queue per SHA-256. PostgreSQL (possibly several instances): also a
 * session advisory lock held on one pooled connection, which `fn` must use for its queries; if
 * that connection dies the server drops the lock with it. SQLite keeps its single connection free
 * while storage works, so other requests are not blocked behind an S3 copy.
 *
 * Crashes: while the lock is held the instance's intent row (instance, sha256) exists, so a
 * process that dies between changing the object and settling the row (an upload's commit before
 * its transaction, a deletion between its transaction and removing the object) leaves an intent.
 * Once its lease lapsed, the stale sweep (maintenance/stale.ts) deletes the object unless a blobs
 * row references it.
 */
export function createBlobLock(db: Db, dialect: Dialect) {
  // One queue per database handle, not per caller: the stale sweep and the doctor's repairs
  // (modules/maintenance) must wait for this process's uploads of the same blob, and on SQLite
  // this queue is the only lock there is.
  const queues = queuesByDb.get(db) ?? new Map<string, Promise<void>>();
  queuesByDb.set(db, queues);

  return async function withBlobLock<T>(
    sha256: string,
    fn: (db: Executor) => Promise<T>,
  ): Promise<T> {
    const previous = queues.get(sha256) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    queues.set(sha256, tail);
    await previous;
    const instance = instanceByDb.get(db);
    const withIntent = async (conn: Executor): Promise<T> => {
      if (!instance) return fn(conn);
      await addBlobIntent(conn, instance, sha256, Date.now());
      try {
        return await fn(conn);
      } finally {
        // Left behind, it is settled by a sweep once this instance is gone: nothing is lost.
        await removeBlobIntent(conn, instance, sha256).catch(() => undefined);
      }
    };
    try {
      if (dialect !== 'postgres') return await withIntent(db);
      // 60 bits of the hash: collisions only make two unrelated blobs wait for each other.
      const key = BigInt(`0x${sha256.slice(0, 15)}`).toString();
      return await db.connection().execute(async (conn) => {
        await lockBlobKey(conn, key);
        try {
          return await withIntent(conn);
        } finally {
          await unlockBlobKey(conn, key);
        }
      });
    } finally {
      release();
      if (queues.get(sha256) === tail) queues.delete(sha256);
    }
  };
}
