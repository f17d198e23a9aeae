import { seesHiddenFiles } from '../auth/visibility.js';
import type { TagRow } from '../../db/database.js';
import { actorOf } from '../audit/audit.service.js';
import { builder } from '../../graphql/builder.js';
import { PAGED } from '../../graphql/connection.js';
import {
  ADMIN_SESSION,
  byId,
  idArg,
  loadedById,
  NAME_ORDER,
  searchedListQuery,
  sessionOrToken,
} from '../../graphql/fields.js';
import type { Context } from '../../graphql/context.js';
import { TAG_NAME_MAX } from './tags.rules.js';
import { tagDownloadCount, tagFileCount } from './tags.service.js';

/** What a tag name must be (tags.rules.ts), for the arguments that take one. */
const NAME_RULE = `1 to ${TAG_NAME_MAX} characters after trimming, no control characters.`;

const seesHidden = (ctx: Context) => seesHiddenFiles(ctx.viewer);

/** A Tag field that returns an id loads the row through one batched query per request. */
export const Tag = builder.loadableObject('Tag', {
  description:
    'A label files carry, unique by name ignoring case. USERs never see a tag that only HIDDEN ' +
    'files carry; tags without files are listed for everyone.',
  ...loadedById((ids, ctx) => ctx.services.tags.byIds(ids)),
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'Stable identifier, for `files(tagIds:)` and the editors.',
    }),
    name: t.exposeString('name', {
      description: 'The name as written (1 to 40 characters, trimmed, no control characters).',
    }),
    fileCount: t.int({
      description: 'Files carrying the tag that the viewer can see (HIDDEN ones for admins only).',
      resolve: (tag, _args, ctx) => tagFileCount(tag, seesHidden(ctx)),
    }),
    downloadCount: t.int({
      description: 'Downloads of the files counted in fileCount.',
      resolve: (tag, _args, ctx) => tagDownloadCount(tag, seesHidden(ctx)),
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the tag was created (by an admin, or by the first file tagged with it).',
      resolve: (tag) => tag.created_at,
    }),
  }),
});

export const TagMatchEnum = builder.enumType('TagMatch', {
  description: 'How `files(tagIds:)` combines several tags.',
  values: {
    ALL: { description: 'Files carrying every listed tag (the default).' },
    ANY: { description: 'Files carrying at least one of the listed tags.' },
  } as const,
});

/** One tag and how many files of a filtered result carry it (FileConnection.tagCounts). */
export const TagCount = builder.objectRef<{ tag: TagRow; count: number }>('TagCount').implement({
  description:
    'A tag and a count: in `FileConnection.tagCounts` the files of the result carrying it, in ' +
    '`DownloadStats.topTags` the downloads of files carrying it.',
  fields: (t) => ({
    tag: t.field({ type: Tag, description: 'The tag.', resolve: (c) => c.tag }),
    count: t.exposeInt('count', { description: 'How many; always above zero.' }),
  }),
});

export const TagOrder = builder.enumType('TagOrder', {
  description: 'Orders of the tag list. Counts are those the viewer sees; ties go by name.',
  values: {
    NAME: { description: `${NAME_ORDER} (“tag 2” before “tag 10”). The default.` },
    NEWEST: { description: 'Most recently created first.' },
    OLDEST: { description: 'Earliest created first.' },
    MOST_FILES: { description: 'Highest `fileCount` first.' },
    MOST_DOWNLOADED: { description: 'Highest `downloadCount` first.' },
  } as const,
});

searchedListQuery(
  'tags',
  Tag,
  {
    description:
      'Tags whose name contains `query` (case-insensitive), by name unless `orderBy`. Session or ' +
      `READ token. ${PAGED}`,
    authScopes: sessionOrToken('READ'),
  },
  {
    query:
      'Case-insensitive substring of the name (`%` and `_` are literal); at most 255 ' +
      'characters, no control characters (else BAD_USER_INPUT). Null or empty lists all.',
    order: TagOrder,
    defaultOrder: 'NAME',
    listing: (ctx) => {
      const admin = seesHidden(ctx);
      return {
        list: (query, limit, offset, order) =>
          ctx.services.tags.list(query, limit, offset, order, admin),
        count: (query) => ctx.services.tags.count(query, admin),
      };
    },
  },
);

builder.mutationFields((t) => ({
  createTag: t.field({
    type: Tag,
    description:
      'Admin, with a session: a new tag; a name taken case-insensitively is CONFLICT, an invalid ' +
      'one BAD_USER_INPUT.',
    authScopes: ADMIN_SESSION,
    args: {
      name: t.arg.string({ required: true, description: NAME_RULE }),
    },
    resolve: (_root, args, ctx) => ctx.services.tags.create(actorOf(ctx), args.name),
  }),
  updateTag: t.field({
    type: Tag,
    description:
      'Admin, with a session: renames a tag (its files keep it); renaming onto another tag’s ' +
      'name is CONFLICT, an unknown tag NOT_FOUND.',
    authScopes: ADMIN_SESSION,
    args: {
      ...idArg(t.arg, 'The tag to rename.'),
      name: t.arg.string({ required: true, description: `The new name: ${NAME_RULE}` }),
    },
    resolve: byId((id, ctx, args) => ctx.services.tags.rename(actorOf(ctx), id, args.name)),
  }),
  deleteTag: t.boolean({
    description:
      'Admin, with a session: deletes a tag and detaches it from every file (the files stay). ' +
      'NOT_FOUND for an unknown tag.',
    authScopes: ADMIN_SESSION,
    args: idArg(t.arg, 'The tag to delete.'),
    resolve: byId((id, ctx) => ctx.services.tags.delete(actorOf(ctx), id)),
  }),
}));
