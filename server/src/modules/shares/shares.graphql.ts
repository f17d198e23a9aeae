import type { FileRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import { connectionRef, filteredList, pageArgs } from '../../graphql/connection.js';
import {
  byId,
  idArg,
  instant,
  instantOrNull,
  loadedById,
  sessionOrToken,
} from '../../graphql/fields.js';
import { parseId, parseOptionalId } from '../../graphql/ids.js';
import { signedInActor } from '../audit/audit.service.js';
import { DownloadRef } from '../downloads/downloads.graphql.js';
import { FileRef } from '../files/files.graphql.js';
import { User } from '../users/users.graphql.js';
import { previewKind } from '../previews/previews.service.js';
import { offersPreviews, type OpenShare } from './shares.service.js';

// Share links: `/s/<token>` for people without an account (docs/api.md, "Share links").

const sharePath = (token: string) => `/s/${token}`;

export const ShareLinkStateEnum = builder.enumType('ShareLinkState', {
  description: 'Whether a share link works now (the filter of `shareLinks`).',
  values: {
    WORKING: { description: 'Recipients can open it now.' },
    STOPPED: {
      description:
        'It does not work: revoked, expired, used up, its creator banned or gone, or no ACTIVE ' +
        'file left in it.',
    },
  } as const,
});

/** Loaded by id for its creator and admins only; anybody else gets null. */
export const ShareLinkRef = builder.loadableObject('ShareLink', {
  description:
    'A link to one or more files for people without an account, at `/s/<token>`. Only its ' +
    'creator and admins see it. It stops working when revoked, expired, used up, or when its ' +
    'creator is banned; a file of it that turns HIDDEN or goes away drops out of it, and the ' +
    'link stops once none is left.',
  ...loadedById((ids, ctx) => ctx.services.shares.visibleByIds(ctx.viewer, ids)),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Identifier, for `revokeShareLink`.' }),
    url: t.string({
      description:
        'The link to send: `<PUBLIC_ORIGIN or the origin of this request>/s/<token>`, the token ' +
        'holding 192 random bits. It can be read again here at any time.',
      resolve: (link, _args, ctx) => `${ctx.origin}${sharePath(link.token)}`,
    }),
    files: t.field({
      type: [FileRef],
      description:
        'The link’s files that still exist, in the order given: all of them for admins, the ' +
        'ACTIVE ones for its creator (the recipient sees only ACTIVE ones too).',
      resolve: (link, _args, ctx) => ctx.services.shares.filesOf(ctx.viewer, link),
    }),
    createdBy: t.expose('created_by', {
      type: User,
      nullable: true,
      description: 'Who made it; null once that account is gone (the link then stops).',
    }),
    createdAt: t.expose('created_at', instant('When it was made.')),
    expiresAt: t.expose('expires_at', instantOrNull('When it stops working; null: never.')),
    hasPassword: t.boolean({
      description: 'Whether recipients must give a password first.',
      resolve: (link) => link.password_hash !== null,
    }),
    maxDownloads: t.exposeInt('max_downloads', {
      nullable: true,
      description:
        'Downloads allowed through it in all (each file of a ZIP counts); null: no limit.',
    }),
    downloadCount: t.exposeInt('download_count', {
      description: 'Downloads made through it: GETs starting at byte 0, one per file of a ZIP.',
    }),
    lastUsedAt: t.expose(
      'last_used_at',
      instantOrNull('The last download through it; null if none.'),
    ),
    viewCount: t.exposeInt('view_count', {
      description:
        'Openings of its share page (answers of `share` that showed its files), one per client ' +
        'address every 30 minutes, so reloads are not counted again; a preview needs no download, ' +
        'so this tells whether anyone looked.',
    }),
    lastViewedAt: t.expose(
      'last_viewed_at',
      instantOrNull('The last counted opening of its share page; null if none.'),
    ),
    state: t.loadable({
      type: ShareLinkStateEnum,
      description:
        'Whether it works now, by the same test as the `state` filter of `shareLinks`: STOPPED ' +
        'when revoked, expired, used up, its creator banned or gone, or no ACTIVE file left.',
      load: (ids: number[], ctx) => ctx.services.shares.states(ids),
      resolve: (link) => link.id,
    }),
    revoked: t.boolean({
      description: 'Whether it was revoked (it then never works again).',
      resolve: (link) => link.revoked_at !== null,
    }),
    note: t.exposeString('note', {
      nullable: true,
      description: 'Shown to the recipient on the share page.',
    }),
  }),
});

const ShareLinkConnection = connectionRef(ShareLinkRef, 'ShareLink');

const SharedFileRef = builder
  .objectRef<{ file: FileRow; share: OpenShare; hasThumbnail: boolean }>('SharedFile')
  .implement({
    description: 'A file as the recipient of a share link sees it.',
    fields: (t) => ({
      id: t.id({ description: 'The file’s id.', resolve: ({ file }) => file.id }),
      name: t.string({ description: 'The file’s name.', resolve: ({ file }) => file.name }),
      size: t.field({
        type: 'SafeInt',
        description: 'Size in bytes.',
        resolve: ({ file }) => file.size,
      }),
      mimeType: t.string({
        description: 'Content type, as `File.mimeType`.',
        resolve: ({ file }) => file.mime_type,
      }),
      downloadUrl: t.string({
        description:
          'Path of `/s/<token>/files/<id>/download`, which needs no account: GET/HEAD with Range ' +
          'and If-None-Match, as the download route. For a link with a password it carries the ' +
          'proof (`key=`, valid 30 minutes), never the password.',
        resolve: ({ file, share }) => shareUrl(share, `/files/${file.id}/download`),
      }),
      thumbnailUrl: t.string({
        nullable: true,
        description:
          'Path of `/s/<token>/files/<id>/thumbnail?size=256` (also `size=1024`): a WebP ' +
          'thumbnail served as `File.thumbnailUrl`, never counted as a download; null when the ' +
          'file’s type gets none or its bytes are known to give none. Carries the proof like ' +
          '`downloadUrl`.',
        resolve: ({ file, share, hasThumbnail }) =>
          hasThumbnail ? shareUrl(share, `/files/${file.id}/thumbnail`, 'size=256') : null,
      }),
      previewUrl: t.string({
        nullable: true,
        description:
          'Path of `/s/<token>/files/<id>/preview`: the file inline, served as `File.previewUrl`, ' +
          'never counted as a download. Only for a link without `maxDownloads` (a preview hands ' +
          'over the whole file, so a limited link offers thumbnails only) and a type the preview ' +
          'route serves; else null. Carries the proof like `downloadUrl`.',
        resolve: ({ file, share }) =>
          offersPreviews(share) && previewKind(file.mime_type)
            ? shareUrl(share, `/files/${file.id}/preview`)
            : null,
      }),
    }),
  });

function shareUrl(share: OpenShare, suffix: string, query?: string): string {
  const params = [query, share.proof && `key=${encodeURIComponent(share.proof)}`].filter(Boolean);
  return `${sharePath(share.token)}${suffix}${params.length ? `?${params.join('&')}` : ''}`;
}

const PublicShareRef = builder.objectRef<OpenShare>('PublicShare').implement({
  description: 'A share link as its recipient sees it, with no account.',
  fields: (t) => ({
    files: t.field({
      type: [SharedFileRef],
      description: 'The files that can be downloaded through it now (ACTIVE ones), in order.',
      resolve: async (share, _args, ctx) => {
        // One query for every file of the link, however many.
        const thumbnails = await ctx.services.previews.thumbnailUrls(share.files);
        return share.files.map((file, i) => ({ file, share, hasThumbnail: !!thumbnails[i] }));
      },
    }),
    note: t.string({
      nullable: true,
      description: 'The creator’s note to the recipient.',
      resolve: (share) => share.link.note,
    }),
    sharedBy: t.string({
      description: 'The name of the person who shared the files.',
      resolve: (share) => share.sharedBy,
    }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the link stops working; null: never.',
      resolve: (share) => share.link.expires_at,
    }),
    downloadsLeft: t.int({
      nullable: true,
      description: 'Downloads left through the link; null: no limit.',
      resolve: (share) => share.downloadsLeft,
    }),
    zipUrl: t.string({
      nullable: true,
      description:
        'Path of `/s/<token>/zip`, every file as one ZIP (one download per file): when the link ' +
        'holds 2 or more files and has that many downloads left, else null.',
      resolve: (share) =>
        share.files.length >= 2 &&
        (share.downloadsLeft === null || share.downloadsLeft >= share.files.length)
          ? shareUrl(share, '/zip')
          : null,
    }),
  }),
});

builder.objectField(DownloadRef, 'shareLink', (t) =>
  t.expose('share_link_id', {
    type: ShareLinkRef,
    nullable: true,
    description:
      'The share link a download came through (its `user` is then null); null for a signed-in ' +
      'download.',
  }),
);

builder.queryFields((t) => ({
  share: t.field({
    type: PublicShareRef,
    nullable: true,
    description:
      'Anonymous: what a share link offers. Null for an unknown, revoked, expired or used-up ' +
      'link, one whose creator is banned, or one whose files are all hidden or gone: all alike. ' +
      'A link with a password answers FORBIDDEN with `extensions.passwordRequired: true` until ' +
      'the right `password` is given (also for a wrong one); guesses are limited per link and ' +
      'client address (RATE_LIMITED with `retryAfter`). The right password also sets a cookie ' +
      'for the link’s routes and puts a short-lived proof into the URLs. An answer that shows ' +
      'the files counts as a view of the link (`ShareLink.viewCount`).',
    args: {
      token: t.arg.string({ required: true, description: 'The token of `/s/<token>`.' }),
      password: t.arg.string({ description: 'The link’s password, when it has one.' }),
    },
    resolve: async (_root, args, ctx) => {
      const share = await ctx.services.shares.openPublic(
        args.token,
        args.password,
        null,
        ctx.clientAddress,
      );
      if (share?.proof && args.password != null) {
        ctx.setCookie(ctx.services.shares.proofCookie(share.token, share.proof));
      }
      return share;
    },
  }),
  shareLinks: t.field({
    type: ShareLinkConnection,
    description:
      'The signed-in user’s share links, newest first (session or SHARE token); with `all: ' +
      'true` everyone’s, with `createdBy` one user’s (both admins only, else FORBIDDEN). ' +
      '`fileId`, `state` and `query` narrow the list (all of them at once when combined), ' +
      '`totalCount` counting what matches. BAD_USER_INPUT (with `fields`) for a malformed ' +
      '`fileId` or `createdBy`, or a `query` over 200 characters or with control characters. ' +
      'Paged like `files`.',
    authScopes: sessionOrToken('SHARE'),
    args: {
      fileId: t.arg.id({ description: 'Only links holding this file.' }),
      all: t.arg.boolean({ description: 'Admins: every user’s links.' }),
      createdBy: t.arg.id({ description: 'Admins: only the links this user made.' }),
      state: t.arg({
        type: ShareLinkStateEnum,
        description: 'Only links that work now, or only those that do not.',
      }),
      query: t.arg.string({
        description:
          'Only links whose note or a file name contains this, ignoring case (`%` and `_` ' +
          'match themselves; blank: no filter). Non-admins match ACTIVE files’ names only.',
      }),
      ...pageArgs(t.arg),
    },
    resolve: filteredList(
      (ctx) => ctx.services.shares,
      (args, ctx) =>
        ctx.services.shares.listFilter(ctx.viewer!, {
          all: args.all,
          fileId: parseOptionalId(args.fileId, 'fileId'),
          createdBy: parseOptionalId(args.createdBy, 'createdBy'),
          state: args.state ?? null,
          query: args.query,
        }),
    ),
  }),
}));

builder.mutationFields((t) => ({
  createShareLink: t.field({
    type: ShareLinkRef,
    description:
      'Makes a share link to ACTIVE files: one’s own, or any for an admin (session or SHARE ' +
      'token). NOT_FOUND for a file the caller cannot see, FORBIDDEN for another’s file, ' +
      'BAD_USER_INPUT (with `fields`) for a HIDDEN file, no or more than 1000 files, a past ' +
      'expiry, a password outside 4–256 characters, a limit outside 1–1000000, or a note over ' +
      '1000 characters.',
    authScopes: sessionOrToken('SHARE'),
    args: {
      fileIds: t.arg.idList({ required: true, description: 'The files, in the order shown.' }),
      expiresAt: t.arg({ type: 'DateTime', description: 'When it stops working; null: never.' }),
      password: t.arg.string({
        description: 'A password recipients must give; hashed (argon2id).',
      }),
      maxDownloads: t.arg.int({ description: 'Downloads allowed in all; null: no limit.' }),
      note: t.arg.string({ description: 'Shown to the recipient; newlines allowed.' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.shares.create(
        ctx.viewer!,
        { ...args, fileIds: args.fileIds.map((id) => parseId(id, 'fileIds')) },
        signedInActor(ctx),
      ),
  }),
  revokeShareLink: t.boolean({
    description:
      'Stops a share link for good (its creator or an admin; session or SHARE token). NOT_FOUND ' +
      'for a link the caller may not manage. Revoking twice is fine.',
    authScopes: sessionOrToken('SHARE'),
    args: idArg(t.arg, 'The link’s `id`.'),
    resolve: byId((id, ctx) => ctx.services.shares.revoke(ctx.viewer!, id, signedInActor(ctx))),
  }),
}));
