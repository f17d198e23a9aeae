import type { Db, UserRow } from '../../db/database.js';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import type { Viewer } from '../auth/viewer.js';
import {
  countUsers,
  findUserById,
  findUsersByIds,
  hasAnyUser,
  listUsers,
  updateUser,
  type UserOrder,
} from './users.repository.js';

/**
 * Both come from the auth module, which depends on users, not the other way round: `revokeAll`
 * ends every session and API token of a user (a ban), `seesHiddenFiles` is the visibility rule
 * (auth/visibility.ts).
 */
export function createUsersService(
  db: Db,
  deps: {
    revokeAll(userId: number): Promise<void>;
    seesHiddenFiles(viewer: Viewer | null): boolean;
  },
) {
  async function change(
    actor: UserRow,
    id: number,
    patch: Parameters<typeof updateUser>[2],
    what: string,
  ) {
    if (actor.id === id) throw new ForbiddenError(`You cannot ${what} yourself.`);
    const user = await updateUser(db, id, patch);
    if (!user) throw new NotFoundError('No such user.');
    return user;
  }

  return {
    byId: (id: number) => findUserById(db, id),
    byIds: (ids: readonly number[]) => findUsersByIds(db, ids),
    list: (query: string | null | undefined, limit: number, offset: number, order?: UserOrder) =>
      listUsers(db, query, limit, offset, order),
    count: (query: string | null | undefined) => countUsers(db, query),
    /** True until the first account exists (that account becomes the admin). */
    needsFirstAccount: async () => !(await hasAnyUser(db)),

    /** The user's files the viewer may count (users.upload_count holds ACTIVE and HIDDEN). */
    uploadCount: (viewer: Viewer | null, user: UserRow): number =>
      deps.seesHiddenFiles(viewer) ? user.upload_count : user.upload_count - user.uploads_hidden,

    /**
     * How many of the user's files are HIDDEN, for that user (an upload an admin hid does not
     * just vanish) and admins; null for anyone else, who must not learn that hidden files exist.
     */
    hiddenUploadCount: (viewer: Viewer | null, user: UserRow): number | null =>
      viewer && (viewer.user.id === user.id || deps.seesHiddenFiles(viewer))
        ? user.uploads_hidden
        : null,

    async ban(actor: UserRow, id: number) {
      const user = await change(actor, id, { banned: 1 }, 'ban');
      await deps.revokeAll(id);
      return user;
    },
    unban: (actor: UserRow, id: number) => change(actor, id, { banned: 0 }, 'unban'),
    setRole(actor: UserRow, id: number, role: UserRow['role']) {
      return change(actor, id, { role }, 'change the role of');
    },
  };
}
