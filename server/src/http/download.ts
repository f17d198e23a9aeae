import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeExtended } from 'content-disposition';
import fresh from 'fresh';
import rangeParser from 'range-parser';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isRecycling } from '../streams/recycling-read.js';
import { AppError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FileRow } from '../db/database.js';
import type { Viewer } from '../modules/auth/viewer.js';
import type { Services } from '../services.js';
import type { ByteRange } from '../storage/storage.js';
import { sendText } from './respond.js';

// GET/HEAD /files/:id/download (docs/api.md). The bytes stream from storage; headers make any
// name safe to save and any content unable to run in our origin.

/** Content types a browser would render or execute; they are served as opaque bytes. */
const ACTIVE_CONTENT = /html|xml|svg|javascript|ecmascript|xsl|shockwave|^multipart\//i;

const servedContentType = (mimeType: string) =>
  ACTIVE_CONTENT.test(mimeType) ? 'application/octet-stream' : mimeType;

/**
 * `attachment` with an RFC 8187 `filename*` carrying the exact UTF-8 name (content-disposition's
 * encoder), always present, and a quoted ASCII `filename` fallback for old clients in which
 * anything outside printable ASCII, quotes, backslashes, slashes and percent signs become `_`.
 * The library's own `create` is not used: it drops `filename*` for plain ASCII names, leaves
 * tokens unquoted and keeps slashes in its fallback. Nothing of the name can break out of the
 * header (no CR/LF survive either form) or name a path (browsers keep only the last segment, and
 * the fallback has no separators at all).
 */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\/%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=${encodeExtended(name)}`;
}

/**
 * A single `bytes=` range against `size`: the range, 'unsatisfiable' (416), or null when the
 * header is to be ignored (malformed, another unit, or several ranges: the whole file is served,
 * as RFC 9110 allows, rather than a multipart/byteranges body).
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | null {
  const spec = header.trim();
  if (spec.includes(',')) return null;
  const ranges = rangeParser(size, spec);
  if (ranges === -2) return null;
  if (ranges !== -1) return ranges.type === 'bytes' ? (ranges[0] ?? null) : null;
  // range-parser also answers "unsatisfiable" for two ranges RFC 9110 treats otherwise: a suffix
  // longer than the file asks for the whole file, and a range ending before it starts is invalid,
  // which means the header is ignored.
  if (!spec.startsWith('bytes=')) return null;
  const suffix = /^bytes=-(\d+)$/.exec(spec);
  if (suffix && Number(suffix[1]) > 0 && size > 0) return { start: 0, end: size - 1 };
  const bounded = /^bytes=(\d+)-(\d+)$/.exec(spec);
  if (bounded && Number(bounded[2]) < Number(bounded[1])) return null;
  return 'unsatisfiable';
}

/**
 * The byte range a GET asks for (Range, honoured only with a matching If-Range or none; another
 * validator asks for the whole file), null for the whole file, or 'answered' once a 416 was sent.
 */
export function requestedRange(
  req: IncomingMessage,
  res: ServerResponse,
  size: number,
  etag: string,
): ByteRange | null | 'answered' {
  const rangeHeader = req.headers.range;
  const ifRange = req.headers['if-range'];
  if (!rangeHeader || (ifRange && String(ifRange).trim() !== etag)) return null;
  const parsed = parseRange(rangeHeader, size);
  if (parsed !== 'unsatisfiable') return parsed;
  sendText(res, 416, 'Range not satisfiable', { 'content-range': `bytes */${size}`, etag });
  return 'answered';
}

/** Turns a request away with a status and a sentence, as the route that serves it does. */
export type Refusal = (status: number, text: string) => void;

/** `refuse` bound to one request; `errorPage` as for `refuse`. */
export const refusalOf =
  (req: IncomingMessage, res: ServerResponse, errorPage?: string): Refusal =>
  (status, text) =>
    refuse(req, res, status, text, {}, errorPage);

/**
 * A link opened by the browser as a page (a document navigation, or a client that asks for HTML)
 * gets the web app's page for the error instead of a bare text body; API clients keep the code.
 */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
  errorPage = `/file-unavailable?status=${status}`,
): void {
  // `<a download>` is a navigation too, but to `empty`: the browser shows a failed download, and
  // a page sent there would be saved as the file.
  const dest = req.headers['sec-fetch-dest'];
  const mode = req.headers['sec-fetch-mode'];
  const page = dest
    ? dest === 'document'
    : mode
      ? mode === 'navigate'
      : /\btext\/html\b/i.test(req.headers.accept ?? '');
  if (req.method !== 'GET' || !page) return sendText(res, status, text, headers);
  res.writeHead(303, {
    location: errorPage,
    'cache-control': 'no-store',
  });
  res.end();
}

/**
 * The file a GET/HEAD of a file route (download, thumbnail, preview) names, once the caller may
 * read its bytes: signed in, a token with DOWNLOAD, and the file visible to them. Otherwise the
 * refusal is sent and the result is null.
 */
export async function fileForRequest(
  req: IncomingMessage,
  res: ServerResponse,
  rawId: string,
  viewer: Viewer | null,
  services: Services,
): Promise<{ file: FileRow; viewer: Viewer } | null> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
    return null;
  }
  if (!viewer) {
    refuse(req, res, 401, 'Sign in to download files.', { 'www-authenticate': 'Bearer' });
    return null;
  }
  if (viewer.kind === 'token' && !viewer.scopes.includes('DOWNLOAD')) {
    refuse(req, res, 403, 'This API token may not download files (it lacks DOWNLOAD).');
    return null;
  }
  const id = /^[1-9]\d{0,15}$/.test(rawId) ? Number(rawId) : null;
  const file = id === null ? null : await services.files.get(viewer, id);
  if (!file) {
    refuse(req, res, 404, 'No such file.');
    return null;
  }
  return { file, viewer };
}

/**
 * Answers 304 when the request's If-None-Match matches `etag` (lists, weak comparison, `*`).
 * Only that header goes to `fresh`: it would treat `Cache-Control: no-cache` as a reload and
 * answer in full, but fetch() adds that to every request carrying If-None-Match, and the bytes
 * behind an ETag that is their hash never change.
 */
export function answeredNotModified(
  req: IncomingMessage,
  res: ServerResponse,
  etag: string,
  cacheControl: string,
): boolean {
  if (!fresh({ 'if-none-match': req.headers['if-none-match'] }, { etag })) return false;
  res.writeHead(304, { etag, 'cache-control': cacheControl });
  res.end();
  return true;
}

/**
 * A GET/HEAD route of one file (`/files/:id/download`, `/preview`): `serve` runs once
 * `fileForRequest` let the caller read the file.
 */
export const fileRoute =
  (
    serve: (
      req: IncomingMessage,
      res: ServerResponse,
      access: { file: FileRow; viewer: Viewer },
      services: Services,
      log: Logger,
    ) => Promise<void>,
  ) =>
  async (
    req: IncomingMessage,
    res: ServerResponse,
    rawId: string,
    viewer: Viewer | null,
    services: Services,
    log: Logger,
  ): Promise<void> => {
    const access = await fileForRequest(req, res, rawId, viewer, services);
    if (access) await serve(req, res, access, services, log);
  };

export const handleDownload = fileRoute(async (req, res, { file, viewer }, services, log) => {
  await serveFile(req, res, file, {
    services,
    log,
    record: async () =>
      (await services.downloads.record(file.id, viewer.user.id))
        ? null
        : new NotFoundError('No such file.'),
    refuse: refusalOf(req, res),
  });
});

/** How a route that serves a file's bytes records a download and turns a failure away. */
export interface ServeFileOptions {
  services: Services;
  log: Logger;
  /**
   * Records one download (a GET from byte 0), after the bytes were opened and before anything is
   * sent; an AppError when it may not happen (then nothing is sent but the refusal).
   */
  record(): Promise<AppError | null>;
  refuse: Refusal;
}

/**
 * The bytes of `file` with the download route's headers: ETag (its SHA-256), 304 for a matching
 * If-None-Match, HEAD, single Range (206/416, If-Range), and a recorded download for each GET
 * that starts at byte 0. Shared by `/files/:id/download` and the share link routes.
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: FileRow,
  options: ServeFileOptions,
): Promise<void> {
  const { services, log } = options;
  const etag = `"${file.sha256}"`;
  const headers: Record<string, string | number> = {
    etag,
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-cache',
    'content-type': servedContentType(file.mime_type),
    'content-disposition': contentDisposition(file.name),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
  };

  const opened = await openFileBody(req, res, file, headers, services, options.refuse);
  if (!opened) return;
  const { body, range } = opened;
  if (!range || range.start === 0) {
    const refusal = await options.record().catch((err: unknown) => {
      body.destroy();
      throw err;
    });
    if (refusal) {
      body.destroy();
      return options.refuse(refusal.status, refusal.message);
    }
  }

  await sendFileBody(res, body, file, range, headers, log, 'download');
}

/**
 * What the download and preview routes answer before any byte: 304 for a matching If-None-Match,
 * the head of a HEAD, 416 for an unsatisfiable Range; otherwise the file's bytes (the range asked
 * for, or all), opened before anything is recorded or sent, so a missing blob is an error
 * response and not a truncated answer. Null once something was answered. `headers` carry the
 * route's ETag and Cache-Control.
 */
export async function openFileBody(
  req: IncomingMessage,
  res: ServerResponse,
  file: FileRow,
  headers: Record<string, string | number>,
  services: Services,
  refuse: Refusal,
): Promise<{ body: Readable; range: ByteRange | null } | null> {
  const etag = String(headers.etag);
  if (answeredNotModified(req, res, etag, String(headers['cache-control']))) return null;
  if (req.method === 'HEAD') {
    res.writeHead(200, { ...headers, 'content-length': file.size });
    res.end();
    return null;
  }
  const range = requestedRange(req, res, file.size, etag);
  if (range === 'answered') return null;
  try {
    return { body: await services.files.read(file, range ?? undefined), range };
  } catch (err) {
    if (err instanceof AppError) {
      refuse(err.status, err.message);
      return null;
    }
    throw err;
  }
}

/**
 * Answers 200 or 206 with `body` (the whole file, or `range` of it) and streams it; a client that
 * goes away mid-way is normal, anything else is logged. Shared by the download and preview routes.
 */
export async function sendFileBody(
  res: ServerResponse,
  body: Readable,
  file: FileRow,
  range: ByteRange | null,
  headers: Record<string, string | number>,
  log: Logger,
  what: 'download' | 'preview',
): Promise<void> {
  if (range) {
    res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${range.start}-${range.end}/${file.size}`,
      'content-length': range.end - range.start + 1,
    });
  } else {
    res.writeHead(200, { ...headers, 'content-length': file.size });
  }
  try {
    await send(body, res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      log.warn({ err, fileId: file.id }, `${what} stream failed`);
    }
  }
}

/**
 * Streams `body` into the response. A body that recycles its buffers gets each one back once the
 * socket has taken its bytes, which keeps many concurrent downloads from turning into work for
 * the garbage collector (see streams/recycling-read.ts).
 */
export async function send(body: Readable, res: ServerResponse): Promise<void> {
  if (!isRecycling(body)) return pipeline(body, res);
  await pipeline(body, async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      if (res.destroyed) throw prematureClose();
      if (!res.write(chunk, () => body.recycle(chunk))) await drained(res);
    }
    res.end();
  });
}

/** Resolves when `res` wants more bytes; rejects when the client went away first. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed) return reject(prematureClose());
    const settle = (err?: Error) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(prematureClose());
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

const prematureClose = () =>
  Object.assign(new Error('The client closed the connection.'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
