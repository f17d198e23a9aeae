import type { ApiTokenRow, Executor } from '../../db/database.js';
import { touchTimestamp } from '../../db/touch.js';
import { findWithUser } from '../../db/with-user.js';

export const insertApiToken = (
  db: Executor,
  token: Omit<ApiTokenRow, 'id' | 'last_used_at'>,
): Promise<ApiTokenRow> =>
  db.insertInto('api_tokens').values(token).returningAll().executeTakeFirstOrThrow();

export const listApiTokens = (db: Executor, userId: number): Promise<ApiTokenRow[]> =>
  db
    .selectFrom('api_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();

/** Deletes one of the user's tokens and returns it; undefined when the user has no such token. */
export const deleteApiToken = (
  db: Executor,
  id: number,
  userId: number,
): Promise<ApiTokenRow | undefined> =>
  db
    .deleteFrom('api_tokens')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirst();

export async function deleteUserApiTokens(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('api_tokens').where('user_id', '=', userId).execute();
}

/** The token (`row`) whose SHA-256 is `tokenHash`, with its user, or undefined. */
export const findApiTokenWithUser = (db: Executor, tokenHash: string) =>
  findWithUser(db, 'api_tokens', 'token_hash', tokenHash);

/** The last_used_at of a request, at most once per interval (db/touch.ts). */
export const touchApiToken = (db: Executor, id: number, now: number, olderThan: number) =>
  touchTimestamp(db, { table: 'api_tokens', column: 'last_used_at' }, id, now, olderThan);
