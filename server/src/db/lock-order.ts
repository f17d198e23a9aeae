import type { Dialect } from './connection.js';

/**
 * Lock order of the write transactions on files, for PostgreSQL (SQLite runs one writer at a
 * time and cannot deadlock). Triggers of the search migration make plain statements lock more
 * rows than they name: inserting or deleting a file locks its `file_totals` row, (un)linking a
 * tag or changing a file's status or download count locks the tags' counter rows, a download row
 * locks its `download_hours` row, and inserting or deleting a file or changing its status locks its
 * uploader's `users` row (upload counts). Every transaction here takes its locks in this one order:
 *
 *   the file's row → tag rows (by id) → file_totals → download_hours → users → blobs
 *
 * An upload has no existing file row; it locks its blob row first (the file references it),
 * which cannot meet a deletion of that blob in reverse: both run under the blob's own lock
 * (modules/blobs/blob-lock.ts). Tag rows locked by a trigger come in the order of that statement's plan, so two
 * transactions touching several of the same tags could still meet in opposite orders: PostgreSQL
 * then fails one with a deadlock, and it is simply run again (`retryOnDeadlock`).
 */

const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure

/** Runs a self-contained transaction again (up to 5 times) when PostgreSQL broke a deadlock. */
export async function retryOnDeadlock<T>(dialect: Dialect, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (dialect !== 'postgres' || attempt >= 5 || !RETRYABLE.has(code as string)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}
