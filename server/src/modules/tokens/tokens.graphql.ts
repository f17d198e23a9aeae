import { signedInActor } from '../audit/audit.service.js';
import { builder } from '../../graphql/builder.js';
import { instant, instantOrNull, ownRevocableList, SESSION } from '../../graphql/fields.js';
import { parseIdOrNotFound } from '../../graphql/ids.js';
import type { ApiScope } from './scopes.js';
import type { ApiToken } from './tokens.service.js';

/** One description per scope of API_SCOPES: a scope added there fails to compile until described. */
const API_SCOPE_VALUES = {
  READ: {
    description:
      'Queries on files and tags: `files`, `file`, `tags`, `myDownloads` (and `me`, which needs ' +
      'no scope).',
  },
  DOWNLOAD: { description: 'The download route, GET/HEAD `/files/:id/download`.' },
  UPLOAD: { description: '`uploadFile`.' },
  STATS: {
    description:
      '`downloadStats`, `downloads` and `File.downloads`: only while the token’s creator is an ' +
      'admin.',
  },
  AUDIT: { description: '`auditEvents`: only while the token’s creator is an admin.' },
  SHARE: {
    description:
      'Share links: `createShareLink` (the creator’s own files; any for an admin’s token), ' +
      '`revokeShareLink`, `shareLinks`.',
  },
} as const satisfies Record<ApiScope, { description: string }>;

export const ApiScopeEnum = builder.enumType('ApiScope', {
  description:
    'What an API token may do. A token can do only what its scopes allow (FORBIDDEN otherwise); ' +
    'account and token management always need a session.',
  values: API_SCOPE_VALUES,
});

const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken').implement({
  description:
    'A long-lived credential for scripts, sent as `Authorization: Bearer <token>`, limited to its ' +
    'scopes. It stops working at once when revoked, expired, or its owner is banned. The secret ' +
    'itself is never shown again after `createApiToken`.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Identifier, for `revokeApiToken`.' }),
    name: t.exposeString('name', { description: 'The owner’s label: 1 to 100 characters.' }),
    scopes: t.expose('scopes', {
      type: [ApiScopeEnum],
      description: 'What the token may do, sorted, without duplicates.',
    }),
    createdAt: t.expose('created_at', instant('When it was created.')),
    expiresAt: t.expose(
      'expires_at',
      instantOrNull('When it stops working; null: never (until revoked).'),
    ),
    lastUsedAt: t.expose(
      'last_used_at',
      instantOrNull(
        'The last request made with it, recorded at most once a minute; null if unused.',
      ),
    ),
  }),
});

const NewApiToken = builder
  .objectRef<{ token: string; apiToken: ApiToken }>('NewApiToken')
  .implement({
    description: 'The secret is shown once, here; only its hash is stored.',
    fields: (t) => ({
      token: t.exposeString('token', {
        description:
          'The secret (`cab_…`), for `Authorization: Bearer <token>`. Store it now: it cannot be ' +
          'read again.',
      }),
      apiToken: t.expose('apiToken', {
        type: ApiTokenRef,
        description: 'The token’s details, as `apiTokens` lists them.',
      }),
    }),
  });

ownRevocableList(
  ApiTokenRef,
  {
    name: 'apiTokens',
    description:
      'The signed-in user’s API tokens, newest first (expired ones too, until revoked). Needs a ' +
      'session.',
    resolve: (ctx, userId) => ctx.services.tokens.list(userId),
  },
  {
    name: 'revokeApiToken',
    description:
      'Deletes one of the signed-in user’s API tokens; it stops working at once. Needs a ' +
      'session. NOT_FOUND for a token that is not the caller’s or does not exist.',
    id: 'The token’s `id`.',
    resolve: (ctx, id) => ctx.services.tokens.revoke(signedInActor(ctx), parseIdOrNotFound(id)),
  },
);

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: NewApiToken,
    description:
      'Creates an API token for the signed-in user and shows its secret once. Needs a session. ' +
      'BAD_USER_INPUT with `extensions.fields` for an invalid name, no scope or a past expiry.',
    authScopes: SESSION,
    args: {
      name: t.arg.string({
        required: true,
        description: 'A label: 1 to 100 characters after trimming, no control characters.',
      }),
      scopes: t.arg({
        type: [ApiScopeEnum],
        required: true,
        description: 'At least one scope; duplicates collapse.',
      }),
      expiresAt: t.arg({
        type: 'DateTime',
        description: 'When the token stops working, in the future; null or omitted: never.',
      }),
    },
    resolve: (_root, args, ctx) => ctx.services.tokens.create(signedInActor(ctx), args),
  }),
}));
