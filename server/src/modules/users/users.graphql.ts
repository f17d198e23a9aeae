import { parseSearchText } from '../../graphql/search-text.js';
import type { UserRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import { connectionRef, offsetConnection, pageArgs } from '../../graphql/connection.js';
import { parseId } from '../../graphql/ids.js';

export const Role = builder.enumType('Role', { values: ['USER', 'ADMIN'] as const });

/** A User field that returns an id loads the row through one batched query per request. */
export const User = builder.loadableObject('User', {
  load: (ids: number[], ctx) => ctx.services.users.byIds(ids),
  sort: (user: UserRow) => user.id,
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    role: t.field({ type: Role, resolve: (u) => u.role }),
    banned: t.boolean({ resolve: (u) => u.banned === 1 }),
    createdAt: t.field({ type: 'DateTime', resolve: (u) => u.created_at }),
    lastActiveAt: t.field({ type: 'DateTime', nullable: true, resolve: (u) => u.last_active_at }),
    uploadCount: t.exposeInt('upload_count'),
    downloadCount: t.exposeInt('download_count'),
  }),
});

const UserConnection = connectionRef(User, 'User');

export const UserOrder = builder.enumType('UserOrder', {
  description: 'Orders of the admin user list. Ties are broken by id.',
  values: [
    'NEWEST',
    'OLDEST',
    'NAME',
    'EMAIL',
    'LAST_ACTIVE',
    'MOST_UPLOADS',
    'MOST_DOWNLOADS',
  ] as const,
});

builder.queryFields((t) => ({
  me: t.field({
    type: User,
    nullable: true,
    description: 'The signed-in user, or null.',
    resolve: (_root, _args, ctx) => ctx.viewer?.user ?? null,
  }),
  users: t.field({
    type: UserConnection,
    description: 'Admin: users whose email or name contains `query`, in `orderBy` order.',
    authScopes: { $all: { admin: true, session: true } },
    args: {
      query: t.arg.string(),
      orderBy: t.arg({ type: UserOrder, defaultValue: 'NEWEST' }),
      ...pageArgs(t.arg),
    },
    resolve: (_root, args, ctx) => {
      const query = parseSearchText(args.query);
      return offsetConnection(
        args,
        (limit, offset) => ctx.services.users.list(query, limit, offset, args.orderBy ?? 'NEWEST'),
        () => ctx.services.users.count(query),
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  banUser: t.field({
    type: User,
    description: 'Admin: ends the user’s sessions and API tokens now and blocks the email.',
    authScopes: { $all: { admin: true, session: true } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.users.ban(ctx.viewer!.user, parseId(args.id)),
  }),
  unbanUser: t.field({
    type: User,
    authScopes: { $all: { admin: true, session: true } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.users.unban(ctx.viewer!.user, parseId(args.id)),
  }),
  setUserRole: t.field({
    type: User,
    authScopes: { $all: { admin: true, session: true } },
    args: { id: t.arg.id({ required: true }), role: t.arg({ type: Role, required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.users.setRole(ctx.viewer!.user, parseId(args.id), args.role),
  }),
}));
