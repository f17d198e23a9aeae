import type { ApiTokenRow, Executor, UserRow } from '../../db/database.js';
import { touchTimestamp } from '../../db/touch.js';

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

export async function findApiTokenWithUser(
  db: Executor,
  tokenHash: string,
): Promise<{ token: ApiTokenRow; user: UserRow } | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .selectAll('users')
    .select([
      'api_tokens.id as token_id',
      'api_tokens.name as token_name',
      'api_tokens.token_hash',
      'api_tokens.scopes',
      'api_tokens.created_at as token_created_at',
      'api_tokens.expires_at as token_expires_at',
      'api_tokens.last_used_at as token_last_used_at',
    ])
    .where('api_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const {
    token_id,
    token_name,
    token_hash,
    scopes,
    token_created_at,
    token_expires_at,
    token_last_used_at,
    ...user
  } = row;
  return {
    user,
    token: {
      id: token_id,
      user_id: user.id,
      name: token_name,
      token_hash,
      scopes,
      created_at: token_created_at,
      expires_at: token_expires_at,
      last_used_at: token_last_used_at,
    },
  };
}

/** The last_used_at of a request, at most once per interval (db/touch.ts). */
export const touchApiToken = (db: Executor, id: number, now: number, olderThan: number) =>
  touchTimestamp(db, { table: 'api_tokens', column: 'last_used_at' }, id, now, olderThan);
