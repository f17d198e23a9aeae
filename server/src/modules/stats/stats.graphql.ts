import { builder } from '../../graphql/builder.js';
import { parseId } from '../../graphql/ids.js';
import { FileRef } from '../files/files.graphql.js';
import { TagCount } from '../tags/tags.graphql.js';
import { User } from '../users/users.graphql.js';
import { MAX_TOP, MAX_TOP_FILES, type DownloadStats } from './stats.service.js';

export const StatsIntervalEnum = builder.enumType('StatsInterval', {
  values: ['HOUR', 'DAY', 'WEEK', 'MONTH'] as const,
});

const StatsPoint = builder.objectRef<{ start: number; count: number }>('StatsPoint').implement({
  description: 'Downloads in the interval starting at `start` (UTC).',
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (p) => p.start }),
    count: t.exposeInt('count'),
  }),
});

const FileCount = builder.objectRef<{ fileId: number; count: number }>('FileCount').implement({
  description: 'A file and how many times it was downloaded in the range.',
  fields: (t) => ({
    file: t.field({ type: FileRef, resolve: (c) => c.fileId }),
    count: t.exposeInt('count'),
  }),
});

const UserCount = builder.objectRef<{ userId: number; count: number }>('UserCount').implement({
  description: 'A user and how many downloads they made in the range.',
  fields: (t) => ({
    user: t.field({ type: User, resolve: (c) => c.userId }),
    count: t.exposeInt('count'),
  }),
});

export const DownloadStatsRef = builder.objectRef<DownloadStats>('DownloadStats').implement({
  fields: (t) => ({
    total: t.int({ resolve: (s) => s.total() }),
    uniqueUsers: t.int({
      description: 'Distinct signed-in users who downloaded in the range.',
      resolve: (s) => s.uniqueUsers(),
    }),
    series: t.field({
      type: [StatsPoint],
      description: 'One point per interval from the one holding `from` to the one holding `to`.',
      resolve: (s) => s.series(),
    }),
    topFiles: t.field({
      type: [FileCount],
      description: `The files downloaded most in the range, most first (deleted files left out); limit 1–${MAX_TOP_FILES}.`,
      args: { limit: t.arg.int({ defaultValue: 10 }) },
      resolve: (s, args) => s.topFiles(args.limit ?? 10),
    }),
    topUsers: t.field({
      type: [UserCount],
      description: `The users who downloaded most in the range, most first (anonymous downloads left out); limit 1–${MAX_TOP}.`,
      args: { limit: t.arg.int({ defaultValue: 10 }) },
      resolve: (s, args) => s.topUsers(args.limit ?? 10),
    }),
    topTags: t.field({
      type: [TagCount],
      description: `The tags whose files were downloaded most in the range (a download counts for each tag its file carries now), most first; limit 1–${MAX_TOP}.`,
      args: { limit: t.arg.int({ defaultValue: 10 }) },
      resolve: (s, args) => s.topTags(args.limit ?? 10),
    }),
  }),
});

builder.queryField('downloadStats', (t) =>
  t.field({
    type: DownloadStatsRef,
    description:
      'Admin, or an API token with the STATS scope whose creator is an admin: downloads in [from, to) (default: the last 30 days), zero-filled per UTC interval.',
    authScopes: { $all: { admin: true, tokenScope: 'STATS' } },
    args: {
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      interval: t.arg({ type: StatsIntervalEnum, defaultValue: 'DAY' }),
      fileId: t.arg.id(),
      tagId: t.arg.id(),
      userId: t.arg.id(),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.stats.downloadStats({
        from: args.from,
        to: args.to,
        interval: args.interval,
        fileId: args.fileId == null ? null : parseId(args.fileId, 'fileId'),
        tagId: args.tagId == null ? null : parseId(args.tagId, 'tagId'),
        userId: args.userId == null ? null : parseId(args.userId, 'userId'),
      }),
  }),
);
