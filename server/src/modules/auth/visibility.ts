import type { FileStatus, UserRow } from '../../db/database.js';
import type { Viewer } from './viewer.js';

// Who sees what, in one place. HIDDEN files exist for admins only: for everybody else they are
// absent from lists, counts, tag counts, tag lists, search, statistics and the download route.

/** Whether the viewer sees HIDDEN files (and counts that include them): admins only. */
export const seesHiddenFiles = (viewer: Viewer | null): boolean => viewer?.user.role === 'ADMIN';

/** Whether the viewer may see a file with this status at all. */
export const canSeeStatus = (viewer: Viewer | null, status: FileStatus): boolean =>
  viewer !== null && (status === 'ACTIVE' || seesHiddenFiles(viewer));

/** A user's files the viewer may count: HIDDEN ones only for admins (users.upload_count has both). */
export const uploadCountSeenBy = (viewer: Viewer | null, user: UserRow): number =>
  seesHiddenFiles(viewer) ? user.upload_count : user.upload_count - user.uploads_hidden;

/**
 * How many of a user's files are HIDDEN, for that user (so an upload an admin hid does not just
 * vanish) and for admins; null for anyone else, who must not learn that hidden files exist.
 */
export const hiddenUploadCountSeenBy = (viewer: Viewer | null, user: UserRow): number | null =>
  viewer && (viewer.user.id === user.id || seesHiddenFiles(viewer)) ? user.uploads_hidden : null;
