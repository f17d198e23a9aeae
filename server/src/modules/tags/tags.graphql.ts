import { parseSearchText } from '../../graphql/search-text.js';
import type { TagRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import { connectionRef, offsetConnection, pageArgs } from '../../graphql/connection.js';
import type { Context } from '../../graphql/context.js';
import { parseIdOrNotFound } from '../../graphql/ids.js';
import { tagDownloadCount, tagFileCount } from './tags.service.js';

const isAdmin = (ctx: Context) => ctx.viewer?.user.role === 'ADMIN';

/** A Tag field that returns an id loads the row through one batched query per request. */
export const Tag = builder.loadableObject('Tag', {
  load: (ids: number[], ctx) => ctx.services.tags.byIds(ids),
  sort: (tag: TagRow) => tag.id,
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    fileCount: t.int({
      description: 'Files carrying the tag that the viewer can see (HIDDEN ones for admins only).',
      resolve: (tag, _args, ctx) => tagFileCount(tag, isAdmin(ctx)),
    }),
    downloadCount: t.int({
      description: 'Downloads of the files counted in fileCount.',
      resolve: (tag, _args, ctx) => tagDownloadCount(tag, isAdmin(ctx)),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (tag) => tag.created_at }),
  }),
});

export const TagMatchEnum = builder.enumType('TagMatch', {
  description: 'ALL keeps files carrying every listed tag, ANY files carrying at least one.',
  values: ['ALL', 'ANY'] as const,
});

/** One tag and how many files of a filtered result carry it (FileConnection.tagCounts). */
export const TagCount = builder.objectRef<{ tag: TagRow; count: number }>('TagCount').implement({
  fields: (t) => ({
    tag: t.field({ type: Tag, resolve: (c) => c.tag }),
    count: t.exposeInt('count'),
  }),
});

const TagConnection = connectionRef(Tag, 'Tag');

export const TagOrder = builder.enumType('TagOrder', {
  description: 'Orders of the tag list. Counts are those the viewer sees; ties go by name.',
  values: ['NAME', 'NEWEST', 'OLDEST', 'MOST_FILES', 'MOST_DOWNLOADED'] as const,
});

builder.queryFields((t) => ({
  tags: t.field({
    type: TagConnection,
    description: 'Tags whose name contains `query` (case-insensitive), by name unless `orderBy`.',
    authScopes: { tokenScope: 'READ' },
    args: {
      query: t.arg.string(),
      orderBy: t.arg({ type: TagOrder, defaultValue: 'NAME' }),
      ...pageArgs(t.arg),
    },
    resolve: (_root, args, ctx) => {
      const query = parseSearchText(args.query);
      const admin = isAdmin(ctx);
      return offsetConnection(
        args,
        (limit, offset) =>
          ctx.services.tags.list(query, limit, offset, args.orderBy ?? 'NAME', admin),
        () => ctx.services.tags.count(query, admin),
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  createTag: t.field({
    type: Tag,
    description: 'Admin: a new tag; a name taken case-insensitively is CONFLICT.',
    authScopes: { $all: { admin: true, session: true } },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.tags.create(args.name),
  }),
  updateTag: t.field({
    type: Tag,
    description: 'Admin: renames a tag; renaming onto another tag’s name is CONFLICT.',
    authScopes: { $all: { admin: true, session: true } },
    args: { id: t.arg.id({ required: true }), name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.tags.rename(parseIdOrNotFound(args.id), args.name),
  }),
  deleteTag: t.boolean({
    description: 'Admin: deletes a tag and detaches it from every file.',
    authScopes: { $all: { admin: true, session: true } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.tags.delete(parseIdOrNotFound(args.id)),
  }),
}));
