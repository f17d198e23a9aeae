import type { UserRow } from '../../db/database.js';
import { builder, type Types } from '../../graphql/builder.js';
import { PAGED } from '../../graphql/connection.js';
import {
  ADMIN_SESSION,
  idArg,
  instant,
  loadedById,
  NAME_ORDER,
  searchedListQuery,
} from '../../graphql/fields.js';
import { parseId } from '../../graphql/ids.js';
import { actorOf, type Actor } from '../audit/audit.service.js';
import type { UsersService } from './users.service.js';

export const Role = builder.enumType('Role', {
  description: 'What a user may do. The first account registered in an empty library is ADMIN.',
  values: {
    USER: {
      description:
        'Uploads, finds and downloads ACTIVE files; edits and deletes the files they uploaded.',
    },
    ADMIN: {
      description:
        'Everything a USER may do, plus HIDDEN files, every file’s edits, users, tags, download ' +
        'history and statistics.',
    },
  } as const,
});

/** A User field that returns an id loads the row through one batched query per request. */
export const User = builder.loadableObject('User', {
  description:
    'A person with an account. Everyone signed in can see the uploader of a file they see; the ' +
    'user list itself is for admins.',
  ...loadedById((ids, ctx) => ctx.services.users.byIds(ids)),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable identifier (a positive integer as a string).' }),
    email: t.exposeString('email', {
      description: 'Unique, case-insensitive, stored lower-case; at most 254 characters.',
    }),
    name: t.exposeString('name', {
      description: 'Display name: 1 to 100 characters, no control characters.',
    }),
    role: t.field({ type: Role, description: 'USER or ADMIN.', resolve: (u) => u.role }),
    banned: t.boolean({
      description:
        'True while banned: the user’s sessions and API tokens were ended and the email can ' +
        'neither sign in nor register again.',
      resolve: (u) => u.banned === 1,
    }),
    createdAt: t.expose('created_at', instant('When the account was registered.')),
    lastActiveAt: t.expose('last_active_at', {
      type: 'DateTime',
      nullable: true,
      description:
        'The last request made with one of the user’s sessions or API tokens, recorded at most ' +
        'once a minute; null if none yet.',
    }),
    uploadCount: t.int({
      description:
        'Files this user uploaded that still exist and the viewer may see: ACTIVE ones, plus ' +
        'HIDDEN ones when the viewer is an admin. Deleted files do not count.',
      resolve: (u, _args, ctx) => ctx.services.users.uploadCount(ctx.viewer, u),
    }),
    hiddenUploadCount: t.int({
      nullable: true,
      description:
        'How many of this user’s files an admin hid (status HIDDEN): they no longer show in ' +
        'lists, search or `uploadCount` for a USER. Readable by the user themself and by ' +
        'admins; null for anyone else.',
      resolve: (u, _args, ctx) => ctx.services.users.hiddenUploadCount(ctx.viewer, u),
    }),
    usedBytes: t.field({
      type: 'SafeInt',
      description:
        'The sizes of this user’s files added up, trash included (each file in full, shared ' +
        'bytes or not), until purged. Readable by the user themself and by admins; FORBIDDEN for ' +
        'anyone else.',
      resolve: (u, _args, ctx) => ctx.services.users.usage(ctx.viewer, u).usedBytes,
    }),
    quotaBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description:
        'How many bytes this user may store (`usedBytes` may not pass it): their own quota, set ' +
        'with `setUserQuota`, else DEFAULT_QUOTA_BYTES; null: no limit. Readable by the user ' +
        'themself and by admins; FORBIDDEN for anyone else.',
      resolve: (u, _args, ctx) => ctx.services.users.usage(ctx.viewer, u).quotaBytes,
    }),
    downloadCount: t.exposeInt('download_count', {
      description: 'Downloads this user made (GETs of the download route starting at byte 0).',
    }),
  }),
});

export const UserOrder = builder.enumType('UserOrder', {
  description: 'Orders of the admin user list. Ties are broken by id.',
  values: {
    NEWEST: { description: 'Most recently registered first (the default).' },
    OLDEST: { description: 'Earliest registered first.' },
    NAME: { description: `${NAME_ORDER}.` },
    EMAIL: { description: 'By email, A to Z.' },
    LAST_ACTIVE: { description: 'Most recently active first; never-active users last.' },
    MOST_UPLOADS: { description: 'Highest `uploadCount` (as an admin sees it) first.' },
    MOST_DOWNLOADS: { description: 'Highest `downloadCount` first.' },
  } as const,
});

builder.queryFields((t) => ({
  me: t.field({
    type: User,
    nullable: true,
    description:
      'The signed-in user (of the session, or the creator of the API token; no scope needed), ' +
      'or null for anonymous callers and for an expired, revoked or banned token or session.',
    resolve: (_root, _args, ctx) => ctx.viewer?.user ?? null,
  }),
  needsFirstAccount: t.boolean({
    description:
      'True while the library has no account yet: the next `register` creates its ADMIN. ' +
      'Public, so that a fresh install can lead its first visitor to registration.',
    resolve: (_root, _args, ctx) => ctx.services.users.needsFirstAccount(),
  }),
}));

searchedListQuery(
  'users',
  User,
  {
    description:
      'Admin, with a session: users whose email or name contains `query`, in `orderBy` order. ' +
      PAGED,
    authScopes: ADMIN_SESSION,
  },
  {
    query:
      'Case-insensitive substring of the email or name; at most 255 characters, no control ' +
      'characters (else BAD_USER_INPUT). Null or empty lists everyone.',
    order: UserOrder,
    defaultOrder: 'NEWEST',
    listing: (ctx) => ctx.services.users,
  },
);

/**
 * An admin's mutation on one user that takes nothing but the user's `id` (a malformed one is
 * BAD_USER_INPUT) and answers the user as it is now.
 */
const onUser = (
  t: PothosSchemaTypes.MutationFieldBuilder<Types, object>,
  field: {
    description: string;
    id: string;
    resolve: (users: UsersService, actor: Actor, id: number) => Promise<UserRow>;
  },
) =>
  t.field({
    type: User,
    description: field.description,
    authScopes: ADMIN_SESSION,
    args: idArg(t.arg, field.id),
    resolve: (_root, args, ctx) =>
      field.resolve(ctx.services.users, actorOf(ctx), parseId(args.id)),
  });

builder.mutationFields((t) => ({
  banUser: onUser(t, {
    description:
      'Admin, with a session: ends the user’s sessions and API tokens now and blocks the email ' +
      'from signing in or registering. FORBIDDEN for yourself, NOT_FOUND for an unknown user, ' +
      'BAD_USER_INPUT for a malformed id.',
    id: 'The user to ban.',
    resolve: (users, actor, id) => users.ban(actor, id),
  }),
  unbanUser: onUser(t, {
    description:
      'Admin, with a session: lifts a ban; the user may sign in again (old sessions and tokens ' +
      'stay ended). FORBIDDEN for yourself, NOT_FOUND for an unknown user.',
    id: 'The user to unban.',
    resolve: (users, actor, id) => users.unban(actor, id),
  }),
  setUserQuota: t.field({
    type: User,
    description:
      'Admin, with a session: sets how many bytes a user may store (their files and trash); ' +
      'null returns them to DEFAULT_QUOTA_BYTES. Files already stored stay; uploads that would ' +
      'pass it fail with QUOTA_EXCEEDED. BAD_USER_INPUT for a negative number, NOT_FOUND for an ' +
      'unknown user.',
    authScopes: ADMIN_SESSION,
    args: {
      id: t.arg.id({ required: true, description: 'The user.' }),
      quotaBytes: t.arg({
        type: 'SafeInt',
        description: 'Bytes, zero or more; null or omitted: DEFAULT_QUOTA_BYTES.',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.users.setQuota(actorOf(ctx), parseId(args.id), args.quotaBytes ?? null),
  }),
  setUserRole: t.field({
    type: User,
    description:
      'Admin, with a session: makes a user ADMIN or USER; takes effect on their next request. ' +
      'FORBIDDEN for yourself (an admin cannot demote themselves), NOT_FOUND for an unknown user.',
    authScopes: ADMIN_SESSION,
    args: {
      id: t.arg.id({ required: true, description: 'The user whose role changes.' }),
      role: t.arg({ type: Role, required: true, description: 'The new role.' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.users.setRole(actorOf(ctx), parseId(args.id), args.role),
  }),
}));
