import { builder } from '../../graphql/builder.js';
import { adminOrToken } from '../../graphql/fields.js';
import { parseOptionalId } from '../../graphql/ids.js';
import { FileRef } from '../files/files.graphql.js';
import { TagCount } from '../tags/tags.graphql.js';
import { User } from '../users/users.graphql.js';
import { MAX_TOP, MAX_TOP_FILES, type DownloadStats } from './stats.service.js';

export const StatsIntervalEnum = builder.enumType('StatsInterval', {
  description: 'The calendar interval of `DownloadStats.series` points, always in UTC.',
  values: {
    HOUR: { description: 'UTC hours.' },
    DAY: { description: 'UTC days, from midnight (the default).' },
    WEEK: { description: 'ISO weeks, from Monday 00:00 UTC.' },
    MONTH: { description: 'Calendar months, from the 1st at 00:00 UTC.' },
  } as const,
});

const StatsPoint = builder.objectRef<{ start: number; count: number }>('StatsPoint').implement({
  description: 'Downloads in the interval starting at `start` (UTC).',
  fields: (t) => ({
    start: t.field({
      type: 'DateTime',
      description: 'The first instant of the interval (UTC).',
      resolve: (p) => p.start,
    }),
    count: t.exposeInt('count', {
      description: 'Downloads in the interval and in [from, to); 0 when none.',
    }),
  }),
});

const FileCount = builder.objectRef<{ fileId: number; count: number }>('FileCount').implement({
  description: 'A file and how many times it was downloaded in the range.',
  fields: (t) => ({
    file: t.field({ type: FileRef, description: 'The file.', resolve: (c) => c.fileId }),
    count: t.exposeInt('count', { description: 'Its downloads in the range; above zero.' }),
  }),
});

const UserCount = builder.objectRef<{ userId: number; count: number }>('UserCount').implement({
  description: 'A user and how many downloads they made in the range.',
  fields: (t) => ({
    user: t.field({ type: User, description: 'The user.', resolve: (c) => c.userId }),
    count: t.exposeInt('count', { description: 'Their downloads in the range; above zero.' }),
  }),
});

export const DownloadStatsRef = builder.objectRef<DownloadStats>('DownloadStats').implement({
  description:
    'Downloads in [from, to) matching the filters of `downloadStats`, HIDDEN files included. ' +
    'A download is a GET of the download route starting at byte 0.',
  fields: (t) => {
    // The three top lists take the same argument.
    const limit = () => ({
      limit: t.arg.int({
        defaultValue: 10,
        description: `How many, 1 to ${MAX_TOP} (else BAD_USER_INPUT).`,
      }),
    });
    return {
      total: t.int({
        description: 'All downloads in the range (the sum of `series`).',
        resolve: (s) => s.total(),
      }),
      uniqueUsers: t.int({
        description: 'Distinct signed-in users who downloaded in the range.',
        resolve: (s) => s.uniqueUsers(),
      }),
      viaLinks: t.int({
        description: 'Downloads in the range made through share links (part of `total`).',
        resolve: (s) => s.viaLinks(),
      }),
      series: t.field({
        type: [StatsPoint],
        description:
          'One point per interval from the one holding `from` to the one holding the last instant ' +
          'before `to`, oldest first, zeros included; at most 1,000 points (more is ' +
          'BAD_USER_INPUT).',
        resolve: (s) => s.series(),
      }),
      topFiles: t.field({
        type: [FileCount],
        description: `The files downloaded most in the range, most first (deleted files left out); limit 1–${MAX_TOP_FILES}.`,
        args: limit(),
        resolve: (s, args) => s.topFiles(args.limit ?? 10),
      }),
      topUsers: t.field({
        type: [UserCount],
        description: `The users who downloaded most in the range, most first (anonymous downloads left out); limit 1–${MAX_TOP}.`,
        args: limit(),
        resolve: (s, args) => s.topUsers(args.limit ?? 10),
      }),
      topTags: t.field({
        type: [TagCount],
        description: `The tags whose files were downloaded most in the range (a download counts for each tag its file carries now), most first; limit 1–${MAX_TOP}.`,
        args: limit(),
        resolve: (s, args) => s.topTags(args.limit ?? 10),
      }),
    };
  },
});

builder.queryField('downloadStats', (t) =>
  t.field({
    type: DownloadStatsRef,
    description:
      'Admin, or an API token with the STATS scope whose creator is an admin: downloads in ' +
      '[from, to) (default: the last 30 days), zero-filled per UTC interval. BAD_USER_INPUT when ' +
      '`to` is not after `from` or the range holds more than 1,000 intervals.',
    authScopes: adminOrToken('STATS'),
    args: {
      from: t.arg({
        type: 'DateTime',
        description: 'Start of the range, inclusive; default: 30 days before `to`.',
      }),
      to: t.arg({
        type: 'DateTime',
        description: 'End of the range, exclusive; default: now.',
      }),
      interval: t.arg({
        type: StatsIntervalEnum,
        defaultValue: 'DAY',
        description: 'The length of each `series` point.',
      }),
      fileId: t.arg.id({
        description: 'Only downloads of this file; a malformed id is BAD_USER_INPUT.',
      }),
      tagId: t.arg.id({
        description:
          'Only downloads of files carrying this tag now; a malformed id is BAD_USER_INPUT.',
      }),
      userId: t.arg.id({
        description: 'Only downloads by this user; a malformed id is BAD_USER_INPUT.',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.stats.downloadStats(ctx.viewer, {
        from: args.from,
        to: args.to,
        interval: args.interval,
        fileId: parseOptionalId(args.fileId, 'fileId'),
        tagId: parseOptionalId(args.tagId, 'tagId'),
        userId: parseOptionalId(args.userId, 'userId'),
      }),
  }),
);
