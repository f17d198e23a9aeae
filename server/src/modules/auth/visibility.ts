import type { FileStatus } from '../../db/database.js';
import type { Viewer } from './viewer.js';

// Who sees what, in one place. HIDDEN files exist for admins only: for everybody else they are
// absent from lists, counts, tag counts, tag lists, search, statistics and the download route.

/** Whether the viewer sees HIDDEN files (and counts that include them): admins only. */
export const seesHiddenFiles = (viewer: Viewer | null): boolean => viewer?.user.role === 'ADMIN';

/** Whether the viewer may see a file with this status at all. */
export const canSeeStatus = (viewer: Viewer | null, status: FileStatus): boolean =>
  viewer !== null && (status === 'ACTIVE' || seesHiddenFiles(viewer));
