import { z } from 'zod';
import type { Db, UserRow } from '../../db/database.js';
import { BadUserInputError, ConflictError, ForbiddenError } from '../../errors.js';
import { noControlCharacters, parseInput } from '../../validation.js';
import { deleteUserApiTokens } from '../tokens/tokens.repository.js';
import { findUserByEmail, hasAnyUser, insertUser } from '../users/users.repository.js';
import { hashPassword, verifyDummy, verifyPassword } from './password.js';
import { SignInLockedError, type AuthRateLimits } from './rate-limit.js';
import { audit } from '../audit/audit.service.js';
import type { Sessions } from './sessions.js';

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
const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .pipe(noControlCharacters());

const registerInput = z.object({ email, name, password });

const BANNED_MESSAGE = 'This account has been banned. Contact an administrator.';

export function createAuthService(db: Db, sessions: Sessions, limits: AuthRateLimits) {
  return {
    async register(
      input: { email: string; name: string; password: string },
      clientAddress: string,
    ): Promise<AuthResult> {
      await limits.attempt(clientAddress);
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
      const session = await sessions.create(user.id);
      return { ...session, user };
    },

    async login(
      input: { email: string; password: string },
      clientAddress: string,
    ): Promise<AuthResult> {
      await limits.attempt(clientAddress);
      const address = parseInput(z.object({ email }), { email: input.email }).email;
      // Failed attempts change nothing else, so each event is a statement of its own.
      const failed = (
        user: UserRow | undefined,
        reason: string,
        action: 'auth.login_failed' | 'auth.locked' = 'auth.login_failed',
      ) =>
        audit.record(db, {
          actor: { user: null, address: clientAddress, claimed: address },
          action,
          target: user ? { type: 'user', id: user.id, label: user.email } : null,
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
      await limits.succeededSignIn(address);
      const session = await sessions.create(user.id);
      return { ...session, user };
    },

    logout: (token: string) => sessions.invalidate(token),

    logoutEverywhere: (userId: number) => sessions.invalidateUser(userId),

    /** Ends every session and API token of a user at once (ban). */
    async revokeAll(userId: number) {
      await sessions.invalidateUser(userId);
      await deleteUserApiTokens(db, userId);
    },
  };
}
