import type { Db, UserRow } from '../../db/database.js';
import { findApiTokenWithUser, touchApiToken } from '../tokens/tokens.repository.js';
import { toApiToken } from '../tokens/tokens.service.js';
import { API_TOKEN_PREFIX, type ApiScope } from '../tokens/scopes.js';
import { touchLastActive } from '../users/users.repository.js';
import { hashToken } from '../../secrets.js';
import type { Sessions } from './sessions.js';

/** Who is making a request: resolved once per request, then shared by GraphQL and the download route. */
export type Viewer = (
  | {
      kind: 'session';
      user: UserRow;
      /** The session row's id (the SHA-256 of its token): `Session.id` in the API. */
      sessionId: string;
      sessionExpiresAt: Date;
      renewed: boolean;
    }
  | { kind: 'token'; user: UserRow; tokenId: number; scopes: ApiScope[] }
) & {
  /** An admin acting as a USER until they turn on two-factor (REQUIRE_ADMIN_TOTP). */
  heldAdmin?: boolean;
};

// lastActiveAt and lastUsedAt are written at most once a minute per user or token; the check
// happens in the UPDATE's WHERE clause, so it holds across instances sharing a database.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * With REQUIRE_ADMIN_TOTP on, an admin without two-factor acts as a USER (on every request, every
 * instance) until they turn it on: the one place that holds the role back, so every admin check
 * downstream sees USER.
 */
const isHeld = (user: UserRow, options: ViewerOptions) =>
  options.requireAdminTotp && user.role === 'ADMIN' && user.totp_secret === null;

function effectiveUser(user: UserRow, options: ViewerOptions): UserRow {
  return isHeld(user, options) ? { ...user, role: 'USER' } : user;
}

export interface ViewerOptions {
  requireAdminTotp: boolean;
}

export async function resolveViewer(
  db: Db,
  sessions: Sessions,
  token: string,
  options: ViewerOptions = { requireAdminTotp: false },
): Promise<Viewer | null> {
  const now = Date.now();
  if (token.startsWith(API_TOKEN_PREFIX)) {
    const found = await findApiTokenWithUser(db, hashToken(token));
    if (!found || found.user.banned) return null;
    const apiToken = found.row;
    if (apiToken.expires_at !== null && apiToken.expires_at <= now) return null;
    if (apiToken.last_used_at === null || apiToken.last_used_at < now - TOUCH_INTERVAL_MS) {
      await touchApiToken(db, apiToken.id, now, now - TOUCH_INTERVAL_MS);
    }
    await touchUser(db, found.user, now);
    return {
      kind: 'token',
      user: effectiveUser(found.user, options),
      heldAdmin: isHeld(found.user, options),
      tokenId: apiToken.id,
      scopes: toApiToken(apiToken).scopes,
    };
  }
  const session = await sessions.validate(token);
  if (!session || session.user.banned) return null;
  await touchUser(db, session.user, now);
  await sessions.touch(session);
  return {
    kind: 'session',
    user: effectiveUser(session.user, options),
    heldAdmin: isHeld(session.user, options),
    sessionId: session.sessionId,
    sessionExpiresAt: session.expiresAt,
    renewed: session.renewed,
  };
}

async function touchUser(db: Db, user: UserRow, now: number) {
  if (user.last_active_at === null || user.last_active_at < now - TOUCH_INTERVAL_MS) {
    await touchLastActive(db, user.id, now, now - TOUCH_INTERVAL_MS);
  }
}
