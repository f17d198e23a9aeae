import { builder } from '../../graphql/builder.js';
import type { Context } from '../../graphql/context.js';
import { User } from '../users/users.graphql.js';
import type { AuthResult } from './auth.service.js';

const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
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

function signedIn(ctx: Context, result: AuthResult): AuthResult {
  ctx.setCookie(ctx.services.sessions.cookie(result.token, result.expiresAt));
  return result;
}

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
    resolve: async (_root, args, ctx) =>
      signedIn(ctx, await ctx.services.auth.register(args, ctx.clientAddress)),
  }),
  login: t.field({
    type: AuthPayload,
    description:
      'Signs in with email and password and starts a session. A wrong email or password is ' +
      'BAD_USER_INPUT (one answer for both), a banned account FORBIDDEN. RATE_LIMITED, with ' +
      '`extensions.retryAfter` in seconds, past AUTH_RATE_PER_ADDRESS attempts per client address ' +
      'per 10 minutes or 10 failed sign-ins per email per 15 minutes.',
    args: {
      email: t.arg.string({ required: true, description: 'The account’s email, any case.' }),
      password: t.arg.string({ required: true, description: 'The account’s password.' }),
    },
    resolve: async (_root, args, ctx) =>
      signedIn(ctx, await ctx.services.auth.login(args, ctx.clientAddress)),
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
    authScopes: { session: true },
    resolve: async (_root, _args, ctx) => {
      await ctx.services.auth.logoutEverywhere(ctx.viewer!.user.id);
      ctx.setCookie(ctx.services.sessions.blankCookie());
      return true;
    },
  }),
}));
