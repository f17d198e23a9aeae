import type {
  ArgBuilder,
  CompatibleTypes,
  EnumRef,
  FieldRef,
  ObjectFieldBuilder,
  ObjectRef,
  ShapeFromTypeParam,
} from '@pothos/core';
import type { AuthScopeMap } from '@pothos/plugin-scope-auth';
import { builder, type Types } from './builder.js';
import { connectionRef, offsetConnection, pageArgs, type PageArgs } from './connection.js';
import { parseSearchText } from './search-text.js';
import type { Context } from './context.js';
import type { ApiScope } from '../modules/tokens/scopes.js';
import { parseId, parseIdOrNotFound } from './ids.js';

// The field shapes that recur across the domains' *.graphql.ts files, written once.

/** Account, token and library management: a browser or CLI session, never an API token. */
export const SESSION = { session: true } as const;

/** Administration: an admin, with a session. */
export const ADMIN_SESSION = { $all: { admin: true, session: true } } as const;

/**
 * Library reads and writes: a session, or an API token carrying `scope` ("session or READ
 * token").
 */
export const sessionOrToken = (scope: ApiScope) => ({ tokenScope: scope }) as const;

/** Statistics and the audit log: an admin, with a session or an API token carrying `scope`. */
export const adminOrToken = (scope: ApiScope) =>
  ({ $all: { admin: true, tokenScope: scope } }) as const;

/** Options of a DateTime field: when something happened. */
export const instant = (description: string) => ({ type: 'DateTime', description }) as const;

/** Options of a DateTime field that is null until (or unless) it happens. */
export const instantOrNull = (description: string) =>
  ({ type: 'DateTime', nullable: true, description }) as const;

/**
 * How a type of rows loads by id (`builder.loadableObject`): `load` reads many ids in one query per
 * request, in any order, and each row goes back to the id it has.
 */
export const loadedById = <Row extends { id: number }>(
  load: (ids: number[], ctx: Context) => Promise<readonly Row[]>,
) => ({ load, sort: (row: Row) => row.id });

/** The `id: ID!` argument of a field that acts on one thing: `args: idArg(t.arg, …)`. */
export const idArg = (arg: ArgBuilder<Types>, description: string) => ({
  id: arg.id({ required: true, description }),
});

/**
 * The resolver of a field acting on one thing by its `id` argument (`idArg`): a malformed id is
 * NOT_FOUND, as an unknown one.
 */
export const byId =
  <Args extends { id: string | number }, R>(act: (id: number, ctx: Context, args: Args) => R) =>
  (_root: unknown, args: Args, ctx: Context): R =>
    act(parseIdOrNotFound(args.id), ctx, args);

/** The `userId: ID!` argument of an admin's action on a user: `args: userIdArg(t.arg, …)`. */
export const userIdArg = (arg: ArgBuilder<Types>, description: string) => ({
  userId: arg.id({ required: true, description }),
});

/** The resolver of a field acting on a user by `userIdArg`: a malformed id is BAD_USER_INPUT. */
export const byUserId =
  <Args extends { userId: string | number }, R>(
    act: (userId: number, ctx: Context, args: Args) => R,
  ) =>
  (_root: unknown, args: Args, ctx: Context): R =>
    act(parseId(args.userId, 'userId'), ctx, args);

/**
 * The signed-in user's own things of one kind (sessions, API tokens, passkeys), as two
 * session-only fields: the query `list.name` of their list, never another user's, and the
 * mutation `revoke.name` that takes one back by its `id` argument (described by `revoke.id`) and
 * answers true. `revoke.resolve` gets the id as sent and throws NOT_FOUND for one that is not
 * theirs, malformed or not.
 */
export function ownRevocableList<T>(
  type: ObjectRef<Types, T>,
  list: {
    name: string;
    description: string;
    resolve: (ctx: Context, userId: number) => Promise<readonly T[]>;
  },
  revoke: {
    name: string;
    description: string;
    id: string;
    resolve: (ctx: Context, id: string) => Promise<unknown>;
  },
): void {
  builder.queryField(list.name, (t) =>
    t.field({
      type: [type],
      description: list.description,
      authScopes: SESSION,
      resolve: (_root, _args, ctx) => list.resolve(ctx, ctx.viewer!.user.id),
    }),
  );
  builder.mutationField(revoke.name, (t) =>
    t.boolean({
      description: revoke.description,
      authScopes: SESSION,
      args: idArg(t.arg, revoke.id),
      resolve: async (_root, args, ctx) => {
        await revoke.resolve(ctx, String(args.id));
        return true;
      },
    }),
  );
}

/**
 * The arguments of a list searched by text and ordered (`tags`, `users`): `query` (for
 * `parseSearchText`) described by `list.query`, `orderBy` (`list.order`, `list.defaultOrder` when
 * omitted) and the paging arguments.
 */
export const searchArgs = <Order extends string>(
  arg: ArgBuilder<Types>,
  list: { query: string; order: EnumRef<Types, Order>; defaultOrder: Order },
) => ({
  query: arg.string({ description: list.query }),
  orderBy: arg({ type: list.order, defaultValue: list.defaultOrder, description: 'The order.' }),
  ...pageArgs(arg),
});

/** How the NAME orders sort (db/sort-key.ts), for their descriptions. */
export const NAME_ORDER =
  'By name, A to Z, as people read names: ignoring case and accents, numbers by value';

/** The arguments `searchArgs` declares, as a resolver reads them. */
type SearchArgs<Order extends string> = PageArgs & {
  query?: string | null;
  orderBy?: Order | null;
};

/** What a list searched by `searchedListQuery` reads: a page of rows matching `query` in `order`. */
export interface SearchedListing<Order extends string, T> {
  list(query: string | null, limit: number, offset: number, order: Order): Promise<T[]>;
  count(query: string | null): Promise<number>;
}

/**
 * A query of a list searched by text and ordered (`tags`, `users`): a connection of `node` with
 * the `searchArgs` of `list`, whose `query` is checked by `parseSearchText` and whose order,
 * omitted, is `list.defaultOrder`, the same one the argument declares.
 */
export function searchedListQuery<Order extends string, T>(
  name: string,
  node: ObjectRef<Types, T>,
  field: { description: string; authScopes: AuthScopeMap<Types> },
  list: Parameters<typeof searchArgs<Order>>[1] & {
    listing: (ctx: Context) => SearchedListing<NoInfer<Order>, NoInfer<T>>;
  },
): void {
  const connection = connectionRef(node, node.name);
  builder.queryField(name, (t) =>
    t.field({
      type: connection,
      ...field,
      args: searchArgs(t.arg, list),
      resolve: (_root, args: SearchArgs<Order>, ctx) => {
        const query = parseSearchText(args.query);
        const order = args.orderBy ?? list.defaultOrder;
        const rows = list.listing(ctx);
        return offsetConnection(
          args,
          (limit, offset) => rows.list(query, limit, offset, order),
          () => rows.count(query),
        );
      },
    }),
  );
}

/** A scalar a stored column is exposed as by `exposedColumns`. */
type ColumnScalar = 'String' | 'ID' | 'Boolean' | 'Int';

/**
 * Columns of `Shape` exposed as they are stored, `{ field: [column, description] }`, all as one
 * scalar `type`, nullable or not. Each column is checked as Pothos' `expose` checks one: it must
 * hold that type, and may hold null only when `nullable`.
 */
export function exposedColumns<
  Shape,
  Type extends ColumnScalar,
  Nullable extends boolean,
  const Fields extends Record<
    string,
    readonly [CompatibleTypes<Types, Shape, Type, Nullable>, string]
  >,
>(
  t: ObjectFieldBuilder<Types, Shape>,
  type: Type,
  nullable: Nullable,
  fields: Fields,
): { [F in keyof Fields]: FieldRef<Types, ShapeFromTypeParam<Types, Type, Nullable>, 'Object'> } {
  // Pothos types `expose` for a name it can see; here the name is only known to be compatible
  // (the constraint on Fields above), which its conditional types cannot follow.
  const expose = t.expose as (
    name: string,
    options: { type: Type; nullable: Nullable; description: string },
  ) => FieldRef<Types, ShapeFromTypeParam<Types, Type, Nullable>, 'Object'>;
  return Object.fromEntries(
    Object.entries(fields).map(([field, [column, description]]) => [
      field,
      expose.call(t, column, { type, nullable, description }),
    ]),
  ) as {
    [F in keyof Fields]: FieldRef<Types, ShapeFromTypeParam<Types, Type, Nullable>, 'Object'>;
  };
}
