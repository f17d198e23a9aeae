import { sql } from 'kysely';
import type { Executor } from './database.js';

/**
 * Sets a "last used" time to `now` only when the stored one is null or older than `olderThan`.
 * The check is in the UPDATE's WHERE clause, so concurrent requests (on any instance) write at
 * most once per interval.
 */
export async function touchTimestamp(
  db: Executor,
  target:
    | { table: 'users'; column: 'last_active_at' }
    | { table: 'api_tokens'; column: 'last_used_at' }
    | { table: 'sessions'; column: 'last_active_at' },
  /** The row's id: a number, or for sessions the SHA-256 of the token. */
  id: number | string,
  now: number,
  olderThan: number,
): Promise<void> {
  const column = sql.ref(target.column);
  await sql`
    update ${sql.table(target.table)} set ${column} = ${now}
    where id = ${id} and (${column} is null or ${column} < ${olderThan})`.execute(db);
}
