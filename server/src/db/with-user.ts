import { sql, type Selectable } from 'kysely';
import type { Database, Executor, UserRow } from './database.js';

/** Tables whose rows a request is authenticated by, each belonging to a user by `user_id`. */
type Credential = 'sessions' | 'api_tokens';

// The user's columns come back under this prefix: sessions and api_tokens share names with
// users (id, name, created_at, last_active_at).
const PREFIX = 'user__';

/** Every column of users: as a Record, the compiler refuses one missing or unknown. */
const USER_COLUMNS: Record<keyof UserRow, true> = {
  id: true,
  email: true,
  name: true,
  name_sort: true,
  password_hash: true,
  role: true,
  banned: true,
  created_at: true,
  last_active_at: true,
  upload_count: true,
  uploads_hidden: true,
  download_count: true,
  quota_bytes: true,
  used_bytes: true,
  totp_secret: true,
  totp_pending: true,
  totp_last_step: true,
};

/** The user's select list, built once: it is part of every authenticated request. */
const USER_SELECT = sql.join(
  Object.keys(USER_COLUMNS).map((c) => sql`${sql.ref(`users.${c}`)} as ${sql.id(PREFIX + c)}`),
);

/**
 * The row of `table` whose `key` column equals `value`, with its user, in one join (it runs on
 * every authenticated request).
 */
export async function findWithUser<T extends Credential>(
  db: Executor,
  table: T,
  key: keyof Selectable<Database[T]> & string,
  value: string,
): Promise<{ row: Selectable<Database[T]>; user: UserRow } | undefined> {
  // Plain SQL: Kysely cannot type a select list that depends on the table parameter.
  const found = await sql<Record<string, unknown>>`
    select ${sql.table(table)}.*, ${USER_SELECT}
    from ${sql.table(table)} join users on users.id = ${sql.ref(`${table}.user_id`)}
    where ${sql.ref(`${table}.${key}`)} = ${value}`.execute(db);
  const first = found.rows[0];
  if (!first) return undefined;
  const row: Record<string, unknown> = {};
  const user: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(first)) {
    if (name.startsWith(PREFIX)) user[name.slice(PREFIX.length)] = v;
    else row[name] = v;
  }
  // The casts restate what the SQL above selects: the row's every column and the user's.
  return { row: row as Selectable<Database[T]>, user: user as UserRow };
}
