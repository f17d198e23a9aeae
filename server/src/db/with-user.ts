import { sql, type Selectable } from 'kysely';
import type { Database, Executor, UserRow } from './database.js';

/** Tables whose rows a request is authenticated by, each belonging to a user by `user_id`. */
type Credential = 'sessions' | 'api_tokens';

// The credential's columns come back under this prefix: sessions and api_tokens share names
// (id, created_at, expires_at) with users.
const PREFIX = 'credential__';

/**
 * The row of `table` whose `key` column equals `value`, with its user, in one join (it runs on
 * every authenticated request). `columns` are the row's columns to read; callers list them all,
 * so the row type they return checks that none is missing.
 */
export async function findWithUser<
  T extends Credential,
  C extends keyof Selectable<Database[T]> & string,
>(
  db: Executor,
  table: T,
  columns: readonly C[],
  key: C,
  value: string,
): Promise<{ row: Pick<Selectable<Database[T]>, C>; user: UserRow } | undefined> {
  // Plain SQL: Kysely cannot type a select list that depends on the table parameter.
  const found = await sql<Record<string, unknown>>`
    select users.*, ${sql.join(columns.map((c) => sql`${sql.ref(`${table}.${c}`)} as ${sql.id(PREFIX + c)}`))}
    from ${sql.table(table)} join users on users.id = ${sql.ref(`${table}.user_id`)}
    where ${sql.ref(`${table}.${key}`)} = ${value}`.execute(db);
  const first = found.rows[0];
  if (!first) return undefined;
  const row: Record<string, unknown> = {};
  const user: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(first)) {
    if (name.startsWith(PREFIX)) row[name.slice(PREFIX.length)] = v;
    else user[name] = v;
  }
  // The casts restate what the SQL above selects: `users.*` and the listed columns.
  return { row: row as Pick<Selectable<Database[T]>, C>, user: user as UserRow };
}
