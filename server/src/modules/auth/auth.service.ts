import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db, SessionRow, UserRow } from '../../db/database.js';
import {
  BadUserInputError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  TotpRequiredError,
  UnauthenticatedError,
} from '../../errors.js';
import { hashToken } from '../../secrets.js';
import { displayName, parseInput } from '../../validation.js';
import { deleteUserApiTokens } from '../tokens/tokens.repository.js';
import {
  findUserByEmail,
  findUserById,
  hasAnyUser,
  insertUser,
} from '../users/users.repository.js';
import { hashPassword, verifyDummy, verifyPassword } from './password.js';
import { SignInLockedError, type AuthRateLimits } from './rate-limit.js';
import { audit, ownAccount, userTarget } from '../audit/audit.service.js';
import {
  consumePasswordReset,
  deleteExpiredPasswordResets,
  deleteUserPasswordResets,
  findPasswordReset,
  replacePasswordReset,
  setPasswordHash,
} from './password-resets.repository.js';
import type { Sessions } from './sessions.js';
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, totpStep, totpUri } from './totp.js';
import {
  claimTotpStep,
  clearTotp,
  confirmPendingTotp,
  consumeRecoveryCode,
  countRecoveryCodes,
  replaceRecoveryCodes,
  setPendingTotp,
} from './totp.repository.js';

/** Who is signing in, as far as the request tells: kept with the session it starts. */
export interface Client {
  address: string;
  userAgent: string | null;
}

/** The user an audit event names as its actor. */
type AuditUser = { id: number; email: string };

/** A password-reset link lasts this long after an admin made it. */
export const PASSWORD_RESET_MS = 60 * 60 * 1000;

export interface AuthResult {
  token: string;
  expiresAt: Date;
  user: UserRow;
}

const email = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(
    z.email({
      // WHATWG's rule, as browsers check type=email: zod's stricter default refuses % and others.
      pattern: z.regexes.html5Email,
      message: 'must be a valid email address',
    }),
  )
  .transform((v) => v.toLowerCase());
const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(256, 'must be at most 256 characters');
const registerInput = z.object({ email, name: displayName, password });

const BANNED_MESSAGE = 'This account has been banned. Contact an administrator.';

export function createAuthService(
  db: Db,
  sessions: Sessions,
  limits: AuthRateLimits,
  options: { requireAdminTotp: boolean; passwordLogin?: boolean } = { requireAdminTotp: false },
) {
  /**
   * A sign-in or sign-up with a password from `client`, counted toward its address's limit.
   * PASSWORD_LOGIN=off refuses it: sign-in goes through the provider only (operators keep
   * `npm run user`).
   */
  async function passwordAttempt(client: Client) {
    if (options.passwordLogin === false) {
      throw new ForbiddenError(
        'Sign-in with a password is turned off on this server: use single sign-on.',
      );
    }
    await limits.attempt(client.address);
  }

  /** Starts a session of `user` for `client`. */
  async function signIn(user: UserRow, client: Client): Promise<AuthResult> {
    const session = await sessions.create(user.id, originOf(client));
    return { ...session, user };
  }

  /**
   * The second factor of a user with two-factor on: a TOTP code (each time step accepted once)
   * or an unused recovery code (used up). TOTP_REQUIRED without one, UNAUTHENTICATED for a wrong
   * or replayed one. The caller has already counted the attempt toward the sign-in limits.
   */
  async function checkSecondFactor(user: UserRow, code: string | null | undefined) {
    if (!user.totp_secret) return;
    if (!code) throw new TotpRequiredError();
    const step = totpStep(user.totp_secret, code);
    const ok =
      step !== null
        ? await claimTotpStep(db, user.id, step)
        : code.length <= 64 && (await consumeRecoveryCode(db, user.id, hashRecoveryCode(code)));
    if (!ok) throw new UnauthenticatedError('The two-factor code is wrong or was already used.');
  }

  return {
    requireAdminTotp: options.requireAdminTotp,

    async register(
      input: { email: string; name: string; password: string },
      client: Client,
    ): Promise<AuthResult> {
      await passwordAttempt(client);
      const data = parseInput(registerInput, input);
      const existing = await findUserByEmail(db, data.email);
      if (existing?.banned) throw new ForbiddenError(BANNED_MESSAGE);
      if (existing)
        throw new ConflictError('An account with this email already exists.', {
          email: 'is already registered',
        });
      const passwordHash = await hashPassword(data.password);
      const now = Date.now();
      // The first account of an empty database becomes the admin; the transaction makes two
      // simultaneous first sign-ups produce exactly one admin on SQLite (writers serialize); on
      // PostgreSQL the unique email and the count race only for the very first two accounts.
      const user = await db
        .transaction()
        .execute(async (trx) => {
          const role = (await hasAnyUser(trx)) ? 'USER' : 'ADMIN';
          return insertUser(trx, {
            email: data.email,
            name: data.name,
            password_hash: passwordHash,
            role,
            created_at: now,
            last_active_at: now,
          });
        })
        .catch(async (e: unknown) => {
          if (await findUserByEmail(db, data.email)) {
            throw new ConflictError('An account with this email already exists.', {
              email: 'is already registered',
            });
          }
          throw e;
        });
      return signIn(user, client);
    },

    async login(
      input: { email: string; password: string; totp?: string | null },
      client: Client,
    ): Promise<AuthResult> {
      await passwordAttempt(client);
      const address = parseInput(z.object({ email }), { email: input.email }).email;
      // Failed attempts change nothing else, so each event is a statement of its own.
      const failed = (
        user: UserRow | undefined,
        reason: string,
        action: 'auth.login_failed' | 'auth.locked' = 'auth.login_failed',
      ) =>
        audit.record(db, {
          actor: { user: null, address: client.address, claimed: address },
          action,
          target: user ? userTarget(user) : null,
          details: { reason },
        });
      try {
        await limits.beginSignIn(address);
      } catch (err) {
        if (err instanceof SignInLockedError && err.first) {
          await failed(
            await findUserByEmail(db, address),
            'too many failed sign-ins',
            'auth.locked',
          );
        }
        throw err;
      }
      const user = await findUserByEmail(db, address);
      // No password past the registration limit was ever set: refused without hashing a megabyte.
      const plausible = input.password.length <= 256;
      const ok =
        user && plausible
          ? await verifyPassword(user.password_hash, input.password)
          : (await verifyDummy(plausible ? input.password : ''), false);
      if (!user || !ok) {
        await failed(user, user ? 'wrong password' : 'unknown email');
        // One answer for an unknown email and a wrong password: no account enumeration.
        throw new BadUserInputError('The email or password is wrong.', {
          password: 'email or password is wrong',
        });
      }
      if (user.banned) {
        await failed(user, 'banned');
        throw new ForbiddenError(BANNED_MESSAGE);
      }
      // The failure window is cleared only once both factors passed: TOTP guesses count too.
      await checkSecondFactor(user, input.totp);
      await limits.succeededSignIn(address);
      return signIn(user, client);
    },

    logout: (token: string) => sessions.invalidate(token),

    logoutEverywhere: (userId: number) => sessions.invalidateUser(userId),

    /** The user's live sessions, most recently used first. */
    sessions: (userId: number): Promise<SessionRow[]> => sessions.list(userId),

    async revokeSession(user: AuditUser, sessionId: string, address: string): Promise<void> {
      // Another user's session id is "not found" too: ids never tell whose they are. An id that
      // cannot be one (ids are SHA-256 hex) is not looked up: PostgreSQL refuses text with NUL.
      if (!/^[0-9a-f]{64}$/.test(sessionId) || !(await sessions.revoke(user.id, sessionId))) {
        throw new NotFoundError('No such session.');
      }
      await audit.record(db, ownAccount(user, address, 'auth.session_revoked'));
    },

    /**
     * Changes the signed-in user's password after checking the current one, and ends every other
     * session of theirs. Wrong current passwords count as failed sign-ins of the account.
     */
    async changePassword(
      user: UserRow,
      currentSessionId: string,
      input: { currentPassword: string; newPassword: string },
      client: Client,
    ): Promise<void> {
      await limits.attempt(client.address);
      const data = parseInput(z.object({ newPassword: password }), {
        newPassword: input.newPassword,
      });
      await limits.beginSignIn(user.email);
      const ok =
        input.currentPassword.length <= 256 &&
        (await verifyPassword(user.password_hash, input.currentPassword));
      if (!ok) {
        throw new BadUserInputError('The current password is wrong.', {
          currentPassword: 'is wrong',
        });
      }
      await limits.succeededSignIn(user.email);
      const hash = await hashPassword(data.newPassword);
      await db.transaction().execute(async (trx) => {
        await setPasswordHash(trx, user.id, hash);
        await deleteUserPasswordResets(trx, user.id);
        await audit.record(trx, ownAccount(user, client.address, 'auth.password_changed'));
      });
      await sessions.invalidateOthers(user.id, currentSessionId);
    },

    /**
     * A one-time link that lets the user choose a new password, valid PASSWORD_RESET_MS; it
     * replaces the user's earlier link. The token travels in the URL's fragment, which browsers
     * never send to a server, so it stays out of access logs and Referer headers.
     */
    async createPasswordResetLink(
      admin: AuditUser,
      userId: number,
      origin: string,
      address: string,
    ) {
      const user = await findUserById(db, userId);
      if (!user) throw new NotFoundError('No such user.');
      const token = randomBytes(32).toString('base64url');
      const now = Date.now();
      await deleteExpiredPasswordResets(db, now);
      await db.transaction().execute(async (trx) => {
        await replacePasswordReset(trx, {
          token_hash: hashToken(token),
          user_id: user.id,
          created_by: admin.id,
          created_at: now,
          expires_at: now + PASSWORD_RESET_MS,
        });
        await audit.record(trx, {
          actor: { user: admin, address },
          action: 'auth.password_reset',
          target: userTarget(user),
          details: { link: 'created' },
        });
      });
      return `${origin}/reset-password#${token}`;
    },

    /**
     * Sets a new password with a reset link's token, ends every session of the user and signs in.
     * The link is used up only by a reset that succeeds: a too-short password leaves it usable.
     */
    async resetPassword(
      input: { token: string; password: string; totp?: string | null },
      client: Client,
    ): Promise<AuthResult> {
      await passwordAttempt(client);
      const invalid = () =>
        new BadUserInputError('This reset link is invalid, used or expired.', {
          token: 'is invalid, used or expired',
        });
      if (input.token.length > 200) throw invalid();
      const tokenHash = hashToken(input.token);
      const pending = await findPasswordReset(db, tokenHash, Date.now());
      if (pending === undefined) throw invalid();
      const data = parseInput(z.object({ password }), { password: input.password });
      const user = await findUserById(db, pending);
      if (!user) throw invalid();
      if (user.banned) throw new ForbiddenError(BANNED_MESSAGE);
      if (user.totp_secret) {
        // A reset link replaces the password, not the second factor.
        await limits.beginSignIn(user.email);
        await checkSecondFactor(user, input.totp);
        await limits.succeededSignIn(user.email);
      }
      const hash = await hashPassword(data.password);
      const userId = await db.transaction().execute(async (trx) => {
        const id = await consumePasswordReset(trx, tokenHash, Date.now());
        if (id !== undefined) {
          await setPasswordHash(trx, id, hash);
          await audit.record(trx, {
            ...ownAccount(user, client.address, 'auth.password_reset'),
            details: { link: 'used' },
          });
        }
        return id;
      });
      if (userId === undefined) throw invalid();
      await sessions.invalidateUser(userId);
      const session = await sessions.create(userId, originOf(client));
      return { ...session, user: (await findUserById(db, userId)) ?? user };
    },

    /**
     * Starts turning two-factor on: a new secret, kept pending until `confirmTotp` proves the
     * authenticator app has it. Calling again replaces the pending secret. CONFLICT when
     * two-factor is already on (turn it off first).
     */
    async startTotpSetup(user: UserRow): Promise<{ secret: string; uri: string }> {
      if (user.totp_secret) {
        throw new ConflictError('Two-factor sign-in is already on. Turn it off first.');
      }
      const secret = newTotpSecret();
      await setPendingTotp(db, user.id, secret);
      return { secret, uri: totpUri(secret, user.email) };
    },

    /**
     * Turns two-factor on with a code from the pending secret and answers ten single-use
     * recovery codes (only their hashes are kept). Wrong codes count toward the sign-in limits.
     */
    async confirmTotp(user: UserRow, code: string, client: Client): Promise<string[]> {
      await limits.attempt(client.address);
      if (user.totp_secret) {
        throw new ConflictError('Two-factor sign-in is already on.');
      }
      if (!user.totp_pending) {
        throw BadUserInputError.field('code', 'start the two-factor setup first');
      }
      await limits.beginSignIn(user.email);
      const step = totpStep(user.totp_pending, code);
      if (step === null) throw BadUserInputError.field('code', 'is wrong');
      await limits.succeededSignIn(user.email);
      const codes = newRecoveryCodes();
      const done = await db.transaction().execute((trx) =>
        confirmPendingTotp(
          trx,
          user.id,
          user.totp_pending!,
          step,
          codes.map(hashRecoveryCode),
        ).then(async (confirmed) => {
          if (confirmed) {
            await audit.record(trx, ownAccount(user, client.address, 'auth.totp_enabled'));
          }
          return confirmed;
        }),
      );
      if (!done) throw new ConflictError('Two-factor sign-in was set up by another request.');
      return codes;
    },

    /** Turns two-factor off after checking the password (wrong ones count as failed sign-ins). */
    async disableTotp(user: UserRow, password: string, client: Client): Promise<void> {
      await limits.attempt(client.address);
      await limits.beginSignIn(user.email);
      const ok = password.length <= 256 && (await verifyPassword(user.password_hash, password));
      if (!ok) throw BadUserInputError.field('password', 'is wrong');
      await limits.succeededSignIn(user.email);
      await db.transaction().execute(async (trx) => {
        await clearTotp(trx, user.id);
        await audit.record(trx, ownAccount(user, client.address, 'auth.totp_disabled'));
      });
    },

    /**
     * Ten new recovery codes in place of the old ones (used or not), after a current code from
     * the authenticator app: a TOTP code proves the phone is still there, which a password (that
     * sign-on users may not even have) does not. The code's step is claimed as at sign-in, so it
     * cannot be replayed; wrong codes count toward the sign-in limits.
     */
    async regenerateRecoveryCodes(user: UserRow, code: string, client: Client): Promise<string[]> {
      await limits.attempt(client.address);
      if (!user.totp_secret) throw new ConflictError('Two-factor sign-in is off.');
      await limits.beginSignIn(user.email);
      const step = code.length <= 64 ? totpStep(user.totp_secret, code) : null;
      if (step === null || !(await claimTotpStep(db, user.id, step))) {
        throw BadUserInputError.field('code', 'is wrong or was already used');
      }
      await limits.succeededSignIn(user.email);
      const codes = newRecoveryCodes();
      const replaced = await db.transaction().execute(async (trx) => {
        // The secret is read again inside: two-factor turned off meanwhile keeps no codes.
        if (
          !(await replaceRecoveryCodes(
            trx,
            user.id,
            user.totp_secret!,
            codes.map(hashRecoveryCode),
          ))
        )
          return false;
        await audit.record(
          trx,
          ownAccount(user, client.address, 'auth.recovery_codes_regenerated'),
        );
        return true;
      });
      if (!replaced) throw new ConflictError('Two-factor sign-in was turned off meanwhile.');
      return codes;
    },

    /**
     * An admin turns a user's two-factor off (a lost phone and no recovery codes left): the
     * secret and recovery codes go, the password stays. Not for one's own account, which needs
     * the password (`disableTotp`). Turning off what is off changes nothing and records nothing.
     */
    async disableUserTotp(admin: AuditUser, userId: number, address: string): Promise<UserRow> {
      if (admin.id === userId) {
        throw new ForbiddenError(
          'Turn your own two-factor sign-in off in your account page (it asks for your password).',
        );
      }
      return db.transaction().execute(async (trx) => {
        const user = await findUserById(trx, userId);
        if (!user) throw new NotFoundError('No such user.');
        if (user.totp_secret === null && user.totp_pending === null) return user;
        await clearTotp(trx, user.id);
        if (user.totp_secret !== null) {
          await audit.record(trx, {
            actor: { user: admin, address },
            action: 'auth.totp_disabled',
            target: userTarget(user),
            details: { by: 'admin' },
          });
        }
        return { ...user, totp_secret: null, totp_pending: null, totp_last_step: null };
      });
    },

    recoveryCodesLeft: (userId: number) => countRecoveryCodes(db, userId),

    /** Ends every session and API token of a user at once (ban). */
    async revokeAll(userId: number) {
      await sessions.invalidateUser(userId);
      await deleteUserApiTokens(db, userId);
    },
  };
}

const originOf = (client: Client) => ({ user_agent: client.userAgent, address: client.address });
