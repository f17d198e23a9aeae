import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Viewer } from '../modules/auth/viewer.js';
import { seesHiddenFiles } from '../modules/auth/visibility.js';
import { MAX_BULK_IDS } from '../modules/files/files.bulk.js';
import type { Services } from '../services.js';
import { refuse, refusalOf } from './download.js';
import { sendText } from './respond.js';
import { sendZip } from './zip.js';

// GET/HEAD /files/zip?ids=1,2,3 (docs/api.md): a selection of files as one ZIP, with the download
// route's credentials and visibility, one download counted per file, all or none.

export const FILES_ZIP_ROUTE = '/files/zip';

/** Most files one ZIP may name: the bulk actions' limit, so any one batch of them fits. */
export const MAX_ZIP_FILES = MAX_BULK_IDS;

const ID = /^[1-9]\d{0,15}$/;

/**
 * The ids of `?ids=` (comma-separated; the parameter may repeat), duplicates dropped and order
 * kept, or why they are refused. The count is checked before any id is looked at.
 */
export function zipIds(url: URL): number[] | string {
  const raw = url.searchParams
    .getAll('ids')
    .flatMap((v) => v.split(','))
    .filter((v) => v !== '');
  if (raw.length === 0) return 'Name the files with ?ids=1,2,3.';
  if (raw.length > MAX_ZIP_FILES) return `At most ${MAX_ZIP_FILES} files per ZIP.`;
  if (!raw.every((v) => ID.test(v))) return 'Malformed file id.';
  return [...new Set(raw.map(Number))];
}

export async function handleFilesZip(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  viewer: Viewer | null,
  services: Services,
  log: Logger,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
  }
  if (!viewer) {
    return refuse(req, res, 401, 'Sign in to download files.', { 'www-authenticate': 'Bearer' });
  }
  if (viewer.kind === 'token' && !viewer.scopes.includes('DOWNLOAD')) {
    return refuse(req, res, 403, 'This API token may not download files (it lacks DOWNLOAD).');
  }
  const ids = zipIds(url);
  if (typeof ids === 'string') return refuse(req, res, 400, ids);
  // All or nothing, as the bulk actions: one file the caller may not see (or that does not
  // exist) refuses the whole ZIP, without saying which.
  const found = new Map((await services.files.visibleByIds(viewer, ids)).map((f) => [f.id, f]));
  if (found.size !== ids.length) return refuse(req, res, 404, 'No such file.');
  const userId = viewer.user.id;
  await sendZip(req, res, {
    files: ids.map((id) => found.get(id)!),
    fileName: 'files.zip',
    services,
    log,
    logContext: { userId, files: ids.length },
    missingText: 'A file of this selection cannot be read now.',
    record: async () =>
      (await services.downloads.recordMany(ids, userId, !seesHiddenFiles(viewer))) ??
      new NotFoundError('No such file.'),
    release: (unsent) => services.downloads.releaseMany(userId, unsent),
    refuse: refusalOf(req, res),
  });
}
