import type { Db, UserRow } from '../../db/database.js';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../errors.js';
import type { Viewer } from '../auth/viewer.js';
import type { AuditAction } from '../audit/actions.js';
import { audit, userTarget, type Actor } from '../audit/audit.service.js';
import {
  findUserById,
  findUsersByIds,
  hasAnyUser,
  updateUser,
  userListing,
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
    /** DEFAULT_QUOTA_BYTES: the quota of users without their own; null for none. */
    defaultQuotaBytes: number | null;
  },
) {
  /** Changes one field of a user and logs it (before/after) in the same transaction. */
  async function change<K extends 'banned' | 'role' | 'quota_bytes'>(
    actor: Actor,
    id: number,
    field: K,
    value: UserRow[K],
    what: string,
    action: AuditAction,
  ) {
    if (what && actor.user?.id === id) throw new ForbiddenError(`You cannot ${what} yourself.`);
    return db.transaction().execute(async (trx) => {
      const before = await findUserById(trx, id);
      const user = before && (await updateUser(trx, id, { [field]: value }));
      if (!before || !user) throw new NotFoundError('No such user.');
      const shown = (v: UserRow[K]) => (field === 'banned' ? v === 1 : v);
      const key = field === 'quota_bytes' ? 'quotaBytes' : field;
      const change = { key, before: shown(before[field]), after: shown(value) };
      await audit.recordChange(trx, { actor, action, target: userTarget(before) }, change);
      return user;
    });
  }

  return {
    byId: (id: number) => findUserById(db, id),
    byIds: (ids: readonly number[]) => findUsersByIds(db, ids),
    list: (query: string | null | undefined, limit: number, offset: number, order?: UserOrder) =>
      userListing.list(db, query, limit, offset, order),
    count: (query: string | null | undefined) => userListing.count(db, query),
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

    /**
     * Storage used and allowed, for the user themself and admins (it would tell others that
     * hidden files exist); FORBIDDEN for anyone else.
     */
    usage(viewer: Viewer | null, user: UserRow) {
      if (!viewer || (viewer.user.id !== user.id && !deps.seesHiddenFiles(viewer))) {
        throw new ForbiddenError('Only the user themself and admins may see their storage.');
      }
      return {
        usedBytes: Number(user.used_bytes),
        quotaBytes: user.quota_bytes ?? deps.defaultQuotaBytes,
      };
    },

    /**
     * Sets a user's own quota in bytes (an admin may set their own too); null returns them to
     * DEFAULT_QUOTA_BYTES. Files already stored stay, even past it: only new uploads are refused.
     */
    setQuota(actor: Actor, id: number, quotaBytes: number | null) {
      if (quotaBytes !== null && quotaBytes < 0) {
        throw BadUserInputError.field(
          'quotaBytes',
          'must be zero or more (or null for the default)',
        );
      }
      return change(actor, id, 'quota_bytes', quotaBytes, '', 'user.quota');
    },

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

export type UsersService = ReturnType<typeof createUsersService>;
