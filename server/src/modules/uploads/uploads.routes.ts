import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileStatus } from '../../db/database.js';
import {
  AppError,
  BadUserInputError,
  ForbiddenError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthenticatedError,
} from '../../errors.js';
import { passesCsrfCheck } from '../../http/credentials.js';
import { lingerIfBodyUnread } from '../../streams/linger.js';
import type { Viewer } from '../auth/viewer.js';
import { isAdmin } from '../auth/visibility.js';
import { parseFileName, parseTagNames } from '../files/files.rules.js';
import type { UploadMeta, UploadProgressView, UploadsService } from './uploads.service.js';

// The tus 1.0.0 protocol (https://tus.io/protocols/resumable-upload) at /uploads: core, creation,
// creation-with-upload, termination, expiration. Credentials as for uploadFile: a session (with
// the x-requested-with header on requests that change something) or a Bearer token with UPLOAD.
// Errors carry the API's codes in the same JSON shape as /graphql's refusals.

const TUS_VERSION = '1.0.0';
const EXTENSIONS = 'creation,creation-with-upload,termination,expiration';
const OFFSET_TYPE = 'application/offset+octet-stream';
/** Upload-Metadata holds a few short names; anything longer is refused unread. */
const MAX_METADATA_CHARS = 8 * 1024;
const STATUSES: readonly FileStatus[] = ['ACTIVE', 'HIDDEN'];

/** A non-negative whole number header (Upload-Length, Upload-Offset, Content-Length), or null. */
function count(value: string | string[] | undefined, field: string): number | null {
  if (value === undefined) return null;
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw BadUserInputError.field(field, 'must be a whole number');
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `key base64,key base64,key` (tus "Upload-Metadata") into its decoded pairs. */
export function parseUploadMetadata(header: string | undefined): Map<string, string> {
  const pairs = new Map<string, string>();
  if (header === undefined || header.trim() === '') return pairs;
  if (header.length > MAX_METADATA_CHARS) {
    throw BadUserInputError.field(
      'Upload-Metadata',
      `must be at most ${MAX_METADATA_CHARS} characters`,
    );
  }
  for (const item of header.split(',')) {
    const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]{1,64})(?: ([A-Za-z0-9+/]*={0,2}))?\s*$/.exec(
      item,
    );
    if (!match) throw BadUserInputError.field('Upload-Metadata', 'must be "key base64" pairs');
    const key = match[1]!;
    if (pairs.has(key)) throw BadUserInputError.field('Upload-Metadata', `repeats ${key}`);
    let value: string;
    try {
      value = utf8.decode(Buffer.from(match[2] ?? '', 'base64'));
    } catch {
      throw BadUserInputError.field('Upload-Metadata', `${key} is not UTF-8 text`);
    }
    pairs.set(key, value);
  }
  return pairs;
}

/** The metadata's file name, name, tags and status, by the rules of uploadFile. */
function uploadMeta(viewer: Viewer, metadata: Map<string, string>): UploadMeta {
  const rawName = metadata.get('name');
  const rawFilename = metadata.get('filename');
  if (rawName === undefined && rawFilename === undefined) {
    throw BadUserInputError.field('filename', 'is required (or name)');
  }
  const name =
    rawName !== undefined ? parseFileName(rawName) : parseFileName(rawFilename!, 'filename');
  const rawTags = metadata.get('tags');
  const tags =
    rawTags === undefined ? null : rawTags.trim() === '' ? [] : parseTagNames(rawTags.split(','));
  const rawStatus = metadata.get('status');
  let status: FileStatus | null = null;
  if (rawStatus !== undefined) {
    status = STATUSES.find((s) => s === rawStatus) ?? null;
    if (!status) throw BadUserInputError.field('status', 'must be ACTIVE or HIDDEN');
    if (!isAdmin(viewer)) {
      throw new ForbiddenError('Only an admin may set the status of a file.');
    }
  }
  return { filename: rawFilename ?? name, name, tags, status };
}

/** A refusal with its own HTTP status (412, 415, 405) but one of the API's codes. */
class ProtocolError extends BadUserInputError {
  constructor(
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/** A header sent once; repeated ones are joined by Node or refused here. */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (Array.isArray(value)) throw BadUserInputError.field(name, 'must be sent once');
  return value;
}

function send(res: ServerResponse, status: number, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'tus-resumable': TUS_VERSION, 'cache-control': 'no-store', ...headers });
  res.end();
}

function sendError(res: ServerResponse, err: AppError) {
  const status =
    'httpStatus' in err && typeof err.httpStatus === 'number' ? err.httpStatus : err.status;
  const extensions = Object.fromEntries(
    Object.entries(err.extensions()).filter(([key]) => key !== 'http'),
  );
  const body = JSON.stringify({ errors: [{ message: err.message, extensions }] });
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'tus-resumable': TUS_VERSION,
    'tus-version': TUS_VERSION,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...(err instanceof RateLimitedError ? { 'retry-after': String(err.retryAfter) } : {}),
  });
  res.end(body);
}

function progressHeaders(upload: UploadProgressView): Record<string, string> {
  return {
    'upload-offset': String(upload.offset),
    'upload-length': String(upload.length),
    ...(upload.fileId !== null
      ? { 'cabinet-file-id': String(upload.fileId) }
      : { 'upload-expires': new Date(upload.expiresAt).toUTCString() }),
  };
}

/**
 * Answers `/uploads` and `/uploads/:id`. `viewer` is the caller as app.ts resolved it; `bearer`
 * whether it came with a Bearer token (exempt from the CSRF rule).
 */
export async function handleUploads(
  req: IncomingMessage,
  res: ServerResponse,
  id: string | null,
  caller: { viewer: Viewer | null; bearer: boolean },
  deps: { uploads: UploadsService; maxUploadBytes: number; chunkBytes: number },
): Promise<void> {
  const method = req.method ?? 'GET';
  const hasBody = method === 'POST' || method === 'PATCH';
  // A refused request is answered before its body is read; the body is then not drained.
  if (hasBody) lingerIfBodyUnread(req, res);
  try {
    if (method === 'OPTIONS') {
      return send(res, 204, {
        'tus-version': TUS_VERSION,
        'tus-extension': EXTENSIONS,
        'tus-max-size': String(deps.maxUploadBytes),
        // Not tus: the PATCH size the web app should send, so an operator whose proxy limits
        // request bodies sets UPLOAD_CHUNK_BYTES once instead of rebuilding the app.
        'cabinet-chunk-size': String(deps.chunkBytes),
      });
    }
    const allowed = id === null ? ['POST'] : ['HEAD', 'PATCH', 'DELETE'];
    if (!allowed.includes(method)) {
      res.setHeader('allow', ['OPTIONS', ...allowed].join(', '));
      throw new ProtocolError(`${method} is not a method of this resource.`, 405);
    }
    if (req.headers['tus-resumable'] !== TUS_VERSION) {
      throw new ProtocolError(`Send Tus-Resumable: ${TUS_VERSION}.`, 412);
    }
    if (method !== 'HEAD' && !caller.bearer && !passesCsrfCheck(req)) {
      throw new ForbiddenError(
        'Requests without a Bearer token must send the x-requested-with header.',
      );
    }
    const viewer = caller.viewer;
    if (!viewer) throw new UnauthenticatedError();
    if (viewer.kind === 'token' && !viewer.scopes.includes('UPLOAD')) {
      throw new ForbiddenError('This API token may not upload files (it lacks the UPLOAD scope).');
    }
    const { uploads } = deps;

    if (method === 'POST') {
      if (req.headers['upload-defer-length'] !== undefined) {
        throw BadUserInputError.field(
          'Upload-Defer-Length',
          'is not supported: send Upload-Length',
        );
      }
      const length = count(req.headers['upload-length'], 'Upload-Length');
      if (length === null) throw BadUserInputError.field('Upload-Length', 'is required');
      if (length > deps.maxUploadBytes) throw new PayloadTooLargeError(deps.maxUploadBytes);
      const meta = uploadMeta(viewer, parseUploadMetadata(header(req, 'upload-metadata')));
      const declared = count(req.headers['content-length'], 'Content-Length');
      const withBody = (req.headers['content-type'] ?? '').toLowerCase() === OFFSET_TYPE;
      if (withBody && declared !== null && declared > length) {
        throw new PayloadTooLargeError(length, 'The body goes past the Upload-Length.');
      }
      let upload = await uploads.create(viewer, length, meta);
      if (withBody && length > 0)
        upload = await uploads.append(viewer, upload.id, 0, req, declared);
      return send(res, 201, { location: `/uploads/${upload.id}`, ...progressHeaders(upload) });
    }

    if (method === 'HEAD')
      return send(res, 200, progressHeaders(await uploads.progress(viewer, id!)));

    if (method === 'PATCH') {
      if ((req.headers['content-type'] ?? '').toLowerCase() !== OFFSET_TYPE) {
        throw new ProtocolError(`A PATCH body must be ${OFFSET_TYPE}.`, 415);
      }
      const offset = count(req.headers['upload-offset'], 'Upload-Offset');
      if (offset === null) throw BadUserInputError.field('Upload-Offset', 'is required');
      const declared = count(req.headers['content-length'], 'Content-Length');
      const upload = await uploads.append(viewer, id!, offset, req, declared);
      return send(res, 204, progressHeaders(upload));
    }

    await uploads.terminate(viewer, id!);
    return send(res, 204);
  } catch (err) {
    if (err instanceof AppError) return sendError(res, err);
    // The client went away mid-body: nobody is left to answer, and what arrived was kept.
    if (req.destroyed || (err as NodeJS.ErrnoException | null)?.code === 'ECONNRESET') {
      return void res.destroy();
    }
    throw err;
  }
}
