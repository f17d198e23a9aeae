import { parseSearchText } from '../../graphql/search-text.js';
import { GraphQLUpload } from 'graphql-upload-minimal';
import type { FileRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import { connectionRef, offsetConnection, type Connection } from '../../graphql/connection.js';
import { parseId, parseIdOrNotFound } from '../../graphql/ids.js';
import { Tag, TagMatchEnum } from '../tags/tags.graphql.js';
import { User } from '../users/users.graphql.js';
import type { FileListArgs } from './files.search.js';

builder.addScalarType('Upload', GraphQLUpload, {});

export const FileStatusEnum = builder.enumType('FileStatus', {
  values: ['ACTIVE', 'HIDDEN'] as const,
});

export const FileOrderEnum = builder.enumType('FileOrder', {
  values: ['NEWEST', 'OLDEST', 'NAME', 'LARGEST', 'MOST_DOWNLOADED'] as const,
});

/** The path of the download route for a file (API.md, "Downloads"). */
export const downloadPath = (id: number) => `/files/${id}/download`;

/**
 * A File field that returns an id loads the row through one batched query per request; files the
 * viewer may not see (HIDDEN ones for non-admins) load as null.
 */
export const FileRef = builder.loadableObject('File', {
  load: (ids: number[], ctx) => ctx.services.files.visibleByIds(ctx.viewer, ids),
  sort: (file: FileRow) => file.id,
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    originalName: t.exposeString('original_name'),
    size: t.field({ type: 'SafeInt', resolve: (f) => f.size }),
    mimeType: t.exposeString('mime_type'),
    sha256: t.exposeString('sha256'),
    status: t.field({ type: FileStatusEnum, resolve: (f) => f.status }),
    tags: t.loadableList({
      type: Tag,
      description: 'The file’s tags, by name.',
      load: (ids: number[], ctx) => ctx.services.tags.ofFiles(ids),
      resolve: (f) => f.id,
    }),
    uploadedBy: t.field({
      type: User,
      nullable: true,
      description: 'Null once the uploader’s account is gone.',
      resolve: (f) => f.uploaded_by,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (f) => f.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (f) => f.updated_at }),
    downloadCount: t.exposeInt('download_count'),
    lastDownloadedAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (f) => f.last_downloaded_at,
    }),
    downloadUrl: t.string({
      description: 'Path of the download route (GET/HEAD, cookie or Bearer).',
      resolve: (f) => downloadPath(f.id),
    }),
  }),
});

/** What the `files` field returns: the page plus the arguments it was listed with. */
export type FileListing = Connection<FileRow> & { args: FileListArgs };

export const FileConnection = connectionRef(FileRef, 'File');

builder.queryFields((t) => ({
  file: t.field({
    type: FileRef,
    nullable: true,
    description: 'A file by id; null when it does not exist or the viewer may not see it.',
    authScopes: { tokenScope: 'READ' },
    args: { id: t.arg.id({ required: true }) },
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
      'The files the viewer can see. USERs see ACTIVE files only, whatever `status` asks.',
    authScopes: { tokenScope: 'READ' },
    args: {
      query: t.arg.string({
        description: 'Case-insensitive substring of the file name or of a tag name.',
      }),
      tagIds: t.arg.idList(),
      tagMatch: t.arg({ type: TagMatchEnum, defaultValue: 'ALL' }),
      status: t.arg({ type: FileStatusEnum }),
      uploadedBy: t.arg.id(),
      orderBy: t.arg({ type: FileOrderEnum, defaultValue: 'NEWEST' }),
      first: t.arg.int({ defaultValue: 20 }),
      after: t.arg.string(),
      offset: t.arg.int(),
    },
    resolve: async (_root, args, ctx): Promise<FileListing> => {
      const listArgs: FileListArgs = {
        query: parseSearchText(args.query),
        tagIds: args.tagIds?.map((id) => parseId(id, 'tagIds')),
        tagMatch: args.tagMatch,
        status: args.status,
        uploadedBy: args.uploadedBy != null ? parseId(args.uploadedBy, 'uploadedBy') : null,
        orderBy: args.orderBy,
      };
      const viewer = ctx.viewer!;
      const connection = await offsetConnection(
        args,
        (limit, offset) => ctx.services.files.list(viewer, listArgs, limit, offset),
        () => ctx.services.files.count(viewer, listArgs),
      );
      return { ...connection, args: listArgs };
    },
  }),
}));

builder.mutationFields((t) => ({
  uploadFile: t.field({
    type: FileRef,
    description:
      'Uploads one file (GraphQL multipart request). `name` defaults to the file’s own name; ' +
      'without `tags` the file gets its type tag (Image, Video, Audio or Other). Only admins may ' +
      'set `status`.',
    authScopes: { tokenScope: 'UPLOAD' },
    args: {
      file: t.arg({ type: 'Upload', required: true }),
      name: t.arg.string(),
      tags: t.arg.stringList(),
      status: t.arg({ type: FileStatusEnum }),
    },
    resolve: (_root, args, ctx) => ctx.services.files.upload(ctx.viewer!, args),
  }),
  updateFile: t.field({
    type: FileRef,
    description:
      'Renames, retags (exactly the given tags, created when missing) or, for admins, ' +
      'hides/shows a file. The uploader or an admin.',
    authScopes: { session: true },
    args: {
      id: t.arg.id({ required: true }),
      name: t.arg.string(),
      tags: t.arg.stringList(),
      status: t.arg({ type: FileStatusEnum }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.files.update(ctx.viewer!, parseIdOrNotFound(args.id), args),
  }),
  deleteFile: t.boolean({
    description:
      'Deletes a file (the uploader or an admin). Its download history keeps the name; the ' +
      'stored bytes go with the last file using them.',
    authScopes: { session: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.files.delete(ctx.viewer!, parseIdOrNotFound(args.id)),
  }),
}));
