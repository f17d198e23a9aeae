import type { Executor, NewUser, UserRow, UserUpdate } from '../../db/database.js';
import { sortKey } from '../../db/sort-key.js';
import { containsText } from '../../db/text-search.js';

export const findUserById = (db: Executor, id: number): Promise<UserRow | undefined> =>
  db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();

export const findUserByEmail = (db: Executor, email: string): Promise<UserRow | undefined> =>
  db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();

export const findUsersByIds = (db: Executor, ids: readonly number[]): Promise<UserRow[]> =>
  ids.length
    ? db.selectFrom('users').selectAll().where('id', 'in', ids).execute()
    : Promise.resolve([]);

export async function hasAnyUser(db: Executor): Promise<boolean> {
  return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

export const insertUser = (db: Executor, user: NewUser): Promise<UserRow> =>
  db
    .insertInto('users')
    .values({ ...user, name_sort: sortKey(user.name) })
    .returningAll()
    .executeTakeFirstOrThrow();

export const updateUser = (
  db: Executor,
  id: number,
  patch: UserUpdate,
): Promise<UserRow | undefined> =>
  db
    .updateTable('users')
    .set(typeof patch.name === 'string' ? { ...patch, name_sort: sortKey(patch.name) } : patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();

/** Only writes when the stored time is older than `olderThan`, so concurrent requests write once. */
export async function touchLastActive(
  db: Executor,
  id: number,
  now: number,
  olderThan: number,
): Promise<void> {
  await db
    .updateTable('users')
    .set({ last_active_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_active_at', 'is', null), eb('last_active_at', '<', olderThan)]))
    .execute();
}

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

export const listUsers = (
  db: Executor,
  query: string | null | undefined,
  limit: number,
  offset: number,
  order: UserOrder = 'NEWEST',
) => {
  let q = userSearch(db, query).selectAll();
  // Every order ends with the id so pages never overlap or skip rows with equal keys.
  switch (order) {
    case 'OLDEST':
      q = q.orderBy('created_at', 'asc').orderBy('id', 'asc');
      break;
    case 'NAME':
      q = q.orderBy('name_sort', 'asc').orderBy('id', 'asc');
      break;
    case 'EMAIL':
      q = q.orderBy('email', 'asc').orderBy('id', 'asc');
      break;
    case 'LAST_ACTIVE':
      // Never-active users last, on SQLite and PostgreSQL alike.
      q = q
        .orderBy((eb) => eb.case().when('last_active_at', 'is', null).then(1).else(0).end())
        .orderBy('last_active_at', 'desc')
        .orderBy('id', 'desc');
      break;
    case 'MOST_UPLOADS':
      q = q.orderBy('upload_count', 'desc').orderBy('id', 'desc');
      break;
    case 'MOST_DOWNLOADS':
      q = q.orderBy('download_count', 'desc').orderBy('id', 'desc');
      break;
    default:
      q = q.orderBy('created_at', 'desc').orderBy('id', 'desc');
  }
  return q.limit(limit).offset(offset).execute();
};

export async function countUsers(db: Executor, query: string | null | undefined): Promise<number> {
  const row = await userSearch(db, query)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
