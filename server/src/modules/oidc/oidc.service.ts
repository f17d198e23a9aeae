import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcConfig } from '../../config.js';
import type { Db, UserRow } from '../../db/database.js';
import { hashToken } from '../../secrets.js';
import { requestLog } from '../../request-log.js';
import { audit, ownAccount, userTarget } from '../audit/audit.service.js';
import type { Client } from '../auth/auth.service.js';
import { hashPassword } from '../auth/password.js';
import type { Sessions } from '../auth/sessions.js';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  updateUser,
} from '../users/users.repository.js';
import {
  deleteExpiredOidcLogins,
  findOidcIdentityUser,
  insertOidcIdentity,
  insertOidcLogin,
  takeOidcLogin,
} from './oidc.repository.js';

/** A started sign-in lasts this long: the provider's login page has to be filled in meanwhile. */
export const OIDC_LOGIN_MS = 10 * 60 * 1000;

/**
 * Why a sign-on was refused; the code goes to `/login?error=oidc_<code>` and the sign-in page
 * words it. Never a stack or the provider's own text.
 */
export type OidcFailure =
  | 'state' // no started sign-in matches (wrong, replayed, expired or from another browser)
  | 'provider' // the provider answered an error, or the code or ID token did not check out
  | 'email' // no email claim, or an unverified email that an existing account already has
  | 'banned'
  | 'unavailable'; // the provider could not be reached

export class OidcSignInError extends Error {
  constructor(
    readonly code: OidcFailure,
    message: string,
  ) {
    super(message);
  }
}

const SIGN_ON_ACTOR = (address: string) => ({ user: null, address, claimed: 'sign-on' });

export function createOidcService(db: Db, sessions: Sessions, config: OidcConfig) {
  let discovered: Promise<client.Configuration> | null = null;
  /** The provider's metadata and keys, fetched on first use and again after a failure. */
  function configuration(): Promise<client.Configuration> {
    discovered ??= client
      .discovery(
        config.issuer,
        config.clientId,
        undefined,
        config.clientSecret ? client.ClientSecretPost(config.clientSecret) : client.None(),
        // An http:// issuer is the operator's explicit choice (a provider on the same host).
        config.issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {},
      )
      .catch((err: unknown) => {
        discovered = null;
        requestLog()?.warn({ err }, 'OpenID provider discovery failed');
        throw new OidcSignInError('unavailable', 'The sign-on provider cannot be reached.');
      });
    return discovered;
  }

  const callbackUrl = (origin: string) => `${origin}/auth/oidc/callback`;

  /**
   * The user a verified sign-on stands for: linked, matched by verified email, or new. Linking
   * and creating are audited (`auth.oidc_login`) with the link, in its transaction; a sign-on of
   * an account linked already is a plain sign-in, which the log leaves out as it does `login`.
   */
  async function userFor(
    claims: client.IDToken,
    issuer: string,
    now: number,
    address: string,
  ): Promise<UserRow> {
    const linked = await findOidcIdentityUser(db, issuer, claims.sub);
    if (linked !== undefined) {
      const user = await findUserById(db, linked);
      if (user) return user;
    }
    const rawEmail = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!rawEmail || rawEmail.length > 254 || !rawEmail.includes('@')) {
      throw new OidcSignInError('email', 'The provider did not share an email address.');
    }
    const verified = claims.email_verified === true;
    const link = db.transaction().execute(async (trx) => {
      const existing = await findUserByEmail(trx, rawEmail);
      if (existing && !verified) {
        // Only a verified email may take over an account: anyone can type any address at
        // a provider that does not check it.
        throw new OidcSignInError(
          'email',
          'An account with this email exists, and the provider has not verified the email.',
        );
      }
      const user =
        existing ??
        (await insertUser(trx, {
          email: rawEmail,
          name: nameOf(claims, rawEmail),
          // No one knows this password: the account signs in through the provider (or a reset).
          password_hash: await hashPassword(randomBytes(32).toString('base64url')),
          // Never the first-account ADMIN rule: an open provider would hand the server to
          // whoever signs in first. OIDC_ADMIN_GROUP or `npm run user` make admins.
          role: 'USER',
          created_at: now,
          last_active_at: now,
        }));
      await insertOidcIdentity(trx, {
        issuer,
        subject: claims.sub,
        user_id: user.id,
        created_at: now,
      });
      await audit.record(trx, {
        ...ownAccount(user, address, 'auth.oidc_login'),
        details: { account: existing ? 'linked' : 'created', issuer, subject: claims.sub },
      });
      return user;
    });
    return link.catch(async (err: unknown) => {
      // Two first sign-ons of one person at once (two tabs): the other one linked it first.
      const winner = await findOidcIdentityUser(db, issuer, claims.sub);
      const user = winner === undefined ? undefined : await findUserById(db, winner);
      if (user) return user;
      throw err;
    });
  }

  /** OIDC_ADMIN_GROUP: ADMIN with the group in the `groups` claim, USER without; audited. */
  async function applyRole(user: UserRow, claims: client.IDToken, address: string) {
    if (!config.adminGroup) return user;
    const groups = Array.isArray(claims.groups) ? claims.groups : [];
    const role = groups.includes(config.adminGroup) ? 'ADMIN' : 'USER';
    if (role === user.role) return user;
    return db.transaction().execute(async (trx) => {
      const updated = (await updateUser(trx, user.id, { role })) ?? user;
      await audit.record(trx, {
        actor: SIGN_ON_ACTOR(address),
        action: 'user.role',
        target: userTarget(user),
        details: { before: user.role, after: role },
      });
      return updated;
    });
  }

  return {
    name: config.name,

    /**
     * Starts a sign-on: the provider's authorization URL (code flow, PKCE S256, state, nonce)
     * and the state, which the caller puts in a short-lived HttpOnly cookie: the callback must
     * come back to the same browser.
     */
    async start(origin: string): Promise<{ url: string; state: string }> {
      const oidc = await configuration();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const now = Date.now();
      await deleteExpiredOidcLogins(db, now);
      await insertOidcLogin(db, {
        state_hash: hashToken(state),
        code_verifier: verifier,
        nonce,
        expires_at: now + OIDC_LOGIN_MS,
      });
      const url = client.buildAuthorizationUrl(oidc, {
        redirect_uri: callbackUrl(origin),
        scope: 'openid email profile',
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url: url.href, state };
    },

    /**
     * Finishes a sign-on: the state must match the browser's cookie and a started sign-in
     * (used up here), the code is exchanged with the PKCE verifier, the ID token checked
     * (signature against the issuer's keys, issuer, audience, nonce, expiry). Answers a session.
     */
    async finish(
      origin: string,
      query: URLSearchParams,
      cookieState: string | null,
      who: Client,
    ): Promise<{ token: string; expiresAt: Date; user: UserRow }> {
      const state = query.get('state');
      if (!state || !cookieState || state !== cookieState || state.length > 200) {
        throw new OidcSignInError('state', 'The sign-on did not start in this browser.');
      }
      const login = await takeOidcLogin(db, hashToken(state), Date.now());
      if (!login) throw new OidcSignInError('state', 'The sign-on expired or was already used.');
      const oidc = await configuration();
      let claims: client.IDToken | undefined;
      try {
        const tokens = await client.authorizationCodeGrant(
          oidc,
          new URL(`${callbackUrl(origin)}?${query.toString()}`),
          {
            pkceCodeVerifier: login.code_verifier,
            expectedState: state,
            expectedNonce: login.nonce,
            idTokenExpected: true,
          },
        );
        claims = tokens.claims();
      } catch (err) {
        requestLog()?.warn({ err }, 'single sign-on refused');
        throw new OidcSignInError('provider', 'The sign-on provider did not confirm the sign-in.');
      }
      if (!claims) {
        throw new OidcSignInError('provider', 'The sign-on provider sent no ID token.');
      }
      const now = Date.now();
      let user = await userFor(claims, oidc.serverMetadata().issuer, now, who.address);
      if (user.banned) {
        await audit.record(db, {
          actor: { user: null, address: who.address, claimed: user.email },
          action: 'auth.login_failed',
          target: userTarget(user),
          details: { reason: 'banned', method: 'sign-on' },
        });
        throw new OidcSignInError(
          'banned',
          'This account has been banned. Contact an administrator.',
        );
      }
      user = await applyRole(user, claims, who.address);
      const session = await sessions.create(user.id, {
        user_agent: who.userAgent,
        address: who.address,
      });
      return { ...session, user };
    },
  };
}

export type OidcService = ReturnType<typeof createOidcService>;

function nameOf(claims: client.IDToken, email: string): string {
  const name =
    (typeof claims.name === 'string' && claims.name) ||
    (typeof claims.preferred_username === 'string' && claims.preferred_username) ||
    email.split('@')[0] ||
    email;
  // The same rules as registration's name: no control characters, at most 100.
  const clean = [...name]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join('')
    .trim()
    .slice(0, 100);
  return clean || email.slice(0, 100);
}
