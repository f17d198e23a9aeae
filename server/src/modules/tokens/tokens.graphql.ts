import { builder } from '../../graphql/builder.js';
import { parseIdOrNotFound } from '../../graphql/ids.js';
import { API_SCOPES } from './scopes.js';
import type { ApiToken } from './tokens.service.js';

export const ApiScopeEnum = builder.enumType('ApiScope', { values: API_SCOPES });

const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    scopes: t.field({ type: [ApiScopeEnum], resolve: (k) => k.scopes }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.created_at }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.expires_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.last_used_at }),
  }),
});

const NewApiToken = builder
  .objectRef<{ token: string; apiToken: ApiToken }>('NewApiToken')
  .implement({
    description: 'The secret is shown once, here; only its hash is stored.',
    fields: (t) => ({
      token: t.exposeString('token'),
      apiToken: t.field({ type: ApiTokenRef, resolve: (n) => n.apiToken }),
    }),
  });

builder.queryField('apiTokens', (t) =>
  t.field({
    type: [ApiTokenRef],
    description: 'The signed-in user’s API tokens.',
    authScopes: { session: true },
    resolve: (_root, _args, ctx) => ctx.services.tokens.list(ctx.viewer!.user.id),
  }),
);

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: NewApiToken,
    authScopes: { session: true },
    args: {
      name: t.arg.string({ required: true }),
      scopes: t.arg({ type: [ApiScopeEnum], required: true }),
      expiresAt: t.arg({ type: 'DateTime' }),
    },
    resolve: (_root, args, ctx) => ctx.services.tokens.create(ctx.viewer!.user.id, args),
  }),
  revokeApiToken: t.boolean({
    authScopes: { session: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.tokens.revoke(ctx.viewer!.user.id, parseIdOrNotFound(args.id)),
  }),
}));
