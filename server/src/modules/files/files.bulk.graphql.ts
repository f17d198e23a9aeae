import type { ArgBuilder } from '@pothos/core';
import { builder, type Types } from '../../graphql/builder.js';
import type { Context } from '../../graphql/context.js';
import { SESSION } from '../../graphql/fields.js';
import { parseId } from '../../graphql/ids.js';
import { BadUserInputError } from '../../errors.js';
import { actorOf } from '../audit/audit.service.js';
import { FileRef, FileStatusEnum } from './files.graphql.js';
import { MAX_BULK_IDS } from './files.bulk.js';

/** The `ids: [ID!]!` argument every bulk mutation takes: `args: idsArg(t.arg)`. */
const idsArg = (arg: ArgBuilder<Types>) => ({
  ids: arg.idList({
    required: true,
    description:
      `The files, 1 to ${MAX_BULK_IDS} ids (duplicates count once); a malformed id, an empty or ` +
      'longer list is BAD_USER_INPUT.',
  }),
});

/**
 * The resolver of a bulk mutation (`idsArg`), as `byId` is for one file: the count is checked
 * before any id is parsed, so a huge list costs nothing.
 */
const byIds =
  <Args extends { ids: readonly (string | number)[] }, R>(
    act: (ids: number[], ctx: Context, args: Args) => R,
  ) =>
  (_root: unknown, args: Args, ctx: Context): R => {
    if (args.ids.length > MAX_BULK_IDS) {
      throw BadUserInputError.field('ids', `at most ${MAX_BULK_IDS} files per request`);
    }
    const ids = args.ids.map((id) => parseId(id, 'ids'));
    return act(ids, ctx, args);
  };

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
    authScopes: SESSION,
    args: {
      ...idsArg(t.arg),
      status: t.arg({ type: FileStatusEnum, required: true, description: 'The new status.' }),
    },
    resolve: byIds((ids, ctx, args) =>
      ctx.services.files.bulk.setStatus(ctx.viewer!, ids, args.status, actorOf(ctx)),
    ),
  }),
  tagFiles: t.field({
    type: [FileRef],
    description:
      'Adds and removes tags on many files at once (the uploader or an admin, with a session). ' +
      'Tags to add are created when missing; a tag in both lists is removed; names follow the ' +
      'rules of `uploadFile`; a file left with more than 50 tags is BAD_USER_INPUT. ' +
      ALL_OR_NOTHING +
      ' Returns the files in id order.',
    authScopes: SESSION,
    args: {
      ...idsArg(t.arg),
      add: t.arg.stringList({ description: 'Tag names to add (at most 50).' }),
      remove: t.arg.stringList({
        description: 'Tag names to remove (at most 50); unknown ones are ignored.',
      }),
    },
    resolve: byIds((ids, ctx, args) =>
      ctx.services.files.bulk.tag(
        ctx.viewer!,
        ids,
        args.add ?? [],
        args.remove ?? [],
        actorOf(ctx),
      ),
    ),
  }),
  deleteFiles: t.int({
    description:
      'Moves many files to the trash at once, as `deleteFile` does for one (the uploader or an ' +
      'admin, with a session); returns how many. ' +
      ALL_OR_NOTHING,
    authScopes: SESSION,
    args: idsArg(t.arg),
    resolve: byIds((ids, ctx) => ctx.services.files.bulk.trash(ctx.viewer!, ids, actorOf(ctx))),
  }),
  restoreFiles: t.field({
    type: [FileRef],
    description:
      'Brings many files back from the trash at once, as `restoreFile` does for one (the ' +
      'uploader or an admin, with a session). ' +
      ALL_OR_NOTHING.replace('does not exist', 'is not in the trash') +
      ' Returns the files in id order.',
    authScopes: SESSION,
    args: idsArg(t.arg),
    resolve: byIds((ids, ctx) => ctx.services.files.bulk.restore(ctx.viewer!, ids, actorOf(ctx))),
  }),
  purgeFiles: t.int({
    description:
      'Deletes many files in the trash for good, as `purgeFile` does for one (the uploader or ' +
      'an admin, with a session). Every file is checked first: ' +
      REFUSALS.replace('does not exist', 'is not in the trash') +
      ' Then each is purged (one `file.purge` event each); one restored or purged by someone ' +
      'else meanwhile is skipped. Returns how many this call purged.',
    authScopes: SESSION,
    args: idsArg(t.arg),
    resolve: byIds((ids, ctx) => ctx.services.files.bulk.purge(ctx.viewer!, ids, actorOf(ctx))),
  }),
}));
