import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { Db, PasskeyRow, UserRow } from '../../db/database.js';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../errors.js';
import { displayName, parseInput } from '../../validation.js';
import type { AuthResult, Client } from '../auth/auth.service.js';
import type { AuthRateLimits } from '../auth/rate-limit.js';
import type { Sessions } from '../auth/sessions.js';
import { audit, ownAccount, userTarget } from '../audit/audit.service.js';
import { findUserById } from '../users/users.repository.js';
import {
  consumeChallenge,
  deletePasskey,
  findPasskey,
  insertChallenge,
  insertPasskey,
  listPasskeys,
  renamePasskey,
  usePasskey,
} from './passkeys.repository.js';

/**
 * Whether `id` can be a credential id at all (base64url; WebAuthn allows up to 1,023 bytes). Others
 * are unknown without a query: PostgreSQL refuses text holding NUL, and nothing else can match.
 */
const isCredentialId = (id: unknown): id is string =>
  typeof id === 'string' && /^[A-Za-z0-9_-]{1,1400}$/.test(id);

// WebAuthn ceremonies through @simplewebauthn/server. Options and responses travel as JSON text
// (the browser package's shapes). The relying party is the origin people reach Cabinet at
// (PUBLIC_ORIGIN, else the request's): its host name is the RP ID, so passkeys made on one
// host name do not work on another.

const CHALLENGE_MS = 5 * 60 * 1000;
/** A WebAuthn response is a few kilobytes; anything much larger is refused unread. */
const MAX_RESPONSE_CHARS = 64 * 1024;

function parseResponse<T>(text: string): T {
  const invalid = BadUserInputError.field('response', 'is not a WebAuthn response');
  if (text.length > MAX_RESPONSE_CHARS) throw invalid;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid;
  }
  if (
    !value ||
    typeof value !== 'object' ||
    typeof (value as { id?: unknown }).id !== 'string' ||
    typeof (value as { response?: unknown }).response !== 'object' ||
    (value as { response?: unknown }).response === null
  ) {
    throw invalid;
  }
  return value as T;
}

const rpIdOf = (origin: string) => new URL(origin).hostname;

export function createPasskeysService(
  db: Db,
  sessions: Sessions,
  limits: AuthRateLimits,
  options: { passwordLogin: boolean } = { passwordLogin: true },
) {
  /** PASSWORD_LOGIN=off leaves single sign-on the only way in: passkeys do not sign in then. */
  function refuseWithoutPasswordLogin() {
    if (!options.passwordLogin) {
      throw new ForbiddenError('Sign-in is through single sign-on only on this server.');
    }
  }
  const refused = () =>
    new BadUserInputError('The passkey could not be verified.', {
      response: 'could not be verified',
    });

  return {
    list: (userId: number) => listPasskeys(db, userId),

    async startRegistration(user: UserRow, origin: string): Promise<string> {
      refuseWithoutPasswordLogin();
      const existing = await listPasskeys(db, user.id);
      const options = await generateRegistrationOptions({
        rpName: 'Cabinet',
        rpID: rpIdOf(origin),
        userName: user.email,
        userDisplayName: user.name,
        userID: new TextEncoder().encode(String(user.id)),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({
          id: p.id,
          transports: p.transports?.split(',') as AuthenticatorTransport[] | undefined,
        })),
        // A discoverable credential: it signs in without typing the email first.
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      });
      await insertChallenge(db, {
        challenge: options.challenge,
        kind: 'register',
        user_id: user.id,
        expires_at: Date.now() + CHALLENGE_MS,
      });
      return JSON.stringify(options);
    },

    async finishRegistration(
      user: UserRow,
      input: { response: string; name?: string | null },
      origin: string,
      address: string,
    ): Promise<PasskeyRow> {
      const response = parseResponse<RegistrationResponseJSON>(input.response);
      const label = parseInput(z.object({ name: displayName }), {
        name: input.name ?? 'Passkey',
      }).name;
      let verified;
      try {
        verified = await verifyRegistrationResponse({
          response,
          expectedChallenge: (challenge) =>
            consumeChallenge(db, challenge, 'register', user.id, Date.now()),
          expectedOrigin: origin,
          expectedRPID: rpIdOf(origin),
          requireUserVerification: false,
        });
      } catch {
        throw refused();
      }
      if (!verified.verified) throw refused();
      const { credential } = verified.registrationInfo;
      if (await findPasskey(db, credential.id)) {
        throw BadUserInputError.field('response', 'is a passkey already registered');
      }
      const row: PasskeyRow = {
        id: credential.id,
        user_id: user.id,
        name: label,
        public_key: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: credential.transports?.join(',') ?? null,
        created_at: Date.now(),
        last_used_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await insertPasskey(trx, row);
        await audit.record(trx, {
          ...ownAccount(user, address, 'auth.passkey_added'),
          details: { passkey: label },
        });
      });
      return row;
    },

    async startLogin(origin: string, client: Client): Promise<string> {
      refuseWithoutPasswordLogin();
      await limits.attempt(client.address);
      const options = await generateAuthenticationOptions({
        rpID: rpIdOf(origin),
        userVerification: 'preferred',
      });
      await insertChallenge(db, {
        challenge: options.challenge,
        kind: 'login',
        user_id: null,
        expires_at: Date.now() + CHALLENGE_MS,
      });
      return JSON.stringify(options);
    },

    /** Signs in with a passkey: it stands for both factors, so no TOTP code is asked. */
    async finishLogin(response: string, origin: string, client: Client): Promise<AuthResult> {
      refuseWithoutPasswordLogin();
      await limits.attempt(client.address);
      const parsed = parseResponse<AuthenticationResponseJSON>(response);
      const passkey = isCredentialId(parsed.id) ? await findPasskey(db, parsed.id) : undefined;
      if (!passkey) throw refused();
      // A refusal of a known passkey is audited like a wrong password (`auth.login_failed`); a
      // successful sign-in is not, as for `login`. Unknown ids name no account: not logged.
      const failed = async (reason: string) => {
        const owner = await findUserById(db, passkey.user_id);
        if (owner) {
          await audit.record(db, {
            actor: { user: null, address: client.address, claimed: owner.email },
            action: 'auth.login_failed',
            target: userTarget(owner),
            details: { reason, method: 'passkey', passkey: passkey.name },
          });
        }
        return refused();
      };
      let verified;
      try {
        verified = await verifyAuthenticationResponse({
          response: parsed,
          expectedChallenge: (challenge) =>
            consumeChallenge(db, challenge, 'login', null, Date.now()),
          expectedOrigin: origin,
          expectedRPID: rpIdOf(origin),
          credential: {
            id: passkey.id,
            publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')),
            counter: passkey.counter,
            transports: passkey.transports?.split(',') as AuthenticatorTransport[] | undefined,
          },
          requireUserVerification: false,
        });
      } catch (err) {
        // simplewebauthn says which check failed; only a counter going back is worth telling
        // apart (a cloned authenticator), the rest is a response that does not verify.
        const counter = err instanceof Error && /counter/i.test(err.message);
        throw await failed(counter ? 'passkey counter replayed' : 'passkey not verified');
      }
      if (!verified.verified) throw await failed('passkey not verified');
      const { newCounter } = verified.authenticationInfo;
      if (!(await usePasskey(db, passkey.id, newCounter, Date.now()))) {
        throw await failed('passkey counter replayed');
      }
      const user = await findUserById(db, passkey.user_id);
      if (!user) throw refused();
      if (user.banned) {
        await failed('banned');
        throw new ForbiddenError('This account has been banned.');
      }
      const session = await sessions.create(user.id, {
        user_agent: client.userAgent,
        address: client.address,
      });
      return { ...session, user };
    },

    async rename(userId: number, id: string, newName: string): Promise<PasskeyRow> {
      const label = parseInput(z.object({ name: displayName }), { name: newName }).name;
      const row = isCredentialId(id) ? await renamePasskey(db, userId, id, label) : undefined;
      if (!row) throw new NotFoundError('No such passkey.');
      return row;
    },

    async delete(user: { id: number; email: string }, id: string, address: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if (!isCredentialId(id) || !(await deletePasskey(trx, user.id, id))) {
          throw new NotFoundError('No such passkey.');
        }
        await audit.record(trx, ownAccount(user, address, 'auth.passkey_deleted'));
      });
    },
  };
}

export type PasskeysService = ReturnType<typeof createPasskeysService>;
