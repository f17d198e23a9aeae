import { parseSearchText } from '../../graphql/search-text.js';
import { selectedFields } from '../../graphql/selection.js';
import { GraphQLUpload } from 'graphql-upload-minimal';
import type { FileRow, TrashedFileRow } from '../../db/database.js';
import { actorOf } from '../audit/audit.service.js';
import { PURGE_EVERY_MS } from './files.service.js';
import type { ArgBuilder } from '@pothos/core';
import { builder, type Types } from '../../graphql/builder.js';
import {
  connectionRef,
  offsetConnection,
  resolvePage,
  pageArgs,
  type Connection,
} from '../../graphql/connection.js';
import {
  byId,
  exposedColumns,
  idArg,
  instant,
  instantOrNull,
  loadedById,
  NAME_ORDER,
  SESSION,
  sessionOrToken,
} from '../../graphql/fields.js';
import { parseId, parseIdOrNotFound, parseOptionalId } from '../../graphql/ids.js';
import { Tag, TagMatchEnum } from '../tags/tags.graphql.js';
import { User } from '../users/users.graphql.js';
import type { FileListArgs, Search } from '../search/search.service.js';

builder.addScalarType('Upload', GraphQLUpload, {
  description:
    'A file sent with the GraphQL multipart request spec (`operations`, `map`, then the file ' +
    'part) to POST /graphql. The bytes stream to storage; at most MAX_UPLOAD_BYTES (default ' +
    '5 GiB, else PAYLOAD_TOO_LARGE). Each Upload variable may be used once.',
});

export const FileStatusEnum = builder.enumType('FileStatus', {
  description: 'Whether USERs can see a file. Only admins may set it.',
  values: {
    ACTIVE: { description: 'Visible to everyone signed in (the default for uploads).' },
    HIDDEN: {
      description:
        'Visible to admins only: for USERs it does not exist anywhere (lists, `file`, tag ' +
        'counts, search, the download route: 404).',
    },
  } as const,
});

export const FileOrderEnum = builder.enumType('FileOrder', {
  description: 'Orders of the file list. Ties are broken by id, so pages never overlap.',
  values: {
    NEWEST: { description: 'Most recently uploaded first (the default).' },
    OLDEST: { description: 'Earliest uploaded first.' },
    NAME: { description: `${NAME_ORDER} (“file 2” before “file 10”).` },
    LARGEST: { description: 'Largest `size` first.' },
    MOST_DOWNLOADED: { description: 'Highest `downloadCount` first.' },
  } as const,
});

/** The path of the download route for a file (docs/api.md, "GET/HEAD /files/:id/download"). */
export const downloadPath = (id: number) => `/files/${id}/download`;

/**
 * A File field that returns an id loads the row through one batched query per request; files the
 * viewer may not see (HIDDEN ones for non-admins) load as null.
 */
export const FileRef = builder.loadableObject('File', {
  description:
    'A stored file. USERs see ACTIVE files only; a HIDDEN file is, for them, a file that does ' +
    'not exist.',
  ...loadedById((ids, ctx) => ctx.services.files.visibleByIds(ctx.viewer, ids)),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable identifier (a positive integer as a string).' }),
    ...exposedColumns(t, 'String', false, {
      name: [
        'name',
        'The name shown and used for downloads: 1 to 255 characters, trimmed, any characters ' +
          'but control characters.',
      ],
      originalName: [
        'original_name',
        'The file name the uploading client sent (control characters replaced by `_`), kept ' +
          'when the file is renamed.',
      ],
      mimeType: [
        'mime_type',
        'Content type sniffed from the bytes, else guessed from the extension, else ' +
          '`application/octet-stream`; the type the client declared is ignored.',
      ],
      sha256: [
        'sha256',
        'SHA-256 of the content, lower-case hex; the download route’s ETag. Identical content ' +
          'uploaded twice shares one stored blob.',
      ],
    }),
    size: t.expose('size', { type: 'SafeInt', description: 'Size in bytes.' }),
    status: t.expose('status', {
      type: FileStatusEnum,
      description: 'ACTIVE or HIDDEN; only admins ever see HIDDEN files.',
    }),
    tags: t.loadableList({
      type: Tag,
      description: 'The file’s tags, by name (at most 50).',
      load: (ids: number[], ctx) => ctx.services.tags.ofFiles(ids),
      resolve: (f) => f.id,
    }),
    uploadedBy: t.expose('uploaded_by', {
      type: User,
      nullable: true,
      description: 'Null once the uploader’s account is gone.',
    }),
    createdAt: t.expose('created_at', instant('When the upload was committed.')),
    updatedAt: t.expose('updated_at', {
      type: 'DateTime',
      description: 'When the name, tags or status last changed (`createdAt` until then).',
    }),
    downloadCount: t.exposeInt('download_count', {
      description:
        'Downloads of this file: GETs of the download route starting at byte 0 (not HEAD, 304 ' +
        'or later Range parts).',
    }),
    lastDownloadedAt: t.expose(
      'last_downloaded_at',
      instantOrNull('When it was last downloaded; null if never.'),
    ),
    deletedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'When the file went to the trash; null for a file that is not in the trash (only ' +
        '`trash` lists trashed files).',
      resolve: (f) => ('deleted_at' in f ? (f as TrashedFileRow).deleted_at : null),
    }),
    purgeAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'When a file in the trash is deleted for good: `deletedAt` plus TRASH_DAYS (the purge ' +
        `runs every ${PURGE_EVERY_MS / 60_000} minutes and takes it at its first run after ` +
        'that); null for a file that is not in the trash.',
      resolve: (f, _args, ctx) =>
        'deleted_at' in f ? ctx.services.files.purgeAt((f as TrashedFileRow).deleted_at) : null,
    }),
    downloadUrl: t.string({
      description:
        'Path of the download route, `/files/<id>/download` (GET/HEAD with the session cookie or ' +
        'a Bearer session or DOWNLOAD token; supports Range and If-None-Match).',
      resolve: (f) => downloadPath(f.id),
    }),
  }),
});

/**
 * What the `files` field returns: the page plus the request's search, for `tagCounts`; `trash`
 * has no search (its `tagCounts` is empty: trashed files count in no tag until restored).
 */
export type FileListing = Connection<FileRow> & { search?: Search };

export const FileConnection = connectionRef(FileRef, 'File');

builder.queryFields((t) => ({
  file: t.field({
    type: FileRef,
    nullable: true,
    description:
      'A file by id; null when it does not exist, the id is malformed or the viewer may not see ' +
      'it (a HIDDEN file for a USER). Session or READ token.',
    authScopes: sessionOrToken('READ'),
    args: { id: t.arg.id({ required: true, description: 'The file’s id.' }) },
    resolve: async (_root, args, ctx) => {
      let id: number;
      try {
        id = parseIdOrNotFound(args.id);
      } catch {
        return null;
      }
      return ctx.services.files.get(ctx.viewer!, id);
    },
  }),
  files: t.field({
    type: FileConnection,
    description:
      'The files the viewer can see, filtered and ordered; session or READ token. USERs see ' +
      'ACTIVE files only, whatever `status` asks. `totalCount` and `tagCounts` describe the ' +
      'whole filtered result, not the page, and are read with the page from one snapshot of ' +
      'the library, so they agree with it. Paging: `first`, then `after` or `offset`.',
    authScopes: sessionOrToken('READ'),
    args: {
      query: t.arg.string({
        description:
          'Case-insensitive substring of the file name or of a tag name, in any script; `%`, `_` ' +
          'and `*` are literal. At most 255 characters, no control characters (else ' +
          'BAD_USER_INPUT). Null or empty: no text filter.',
      }),
      tagIds: t.arg.idList({
        description:
          'Only files carrying these tags, combined by `tagMatch`; a malformed id is ' +
          'BAD_USER_INPUT.',
      }),
      tagMatch: t.arg({
        type: TagMatchEnum,
        defaultValue: 'ALL',
        description: 'ALL: every listed tag; ANY: at least one.',
      }),
      status: t.arg({
        type: FileStatusEnum,
        description:
          'Only files with this status. USERs see ACTIVE files only: HIDDEN finds nothing for them.',
      }),
      uploadedBy: t.arg.id({
        description: 'Only files this user uploaded; a malformed id is BAD_USER_INPUT.',
      }),
      orderBy: t.arg({ type: FileOrderEnum, defaultValue: 'NEWEST', description: 'The order.' }),
      first: t.arg.int({
        defaultValue: 20,
        description: 'Page size, 0 to 100 (else BAD_USER_INPUT).',
      }),
      after: t.arg.string({
        description:
          'Continue after this cursor (`pageInfo.endCursor` of the previous page); a malformed ' +
          'cursor is BAD_USER_INPUT. Takes precedence over `offset`.',
      }),
      offset: t.arg.int({ description: 'Rows to skip: jumps straight to a page. Zero or more.' }),
    },
    resolve: async (_root, args, ctx, info): Promise<FileListing> => {
      const listArgs: FileListArgs = {
        query: parseSearchText(args.query),
        tagIds: args.tagIds?.map((id) => parseId(id, 'tagIds')),
        tagMatch: args.tagMatch,
        status: args.status,
        uploadedBy: parseOptionalId(args.uploadedBy, 'uploadedBy'),
        orderBy: args.orderBy,
      };
      const search = ctx.services.files.search(ctx.viewer!, listArgs);
      // The page, totalCount and tagCounts asked for are read at once, in one read snapshot, so
      // they agree with each other while files are added or changed (search.service.ts).
      const asked = selectedFields(info);
      const { limit, offset } = resolvePage(args);
      const rows = await search.read({
        limit: limit === 0 ? 0 : limit + 1,
        offset,
        count: asked.has('totalCount'),
        tagCounts: asked.has('tagCounts'),
      });
      const connection = await offsetConnection(args, async () => rows, search.count);
      return { ...connection, search };
    },
  }),
  trash: t.field({
    type: FileConnection,
    description:
      'Files in the trash, most recently deleted first, with `deletedAt`: the viewer’s own ' +
      '(ACTIVE ones), or everyone’s for admins. Session only. Trashed files are purged ' +
      'TRASH_DAYS (default 30) after deletion. Their `tags` are the tags they had when deleted ' +
      '(those that still exist: what `restoreFile` brings back); `tagCounts` is empty, as ' +
      'trashed files count in no tag. Paged like `files`.',
    authScopes: SESSION,
    args: pageArgs(t.arg),
    resolve: (_root, args, ctx): Promise<FileListing> => {
      const trash = ctx.services.files.trash(ctx.viewer!);
      return offsetConnection(args, trash.page, trash.count);
    },
  }),
}));

/**
 * What `uploadFile` sets and `updateFile` changes of a file: its name, its tags and (admins only)
 * its status, described for each.
 */
const editArgs = (
  arg: ArgBuilder<Types>,
  describe: { name: string; tags: string; status: string },
) => ({
  name: arg.string({ description: describe.name }),
  tags: arg.stringList({ description: describe.tags }),
  status: arg({ type: FileStatusEnum, description: describe.status }),
});

builder.mutationFields((t) => ({
  uploadFile: t.field({
    type: FileRef,
    description:
      'Uploads one file (GraphQL multipart request). `name` defaults to the file’s own name; ' +
      'without `tags` the file gets its type tag (Image, Video, Audio or Other). Only admins may ' +
      'set `status`. Session or UPLOAD token. PAYLOAD_TOO_LARGE (HTTP 413) past ' +
      'MAX_UPLOAD_BYTES, FORBIDDEN for `status` from a USER, BAD_USER_INPUT for an invalid name ' +
      'or tag or a malformed request. An upload that fails or is cut off leaves nothing behind.',
    authScopes: sessionOrToken('UPLOAD'),
    args: {
      file: t.arg({
        type: 'Upload',
        required: true,
        description: 'The file part of the multipart request.',
      }),
      ...editArgs(t.arg, {
        name:
          'The file’s name: 1 to 255 characters after trimming, no control characters (CR, LF, ' +
          'NUL, …). Default: the uploaded file’s own name.',
        tags:
          'Exactly these tags, each created when missing: names trimmed, 1 to 40 characters, ' +
          'matched ignoring case, at most 50. Omitted: the type tag. An empty list: no tags.',
        status: 'Admins only (FORBIDDEN for USERs); default ACTIVE.',
      }),
    },
    resolve: (_root, args, ctx) => ctx.services.files.upload(ctx.viewer!, args),
  }),
  updateFile: t.field({
    type: FileRef,
    description:
      'Renames, retags (exactly the given tags, created when missing) or, for admins, ' +
      'hides/shows a file. The uploader or an admin, with a session: FORBIDDEN for anyone else, ' +
      'NOT_FOUND for a file the caller cannot see, BAD_USER_INPUT for an invalid name or tag.',
    authScopes: SESSION,
    args: {
      ...idArg(t.arg, 'The file to change.'),
      ...editArgs(t.arg, {
        name:
          'A new name: 1 to 255 characters after trimming, no control characters. Omitted or ' +
          'null: unchanged.',
        tags:
          'The file’s new tags, replacing all of them (same rules as `uploadFile`). Omitted or ' +
          'null: unchanged; an empty list removes every tag.',
        status: 'Admins only (FORBIDDEN for USERs). Omitted or null: unchanged.',
      }),
    },
    resolve: byId((id, ctx, args) =>
      ctx.services.files.update(ctx.viewer!, id, args, actorOf(ctx)),
    ),
  }),
  deleteFile: t.boolean({
    description:
      'Moves a file to the trash (the uploader or an admin, with a session; FORBIDDEN for anyone ' +
      'else, NOT_FOUND for a file the caller cannot see). From then on it is deleted everywhere ' +
      '(lists, counts, search, downloads; `Download.file` is null, `fileName` kept) except ' +
      '`trash`, `restoreFile` and `purgeFile`; it still counts in the uploader’s `usedBytes`. ' +
      'Purged after TRASH_DAYS; with TRASH_DAYS 0 it is deleted for good at once.',
    authScopes: SESSION,
    args: idArg(t.arg, 'The file to delete.'),
    resolve: byId((id, ctx) => ctx.services.files.delete(ctx.viewer!, id, actorOf(ctx))),
  }),
  restoreFile: t.field({
    type: FileRef,
    description:
      'Brings a file back from the trash: its id, name, status, counters, download history and ' +
      'the tags that still exist. The uploader or an admin, with a session; NOT_FOUND for a ' +
      'file not in the trash (or purged meanwhile), FORBIDDEN for anyone else.',
    authScopes: SESSION,
    args: idArg(t.arg, 'The trashed file.'),
    resolve: byId((id, ctx) => ctx.services.files.restore(ctx.viewer!, id, actorOf(ctx))),
  }),
  purgeFile: t.boolean({
    description:
      'Deletes a file in the trash for good: its download history keeps the name, the stored ' +
      'bytes go with the last file using them, and it stops counting in `usedBytes`. The ' +
      'uploader or an admin, with a session; NOT_FOUND for a file not in the trash.',
    authScopes: SESSION,
    args: idArg(t.arg, 'The trashed file.'),
    resolve: byId((id, ctx) => ctx.services.files.purge(ctx.viewer!, id, actorOf(ctx))),
  }),
}));
