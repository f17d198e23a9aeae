import type { DownloadRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import {
  connectionRef,
  offsetConnection,
  pageArgs,
  type PageArgs,
} from '../../graphql/connection.js';
import type { Context } from '../../graphql/context.js';
import { parseId } from '../../graphql/ids.js';
import { FileRef } from '../files/files.graphql.js';
import { User } from '../users/users.graphql.js';
import type { DownloadFilter } from './downloads.service.js';

export const DownloadRef = builder.objectRef<DownloadRow>('Download').implement({
  description: 'One download of a file: a GET of the download route that started at byte 0.',
  fields: (t) => ({
    id: t.exposeID('id'),
    file: t.field({
      type: FileRef,
      nullable: true,
      description: 'Null once the file is deleted, or when the viewer may not see it.',
      resolve: (d) => d.file_id,
    }),
    fileName: t.exposeString('file_name', { description: 'The file’s name when downloaded.' }),
    user: t.field({ type: User, nullable: true, resolve: (d) => d.user_id }),
    at: t.field({ type: 'DateTime', resolve: (d) => d.at }),
  }),
});

export const DownloadConnection = connectionRef(DownloadRef, 'Download');

/** One page of the download history matching `filter`, newest first. */
const historyConnection = (ctx: Context, filter: DownloadFilter, args: PageArgs) =>
  offsetConnection(
    args,
    (limit, offset) => ctx.services.downloads.list(filter, limit, offset),
    () => ctx.services.downloads.count(filter),
  );

// Download history is statistics: admins only, and through an API token only with STATS.
const HISTORY_SCOPES = { $all: { admin: true, tokenScope: 'STATS' } } as const;

builder.objectField(FileRef, 'downloads', (t) =>
  t.field({
    type: DownloadConnection,
    description: 'Admin: this file’s downloads, newest first.',
    authScopes: HISTORY_SCOPES,
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (file, args, ctx) => {
      const filter: DownloadFilter = { fileId: file.id };
      return historyConnection(ctx, filter, args);
    },
  }),
);

builder.queryFields((t) => ({
  myDownloads: t.field({
    type: DownloadConnection,
    description: 'The signed-in user’s downloads, newest first.',
    authScopes: { tokenScope: 'READ' },
    args: pageArgs(t.arg),
    resolve: (_root, args, ctx) => {
      const filter: DownloadFilter = { userId: ctx.viewer!.user.id };
      return historyConnection(ctx, filter, args);
    },
  }),
  downloads: t.field({
    type: DownloadConnection,
    description:
      'Admin (or an admin’s STATS token): download history, newest first; `from` inclusive, ' +
      '`to` exclusive.',
    authScopes: HISTORY_SCOPES,
    args: {
      fileId: t.arg.id(),
      userId: t.arg.id(),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      ...pageArgs(t.arg),
    },
    resolve: (_root, args, ctx) => {
      const filter: DownloadFilter = {
        fileId: args.fileId != null ? parseId(args.fileId, 'fileId') : null,
        userId: args.userId != null ? parseId(args.userId, 'userId') : null,
        from: args.from?.getTime() ?? null,
        to: args.to?.getTime() ?? null,
      };
      return historyConnection(ctx, filter, args);
    },
  }),
}));
