import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { offersPreviews, PROOF_COOKIE, type OpenShare } from '../modules/shares/shares.service.js';
import type { Services } from '../services.js';
import { refusalOf, serveFile, type Refusal } from './download.js';
import { servePreview, serveThumbnail, thumbnailSize } from './preview.js';
import { sendText } from './respond.js';
import { sendZip } from './zip.js';

// The routes of share links (docs/api.md, "Share links"): one file's bytes, exactly as the
// download route serves them, its thumbnail and (for a link without a download limit) its preview
// exactly as the thumbnail and preview routes serve them, and every file of the link as one ZIP
// streamed while it is read.
// No account: the link's token is the credential, and for a link with a password, a proof
// (`key=` or the link's cookie) from `share(token, password)`.

export const SHARE_ROUTE = /^\/s\/([^/]+)\/(?:files\/([^/]+)\/(download|thumbnail|preview)|(zip))$/;

const NO_SUCH_FILE = 'No such file in this link.';
const PREVIEW_LIMITED =
  'This link counts its downloads, so it shows no previews: download the file to see it.';

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export async function handleShareRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  match: RegExpExecArray,
  services: Services,
  log: Logger,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
  }
  const token = match[1]!;
  // A browser that meets a refusal goes to the share page, which says what is wrong in words.
  const page = `/s/${encodeURIComponent(token)}`;
  const turnAway = refusalOf(req, res, page);
  // A bad size is refused before the token is even looked at, as `/files/:id/thumbnail` does.
  const size = match[3] === 'thumbnail' ? thumbnailSize(res, url) : null;
  if (match[3] === 'thumbnail' && size === null) return;
  const proof = url.searchParams.get('key') ?? readCookie(req.headers.cookie, PROOF_COOKIE);
  const opened = await services.shares.openForDownload(token, proof);
  if (!('link' in opened)) return turnAway(opened.status, opened.message);

  if (match[4]) return sendShareZip(req, res, opened, services, log, turnAway);

  const rawId = match[2]!;
  const id = /^[1-9]\d{0,15}$/.test(rawId) ? Number(rawId) : null;
  const file = opened.files.find((f) => f.id === id);
  if (!file) return turnAway(404, NO_SUCH_FILE);
  // Never a download: nothing is recorded, and the link's limit is not touched.
  if (size !== null) return serveThumbnail(req, res, file, size, services, turnAway);
  if (match[3] === 'preview') {
    if (!offersPreviews(opened)) return turnAway(403, PREVIEW_LIMITED);
    return servePreview(req, res, file, services, log, turnAway);
  }
  await serveFile(req, res, file, {
    services,
    log,
    record: async () =>
      (await services.shares.recordDownloads(opened.link.id, [file.id]))
        ? null
        : new NotFoundError('This link does not work (any more).'),
    refuse: turnAway,
  });
}

/**
 * Every file of the link as one ZIP (http/zip.ts). The downloads (one per file) are counted
 * before the first byte goes out, all or none: a link with fewer downloads left than files
 * refuses the ZIP.
 */
function sendShareZip(
  req: IncomingMessage,
  res: ServerResponse,
  opened: OpenShare,
  services: Services,
  log: Logger,
  turnAway: Refusal,
): Promise<void> {
  return sendZip(req, res, {
    files: opened.files,
    fileName: 'shared-files.zip',
    services,
    log,
    logContext: { linkId: opened.link.id },
    missingText: 'A file of this link cannot be read now.',
    record: async () =>
      (await services.shares.recordDownloads(
        opened.link.id,
        opened.files.map((f) => f.id),
      )) ?? new NotFoundError('This link has fewer downloads left than it has files.'),
    // The link's limit gets back the downloads of files storage failed to give.
    release: (unsent) => services.shares.releaseDownloads(opened.link.id, unsent),
    refuse: turnAway,
  });
}
