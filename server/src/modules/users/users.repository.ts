import type { Executor, NewUser, UserRow, UserUpdate } from '../../db/database.js';
import { listing } from '../../db/listing.js';
import { rowsByIds } from '../../db/rows.js';
import { touchTimestamp } from '../../db/touch.js';
import { insertNamed, updateNamed } from '../../db/named-rows.js';
import { containsText } from '../../db/text-search.js';

export const findUserById = (db: Executor, id: number): Promise<UserRow | undefined> =>
  db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();

export const findUserByEmail = (db: Executor, email: string): Promise<UserRow | undefined> =>
  db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();

export const findUsersByIds = (db: Executor, ids: readonly number[]): Promise<UserRow[]> =>
  rowsByIds(db, 'users', ids);

export async function hasAnyUser(db: Executor): Promise<boolean> {
  return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Inserts a user row; its name_sort comes from the name (db/named-rows.ts). */
export const insertUser = (db: Executor, user: NewUser) => insertNamed(db, 'users', user);

export const updateUser = (db: Executor, id: number, patch: UserUpdate) =>
  updateNamed(db, 'users', id, patch);

/** The last_active_at of a request, at most once per interval (db/touch.ts). */
export const touchLastActive = (db: Executor, id: number, now: number, olderThan: number) =>
  touchTimestamp(db, { table: 'users', column: 'last_active_at' }, id, now, olderThan);

function userSearch(db: Executor, query: string | null | undefined) {
  let q = db.selectFrom('users');
  if (query)
    q = q.where((eb) =>
      eb.or([containsText(eb.ref('email'), query), containsText(eb.ref('name'), query)]),
    );
  return q;
}

export type UserOrder =
  'NEWEST' | 'OLDEST' | 'NAME' | 'EMAIL' | 'LAST_ACTIVE' | 'MOST_UPLOADS' | 'MOST_DOWNLOADS';

/** The column each order sorts on, and which way (ties by id the same way). */
const USER_ORDERS = {
  NEWEST: ['created_at', 'desc'],
  OLDEST: ['created_at', 'asc'],
  NAME: ['name_sort', 'asc'],
  EMAIL: ['email', 'asc'],
  MOST_UPLOADS: ['upload_count', 'desc'],
  MOST_DOWNLOADS: ['download_count', 'desc'],
} as const satisfies Record<Exclude<UserOrder, 'LAST_ACTIVE'>, [string, 'asc' | 'desc']>;

/** Users whose email or name contains the query, in `order` (newest first unless told otherwise). */
export const userListing = listing(userSearch, (q, _query, order: UserOrder = 'NEWEST') => {
  const rows = q.selectAll();
  // Every order ends with the id so pages never overlap or skip rows with equal keys.
  if (order === 'LAST_ACTIVE') {
    // Never-active users last, on SQLite and PostgreSQL alike.
    return rows
      .orderBy((eb) => eb.case().when('last_active_at', 'is', null).then(1).else(0).end())
      .orderBy('last_active_at', 'desc')
      .orderBy('id', 'desc');
  }
  const [column, direction] = USER_ORDERS[order];
  return rows.orderBy(column, direction).orderBy('id', direction);
});

/** What the user stores and may store (their own quota; null: the default applies). */
export const findUserUsage = (
  db: Executor,
  id: number,
): Promise<{ used_bytes: number; quota_bytes: number | null } | undefined> =>
  db
    .selectFrom('users')
    .select(['used_bytes', 'quota_bytes'])
    .where('id', '=', id)
    .executeTakeFirst();
