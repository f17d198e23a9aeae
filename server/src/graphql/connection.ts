import type { ArgBuilder, ObjectRef } from '@pothos/core';
import { BadUserInputError } from '../errors.js';
import { builder, type Types } from './builder.js';
import type { Context } from './context.js';

// Relay connections with the exact type names of the public contract (FileConnection, FileEdge,
// …, PageInfo): the types come from @pothos/plugin-relay, the paging from here. The plugin's own
// `t.connection` fields would add `before`/`last` arguments and its offset cursors know nothing of
// `offset`, so fields declare `pageArgs` and resolve with `offsetConnection` (or `filteredList`,
// for a service's list over a filter). Cursors encode an offset: simple, stable under the sort
// orders we offer, and `offset` can jump straight to a page.

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: () => Promise<number>;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  offset?: number | null;
}

const MAX_PAGE_SIZE = 100;

builder.globalConnectionField('totalCount', (t) => t.int({ resolve: (c) => c.totalCount() }));

/** `<name>Connection` and `<name>Edge` over `node`. */
export const connectionRef = <T>(node: ObjectRef<Types, T>, name: string) =>
  builder.connectionObject({ type: node, name: `${name}Connection` }, { name: `${name}Edge` });

/** What a description says of a field paged with `pageArgs`. */
export const PAGED =
  'Paged: `first` (default 20, at most 100, else BAD_USER_INPUT), `after` (a cursor from ' +
  '`pageInfo.endCursor`) or `offset` (rows to skip).';

/** The standard paging arguments: `args: { ...pageArgs(t.arg), … }`. */
export const pageArgs = (arg: ArgBuilder<Types>) => ({
  first: arg.int(),
  after: arg.string(),
  offset: arg.int(),
});

const encodeCursor = (offset: number) => Buffer.from(`o:${offset}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const match = /^o:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw BadUserInputError.field('after', 'is not a valid cursor');
  return Number(match[1]);
}

/** Turns first/after/offset into a validated limit and offset. */
export function resolvePage(args: PageArgs, defaultSize = 20): { limit: number; offset: number } {
  const limit = args.first ?? defaultSize;
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_PAGE_SIZE) {
    throw BadUserInputError.field('first', `must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  if (args.offset != null && (args.offset < 0 || !Number.isSafeInteger(args.offset))) {
    throw BadUserInputError.field('offset', 'must be zero or more');
  }
  const offset = args.after ? decodeCursor(args.after) + 1 : (args.offset ?? 0);
  return { limit, offset };
}

/** What a list filtered by its field's arguments reads: a page of matching rows, their count. */
export interface Listing<Filter, T> {
  list(filter: Filter, limit: number, offset: number): Promise<T[]>;
  count(filter: Filter): Promise<number>;
}

/**
 * The resolver of a list field filtered by its arguments (and its parent, for a field of an
 * object): the page of `listing`'s rows that match the filter `filterOf` makes of them.
 */
export const filteredList =
  <Parent, Args extends PageArgs, Filter, T>(
    listing: (ctx: Context) => Listing<Filter, T>,
    filterOf: (args: Args, ctx: Context, parent: Parent) => Filter,
  ) =>
  (parent: Parent, args: Args, ctx: Context): Promise<Connection<T>> => {
    const filter = filterOf(args, ctx, parent);
    const rows = listing(ctx);
    return offsetConnection(
      args,
      (limit, offset) => rows.list(filter, limit, offset),
      () => rows.count(filter),
    );
  };

/**
 * Builds a connection from a page fetcher: fetches one row more than asked to learn whether a
 * next page exists without counting.
 */
export async function offsetConnection<T>(
  args: PageArgs,
  fetch: (limit: number, offset: number) => Promise<T[]>,
  count: () => Promise<number>,
  defaultSize = 20,
): Promise<Connection<T>> {
  const { limit, offset } = resolvePage(args, defaultSize);
  const rows = limit === 0 ? [] : await fetch(limit + 1, offset);
  const page = rows.slice(0, limit);
  const edges = page.map((node, i) => ({ cursor: encodeCursor(offset + i), node }));
  let counted: Promise<number> | undefined;
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: offset > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () => (counted ??= count()),
  };
}
