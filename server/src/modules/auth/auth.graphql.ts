import { builder } from '../../graphql/builder.js';
import type { Context } from '../../graphql/context.js';
import { User } from '../users/users.graphql.js';
import type { AuthResult } from './auth.service.js';

const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', {
      description: 'The session token; also set as an HttpOnly cookie.',
    }),
    expiresAt: t.field({ type: 'DateTime', resolve: (p) => p.expiresAt }),
    user: t.field({ type: User, resolve: (p) => p.user }),
  }),
});

function signedIn(ctx: Context, result: AuthResult): AuthResult {
  ctx.setCookie(ctx.services.sessions.cookie(result.token, result.expiresAt));
  return result;
}

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthPayload,
    description: 'Creates an account and signs in. The first account of an empty library is ADMIN.',
    args: {
      email: t.arg.string({ required: true }),
      name: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, ctx) =>
      signedIn(ctx, await ctx.services.auth.register(args, ctx.clientAddress)),
  }),
  login: t.field({
    type: AuthPayload,
    args: { email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) =>
      signedIn(ctx, await ctx.services.auth.login(args, ctx.clientAddress)),
  }),
  logout: t.boolean({
    description: 'Ends the current session. True even when there was none.',
    resolve: async (_root, _args, ctx) => {
      if (ctx.viewer?.kind === 'session' && ctx.token) await ctx.services.auth.logout(ctx.token);
      ctx.setCookie(ctx.services.sessions.blankCookie());
      return true;
    },
  }),
  logoutEverywhere: t.boolean({
    description: 'Ends every session of the signed-in user, on every device.',
    authScopes: { session: true },
    resolve: async (_root, _args, ctx) => {
      await ctx.services.auth.logoutEverywhere(ctx.viewer!.user.id);
      ctx.setCookie(ctx.services.sessions.blankCookie());
      return true;
    },
  }),
}));
