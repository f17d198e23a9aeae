import { randomBytes } from 'node:crypto';
import { hashToken } from '../../secrets.js';
import { Lucia, TimeSpan, type Adapter, type DatabaseSession, type DatabaseUser } from 'lucia';
import type { Db, SessionAttributes, SessionRow, UserRow } from '../../db/database.js';
import {
  deleteExpiredSessions,
  deleteOtherUserSessions,
  deleteSession,
  deleteUserSession,
  deleteUserSessions,
  findSessionWithUser,
  findUserSessions,
  insertSession,
  listUserSessions,
  setSessionExpiry,
  touchSession,
} from './sessions.repository.js';

// The only file that imports lucia: the rest of the code sees plain functions, so replacing lucia
// (upstream now teaches its design as a guide rather than a library) touches this file alone.
//
// The cookie and Bearer header carry a random token; the database keeps only its SHA-256 as the
// session id, so a leaked database cannot be replayed as sessions.

export const SESSION_COOKIE = 'cabinet_session';

// A session's last use is written at most this often (as users.last_active_at, viewer.ts).
const TOUCH_INTERVAL_MS = 60_000;

declare module 'lucia' {
  interface Register {
    Lucia: Lucia<SessionAttributes, UserRow>;
    UserId: number;
    DatabaseUserAttributes: UserRow;
    DatabaseSessionAttributes: SessionAttributes;
  }
}

/** Where a session was started from, shown in the account's list of sessions. */
export type SessionOrigin = Pick<SessionAttributes, 'user_agent' | 'address'>;

export interface ValidSession {
  user: UserRow;
  sessionId: string;
  expiresAt: Date;
  lastActiveAt: number | null;
  /** The expiry was just extended: the cookie should be sent again. */
  renewed: boolean;
}

export interface Sessions {
  create(userId: number, origin?: SessionOrigin): Promise<{ token: string; expiresAt: Date }>;
  validate(token: string): Promise<ValidSession | null>;
  invalidate(token: string): Promise<void>;
  invalidateUser(userId: number): Promise<void>;
  /** Ends every session of the user but `keepId` (the caller's own, after a password change). */
  invalidateOthers(userId: number, keepId: string | null): Promise<void>;
  /** The user's live sessions, most recently used first. */
  list(userId: number): Promise<SessionRow[]>;
  /** Ends one of the user's sessions by id; false when the user has none with that id. */
  revoke(userId: number, sessionId: string): Promise<boolean>;
  /** Notes that the session was used now, at most once a minute per session. */
  touch(session: ValidSession): Promise<void>;
  deleteExpired(): Promise<void>;
  cookie(token: string, expiresAt: Date): string;
  blankCookie(): string;
}

export function createSessions(db: Db, options: { days: number; secure: boolean }): Sessions {
  const lucia = new Lucia(kyselyAdapter(db), {
    sessionExpiresIn: new TimeSpan(options.days, 'd'),
    sessionCookie: {
      name: SESSION_COOKIE,
      expires: true,
      attributes: { secure: options.secure, sameSite: 'lax', path: '/' },
    },
    getUserAttributes: (attributes) => attributes,
    getSessionAttributes: (attributes) => attributes,
  });

  return {
    async create(userId, origin = { user_agent: null, address: null }) {
      const token = randomBytes(32).toString('base64url');
      const session = await lucia.createSession(
        userId,
        { ...origin, last_active_at: Date.now() },
        { sessionId: hashToken(token) },
      );
      return { token, expiresAt: session.expiresAt };
    },
    async validate(token) {
      const { session, user } = await lucia.validateSession(hashToken(token));
      if (!session) return null;
      return {
        user,
        sessionId: session.id,
        expiresAt: session.expiresAt,
        lastActiveAt: session.last_active_at,
        renewed: session.fresh,
      };
    },
    invalidate: (token) => lucia.invalidateSession(hashToken(token)),
    invalidateUser: (userId) => lucia.invalidateUserSessions(userId),
    invalidateOthers: (userId, keepId) => deleteOtherUserSessions(db, userId, keepId),
    list: (userId) => listUserSessions(db, userId, Date.now()),
    revoke: (userId, sessionId) => deleteUserSession(db, userId, sessionId),
    async touch(session) {
      const now = Date.now();
      if (session.lastActiveAt === null || session.lastActiveAt < now - TOUCH_INTERVAL_MS) {
        await touchSession(db, session.sessionId, now, now - TOUCH_INTERVAL_MS);
      }
    },
    deleteExpired: () => lucia.deleteExpiredSessions(),
    cookie(token, expiresAt) {
      const cookie = lucia.createSessionCookie(token);
      cookie.attributes.expires = expiresAt;
      return cookie.serialize();
    },
    blankCookie: () => lucia.createBlankSessionCookie().serialize(),
  };
}

/** lucia's storage, on the sessions repository. */
function kyselyAdapter(db: Db): Adapter {
  const toSession = (row: SessionRow): DatabaseSession => ({
    id: row.id,
    userId: row.user_id,
    expiresAt: new Date(row.expires_at),
    attributes: {
      user_agent: row.user_agent,
      address: row.address,
      last_active_at: row.last_active_at,
    },
  });
  return {
    async getSessionAndUser(sessionId): Promise<[DatabaseSession | null, DatabaseUser | null]> {
      const found = await findSessionWithUser(db, sessionId);
      if (!found) return [null, null];
      return [toSession(found.row), { id: found.user.id, attributes: found.user }];
    },
    getUserSessions: async (userId) => (await findUserSessions(db, userId)).map(toSession),
    setSession: (session) =>
      insertSession(db, {
        id: session.id,
        user_id: session.userId,
        expires_at: session.expiresAt.getTime(),
        // A new session counts as used when it starts: one clock reading for both.
        created_at: session.attributes.last_active_at ?? Date.now(),
        user_agent: session.attributes.user_agent,
        address: session.attributes.address,
        last_active_at: session.attributes.last_active_at,
      }),
    updateSessionExpiration: (sessionId, expiresAt) =>
      setSessionExpiry(db, sessionId, expiresAt.getTime()),
    deleteSession: (sessionId) => deleteSession(db, sessionId),
    deleteUserSessions: (userId) => deleteUserSessions(db, userId),
    deleteExpiredSessions: () => deleteExpiredSessions(db, Date.now()),
  };
}
