import { sql } from 'kysely';
import type { Executor, SessionRow, UserRow } from '../../db/database.js';
import { findWithUser } from '../../db/with-user.js';

// All SQL of sessions. A session's id is the SHA-256 of its token (sessions.ts).

const SESSION_COLUMNS = [
  'id',
  'user_id',
  'expires_at',
  'created_at',
  'user_agent',
  'address',
  'last_active_at',
] as const;

/** The session with its user, or undefined. */
export async function findSessionWithUser(
  db: Executor,
  sessionId: string,
): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const found = await findWithUser(db, 'sessions', SESSION_COLUMNS, 'id', sessionId);
  return found && { session: found.row, user: found.user };
}

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
export async function deleteUserSession(
  db: Executor,
  userId: number,
  sessionId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('sessions')
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

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

/**
 * Marks the session used at `now` unless it already was after `before`; the check sits in the
 * WHERE clause so instances sharing the database write at most once per interval.
 */
export async function touchSession(
  db: Executor,
  sessionId: string,
  now: number,
  before: number,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_active_at: now })
    .where('id', '=', sessionId)
    .where((eb) => eb.or([eb('last_active_at', 'is', null), eb('last_active_at', '<', before)]))
    .execute();
}

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

export async function deleteExpiredSessions(db: Executor, now: number): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
}
