import type { Executor } from '../../db/database.js';
import { deleteExpired, liveRow } from '../../db/rows.js';

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

const liveLink = (db: Executor, tokenHash: string, now: number) =>
  liveRow(db, 'password_resets', { token_hash: tokenHash }, now);

/** The user a live link stands for, without using it up. */
export const findPasswordReset = async (db: Executor, tokenHash: string, now: number) =>
  (await liveLink(db, tokenHash, now).find())?.user_id;

/** Uses a live link up: its user, or undefined when it is unknown, expired or already used. */
export const consumePasswordReset = async (db: Executor, tokenHash: string, now: number) =>
  (await liveLink(db, tokenHash, now).take())?.user_id;

export async function deleteUserPasswordResets(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('password_resets').where('user_id', '=', userId).execute();
}

export const deleteExpiredPasswordResets = (db: Executor, now: number) =>
  deleteExpired(db, 'password_resets', now);

/** Sets a user's password hash (the users table's other columns belong to the users module). */
export async function setPasswordHash(db: Executor, userId: number, hash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
}
