import type { FileStatus } from '../../db/database.js';
import type { Viewer } from './viewer.js';

// Who sees what, in one place. HIDDEN files exist for admins only: for everybody else they are
// absent from lists, counts, tag counts, tag lists, search, statistics and the download route.

/** Whether the viewer is an admin: they curate every user, tag, file and link. */
export const isAdmin = (viewer: Viewer | null): boolean => viewer?.user.role === 'ADMIN';

/** Whether the viewer sees HIDDEN files (and counts that include them): admins only. */
export const seesHiddenFiles = isAdmin;

/**
 * Whether the viewer may change a file they can see (rename, retag, trash, restore, purge,
 * share): its uploader or an admin. Only admins change a file's status.
 */
export const mayChangeFile = (
  viewer: Viewer | null,
  file: { uploaded_by: number | null },
): boolean => viewer !== null && (isAdmin(viewer) || file.uploaded_by === viewer.user.id);

/** Whether the viewer may see a file with this status at all. */
export const canSeeStatus = (viewer: Viewer | null, status: FileStatus): boolean =>
  viewer !== null && (status === 'ACTIVE' || seesHiddenFiles(viewer));
