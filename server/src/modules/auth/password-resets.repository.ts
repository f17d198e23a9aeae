import type { Executor } from '../../db/database.js';

// All SQL of admin-made password-reset links. Only the SHA-256 of a link's token is stored.

/** Stores a new link for the user, replacing any earlier one: one live link per user. */
export async function replacePasswordReset(
  db: Executor,
  row: {
    token_hash: string;
    user_id: number;
    created_by: number;
    created_at: number;
    expires_at: number;
  },
): Promise<void> {
  await db.deleteFrom('password_resets').where('user_id', '=', row.user_id).execute();
  await db.insertInto('password_resets').values(row).execute();
}

/** The user a live link stands for, without using it up. */
export async function findPasswordReset(
  db: Executor,
  tokenHash: string,
  now: number,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('password_resets')
    .select('user_id')
    .where('token_hash', '=', tokenHash)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row?.user_id;
}

/**
 * Uses a live link up: deletes it and answers its user, or undefined when it is unknown, expired
 * or already used. One DELETE … RETURNING, so of two requests racing with one link only one wins.
 */
export async function consumePasswordReset(
  db: Executor,
  tokenHash: string,
  now: number,
): Promise<number | undefined> {
  const row = await db
    .deleteFrom('password_resets')
    .where('token_hash', '=', tokenHash)
    .where('expires_at', '>', now)
    .returning('user_id')
    .executeTakeFirst();
  return row?.user_id;
}

export async function deleteUserPasswordResets(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('password_resets').where('user_id', '=', userId).execute();
}

export async function deleteExpiredPasswordResets(db: Executor, now: number): Promise<void> {
  await db.deleteFrom('password_resets').where('expires_at', '<=', now).execute();
}

/** Sets a user's password hash (the users table's other columns belong to the users module). */
export async function setPasswordHash(db: Executor, userId: number, hash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
}
