import { randomBytes } from 'node:crypto';
import { hashToken } from '../../secrets.js';
import { Lucia, TimeSpan, type Adapter, type DatabaseSession, type DatabaseUser } from 'lucia';
import type { Db, SessionRow, UserRow } from '../../db/database.js';
import {
  deleteExpiredSessions,
  deleteSession,
  deleteUserSessions,
  findSessionWithUser,
  findUserSessions,
  insertSession,
  setSessionExpiry,
} from './sessions.repository.js';

// The only file that imports lucia: the rest of the code sees plain functions, so replacing lucia
// (upstream now teaches its design as a guide rather than a library) touches this file alone.
//
// The cookie and Bearer header carry a random token; the database keeps only its SHA-256 as the
// session id, so a leaked database cannot be replayed as sessions.

export const SESSION_COOKIE = 'cabinet_session';

declare module 'lucia' {
  interface Register {
    Lucia: Lucia<Record<never, never>, UserRow>;
    UserId: number;
    DatabaseUserAttributes: UserRow;
  }
}

export interface ValidSession {
  user: UserRow;
  sessionId: string;
  expiresAt: Date;
  /** The expiry was just extended: the cookie should be sent again. */
  renewed: boolean;
}

export interface Sessions {
  create(userId: number): Promise<{ token: string; expiresAt: Date }>;
  validate(token: string): Promise<ValidSession | null>;
  invalidate(token: string): Promise<void>;
  invalidateUser(userId: number): Promise<void>;
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
  });

  return {
    async create(userId) {
      const token = randomBytes(32).toString('base64url');
      const session = await lucia.createSession(userId, {}, { sessionId: hashToken(token) });
      return { token, expiresAt: session.expiresAt };
    },
    async validate(token) {
      const { session, user } = await lucia.validateSession(hashToken(token));
      if (!session) return null;
      return { user, sessionId: session.id, expiresAt: session.expiresAt, renewed: session.fresh };
    },
    invalidate: (token) => lucia.invalidateSession(hashToken(token)),
    invalidateUser: (userId) => lucia.invalidateUserSessions(userId),
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
    attributes: {},
  });
  return {
    async getSessionAndUser(sessionId): Promise<[DatabaseSession | null, DatabaseUser | null]> {
      const found = await findSessionWithUser(db, sessionId);
      if (!found) return [null, null];
      return [toSession(found.session), { id: found.user.id, attributes: found.user }];
    },
    getUserSessions: async (userId) => (await findUserSessions(db, userId)).map(toSession),
    setSession: (session) =>
      insertSession(db, {
        id: session.id,
        user_id: session.userId,
        expires_at: session.expiresAt.getTime(),
        created_at: Date.now(),
      }),
    updateSessionExpiration: (sessionId, expiresAt) =>
      setSessionExpiry(db, sessionId, expiresAt.getTime()),
    deleteSession: (sessionId) => deleteSession(db, sessionId),
    deleteUserSessions: (userId) => deleteUserSessions(db, userId),
    deleteExpiredSessions: () => deleteExpiredSessions(db, Date.now()),
  };
}
