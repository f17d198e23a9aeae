import { sql } from 'kysely';
import type { Executor, SessionRow } from '../../db/database.js';
import { deleteExpired, deleteRows } from '../../db/rows.js';
import { touchTimestamp } from '../../db/touch.js';
import { findWithUser } from '../../db/with-user.js';

// All SQL of sessions. A session's id is the SHA-256 of its token (sessions.ts).

/** The session (`row`) with its user, or undefined. */
export const findSessionWithUser = (db: Executor, sessionId: string) =>
  findWithUser(db, 'sessions', 'id', sessionId);

export const findUserSessions = (db: Executor, userId: number): Promise<SessionRow[]> =>
  db.selectFrom('sessions').selectAll().where('user_id', '=', userId).execute();

/** A user's unexpired sessions, the most recently used first. */
export const listUserSessions = (
  db: Executor,
  userId: number,
  now: number,
): Promise<SessionRow[]> =>
  db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .orderBy(sql`coalesce(last_active_at, created_at)`, 'desc')
    .orderBy('id')
    .execute();

/** Deletes one session of the user; false when the user has no such session. */
export const deleteUserSession = (db: Executor, userId: number, sessionId: string) =>
  deleteRows(db, 'sessions', { id: sessionId, user_id: userId });

/** Deletes every session of the user but `keepId` (null: all of them). */
export async function deleteOtherUserSessions(
  db: Executor,
  userId: number,
  keepId: string | null,
): Promise<void> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepId !== null) query = query.where('id', '!=', keepId);
  await query.execute();
}

/** The session's last_active_at, at most once per interval (db/touch.ts). */
export const touchSession = (db: Executor, sessionId: string, now: number, before: number) =>
  touchTimestamp(db, { table: 'sessions', column: 'last_active_at' }, sessionId, now, before);

export async function insertSession(db: Executor, session: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

export async function setSessionExpiry(
  db: Executor,
  sessionId: string,
  expiresAt: number,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ expires_at: expiresAt })
    .where('id', '=', sessionId)
    .execute();
}

export async function deleteSession(db: Executor, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

export async function deleteUserSessions(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

export const deleteExpiredSessions = (db: Executor, now: number) =>
  deleteExpired(db, 'sessions', now);
