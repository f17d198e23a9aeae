import type { DownloadRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import {
  connectionRef,
  filteredList,
  PAGED,
  pageArgs,
  type PageArgs,
} from '../../graphql/connection.js';
import type { Context } from '../../graphql/context.js';
import { adminOrToken, instant, sessionOrToken } from '../../graphql/fields.js';
import { parseOptionalId } from '../../graphql/ids.js';
import { FileRef } from '../files/files.graphql.js';
import { User } from '../users/users.graphql.js';
import type { DownloadFilter } from './downloads.service.js';

export const DownloadRef = builder.objectRef<DownloadRow>('Download').implement({
  description: 'One download of a file: a GET of the download route that started at byte 0.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable identifier.' }),
    file: t.expose('file_id', {
      type: FileRef,
      nullable: true,
      description: 'Null once the file is deleted, or when the viewer may not see it.',
    }),
    fileName: t.exposeString('file_name', { description: 'The file’s name when downloaded.' }),
    user: t.expose('user_id', {
      type: User,
      nullable: true,
      description: 'Who downloaded; null when that account no longer exists.',
    }),
    at: t.expose('at', instant('When the download started.')),
  }),
});

export const DownloadConnection = connectionRef(DownloadRef, 'Download');

/** The resolver of a download history field: the downloads matching a filter, newest first. */
const history = <Parent, Args extends PageArgs>(
  filterOf: (args: Args, ctx: Context, parent: Parent) => DownloadFilter,
) => filteredList((ctx) => ctx.services.downloads, filterOf);

// Download history is statistics: admins only, and through an API token only with STATS.
const HISTORY_SCOPES = adminOrToken('STATS');

builder.objectField(FileRef, 'downloads', (t) =>
  t.field({
    type: DownloadConnection,
    description:
      'Admin (or an admin’s STATS token): this file’s downloads, newest first; FORBIDDEN for ' +
      'anyone else.',
    authScopes: HISTORY_SCOPES,
    args: {
      first: t.arg.int({
        description: 'Page size: default 20, at most 100 (else BAD_USER_INPUT).',
      }),
      after: t.arg.string({
        description: 'Continue after this cursor (`pageInfo.endCursor` of the previous page).',
      }),
    },
    resolve: history((_args, _ctx, file) => ({ fileId: file.id })),
  }),
);

builder.queryFields((t) => ({
  myDownloads: t.field({
    type: DownloadConnection,
    description:
      'The signed-in user’s downloads, newest first (session or READ token). A file since ' +
      'deleted or hidden shows as `file: null` with its `fileName`. ' +
      PAGED +
      ' `fileId` narrows it to one file: a file the user never downloaded (an unknown id, ' +
      'another user’s file) answers an empty page, never an error.',
    authScopes: sessionOrToken('READ'),
    args: {
      fileId: t.arg.id({
        description:
          'Only the user’s downloads of this file (the viewer’s history of it); a malformed id ' +
          'is BAD_USER_INPUT.',
      }),
      ...pageArgs(t.arg),
    },
    // Always within the user's own rows: a file id tells nothing about others' downloads.
    resolve: history((args, ctx) => ({
      userId: ctx.viewer!.user.id,
      fileId: parseOptionalId(args.fileId, 'fileId'),
    })),
  }),
  downloads: t.field({
    type: DownloadConnection,
    description:
      'Admin (or an admin’s STATS token): download history, newest first, optionally narrowed to ' +
      `a file, a user and a time range. ${PAGED}`,
    authScopes: HISTORY_SCOPES,
    args: {
      fileId: t.arg.id({
        description:
          'Only downloads of this file (a deleted file’s rows name no file any more); a ' +
          'malformed id is BAD_USER_INPUT.',
      }),
      userId: t.arg.id({
        description: 'Only downloads by this user; a malformed id is BAD_USER_INPUT.',
      }),
      from: t.arg({ type: 'DateTime', description: 'Only downloads at or after this instant.' }),
      to: t.arg({
        type: 'DateTime',
        description: 'Only downloads before this instant (exclusive).',
      }),
      ...pageArgs(t.arg),
    },
    resolve: history((args) => ({
      fileId: parseOptionalId(args.fileId, 'fileId'),
      userId: parseOptionalId(args.userId, 'userId'),
      from: args.from?.getTime() ?? null,
      to: args.to?.getTime() ?? null,
    })),
  }),
}));
