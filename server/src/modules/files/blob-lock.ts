import type { Db, Executor } from '../../db/database.js';
import type { Dialect } from '../../db/connection.js';
import { lockBlobKey, unlockBlobKey } from './files.repository.js';

const queuesByDb = new WeakMap<Db, Map<string, Promise<void>>>();

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
    try {
      if (dialect !== 'postgres') return await fn(db);
      // 60 bits of the hash: collisions only make two unrelated blobs wait for each other.
      const key = BigInt(`0x${sha256.slice(0, 15)}`).toString();
      return await db.connection().execute(async (conn) => {
        await lockBlobKey(conn, key);
        try {
          return await fn(conn);
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

export type BlobLock = ReturnType<typeof createBlobLock>;
