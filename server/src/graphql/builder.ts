import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import { GraphQLError, Kind } from 'graphql';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import type { Context } from './context.js';
import type { ApiScope } from '../modules/tokens/scopes.js';
import type { FileUpload } from 'graphql-upload-minimal';

// Setup only: plugins, scalars and auth scopes. Types live in their domain's *.graphql.ts file.

export interface AuthScopes {
  /** Any signed-in viewer: a session or an API token. */
  loggedIn: boolean;
  /** A signed-in viewer whose user is an admin (for tokens: whose creator is an admin now). */
  admin: boolean;
  /** A browser or CLI session, not an API token (account management, editing). */
  session: boolean;
  /** A session, or an API token carrying this scope. */
  tokenScope: ApiScope;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | number };
    SafeInt: { Input: number; Output: number };
    ID: { Input: string; Output: string | number };
    Upload: { Input: Promise<FileUpload>; Output: never };
  };
  // Every connection answers totalCount, counted only when a client selects it.
  Connection: { totalCount: () => Promise<number> };
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  plugins: [ScopeAuthPlugin, DataloaderPlugin, RelayPlugin],
  defaultFieldNullability: false,
  // Connection, Edge and PageInfo types only: ids are plain database ids, not global ids, so no
  // Node interface or node(id:) queries; paging arguments are our own (see connection.ts).
  relay: {
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
  scopeAuth: {
    authScopes: (context) => {
      const viewer = context.viewer;
      return {
        loggedIn: viewer !== null,
        admin: viewer?.user.role === 'ADMIN',
        session: viewer?.kind === 'session',
        tokenScope: (scope) =>
          viewer !== null && (viewer.kind === 'session' || viewer.scopes.includes(scope)),
      };
    },
    // Anonymous callers are told to sign in; signed-in callers are told they may not.
    unauthorizedError: (_parent, context, _info, result) =>
      context.viewer
        ? new ForbiddenError()
        : new UnauthenticatedError(result.message === 'Unauthorized' ? undefined : result.message),
  },
});

builder.queryType({
  description:
    'Reads. Anonymous callers may ask only for `me` (null for them); everything else needs a ' +
    'session or an API token with the scope the field names, else UNAUTHENTICATED (no or invalid ' +
    'credentials) or FORBIDDEN (signed in, but not allowed).',
});
builder.mutationType({
  description:
    'Writes. Anonymous callers may call only `register`, `login` and `logout`. Account, token and ' +
    'library management need a session (an API token gets FORBIDDEN), except `uploadFile`, which ' +
    'an API token with the UPLOAD scope may call.',
});

// Scalar parse failures are bad input like any other, with the code clients switch on.
const BAD_INPUT = { extensions: { code: 'BAD_USER_INPUT' } };

function parseDate(value: unknown): Date {
  if (typeof value !== 'string')
    throw new GraphQLError('DateTime must be an ISO 8601 string', BAD_INPUT);
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new GraphQLError(`Not a valid ISO 8601 date-time: ${value}`, BAD_INPUT);
  }
  return date;
}

builder.scalarType('DateTime', {
  description:
    'An instant as an ISO 8601 date-time string. Answers are always UTC with milliseconds ' +
    '(`2026-11-25T09:00:00.000Z`). Inputs start with a `YYYY-MM-DD` date and should carry a ' +
    'zone (`Z` or an offset); a date alone means its midnight UTC. Anything else is ' +
    'BAD_USER_INPUT.',
  serialize: (value) => new Date(value).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', BAD_INPUT);
    return parseDate(ast.value);
  },
});

function parseSafeInt(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new GraphQLError('SafeInt must be an integer up to 2^53-1', BAD_INPUT);
  }
  return value;
}

builder.scalarType('SafeInt', {
  description:
    'A whole number of at most 2^53-1 (9007199254740991) either side of zero, beyond Int’s 32 ' +
    'bits: byte counts such as `File.size`. A JSON number; a fraction or a larger value is ' +
    'BAD_USER_INPUT.',
  serialize: (value) => value,
  parseValue: parseSafeInt,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT) throw new GraphQLError('SafeInt must be an integer', BAD_INPUT);
    return parseSafeInt(Number(ast.value));
  },
});

/** The builder's type parameters, for helpers generic over object refs. */
export type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
