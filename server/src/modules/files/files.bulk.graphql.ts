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

const ALL_OR_NOTHING =
  'All or nothing in one transaction: NOT_FOUND (naming no file) when any file does not exist ' +
  'or the caller cannot see it, FORBIDDEN when any is not theirs to change (USERs change only ' +
  'their own files); then nothing changed. One audit event per changed file.';

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
}));
