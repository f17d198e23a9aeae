import type { Db, UserRow } from '../../db/database.js';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import type { Viewer } from '../auth/viewer.js';
import type { AuditAction } from '../audit/actions.js';
import { audit, type Actor } from '../audit/audit.service.js';
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
  /** Changes one field of a user and logs it (before/after) in the same transaction. */
  async function change<K extends 'banned' | 'role'>(
    actor: Actor,
    id: number,
    field: K,
    value: UserRow[K],
    what: string,
    action: AuditAction,
  ) {
    if (actor.user?.id === id) throw new ForbiddenError(`You cannot ${what} yourself.`);
    return db.transaction().execute(async (trx) => {
      const before = await findUserById(trx, id);
      const user = before && (await updateUser(trx, id, { [field]: value }));
      if (!before || !user) throw new NotFoundError('No such user.');
      const shown = (v: UserRow[K]) => (field === 'banned' ? v === 1 : v);
      await audit.record(trx, {
        actor,
        action,
        target: { type: 'user', id, label: before.email },
        details: { before: { [field]: shown(before[field]) }, after: { [field]: shown(value) } },
      });
      return user;
    });
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

    async ban(actor: Actor, id: number) {
      const user = await change(actor, id, 'banned', 1, 'ban', 'user.ban');
      await deps.revokeAll(id);
      return user;
    },
    unban: (actor: Actor, id: number) => change(actor, id, 'banned', 0, 'unban', 'user.unban'),
    setRole(actor: Actor, id: number, role: UserRow['role']) {
      return change(actor, id, 'role', role, 'change the role of', 'user.role');
    },
  };
}
