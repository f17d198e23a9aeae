import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeExtended } from 'content-disposition';
import type { FileRow } from '../db/database.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Viewer } from '../modules/auth/viewer.js';
import {
  previewKind,
  THUMBNAIL_SIZES,
  type ThumbnailSize,
} from '../modules/previews/previews.service.js';
import type { Services } from '../services.js';
import {
  answeredNotModified,
  fileForRequest,
  fileRoute,
  openFileBody,
  refusalOf,
  sendFileBody,
  type Refusal,
} from './download.js';
import { sendText } from './respond.js';

// GET/HEAD /files/:id/thumbnail and /files/:id/preview (docs/api.md): the download route's
// credentials and visibility (`fileForRequest`), never recorded as downloads. `private, no-cache`
// like the download: a file hidden since must stop showing, and revalidation is a cheap 304.

const CACHE = 'private, no-cache';

export async function handleThumbnail(
  req: IncomingMessage,
  res: ServerResponse,
  rawId: string,
  url: URL,
  viewer: Viewer | null,
  services: Services,
): Promise<void> {
  const size = thumbnailSize(res, url);
  if (size === null) return;
  const access = await fileForRequest(req, res, rawId, viewer, services);
  if (!access) return;
  await serveThumbnail(req, res, access.file, size, services);
}

/** The `size=` of a thumbnail URL (256 unless given), or null once a 400 was sent. */
export function thumbnailSize(res: ServerResponse, url: URL): ThumbnailSize | null {
  const rawSize = url.searchParams.get('size') ?? '256';
  const size = THUMBNAIL_SIZES.find((s) => String(s) === rawSize);
  if (size !== undefined) return size;
  sendText(res, 400, `size must be one of ${THUMBNAIL_SIZES.join(', ')}.`);
  return null;
}

/**
 * The thumbnail of a file the caller may see, never a download: ETag, 304, HEAD, 503 while
 * another instance makes it, 404 when there is none. Shared by `/files/:id/thumbnail` and the
 * share link routes; `refuseWith` turns a 404 away as the calling route does.
 */
export async function serveThumbnail(
  req: IncomingMessage,
  res: ServerResponse,
  file: FileRow,
  size: ThumbnailSize,
  services: Services,
  refuseWith: Refusal = refusalOf(req, res),
): Promise<void> {
  const etag = `"${file.sha256}-${size}"`;
  // The thumbnail's bytes follow from the blob's: a matching ETag needs no thumbnail at all.
  if (answeredNotModified(req, res, etag, CACHE)) return;
  let thumb: Awaited<ReturnType<Services['previews']['thumbnail']>>;
  try {
    thumb = await services.previews.thumbnail(file, size);
  } catch (err) {
    // The blob went while it was read (the file deleted for good meanwhile, or a store that lost
    // it): turned away as the download route turns such a read away.
    if (err instanceof AppError) return refuseWith(err.status, err.message);
    throw err;
  }
  if (thumb === 'busy') {
    return sendText(res, 503, 'The thumbnail is being made; try again shortly.', {
      'retry-after': '5',
      'cache-control': 'no-store',
    });
  }
  if (!thumb) return refuseWith(404, 'This file has no thumbnail.');
  res.writeHead(200, {
    etag,
    'cache-control': CACHE,
    'content-type': 'image/webp',
    'content-length': thumb.bytes.length,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
  });
  res.end(req.method === 'HEAD' ? undefined : thumb.bytes);
}

/** Inline, under the name, in the same RFC 8187 form as the download's attachment. */
const inline = (name: string) =>
  `inline; filename="${name.replace(/[^\x20-\x7e]|["\\/%]/g, '_')}"; filename*=${encodeExtended(name)}`;

export const handlePreview = fileRoute((req, res, { file }, services, log) =>
  servePreview(req, res, file, services, log),
);

/**
 * A file's bytes inline, for types a browser shows safely (`previewKind`), never a download.
 * Shared by `/files/:id/preview` and the share link routes; `refuseWith` turns a refusal away as
 * the calling route does.
 */
export async function servePreview(
  req: IncomingMessage,
  res: ServerResponse,
  file: FileRow,
  services: Services,
  log: Logger,
  refuseWith: Refusal = refusalOf(req, res),
): Promise<void> {
  const kind = previewKind(file.mime_type);
  if (!kind) return refuseWith(404, 'This file has no preview.');
  const etag = `"${file.sha256}"`;
  const headers: Record<string, string | number> = {
    etag,
    'accept-ranges': 'bytes',
    'cache-control': CACHE,
    // Text of any kind (HTML, SVG, scripts) is shown as plain text, never run or rendered.
    'content-type': kind === 'text' ? 'text/plain; charset=utf-8' : file.mime_type,
    'content-disposition': inline(file.name),
    'x-content-type-options': 'nosniff',
    // A PDF opened as a document is sandboxed (no scripts, an opaque origin); media and images
    // are only ever subresources.
    'content-security-policy': kind === 'pdf' ? 'sandbox' : "default-src 'none'; sandbox",
  };
  const opened = await openFileBody(req, res, file, headers, services, refuseWith);
  if (!opened) return;
  await sendFileBody(res, opened.body, file, opened.range, headers, log, 'preview');
}
