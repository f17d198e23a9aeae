import { builder } from '../../graphql/builder.js';
import { clientOf, type Context } from '../../graphql/context.js';
import { ADMIN_SESSION, byUserId, SESSION, userIdArg } from '../../graphql/fields.js';
import { User } from '../users/users.graphql.js';
import type { AuthResult, Client } from './auth.service.js';
import './sessions.graphql.js';
import './totp.graphql.js';

export const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  description: 'A new session: what `register` and `login` answer.',
  fields: (t) => ({
    token: t.exposeString('token', {
      description:
        'The session token; also set as an HttpOnly, SameSite=Lax cookie (Secure with an https ' +
        'public origin). Scripts send it as `Authorization: Bearer <token>`.',
    }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      description:
        'When the session ends unless used: sessions last SESSION_DAYS (default 30) and are ' +
        'renewed while in use.',
    }),
    user: t.field({ type: User, description: 'The signed-in user.', resolve: (p) => p.user }),
  }),
});

/**
 * The resolver of a mutation that starts a session (`register`, `login`, `resetPassword`,
 * `finishPasskeyLogin`): the service signs in, then the session's cookie is set.
 */
export const signingIn =
  <Args>(start: (ctx: Context, args: Args, client: Client) => Promise<AuthResult>) =>
  async (_root: unknown, args: Args, ctx: Context): Promise<AuthResult> => {
    const result = await start(ctx, args, clientOf(ctx));
    ctx.setCookie(ctx.services.sessions.cookie(result.token, result.expiresAt));
    return result;
  };

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthPayload,
    description:
      'Creates an account and signs in (anonymous callers may call it). The first account of an ' +
      'empty library is ADMIN, later ones USER. BAD_USER_INPUT with `extensions.fields` for ' +
      'invalid input, CONFLICT when the email is taken, FORBIDDEN for a banned email, ' +
      'RATE_LIMITED past the per-address limit (AUTH_RATE_PER_ADDRESS attempts per 10 minutes; ' +
      '`extensions.retryAfter` in seconds).',
    args: {
      email: t.arg.string({
        required: true,
        description:
          'A valid email address, at most 254 characters; trimmed, compared case-insensitively ' +
          'and stored lower-case.',
      }),
      name: t.arg.string({
        required: true,
        description: 'Display name: 1 to 100 characters after trimming, no control characters.',
      }),
      password: t.arg.string({
        required: true,
        description: '8 to 256 characters; stored only as an argon2id hash.',
      }),
    },
    resolve: signingIn((ctx, args, client) => ctx.services.auth.register(args, client)),
  }),
  login: t.field({
    type: AuthPayload,
    description:
      'Signs in with email and password (and `totp` when two-factor is on) and starts a ' +
      'session. A wrong email or password is ' +
      'BAD_USER_INPUT (one answer for both), a banned account FORBIDDEN. RATE_LIMITED, with ' +
      '`extensions.retryAfter` in seconds, past AUTH_RATE_PER_ADDRESS attempts per client address ' +
      'per 10 minutes or 10 failed sign-ins per email per 15 minutes.',
    args: {
      email: t.arg.string({ required: true, description: 'The account’s email, any case.' }),
      password: t.arg.string({ required: true, description: 'The account’s password.' }),
      totp: t.arg.string({
        required: false,
        description:
          'With two-factor on: the six-digit code from the authenticator app (each accepted ' +
          'once) or one of the recovery codes (each works once). Without it such an account ' +
          'answers TOTP_REQUIRED once the password is right; a wrong code is UNAUTHENTICATED.',
      }),
    },
    resolve: signingIn((ctx, args, client) => ctx.services.auth.login(args, client)),
  }),
  createPasswordResetLink: t.string({
    description:
      'Admin only: a one-time link (`<origin>/reset-password#<token>`) with which the user sets ' +
      'a new password, for handing over by hand (no mail server needed). Valid for one hour, ' +
      'used once; a new link replaces the user’s earlier one. NOT_FOUND for an unknown user.',
    authScopes: ADMIN_SESSION,
    args: userIdArg(t.arg, 'The user whose password to reset.'),
    resolve: byUserId((userId, ctx) =>
      ctx.services.auth.createPasswordResetLink(
        ctx.viewer!.user,
        userId,
        ctx.origin,
        ctx.clientAddress,
      ),
    ),
  }),
  resetPassword: t.field({
    type: AuthPayload,
    description:
      'Sets a new password with the token of a link from `createPasswordResetLink`, ends every ' +
      'session of that user and signs in (anonymous callers may call it). BAD_USER_INPUT on ' +
      '`token` for an unknown, used or expired link, on `password` for one outside the rules ' +
      '(the link stays usable then); FORBIDDEN for a banned account. Counts toward ' +
      'AUTH_RATE_PER_ADDRESS.',
    args: {
      token: t.arg.string({ required: true, description: 'The part of the link after `#`.' }),
      password: t.arg.string({ required: true, description: '8 to 256 characters.' }),
      totp: t.arg.string({
        required: false,
        description:
          'For an account with two-factor on: a code or recovery code, as for `login` ' +
          '(TOTP_REQUIRED without one; the link stays usable until a reset succeeds).',
      }),
    },
    resolve: signingIn((ctx, args, client) => ctx.services.auth.resetPassword(args, client)),
  }),
  logout: t.boolean({
    description:
      'Ends the current session and clears the cookie. True even when there was none; with an ' +
      'API token it only clears the cookie (revoke tokens with `revokeApiToken`).',
    resolve: async (_root, _args, ctx) => {
      if (ctx.viewer?.kind === 'session' && ctx.token) await ctx.services.auth.logout(ctx.token);
      ctx.setCookie(ctx.services.sessions.blankCookie());
      return true;
    },
  }),
  logoutEverywhere: t.boolean({
    description:
      'Ends every session of the signed-in user, on every device, and clears the cookie. Needs a ' +
      'session; API tokens stay valid.',
    authScopes: SESSION,
    resolve: async (_root, _args, ctx) => {
      await ctx.services.auth.logoutEverywhere(ctx.viewer!.user.id);
      ctx.setCookie(ctx.services.sessions.blankCookie());
      return true;
    },
  }),
}));
