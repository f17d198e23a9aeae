import { sql } from 'kysely';
import type { Executor, SessionRow, UserRow } from '../../db/database.js';

// All SQL of sessions. A session's id is the SHA-256 of its token (sessions.ts).

/** The session with its user, or undefined. */
export async function findSessionWithUser(
  db: Executor,
  sessionId: string,
): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('users')
    .select([
      'sessions.id as session_id',
      'sessions.expires_at as session_expires_at',
      'sessions.created_at as session_created_at',
      'sessions.user_agent as session_user_agent',
      'sessions.address as session_address',
      'sessions.last_active_at as session_last_active_at',
    ])
    .where('sessions.id', '=', sessionId)
    .executeTakeFirst();
  if (!row) return undefined;
  const {
    session_id,
    session_expires_at,
    session_created_at,
    session_user_agent,
    session_address,
    session_last_active_at,
    ...user
  } = row;
  return {
    session: {
      id: session_id,
      user_id: user.id,
      expires_at: session_expires_at,
      created_at: session_created_at,
      user_agent: session_user_agent,
      address: session_address,
      last_active_at: session_last_active_at,
    },
    user,
  };
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
