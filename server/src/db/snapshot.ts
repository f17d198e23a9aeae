import type { Dialect } from './connection.js';
import type { Db, Executor } from './database.js';

/**
 * Runs `read` in one read snapshot of the database, so that all its statements see the same
 * committed state whatever commits meanwhile: a files listing's page, count and tag counts then
 * describe one moment. PostgreSQL: a REPEATABLE READ, READ ONLY transaction. SQLite: a read
 * transaction on a connection of its own of the read pool (read-pool.ts).
 *
 * `reads === db` on SQLite means one connection for everything (an in-memory database): a
 * transaction there would hold back every other statement until it ends, so `read` runs without
 * one.
 */
export function readSnapshot<T>(
  deps: { reads: Db; db: Db; dialect: Dialect },
  read: (conn: Executor) => Promise<T>,
): Promise<T> {
  const { reads, db, dialect } = deps;
  if (dialect === 'postgres') {
    return reads
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(read);
  }
  if (reads === db) return read(reads);
  return reads.transaction().execute(read);
}
