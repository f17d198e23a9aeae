import { builder } from '../../graphql/builder.js';
import { parseId } from '../../graphql/ids.js';
import { BadUserInputError } from '../../errors.js';
import { actorOf } from '../audit/audit.service.js';
import { FileRef, FileStatusEnum } from './files.graphql.js';
import { MAX_BULK_IDS } from './files.bulk.js';

/** Ids as given: the count is checked before any is parsed, so a huge list costs nothing. */
function bulkIds(ids: readonly (string | number)[]): number[] {
  if (ids.length > MAX_BULK_IDS) {
    throw BadUserInputError.field('ids', `at most ${MAX_BULK_IDS} files per request`);
  }
  return ids.map((id) => parseId(id, 'ids'));
}

const IDS_DESCRIPTION =
  `The files, 1 to ${MAX_BULK_IDS} ids (duplicates count once); a malformed id, an empty or ` +
  'longer list is BAD_USER_INPUT.';

const REFUSALS =
  'NOT_FOUND when any file does not exist or the caller cannot see it (alike), FORBIDDEN when ' +
  'any is not theirs to change (USERs change only their own files), each with ' +
  '`extensions.ids` listing those files; then nothing changed.';

const ALL_OR_NOTHING = `All or nothing in one transaction: ${REFUSALS} One audit event per changed file.`;

builder.mutationFields((t) => ({
  setFilesStatus: t.field({
    type: [FileRef],
    description:
      'Hides or shows many files at once (admins, with a session). ' +
      ALL_OR_NOTHING +
      ' Returns the files in id order.',
    authScopes: { session: true },
    args: {
      ids: t.arg.idList({ required: true, description: IDS_DESCRIPTION }),
      status: t.arg({ type: FileStatusEnum, required: true, description: 'The new status.' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.files.bulk.setStatus(ctx.viewer!, bulkIds(args.ids), args.status, actorOf(ctx)),
  }),
  tagFiles: t.field({
    type: [FileRef],
    description:
      'Adds and removes tags on many files at once (the uploader or an admin, with a session). ' +
      'Tags to add are created when missing; a tag in both lists is removed; names follow the ' +
      'rules of `uploadFile`; a file left with more than 50 tags is BAD_USER_INPUT. ' +
      ALL_OR_NOTHING +
      ' Returns the files in id order.',
    authScopes: { session: true },
    args: {
      ids: t.arg.idList({ required: true, description: IDS_DESCRIPTION }),
      add: t.arg.stringList({ description: 'Tag names to add (at most 50).' }),
      remove: t.arg.stringList({
        description: 'Tag names to remove (at most 50); unknown ones are ignored.',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.files.bulk.tag(
        ctx.viewer!,
        bulkIds(args.ids),
        args.add ?? [],
        args.remove ?? [],
        actorOf(ctx),
      ),
  }),
  deleteFiles: t.int({
    description:
      'Moves many files to the trash at once, as `deleteFile` does for one (the uploader or an ' +
      'admin, with a session); returns how many. ' +
      ALL_OR_NOTHING,
    authScopes: { session: true },
    args: { ids: t.arg.idList({ required: true, description: IDS_DESCRIPTION }) },
    resolve: (_root, args, ctx) =>
      ctx.services.files.bulk.trash(ctx.viewer!, bulkIds(args.ids), actorOf(ctx)),
  }),
  restoreFiles: t.field({
    type: [FileRef],
    description:
      'Brings many files back from the trash at once, as `restoreFile` does for one (the ' +
      'uploader or an admin, with a session). ' +
      ALL_OR_NOTHING.replace('does not exist', 'is not in the trash') +
      ' Returns the files in id order.',
    authScopes: { session: true },
    args: { ids: t.arg.idList({ required: true, description: IDS_DESCRIPTION }) },
    resolve: (_root, args, ctx) =>
      ctx.services.files.bulk.restore(ctx.viewer!, bulkIds(args.ids), actorOf(ctx)),
  }),
  purgeFiles: t.int({
    description:
      'Deletes many files in the trash for good, as `purgeFile` does for one (the uploader or ' +
      'an admin, with a session). Every file is checked first: ' +
      REFUSALS.replace('does not exist', 'is not in the trash') +
      ' Then each is purged (one `file.purge` event each); one restored or purged by someone ' +
      'else meanwhile is skipped. Returns how many this call purged.',
    authScopes: { session: true },
    args: { ids: t.arg.idList({ required: true, description: IDS_DESCRIPTION }) },
    resolve: (_root, args, ctx) =>
      ctx.services.files.bulk.purge(ctx.viewer!, bulkIds(args.ids), actorOf(ctx)),
  }),
}));
